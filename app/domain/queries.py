"""ZStack's query APIs (QueryImage, QueryVolumeBackup, QueryBackupStorage, QueryImageStoreBackupStorage).

A query is a list of conditions on an inventory's fields (``name``, ``op``, ``value`` strings, as
ZStack's ``QueryCondition``), plus paging, sorting, counting and field selection. Conditions on a
nested list use a dotted name (``backupStorageRefs.backupStorageUuid``) and match when any element
matches. Everything becomes bound store conditions; no input reaches the SQL text.

Both surfaces read their form of the query message into the same ``QueryRequest``
(``app.zstack.query``). Each query API is a function here named after it (``query_image``...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.domain.context import Context
from app.domain.sessions import authenticate
from app.store.base import Subquery
from app.zstack.errors import invalid_argument
from app.zstack.inventories import (
    IMAGE,
    IMAGE_STORE_BACKUP_STORAGE,
    VOLUME_BACKUP,
    InventoryView,
    Kind,
)
from app.zstack.query import OPS, Condition, QueryRequest

_STORE_OPS = {
    "=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le",
    "in": "in", "not in": "notin", "like": "like", "not like": "notlike",
}


@dataclass(frozen=True, slots=True)
class Nested:
    """A list field of an inventory, stored in a child table linked by ``link``."""

    record_type: type[Any]
    link: str
    fields: dict[str, tuple[str, Kind]]
    order_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Queryable:
    """One inventory type: its fields (ZStack name -> column, kind), children, visibility, rendering."""

    api: str
    view: InventoryView
    record_type: type[Any]
    fields: dict[str, tuple[str, Kind]]
    render: Callable[[Any, Sequence[Any]], dict[str, Any]]
    nested: dict[str, Nested] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    #: Normal accounts see only the records they own; backup storages are global, seen by all.
    owned: bool = True
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def inventory(self) -> str:
        """The inventory's simple class name, as error messages name it: ``ImageInventory``."""
        return self.view.java_class.rsplit(".", 1)[-1]


def _fields(view: InventoryView) -> dict[str, tuple[str, Kind]]:
    """What a query can filter, sort and select on: the view's queryable fields, by their ZStack names."""
    return {field.name: (field.column, field.kind) for field in view.fields.values() if field.queryable}


def _queryable(
    api: str,
    view: InventoryView,
    *,
    aliases: dict[str, str] | None = None,
    owned: bool = True,
    fixed: tuple[tuple[str, Any], ...] = (),
) -> Queryable:
    """The query API ``api`` over ``view``: its fields, its child lists as nested fields, its rendering."""
    nested = {
        name: Nested(
            record_type=child.view.record_type,
            link=child.link,
            fields=_fields(child.view),
            order_by=child.order_by,
        )
        for name, child in view.children.items()
    }
    return Queryable(
        api=api,
        view=view,
        record_type=view.record_type,
        fields=_fields(view),
        render=view.render,
        nested=nested,
        aliases=aliases or {},
        owned=owned,
        fixed=fixed,
    )


_BY_BACKUP_STORAGE = {"backupStorage.uuid": "backupStorageRefs.backupStorageUuid"}

IMAGES = _queryable("QueryImage", IMAGE, aliases=_BY_BACKUP_STORAGE)
VOLUME_BACKUPS = _queryable("QueryVolumeBackup", VOLUME_BACKUP, aliases=_BY_BACKUP_STORAGE)
BACKUP_STORAGES = _queryable("QueryBackupStorage", IMAGE_STORE_BACKUP_STORAGE, owned=False)
IMAGE_STORE_BACKUP_STORAGES = _queryable(
    "QueryImageStoreBackupStorage",
    IMAGE_STORE_BACKUP_STORAGE,
    owned=False,
    fixed=(("type", "ImageStoreBackupStorage"),),
)


def query(*, ctx: Context, session_uuid: str | None, target: Queryable, request: QueryRequest) -> dict[str, Any]:
    """Run a query as the session's account; returns the reply's fields (inventories, total)."""
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    conditions: list[tuple[str, Any]] = list(target.fixed)
    if target.owned and not account.is_admin:
        conditions.append(("account_uuid", account.uuid))
    conditions.extend(_store_condition(target, c) for c in request.conditions)
    store = ctx.store

    if request.count:
        return {"total": store.count(target.record_type, conditions)}
    if request.limit < 0 or request.start < 0:
        raise invalid_argument(f"limit[{request.limit}] and start[{request.start}] must not be negative")
    records = store.find(
        target.record_type,
        conditions,
        order_by=_order(target, request),
        limit=request.limit,
        offset=request.start,
    )
    children = _children(ctx, target, records)
    inventories = [target.render(r, children.get(r.uuid, ())) for r in records]
    if request.fields is not None:
        inventories = _select(target, inventories, request.fields)
    body: dict[str, Any] = {"inventories": inventories}
    if request.reply_with_count:
        body["total"] = store.count(target.record_type, conditions)
    return body


def query_image(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> dict[str, Any]:
    return query(ctx=ctx, session_uuid=session_uuid, target=IMAGES, request=message)


def query_volume_backup(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> dict[str, Any]:
    return query(ctx=ctx, session_uuid=session_uuid, target=VOLUME_BACKUPS, request=message)


def query_backup_storage(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> dict[str, Any]:
    return query(ctx=ctx, session_uuid=session_uuid, target=BACKUP_STORAGES, request=message)


def query_image_store_backup_storage(
    *, ctx: Context, session_uuid: str | None, message: QueryRequest
) -> dict[str, Any]:
    return query(ctx=ctx, session_uuid=session_uuid, target=IMAGE_STORE_BACKUP_STORAGES, request=message)


def _store_condition(target: Queryable, condition: Condition) -> tuple[str, Any]:
    name = target.aliases.get(condition.name, condition.name)
    if condition.op not in OPS:
        raise invalid_argument(f"unknown QueryOp type[{condition.op}]")
    head, _, tail = name.partition(".")
    if tail and head in target.nested:
        nested = target.nested[head]
        column, kind = _field(nested.fields, tail, f"{head}.{tail}", target)
        inner = _column_condition(column, kind, condition)
        return ("uuid__in", Subquery(nested.record_type, nested.link, [inner]))
    column, kind = _field(target.fields, name, name, target)
    return _column_condition(column, kind, condition)


def _field(fields: dict[str, tuple[str, Kind]], key: str, full: str, target: Queryable) -> tuple[str, Kind]:
    if key not in fields:
        raise invalid_argument(
            f"condition[{full}] of {target.api}: {target.inventory} has no queryable field "
            f"[{full}]; queryable fields are [{', '.join(sorted(_queryable_names(target)))}]"
        )
    return fields[key]


def _queryable_names(target: Queryable) -> list[str]:
    names = list(target.fields)
    for prefix, nested in target.nested.items():
        names.extend(f"{prefix}.{f}" for f in nested.fields)
    return names


def _column_condition(column: str, kind: Kind, condition: Condition) -> tuple[str, Any]:
    op = condition.op
    if op == "is null":
        return (f"{column}__isnull", True)
    if op == "is not null":
        return (f"{column}__isnull", False)
    raw = condition.value if condition.value is not None else ""
    if op in ("in", "not in"):
        return (f"{column}__{_STORE_OPS[op]}", [_typed(condition.name, kind, v) for v in raw.split(",")])
    if op in ("like", "not like") and kind != "string":
        raise invalid_argument(f"condition[{condition.name}]: '{op}' applies to text fields only")
    return (f"{column}__{_STORE_OPS[op]}", _typed(condition.name, kind, raw))


def _typed(name: str, kind: Kind, value: str) -> Any:
    if kind == "string":
        return value
    if kind == "int":
        try:
            return int(value.strip())
        except ValueError:
            raise invalid_argument(f"condition[{name}]: [{value}] is not an integer") from None
    if kind == "bool":
        if value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise invalid_argument(f"condition[{name}]: [{value}] is not a boolean (true or false)")
    return _parse_date(name, value.strip())


_JAVA_DATE_FORMATS = ("%b %d, %Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def _parse_date(name: str, value: str) -> datetime:
    """Dates in conditions: epoch milliseconds, ISO 8601, ZStack's own format, or ``yyyy-MM-dd HH:mm:ss``.

    Values without a zone are the server's local time, as ZStack renders them.
    """
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for pattern in _JAVA_DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        raise invalid_argument(
            f"condition[{name}]: [{value}] is not a date; use epoch milliseconds, ISO 8601 "
            "(2024-01-02T08:00:00Z) or ZStack's format (Jan 2, 2024 8:00:00 AM)"
        )
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def _order(target: Queryable, request: QueryRequest) -> list[str]:
    if request.sort_by is None:
        return ["create_date", "uuid"]
    if request.sort_by not in target.fields:
        raise invalid_argument(
            f"sortBy[{request.sort_by}] of {target.api} is not a field of "
            f"{target.inventory}; sortable fields are [{', '.join(sorted(target.fields))}]"
        )
    column = target.fields[request.sort_by][0]
    if request.sort_descending:
        return [f"-{column}", "-uuid"]
    return [column, "uuid"]


def _children(ctx: Context, target: Queryable, records: Sequence[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    if not records:
        return grouped
    for nested in target.nested.values():
        rows = ctx.store.find(
            nested.record_type, {f"{nested.link}__in": [r.uuid for r in records]}, order_by=nested.order_by
        )
        for row in rows:
            grouped.setdefault(getattr(row, nested.link), []).append(row)
    return grouped


def _select(target: Queryable, inventories: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
    known = set(target.fields) | set(target.nested)
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise invalid_argument(
            f"fields [{', '.join(unknown)}] of {target.api} are not fields of "
            f"{target.inventory}"
        )
    return [{k: v for k, v in inventory.items() if k in fields} for inventory in inventories]
