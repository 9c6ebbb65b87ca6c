"""Text a client stores never outgrows its column: each record checked against the tables' ``max_length``.

The models a request is read with already bound the fields a client names; this check catches what is
derived from them (an install path, a name looked up), whatever call made the record.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..store.columns import columns_of
from ..store.records import Record
from ..zstack.errors import bad_request


def check_lengths(records: Iterable[Record], *, what: str) -> None:
    """400 naming the first text longer than its column allows."""
    for record in records:
        for column in columns_of(type(record)):
            if column.max_length is None:
                continue
            value = getattr(record, column.name)
            if isinstance(value, str) and len(value) > column.max_length:
                raise bad_request(
                    f"{what}: {_camel(column.name)} is {len(value)} characters long, at most "
                    f"{column.max_length} are allowed"
                )


#: Columns whose field in a request has another name than the column's camelCase.
_FIELD_NAMES = {"metadata_json": "metadata (as JSON)"}


def _camel(name: str) -> str:
    if name in _FIELD_NAMES:
        return _FIELD_NAMES[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
