"""ZStack's query message (``APIQueryMessage``), read from either surface into one ``QueryRequest``.

A query is a list of conditions on an inventory's fields (``name``, ``op``, ``value`` strings, as
ZStack's ``QueryCondition``), plus paging, sorting, counting and field selection. The domain's
query code (``app.domain.queries``) runs it, whichever surface it came from:

* **REST** (``RestServer.handleQueryApi``): ``q=<name><op><value>`` (repeatable) with the operators
  below, tried in this order so that an operator contained in another (``=`` in ``!=``) is found
  last; ``limit``, ``start``, ``count``, ``replyWithCount``, ``sort`` (``+f``, ``-f`` or ``f``; an
  unencoded ``+`` arrives as a space and still sorts ascending), ``fields``. Other parameters are
  ignored. Malformed parameters are the REST layer's plain-text 400s, with the real server's wording.
* **Legacy RPC**: ``conditions`` is required, even empty: a list of ``{"name", "op", "value"}`` with
  QueryOp's own operators (``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``in``, ``not in``,
  ``is null``, ``is not null``, ``like``, ``not like``); the REST shorthands (``?=``, ``~=``) are
  unknown here and fail in the query code with ``unknown QueryOp type[?=]``. ``value`` is a string
  (comma-separated for ``in``/``not in``); a number or boolean is read as its text, as Gson reads it
  into a String. Also ``limit`` (default 1000), ``start``, ``count``, ``replyWithCount``, ``sortBy``
  with ``sortDirection`` (``asc``/``desc``), ``fields``. Null fields count as absent: Python clients
  send every field of the message, null when unset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import TransportError, invalid_argument
from .json_kinds import json_kind
from .params import JAVA_INT_MAX, JAVA_INT_MIN, JAVA_INT_TEXT, MessageSpec, Param, check_params, read_params

#: ZStack's QueryOp values, as the RPC API spells them; the REST shorthands map onto these.
OPS = ("=", "!=", ">", ">=", "<", "<=", "in", "not in", "like", "not like", "is null", "is not null")
DEFAULT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    op: str
    value: str | None = None


@dataclass(slots=True)
class QueryRequest:
    conditions: list[Condition] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    start: int | None = None
    count: bool = False
    reply_with_count: bool = False
    sort_by: str | None = None
    sort_descending: bool = False
    fields: list[str] | None = None
    filter_name: str | None = None

    def key(self) -> tuple[Any, ...]:
        """Equal for requests that ask the same."""
        return (
            tuple(self.conditions), self.limit, self.start, self.count, self.reply_with_count,
            self.sort_by, self.sort_descending, None if self.fields is None else tuple(self.fields), self.filter_name,
        )


class QueryReply(dict[str, Any]):
    """A query's reply fields (``inventories``, ``total``). ``inventory_class`` names the class of
    the inventories when it is not the one their view declares: a field query builds them as the
    query's own class, which the ``schema`` map names."""

    inventory_class: str | None = None
    #: The REST answer's body, once rendered: the store may answer the same reply object again.
    rest_body: bytes | None = None


# --- REST: the query string ----------------------------------------------------------------------

#: REST operator -> QueryOp, in RestServer's QUERY_OP_MAPPING order.
REST_OPERATORS: dict[str, str] = {
    "!=": "!=",
    ">=": ">=",
    "<=": "<=",
    "!?=": "not in",
    "!~=": "not like",
    "~=": "like",
    "?=": "in",
    "=": "=",
    ">": ">",
    "<": "<",
    "is null": "is null",
    "not null": "is not null",
}
_VALID = "[" + ", ".join(REST_OPERATORS) + "]"


def parse_query_params(items: Iterable[tuple[str, str]]) -> QueryRequest:
    request = QueryRequest()
    seen: set[str] = set()
    for raw_name, raw_value in items:
        name = raw_name.strip()
        value = raw_value.strip()
        if name in ("q", ""):  # RestServer tests "q".startsWith(name)
            request.conditions.append(_rest_condition(raw_value))
            continue
        if name in seen:
            continue  # the servlet's parameter map keeps every value; RestServer reads the first
        seen.add(name)
        if name == "limit":
            request.limit = _integer("limit", value)
        elif name == "start":
            request.start = _integer("start", value)
        elif name == "count":
            request.count = value.lower() == "true"
        elif name == "replyWithCount":
            request.reply_with_count = value.lower() == "true"
        elif name == "sort":
            request.sort_descending = value.startswith("-")
            request.sort_by = value.lstrip("-" if request.sort_descending else "+")
        elif name == "filterName":
            request.filter_name = value
        elif name == "fields":
            # Empty entries inside the list stay, and fail in the query as ZQL syntax.
            fields = [f.strip() for f in java_split(value, ",")]
            if not fields:
                raise TransportError(400, "Invalid query parameter. 'fields' contains zero field")
            request.fields = fields
    return request


def java_split(text: str, separator: str) -> list[str]:
    """Java's ``String.split`` by a plain separator: trailing empty pieces are dropped, and a text
    without the separator (even an empty one) is its only piece."""
    if separator not in text:
        return [text]
    parts = text.split(separator)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _integer(name: str, value: str) -> int:
    """A query string's integer as Java's ``Integer.valueOf`` reads it (RestServer): a sign and ASCII
    digits, nothing else, within an int's range."""
    if JAVA_INT_TEXT.fullmatch(value) and JAVA_INT_MIN <= (number := int(value)) <= JAVA_INT_MAX:
        return number
    raise TransportError(400, f"Invalid query parameter. '{name}' must be an integer")


def _rest_condition(text: str) -> Condition:
    token = next((t for t in REST_OPERATORS if t in text), None)
    if token is None:
        raise TransportError(
            400,
            f"Invalid query parameter. The '{text}' in the parameter[q] doesn't contain any query operator. "
            f"Valid query operators are {_VALID}",
        )
    op = REST_OPERATORS[token]
    # StringUtils.splitByWholeSeparator: empty pieces vanish, so '=x' and 'x=' are one piece.
    pieces = [p for p in text.split(token, 1) if p]
    if op in ("is null", "is not null"):
        return Condition(name=pieces[0].strip() if pieces else "", op=op)
    if len(pieces) != 2:
        raise TransportError(
            400, f"Invalid query parameter. The '{text}' in parameter[q] is not a key-value pair split by {op}"
        )
    return Condition(name=pieces[0].strip(), op=op, value=pieces[1])


# --- legacy RPC: the message's fields -----------------------------------------------------------

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
        Param("filterName"),
    ),
)
_CONDITION_FORM = '{"name": "<field>", "op": "<operator>", "value": "<text>"}'


def rpc_query_request(message: Mapping[str, Any]) -> QueryRequest:
    values = read_params(QUERY_MESSAGE, message)
    conditions = [_rpc_condition(index, raw) for index, raw in enumerate(values.get("conditions", ()))]
    check_params(QUERY_MESSAGE, values, _no_resources)
    return QueryRequest(
        conditions=conditions,
        limit=values.get("limit", DEFAULT_LIMIT),
        start=values.get("start"),
        count=values.get("count", False),
        reply_with_count=values.get("replyWithCount", False),
        sort_by=values.get("sortBy"),
        sort_descending=values.get("sortDirection") == "desc",
        # An empty list selects nothing, as APIQueryMessage.isFieldQuery() says: every field.
        fields=values.get("fields") or None,
        filter_name=values.get("filterName"),
    )


def _rpc_condition(index: int, raw: Mapping[str, Any]) -> Condition:
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
