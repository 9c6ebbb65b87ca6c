"""ZStack's REST query string (``RestServer.handleQueryApi``) to a ``QueryRequest``.

``q=<name><op><value>`` (repeatable) with the operators below, tried in this order so that an
operator contained in another (``=`` in ``!=``) is found last; ``limit``, ``start``, ``count``,
``replyWithCount``, ``sort`` (``+f``, ``-f`` or ``f``; an unencoded ``+`` arrives as a space and still
sorts ascending), ``fields``. Other parameters are ignored. Malformed parameters are the REST
layer's plain-text 400s, with the real server's wording.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.domain.queries import Condition, QueryRequest
from app.zstack.errors import TransportError

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
            request.conditions.append(_condition(raw_value))
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
            request.sort_by = value.lstrip("+-")
        elif name == "fields":
            fields = [f.strip() for f in value.split(",") if f.strip()]
            if not fields:
                raise TransportError(400, "Invalid query parameter. 'fields' contains zero field")
            request.fields = fields
    return request


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise TransportError(400, f"Invalid query parameter. '{name}' must be an integer") from None


def _condition(text: str) -> Condition:
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
