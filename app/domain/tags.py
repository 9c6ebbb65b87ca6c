"""The tags a create's ``tagUuids`` name (ZStack's tag patterns, ``TagPatternVO``): CreateTag and DeleteTag.

QueryTag is in ``app.domain.queries``. CreateTag is premium code (``org.zstack.tag2``); its parameters are the
SDK's ``CreateTagAction``. DeleteTag is ``header/src/main/java/org/zstack/header/tag/APIDeleteTagMsg.java``,
checked in ``tag/src/main/java/org/zstack/tag/TagApiInterceptor.java`` and handled in ``TagManagerImpl``: a
UUID that names no tag is no error (the handler removes by primary key), a normal account may not delete
another's, and the tag's links to resources go with it (``UserTagVO``'s foreign key cascades).
"""

from __future__ import annotations

from typing import Any

from ..store.records import ImageTag, TagPattern
from ..zstack.errors import PERMISSION_DENIED, zstack_error
from ..zstack.inventories import tag_pattern_inventory
from ..zstack.params import CheckedMessage
from .context import Context
from .images import job_will_fail
from .job_kinds import JobStart, done_at_start, served_at_once
from .sessions import authenticate, check_owner
from .templates import check_resource_uuid_format, ensure_resource_uuid_free


def start_create_tag(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    for tag in message.resources.get("tagUuids", []):
        check_owner(ctx=ctx, account=account, resource_uuid=tag.uuid, resource_type="TagPatternVO",
                    owner_uuid=tag.account_uuid)
    values = message.values
    check_resource_uuid_format(values.get("resourceUuid"))
    ensure_resource_uuid_free(ctx.store, values.get("resourceUuid"))
    uuid = values.get("resourceUuid") or ctx.clock.new_uuid()
    now = ctx.clock.now()
    ctx.store.insert(TagPattern(
        uuid=uuid, name=values["name"], value=values["value"], description=values.get("description"),
        color=values.get("color"), type=values.get("type", "simple"), account_uuid=account.uuid,
        create_date=now, last_op_date=now,
    ))
    return JobStart(resource_uuid=uuid, account_uuid=account.uuid)


def tag_reply(*, ctx: Context, resource_uuid: str) -> dict[str, Any] | None:
    tag = ctx.store.get(TagPattern, uuid=resource_uuid)
    return None if tag is None else {"inventory": tag_pattern_inventory(tag)}


def abandon_create_tag(*, ctx: Context, resource_uuid: str) -> None:
    """A create whose job failed (an injected fault, a timeout) leaves no tag behind."""
    remove_tag(ctx, resource_uuid)


def start_delete_tag(*, ctx: Context, session_uuid: str | None, message: CheckedMessage) -> JobStart:
    account = authenticate(ctx=ctx, session_uuid=session_uuid)
    uuid = message.values["uuid"]
    tag = ctx.store.get(TagPattern, uuid=uuid)
    if tag is not None and not account.is_admin and tag.account_uuid != account.uuid:
        raise zstack_error(
            PERMISSION_DENIED,
            f"permission denied. The tag pattern[uuid: {uuid}] refer to a resource not belonging to the "
            f"account[uuid: {account.uuid}]",
        )
    if tag is not None and not job_will_fail():
        remove_tag(ctx, uuid)
    return JobStart(resource_uuid=uuid, account_uuid=account.uuid)


def remove_tag(ctx: Context, uuid: str) -> None:
    with ctx.store.transaction():
        ctx.store.delete(ImageTag, {"tag_uuid": uuid})
        ctx.store.delete(TagPattern, {"uuid": uuid})


def _deleted(*, ctx: Context, resource_uuid: str) -> dict[str, Any]:
    return {}


CREATE_TAG_STEPS = done_at_start(start_create_tag, tag_reply, abandon_create_tag)
DELETE_TAG_STEPS = done_at_start(start_delete_tag, _deleted)
create_tag = served_at_once(CREATE_TAG_STEPS)
delete_tag = served_at_once(DELETE_TAG_STEPS)
