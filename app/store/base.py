"""The store interface: the only way domain code touches the inventory.

A ``Store`` keeps records (``app.store.records``) in tables keyed by their fields. Conditions are a
mapping from field names, optionally suffixed with an operator, to values::

    store.find(Session, {"account_uuid": uuid, "expired_date__gt": now})
    store.count(Image, {"platform__in": ["Linux", "Windows"]})

Operators: ``eq`` (default), ``ne``, ``gt``, ``ge``, ``lt``, ``le``, ``in``, ``notin``, ``like``,
``notlike``, and ``isnull`` (value ``True`` or ``False``). ``in``/``notin`` take a list or a
``Subquery`` over a related record type. A sequence of ``(spec, value)`` pairs may stand for the
mapping when one field has two conditions. Values are always bound parameters; field names are
checked against the record types, so no input can change the SQL.

Every method is synchronous and fast: implementations keep one connection per process and are
called straight from the event loop. Writes that belong together go in ``with store.transaction():``;
a call outside a transaction commits on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .records import Record

R = TypeVar("R", bound=Record)
T = TypeVar("T")

Conditions = Mapping[str, Any] | Sequence[tuple[str, Any]]

OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "in", "notin", "like", "notlike", "isnull")


@dataclass(frozen=True, slots=True)
class Subquery:
    """``select`` of the ``record_type`` records matching ``where``: ``{"uuid__in": Subquery(...)}``."""

    record_type: type[Any]
    select: str
    where: Conditions


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """Group calls into one atomic unit; nested use joins the outer transaction."""

    def get(self, record_type: type[R], **key: Any) -> R | None:
        """The one record whose key fields equal ``key``, or None."""

    def find(
        self,
        record_type: type[R],
        where: Conditions | None = None,
        *,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[R]:
        """Records matching every condition; ``order_by`` items are field names, ``-`` for descending."""

    def count(self, record_type: type[Any], where: Conditions | None = None, *, at_most: int | None = None) -> int:
        """How many records match; with ``at_most``, counting stops there (a cost of at most that many rows)."""

    def insert(self, record: R) -> R:
        """Add a record; returns it with any generated key (e.g. a ref's ``id``) filled in."""

    def insert_many(self, records: Sequence[Record]) -> None: ...

    def update(self, record_type: type[Any], where: Conditions, changes: Mapping[str, Any]) -> int:
        """Set ``changes`` on every matching record; returns how many matched."""

    def delete(self, record_type: type[Any], where: Conditions | None = None) -> int: ...

    def remembered(self, key: Hashable, depends_on: Iterable[type[Any]], compute: Callable[[], T]) -> T:
        """``compute()``: a value computed from records of ``depends_on`` alone (and ``key``). The store may
        keep it and answer it again for ``key`` until a record of one of those types is written, by any
        connection. The caller must not change what it gets."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def replace_inventory(self, records: Sequence[Record]) -> None:
        """Wipe everything (sessions included) and store ``records`` instead, atomically."""

    def replace_records(self, record_types: Sequence[type[Any]], records: Sequence[Record]) -> None:
        """Empty the tables of ``record_types`` and insert ``records`` instead, atomically.

        Other tables are untouched. Unlike ``insert``, a generated key a record carries (an image
        ref's ``id``) is kept, so a copy of a table comes back as it was.
        """

    def close(self) -> None: ...
