"""ZStack's query APIs (QueryImage, QueryVolumeBackup, QueryBackupStorage, QueryImageStoreBackupStorage).

A query is a list of conditions on an inventory's fields (``name``, ``op``, ``value`` strings, as
ZStack's ``QueryCondition``), plus paging, sorting, counting and field selection. Conditions on a
nested list use a dotted name (``backupStorageRefs.backupStorageUuid``) and match when any element
matches. Everything becomes bound store conditions; no input reaches the SQL text.

Both surfaces read their form of the query message into the same ``QueryRequest``
(``app.zstack.query``). Each query API is a function here named after it (``query_image``...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..store.base import Subquery
from ..store.records import (
    ALL_RECORD_TYPES,
    Account,
    ApiJob,
    FaultCounter,
    FaultRule,
    ImageTag,
    JournalEntry,
    Session,
    Snapshot,
    WebhookDelivery,
)
from ..zstack import zql
from ..zstack.errors import ZStackError, invalid_argument
from ..zstack.inventories import (
    IMAGE,
    IMAGE_STORE_BACKUP_STORAGE,
    TAG_PATTERN,
    VOLUME_BACKUP,
    InventoryView,
    Kind,
)
from ..zstack.query import OPS, Condition, QueryReply, QueryRequest, java_split
from .context import Context
from .query_targets import (
    BACKUP_STORAGE_TARGET,
    IMAGE_STORE_TARGET,
    IMAGE_TARGET,
    SYSTEM_TAG,
    TAG_PATTERN_TARGET,
    TAG_PATTERN_UUID,
    TARGETS,
    USER_TAG,
    VOLUME_BACKUP_TARGET,
    Resolved,
    Target,
    resolve,
)
from .sessions import authenticate

_STORE_OPS = {
    "=": "eq", "!=": "ne", ">": "gt", ">=": "ge", "<": "lt", "<=": "le",
    "in": "in", "not in": "notin", "like": "like", "not like": "notlike",
}
#: A tag condition with one of these matches the resources that have no such tag
#: (``SQLConditionBuilder.TAG_FALSE_OP``): ``NOT IN`` the ones that have one with the opposite operator.
_TAG_FALSE_OPS = {"!=": "=", "not in": "in", "not like": "like"}
#: The virtual router's filter (``VirtualRouterManagerImpl.filterName``) and the appliance types
#: it knows (``VirtualRouterConstant``, ``VyosConstants``).
_APPLIANCE_FILTER = "applianceType"
_APPLIANCE_TYPES = ("VirtualRouter", "vrouter")


@dataclass(frozen=True, slots=True)
class Queryable:
    """One query API: the inventory it renders, the ZQL target it resolves names on, who sees what."""

    api: str
    view: InventoryView
    target: Target
    #: ``type = <value>`` as a condition narrows the target to a child class
    #: (``QueryFacadeImpl.getQueryTargetInventoryClass``).
    typed: dict[str, Target] | None = None
    #: Normal accounts see only the records they own; backup storages are global, seen by all.
    owned: bool = True
    fixed: tuple[tuple[str, Any], ...] = ()

    def zql_target(self, request: QueryRequest) -> Target:
        if self.typed is None:
            return self.target
        first = next((c for c in request.conditions if c.name == "type"), None)
        if first is None or first.op != "=" or first.value is None:
            return self.target
        return self.typed.get(first.value, self.target)


IMAGES = Queryable("QueryImage", IMAGE, IMAGE_TARGET)
VOLUME_BACKUPS = Queryable("QueryVolumeBackup", VOLUME_BACKUP, VOLUME_BACKUP_TARGET)
BACKUP_STORAGES = Queryable(
    "QueryBackupStorage",
    IMAGE_STORE_BACKUP_STORAGE,
    BACKUP_STORAGE_TARGET,
    typed={"ImageStoreBackupStorage": IMAGE_STORE_TARGET},
    owned=False,
)
TAGS = Queryable("QueryTag", TAG_PATTERN, TAG_PATTERN_TARGET)
IMAGE_STORE_BACKUP_STORAGES = Queryable(
    "QueryImageStoreBackupStorage",
    IMAGE_STORE_BACKUP_STORAGE,
    IMAGE_STORE_TARGET,
    owned=False,
    fixed=(("type", "ImageStoreBackupStorage"),),
)


#: What no query answer reads: sessions (checked before the answer), jobs, the journal, the faults, snapshots.
_NOT_QUERIED = (Session, ApiJob, WebhookDelivery, JournalEntry, FaultRule, FaultCounter, Snapshot)
_ANSWERS_READ = tuple(t for t in ALL_RECORD_TYPES if t not in _NOT_QUERIED)


def query(*, ctx: Context, session_uuid: str | None, target: Queryable, request: QueryRequest) -> QueryReply:
    """Run a query as the session's account; returns the reply's fields (inventories, total), which the
    caller must not change (the store may answer the same reply again)."""
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    for condition in request.conditions:
        _check_operator(condition)
    # The answer depends on the account, the request and the inventory alone, so the store may keep it
    # until the inventory changes: a client polling a page of 50 gets it without 100 rows read and rendered.
    key = ("query", target.api, account.uuid, request.key())
    return ctx.store.remembered(key, _ANSWERS_READ, lambda: _answer(ctx, account, target, request))


def _answer(ctx: Context, account: Account, target: Queryable, request: QueryRequest) -> QueryReply:
    inventory = target.zql_target(request)
    conditions, order_by = _zql(target, inventory, request)
    if target.owned and not account.is_admin:
        conditions.append(("account_uuid", account.uuid))

    store = ctx.store
    if request.count:
        return QueryReply({"total": store.count(target.view.record_type, conditions)})
    records = store.find(
        target.view.record_type, conditions, order_by=order_by, limit=request.limit, offset=request.start or 0
    )
    children = _children(ctx, target.view, records)
    inventories = [target.view.render(r, children.get(r.uuid, ())) for r in records]
    reply = QueryReply({"inventories": inventories})
    if request.fields is not None:
        reply["inventories"] = [{k: v for k, v in i.items() if k in request.fields} for i in inventories]
        # A field query builds each inventory as the query's own class (ZQL.entityVOtoInventory).
        reply.inventory_class = inventory.java_class
    if request.reply_with_count:
        reply["total"] = store.count(target.view.record_type, conditions)
    return reply


def _zql(target: Queryable, inventory: Target, request: QueryRequest) -> tuple[list[tuple[str, Any]], list[str]]:
    """The store conditions and order of the query, failing where and as a real node's query code and
    ZQL fail, in their order: ``filterName``, then ZQL's syntax, the selected fields, the conditions
    (in the order of ZStack's HashSet of their texts), the sort key, and last the paging Hibernate is
    handed."""
    conditions: list[tuple[str, Any]] = list(target.fixed)
    if request.filter_name:
        conditions.append(_filter_condition(request.filter_name))
    if request.fields and "" in request.fields:
        raise zql.empty_field_error(_zql_text(inventory, request), _zql_name(inventory), request.fields)
    for name in request.fields or ():
        if not inventory.has_field(name):
            raise zql.no_selected_field(name)
    texts = [zql.condition_text(c.name, c.op, c.value) for c in request.conditions]
    for index in zql.condition_order(texts):
        conditions.append(_store_condition(inventory, request.conditions[index]))
    order_by = _order(inventory, request)
    if request.limit < 0:
        raise zql.negative_limit()
    if request.start is not None and request.start < 0:
        raise zql.negative_start(request.start)
    return conditions, order_by


def query_image(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> QueryReply:
    return query(ctx=ctx, session_uuid=session_uuid, target=IMAGES, request=message)


def query_volume_backup(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> QueryReply:
    return query(ctx=ctx, session_uuid=session_uuid, target=VOLUME_BACKUPS, request=message)


def query_backup_storage(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> QueryReply:
    return query(ctx=ctx, session_uuid=session_uuid, target=BACKUP_STORAGES, request=message)


def query_image_store_backup_storage(
    *, ctx: Context, session_uuid: str | None, message: QueryRequest
) -> QueryReply:
    return query(ctx=ctx, session_uuid=session_uuid, target=IMAGE_STORE_BACKUP_STORAGES, request=message)


def query_tag(*, ctx: Context, session_uuid: str | None, message: QueryRequest) -> QueryReply:
    return query(ctx=ctx, session_uuid=session_uuid, target=TAGS, request=message)


def _check_operator(condition: Condition) -> None:
    """``QueryFacadeImpl.intercept``: a known QueryOp, and a value unless the operator is a null test."""
    if condition.op not in OPS:
        raise invalid_argument(f"unknown QueryOp type[{condition.op}]")
    if condition.value is None and condition.op not in ("is null", "is not null"):
        described = f'{{"name":"{condition.name}","op":"{condition.op}"}}'
        raise invalid_argument(f"'value' of query condition {described} cannot be null")


def _filter_condition(filter_name: str) -> tuple[str, Any]:
    """``filterName``: ``<filter type>:<argument>``. The one filter a real node registers selects
    appliance images by their ``applianceType::`` system tag; no image here has system tags."""
    parts = java_split(filter_name, ":")
    if len(parts) < 2:
        raise zql.malformed_filter_name()
    kind, argument = parts[:2]
    if kind != _APPLIANCE_FILTER:
        raise zql.unknown_filter(filter_name)
    if argument not in _APPLIANCE_TYPES:
        raise zql.invalid_appliance_type(argument)
    return ("uuid__in", [])


def _zql_name(inventory: Target) -> str:
    """The query target's name in ZQL text: the simple class name, lower case, less ``inventory``."""
    return inventory.simple_name.lower().removesuffix("inventory")


def _zql_text(inventory: Target, request: QueryRequest) -> str:
    texts = [zql.condition_text(c.name, c.op, c.value) for c in request.conditions]
    filter_condition = None
    if request.filter_name:
        filter_condition = f"has ('applianceType::{java_split(request.filter_name, ':')[1]}')"
    return zql.query_text(
        count=request.count,
        target=_zql_name(inventory),
        fields=request.fields,
        conditions=[texts[i] for i in zql.condition_order(texts)],
        filter_condition=filter_condition,
        reply_with_count=request.reply_with_count,
        sort=None if request.sort_by is None else (request.sort_by, "desc" if request.sort_descending else "asc"),
        limit=request.limit,
        start=request.start,
    )


def _store_condition(inventory: Target, condition: Condition) -> tuple[str, Any]:
    """The condition as a store condition on the query's records, through the expansions it names."""
    resolved = resolve(inventory, condition.name)
    for _, expansion in resolved.steps:
        why = TARGETS[expansion.target].unemulated
        if why is not None:
            raise _not_emulated(condition.name, why)
    if not resolved.target.stored:
        # Volumes and volume snapshots: none exists here, so nothing matches.
        return (f"{_column(inventory, 'uuid')}__in", [])
    inner = _field_condition(resolved, condition)
    for owner, expansion in reversed(resolved.steps):
        joined = TARGETS[expansion.target]
        assert joined.view is not None
        inner = (
            f"{_column(owner, expansion.self_key)}__in",
            Subquery(joined.view.record_type, _column(joined, expansion.target_key), [inner]),
        )
    return inner


def _field_condition(resolved: Resolved, condition: Condition) -> tuple[str, Any]:
    target, name = resolved.target, resolved.field
    assert target.view is not None
    key = next(iter(target.view.fields.values())).column
    if name in (SYSTEM_TAG, USER_TAG) or (name == TAG_PATTERN_UUID and target is not IMAGE_TARGET):
        # No resource here has system or user tags: only a negated condition matches, and all.
        return (f"{key}__notin", []) if condition.op in _TAG_FALSE_OPS else (f"{key}__in", [])
    if name == TAG_PATTERN_UUID:
        negated = _TAG_FALSE_OPS.get(condition.op)
        tagged = Condition("tag_uuid", negated or condition.op, condition.value)
        tags = Subquery(ImageTag, "image_uuid", [_column_condition("tag_uuid", "string", tagged)])
        return (f"{key}__notin" if negated else f"{key}__in", tags)
    field = target.view.fields.get(name)
    if field is None or not field.queryable:
        raise _not_emulated(condition.name, f"{target.simple_name}.{name} is not a stored column")
    return _column_condition(field.column, field.kind, condition)


def _column(target: Target, name: str) -> str:
    assert target.view is not None
    return target.view.fields[name].column


def _not_emulated(name: str, why: str) -> ZStackError:
    return invalid_argument(
        f"condition[{name}]: zstack-mock cannot query this ({why}); see docs/behaviour.md"
    )


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
    if value.isascii() and value.isdigit():
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


def _order(inventory: Target, request: QueryRequest) -> list[str]:
    if request.sort_by is None:
        return ["create_date", "uuid"]
    if not inventory.has_field(request.sort_by):
        raise zql.no_order_by_field(inventory.simple_name, request.sort_by)
    assert inventory.view is not None
    field = inventory.view.fields.get(request.sort_by)
    if field is None or not field.queryable:
        raise invalid_argument(
            f"sortBy[{request.sort_by}]: zstack-mock cannot sort by it ({inventory.simple_name}.{request.sort_by} "
            "is not a stored column); see docs/behaviour.md"
        )
    if request.sort_descending:
        return [f"-{field.column}", "-uuid"]
    return [field.column, "uuid"]


def _children(ctx: Context, view: InventoryView, records: Sequence[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    if not records:
        return grouped
    for child in view.children.values():
        rows = ctx.store.find(
            child.view.record_type, {f"{child.link}__in": [r.uuid for r in records]}, order_by=child.order_by
        )
        for row in rows:
            grouped.setdefault(getattr(row, child.link), []).append(row)
    return grouped
