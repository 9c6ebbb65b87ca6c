"""How a real node fails a query: the ZQL text it builds and the exceptions that text meets.

``QueryFacadeImpl.queryUseZQL`` (``search/src/main/java/org/zstack/query/``) turns a query message
into ZQL text (``query image.uuid,name where name = 'x' limit 1000``) and runs it. What goes wrong
there is an exception that ``handle(APIQueryMessage)`` wraps in a ``CloudRuntimeException`` and the
bus answers with SYS.1000 whose details are ``<exception class>: <message>``
(``ErrorFacadeImpl.throwableToInternalError``): ZQL's metadata checks (``ZQLMetadata.java``,
``OrderByVisitor.java``), ANTLR's syntax errors (``ZQL.ThrowingErrorListener``) and Hibernate's
paging checks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import INTERNAL_ERROR, ZStackError, invalid_argument, zstack_error
from .responses import java_hashmap_order

CLOUD_RUNTIME_EXCEPTION = "org.zstack.header.exception.CloudRuntimeException"
ZQL_ERROR = "org.zstack.zql.ast.visitors.ZQLError"
PARSE_CANCELLATION = "org.antlr.v4.runtime.misc.ParseCancellationException"
ILLEGAL_ARGUMENT = "java.lang.IllegalArgumentException"

#: ZQL's ``ID`` token: what a field name must look like to be read as one.
ZQL_ID = re.compile(r"[a-zA-Z0-9_]+")


def query_failure(exception_class: str, message: str) -> ZStackError:
    return zstack_error(INTERNAL_ERROR, f"{exception_class}: {message}")


def not_having_field(java_class: str, field: str) -> ZStackError:
    """A condition naming a field the inventory does not have (``FieldChainQuery.verify``)."""
    return query_failure(
        CLOUD_RUNTIME_EXCEPTION, f"inventory class[class {java_class}] not having field[{field}]"
    )


def no_expanded_query(rest: str, java_class: str, name: str) -> ZStackError:
    """A dotted condition whose path names no expanded query (``resolveAliasAndCompressCondition``)."""
    return query_failure(
        CLOUD_RUNTIME_EXCEPTION,
        f"invalid nested query condition[{rest}] on class {java_class},"
        f"the expanded target[class {java_class}] have no expanded query[{name}]",
    )


def no_selected_field(field: str) -> ZStackError:
    """A ``fields`` entry the inventory does not have (``InventoryMetadata.errorIfNoField``: its
    ``${selfInventoryClass}`` is a literal in a Java format string, so it reaches the client as is)."""
    return query_failure(CLOUD_RUNTIME_EXCEPTION, f"inventory[${{selfInventoryClass}}] has no field[{field}]")


def no_order_by_field(simple_class: str, field: str) -> ZStackError:
    return query_failure(
        ZQL_ERROR, f"invalid order by clause, inventory[{simple_class}] doesn't have field[{field}]"
    )


def negative_limit() -> ZStackError:
    return query_failure(ILLEGAL_ARGUMENT, "max-results cannot be negative")


def negative_start(start: int) -> ZStackError:
    return query_failure(ILLEGAL_ARGUMENT, f"first-result value cannot be negative : {start}")


def malformed_filter_name() -> ZStackError:
    return invalid_argument("filterName must be formatted as [filterType:condition(s)]")


def unknown_filter(filter_name: str) -> ZStackError:
    return query_failure(
        CLOUD_RUNTIME_EXCEPTION, f"unable to find QueryBelongFilter with type[{filter_name}]"
    )


def invalid_appliance_type(name: str) -> ZStackError:
    return invalid_argument(f"invalid ApplianceVmType {name}")


# --- the ZQL text ----------------------------------------------------------------------------------


def condition_text(name: str, op: str, value: str | None) -> str:
    """One condition as ``toZQLConditionString`` writes it: the value quoted, a list in parentheses."""
    if value is None:
        return f"{name} {op}"
    listed = op in ("in", "not in")
    if value == "":
        return f"{name} {op} " + ("('')" if listed else "''")
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    if listed:
        return f"{name} {op} ('" + quoted.replace(",", "','") + "')"
    return f"{name} {op} '{quoted}'"


def condition_order(texts: Sequence[str]) -> list[int]:
    """The order the conditions reach ZQL in: ``queryUseZQL`` puts their texts in a ``HashSet``.
    Indexes into ``texts``; a text given twice counts once."""
    unique = tuple(dict.fromkeys(texts))
    return [texts.index(text) for text in java_hashmap_order(unique)]


def query_text(
    *,
    count: bool,
    target: str,
    fields: Sequence[str] | None,
    conditions: Sequence[str],
    filter_condition: str | None,
    reply_with_count: bool,
    sort: tuple[str, str] | None,
    limit: int | None,
    start: int | None,
) -> str:
    """The ZQL text ``queryUseZQL`` builds, as the parser sees it (trimmed)."""
    parts = ["count" if count else "query", f"{target}.{','.join(fields)}" if fields else target]
    if conditions:
        parts += ["where", " and ".join(conditions)]
    if filter_condition is not None:
        parts += [" and " if conditions else " where ", f" __systemTag__ {filter_condition} "]
    if not count and reply_with_count:
        parts.append("return with (total)")
    if sort is not None:
        parts.append(f"order by {sort[0]} {sort[1]}")
    if limit is not None:
        parts.append(f"limit {limit}")
    if start is not None:
        parts.append(f"offset {start}")
    return " ".join(parts).strip()


def empty_field_error(text: str, target: str, fields: Sequence[str]) -> ZStackError:
    """The syntax error of a ``fields`` list with an empty entry, as ANTLR's default error strategy
    reports it through ``ThrowingErrorListener`` (derived from ``search/src/main/antlr4/ZQL.g4``).

    The list is ``<target>.<f1>,<f2>...`` in the text. An empty first entry leaves ``queryTarget``
    no alternative. A later one leaves the parser before a token that is no ``ID``: a ``,`` it can
    drop when an ``ID`` follows (extraneous input), else the ``ID`` is missing.
    """
    position = text.index(f"{target}.") + len(target) + 1
    for index, field in enumerate(fields):
        if field:
            position += len(field) + 1
            continue
        position, token = _next_token(text, position)
        if index == 0:
            return _syntax_error(text, position, f"no viable alternative at input '{target}.{token}'")
        if token == "," and index + 1 < len(fields) and fields[index + 1]:
            return _syntax_error(text, position, "extraneous input ',' expecting ID")
        return _syntax_error(text, position, f"missing ID at '{token}'")
    raise ValueError("no empty field")


def _next_token(text: str, position: int) -> tuple[int, str]:
    """Where the ZQL token at or after ``position`` starts, and its text (``<EOF>`` at the end)."""
    while position < len(text) and text[position] == " ":
        position += 1
    rest = text[position:]
    if not rest:
        return position, "<EOF>"
    keyword = re.match(r"(where|return with|order by|limit|offset)\b", rest)
    if keyword:
        return position, keyword.group(1)
    match = ZQL_ID.match(rest)
    return position, match.group(0) if match else rest[0]


def _syntax_error(text: str, position: int, message: str) -> ZStackError:
    # ThrowingErrorListener.getTextAround, including its habit of leaving out the line's last character.
    start = max(position - 10, 0)
    end = len(text) - 1 if position + 10 >= len(text) else position + 10
    around = text[start:end]
    return query_failure(PARSE_CANCELLATION, f"error {message} at line 1:{position}, {around}")
