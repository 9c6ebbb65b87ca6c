"""What one fake cloud (the server's own, or a sandbox tenant) may hold, and how many records it holds.

The limits of ``app.limits`` that the domain enforces, with the fixtures they are counted above: a
kind of record may hold ``max_records`` more than the fixtures give it. ``RecordCounts`` remembers
the last count of each kind in this process, so that a check far from its bound costs no query.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store.records import Record

#: A count older than this (seconds) is taken again: another process over the database may have added.
RECOUNT_AFTER = 1.0
#: Closer than this to its bound, a kind is counted on every check (a count costs at most the bound's rows).
RECOUNT_MARGIN = 10_000


class RecordCounts:
    """Per kind, the count last taken plus what this process added since, and when it was taken."""

    def __init__(self) -> None:
        self._known: dict[type[Any], tuple[int, float]] = {}

    def estimate(self, record_type: type[Any], *, bound: int) -> int | None:
        """The kind's count, when it is recent and far enough from ``bound`` to skip counting."""
        known = self._known.get(record_type)
        if known is None:
            return None
        count, taken = known
        if time.monotonic() - taken > RECOUNT_AFTER or bound - count <= RECOUNT_MARGIN:
            return None
        return count

    def counted(self, record_type: type[Any], count: int) -> None:
        self._known[record_type] = (count, time.monotonic())

    def added(self, record_type: type[Any], count: int = 1) -> None:
        known = self._known.get(record_type)
        if known is not None:
            self._known[record_type] = (known[0] + count, known[1])

    def forget(self) -> None:
        """After a reset or a restore: every kind is counted again."""
        self._known.clear()


def counted_by_type(records: Callable[[], Sequence[Record]]) -> Callable[[], Mapping[type[Any], int]]:
    """How many records of each type ``records()`` gives; read once, when first asked."""
    counts: dict[type[Any], int] = {}
    done = False

    def count() -> Mapping[type[Any], int]:
        nonlocal done
        if not done:
            counts.update(Counter(type(record) for record in records()))
            done = True
        return counts

    return count


def _no_fixtures() -> Mapping[type[Any], int]:
    return {}


@dataclass(frozen=True, slots=True)
class Bounds:
    """The domain's share of ``app.limits.Limits``; the defaults are the local profile's."""

    max_records: int = 1_000_000
    max_snapshots: int = 1000
    #: The public profile: a volume backup's metadata may hold only the fields an image takes from it.
    image_metadata_only: bool = False
    #: The fixtures' records by type (read when first needed: parsing a large file costs start-up time).
    fixture_counts: Callable[[], Mapping[type[Any], int]] = _no_fixtures
    counts: RecordCounts = field(default_factory=RecordCounts)

    def record_bound(self, record_type: type[Any]) -> int:
        """How many records of ``record_type`` may be held: the fixtures' and ``max_records`` more."""
        return self.fixture_counts().get(record_type, 0) + self.max_records
