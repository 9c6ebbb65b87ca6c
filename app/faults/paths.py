"""Fault-rule path patterns: ``*`` within a path segment, ``**`` across segments, the rest literal.

A pattern is matched by simulating its automaton over the path, one character at a time, with the
set of live states held as the bits of one integer (shift-and): time linear in the path's length
whatever the pattern, never the backtracking a regular expression built from a glob can fall into
(``/**a/**a/**a...`` against a path that almost matches). A pattern's size is bounded as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_PATTERN_CHARS = 512
MAX_PATTERN_SEGMENTS = 32

_WILDCARD = re.compile(r"(\*\*|\*)")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a path pattern, or None."""
    if not pattern.startswith("/"):
        return f"a path pattern starts with '/', got {pattern!r}"
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"a path pattern is at most {MAX_PATTERN_CHARS} characters, got {len(pattern)}"
    segments = pattern.count("/")
    if segments > MAX_PATTERN_SEGMENTS:
        return f"a path pattern has at most {MAX_PATTERN_SEGMENTS} segments, got {segments}"
    return None


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A compiled pattern; ``matches`` also takes the path with one trailing ``/``."""

    pattern: str
    #: The pattern without wildcards, or None: then it is compared as text.
    literal: str | None
    #: What every matching path starts and ends with (a cheap first test).
    prefix: str
    suffix: str
    #: State i: the first i literal characters are matched. ``advance[c]``: the states whose next
    #: literal character is c; ``stay_any`` / ``stay_in_segment``: states a ``**`` / ``*`` keeps alive.
    advance: dict[str, int] = field(default_factory=dict)
    stay_any: int = 0
    stay_in_segment: int = 0
    accept: int = 0

    @classmethod
    def compile(cls, pattern: str) -> PathPattern:
        parts = [p for p in _WILDCARD.split(pattern) if p]
        if all(p not in ("*", "**") for p in parts):
            return cls(pattern, pattern, pattern, pattern)
        advance: dict[str, int] = {}
        stay_any = stay_in_segment = 0
        state = 0
        for part in parts:
            if part == "**":
                stay_any |= 1 << state
                stay_in_segment |= 1 << state
            elif part == "*":
                stay_in_segment |= 1 << state
            else:
                for char in part:
                    advance[char] = advance.get(char, 0) | 1 << state
                    state += 1
        prefix = parts[0] if parts[0] not in ("*", "**") else ""
        suffix = parts[-1] if parts[-1] not in ("*", "**") else ""
        return cls(pattern, None, prefix, suffix, advance, stay_any, stay_in_segment, 1 << state)

    def matches(self, path: str) -> bool:
        if self.literal is not None:
            return path == self.literal or path == self.literal + "/"
        if not path.startswith(self.prefix):
            return False
        if self._run(path):
            return True
        return path.endswith("/") and self._run(path[:-1])

    def _run(self, path: str) -> bool:
        if not path.endswith(self.suffix):
            return False
        live = 1
        advance, stay_any, stay_in_segment = self.advance, self.stay_any, self.stay_in_segment
        for char in path:
            live = ((live & advance.get(char, 0)) << 1) | (live & (stay_any if char == "/" else stay_in_segment))
            if not live:
                return False
        return bool(live & self.accept)
