"""The tags a create's ``tagUuids`` name (ZStack's tag patterns): QueryTag, CreateTag, DeleteTag.

QueryTag and CreateTag are premium (``org.zstack.tag2``: their classes are named here after the SDK's
``QueryTagAction`` and ``CreateTagAction``, whose RestInfo gives the routes); DeleteTag is
``header/src/main/java/org/zstack/header/tag/APIDeleteTagMsg.java``.
"""

from __future__ import annotations

from ..domain import queries, tags
from ..zstack.inventories import TAG_PATTERN
from ..zstack.params import MessageSpec, Param
from ..zstack.schemas import CreateTagRequest, EmptyReply, TagPatternInventoryReply, TagQueryReply
from .docs import ASYNC_EVENT_NOTE, EVENT_RESPONSES
from .model import Api, Docs, Rest, Rpc

_TAG2 = "org.zstack.tag2"
_HEADER_TAG = "org.zstack.header.tag"
TAG = "Tags"

QUERY_TAG = Api(
    name="QueryTag",
    kind="query",
    serve=queries.query_tag,
    rest=Rest("GET", "/tags", by_uuid=True),
    rpc=(Rpc(f"{_TAG2}.APIQueryTagMsg", f"{_TAG2}.APIQueryTagReply"),),
    reply=TagQueryReply,
    reply_inventories={"inventories": TAG_PATTERN},
    docs=Docs(tag="Queries", summary="QueryTag", description="List tags: the UUIDs a create's `tagUuids` take."),
)

CREATE_TAG = Api(
    name="CreateTag",
    kind="action",
    serve=tags.create_tag,
    job=tags.CREATE_TAG_STEPS,
    rest=Rest("POST", "/tags", parameter="params"),
    rpc=(Rpc(f"{_TAG2}.APICreateTagMsg", f"{_TAG2}.APICreateTagEvent"),),
    params=MessageSpec(
        class_name=f"{_TAG2}.APICreateTagMsg",
        params=(
            # The SDK declares no length for color; TagPatternVO.color holds 32 characters.
            Param("color", max_length=32),
            Param("description", max_length=2048),
            Param("type", valid_values=("simple", "withToken")),
            Param("tagUuids", kind="string_list", resource_type="TagPatternVO"),
            Param("name", required=True, max_length=128),
            Param("systemTags", kind="string_list"),
            Param("userTags", kind="string_list"),
            Param("value", required=True, max_length=128),
            Param("resourceUuid"),
        ),
    ),
    reply=TagPatternInventoryReply,
    reply_inventories={"inventory": TAG_PATTERN},
    docs=Docs(
        tag=TAG,
        summary="CreateTag",
        description="Create a tag (a tag pattern): its UUID can go in a create's `tagUuids`." + ASYNC_EVENT_NOTE,
        responses=EVENT_RESPONSES,
        body=(CreateTagRequest, {
            "simple": {"summary": "A simple tag",
                       "value": {"params": {"name": "production", "value": "production", "color": "#2D6DE6"}}},
        }),
    ),
)

DELETE_TAG = Api(
    name="DeleteTag",
    kind="action",
    serve=tags.delete_tag,
    job=tags.DELETE_TAG_STEPS,
    rest=Rest("DELETE", "/tags/{uuid}"),
    rpc=(Rpc(f"{_HEADER_TAG}.APIDeleteTagMsg", f"{_HEADER_TAG}.APIDeleteTagEvent"),),
    params=MessageSpec(
        class_name=f"{_HEADER_TAG}.APIDeleteTagMsg",
        params=(
            Param("deleteMode"),
            Param("uuid", required=True),
            Param("systemTags", kind="string_list"),
            Param("userTags", kind="string_list"),
        ),
    ),
    reply=EmptyReply,
    docs=Docs(
        tag=TAG,
        summary="DeleteTag",
        description="Delete a tag; the images it was attached to lose it. A UUID that names no tag is no error."
        + ASYNC_EVENT_NOTE,
        responses=EVENT_RESPONSES,
        path={"uuid": "The UUID of the tag."},
        query=(("deleteMode", str | None, "Permissive (default) or Enforcing."),),
    ),
)
