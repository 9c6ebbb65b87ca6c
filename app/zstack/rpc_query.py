"""The RPC form of a query message (``APIQueryMessage``) to a ``QueryRequest``.

``conditions`` is required, even empty: a list of ``{"name", "op", "value"}`` with QueryOp's own
operators (``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not in``, ``is null``,
``is not null``, ``like``, ``not like``); the REST shorthands (``?=``, ``~=``) are unknown here and
fail in the query code with ``unknown QueryOp type[?=]``. ``value`` is a string (comma-separated
for ``in``/``not in``); a number or boolean is read as its text, as Gson reads it into a String.
Also ``limit`` (default 1000), ``start``, ``count``, ``replyWithCount``, ``sortBy`` with
``sortDirection`` (``asc``/``desc``), ``fields``. Null fields count as absent: Python clients send
every field of the message, null when unset.

The result is the same ``QueryRequest`` the REST query string becomes
(``app.zstack.query_params``), so both surfaces run the same query code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.params import MessageSpec, Param, check_params, read_params
from app.domain.queries import DEFAULT_LIMIT, OPS, Condition, QueryRequest
from app.zstack.errors import invalid_argument
from app.zstack.json_kinds import json_kind

QUERY_MESSAGE = MessageSpec(
    class_name="org.zstack.header.query.APIQueryMessage",
    params=(
        Param("conditions", kind="object_list", required=True),
        Param("limit", kind="integer"),
        Param("start", kind="integer"),
        Param("count", kind="boolean"),
        Param("replyWithCount", kind="boolean"),
        Param("sortBy"),
        Param("sortDirection", valid_values=("asc", "desc")),
        Param("fields", kind="string_list"),
    ),
)
_CONDITION_FORM = '{"name": "<field>", "op": "<operator>", "value": "<text>"}'


def rpc_query_request(message: Mapping[str, Any]) -> QueryRequest:
    values = read_params(QUERY_MESSAGE, message)
    conditions = [_condition(index, raw) for index, raw in enumerate(values.get("conditions", ()))]
    check_params(QUERY_MESSAGE, values, _no_resources)
    return QueryRequest(
        conditions=conditions,
        limit=values.get("limit", DEFAULT_LIMIT),
        start=values.get("start", 0),
        count=values.get("count", False),
        reply_with_count=values.get("replyWithCount", False),
        sort_by=values.get("sortBy"),
        sort_descending=values.get("sortDirection") == "desc",
        # An empty list selects nothing, as APIQueryMessage.isFieldQuery() says: every field.
        fields=values.get("fields") or None,
    )


def _condition(index: int, raw: Mapping[str, Any]) -> Condition:
    name = _text(raw.get("name"), f"conditions[{index}].name")
    op = _text(raw.get("op"), f"conditions[{index}].op")
    if name is None:
        raise invalid_argument(f"field[name] of conditions[{index}] is mandatory; a condition is {_CONDITION_FORM}")
    if op is None:
        raise invalid_argument(
            f"field[op] of conditions[{index}] is mandatory; a condition is {_CONDITION_FORM} with op one of "
            f"[{', '.join(OPS)}]"
        )
    return Condition(name=name, op=op, value=_value(raw.get("value"), f"conditions[{index}].value"))


def _text(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise invalid_argument(
        f"Invalid value for string field [{field}], [{value}] is a JSON {json_kind(value)}, not a string."
    )


def _value(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise invalid_argument(
        f"Invalid value for string field [{field}], a JSON {json_kind(value)} is not a string; give the values of "
        "'in' and 'not in' as one string, separated by commas."
    )


def _no_resources(resource_type: str, uuids: list[str]) -> dict[str, Any]:
    raise AssertionError(f"a query message names no resources, asked for {resource_type}")
