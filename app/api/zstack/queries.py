"""GET query APIs: images, volume backups, backup storages (all and ImageStore only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api.deps import context_of
from app.api.docs import API_FAILURE, text_error
from app.api.routing import ZStackRoute
from app.domain.queries import (
    BACKUP_STORAGES,
    IMAGE_STORE_BACKUP_STORAGES,
    IMAGES,
    VOLUME_BACKUPS,
    Condition,
    Queryable,
    QueryRequest,
    query,
)
from app.zstack.query_params import parse_query_params
from app.zstack.schemas import BackupStorageQueryReply, ImageQueryReply, VolumeBackupQueryReply
from app.zstack.wire import json_response, session_uuid_from_headers

router = APIRouter(prefix="/zstack/v1", tags=["Queries"], route_class=ZStackRoute)

_QUERY_DOC = (
    "Conditions: repeated `q=<field><op><value>` with `=`, `!=`, `>`, `<`, `>=`, `<=`, `?=` (in, comma "
    "list), `!?=` (not in), `~=` (like, `%` and `_`), `!~=` (not like), `<field> is null`, `<field> not null`; "
    "nested fields such as `backupStorageRefs.backupStorageUuid`. Paging: `limit` (default 1000), `start`. "
    "`count=true` answers the total alone, `replyWithCount=true` adds it. `sort=+field` / `-field`. "
    "`fields=a,b` selects fields. A normal account sees only what it owns."
)
_PARAMETERS: dict[str, Any] = {
    "q": Query(None, description="A condition, e.g. platform=Linux; repeat for more (all must hold)."),
    "limit": Query(None, description="Page size (default 1000)."),
    "start": Query(None, description="Offset of the first result."),
    "count": Query(None, description="true: answer {\"total\": N} only."),
    "replyWithCount": Query(None, description="true: add \"total\" to the reply."),
    "sort": Query(None, description="+field (ascending) or -field (descending)."),
    "fields": Query(None, description="Comma-separated fields to return."),
}
_ERRORS = {
    400: text_error("A malformed query parameter (plain text).", "Invalid query parameter. 'limit' must be an integer"),
    **API_FAILURE,
}


def _register(path: str, target: Queryable, reply: type, summary: str) -> None:
    async def run(request: Request, conditions: list[Condition]) -> Response:
        session_uuid = session_uuid_from_headers(request.headers.get("authorization"))
        parsed = QueryRequest(conditions=conditions) if conditions else parse_query_params(
            request.query_params.multi_items()
        )
        body = query(ctx=context_of(request), session_uuid=session_uuid, target=target, request=parsed)
        return json_response(body)

    # The query parameters are declared for the OpenAPI document only: ZStackRoute passes none of
    # them, and ``run`` parses the raw query string as ZStack does (repeated q, '+' in sort).
    async def query_all(
        request: Request,
        q: list[str] | None = _PARAMETERS["q"],
        limit: int | None = _PARAMETERS["limit"],
        start: int | None = _PARAMETERS["start"],
        count: bool | None = _PARAMETERS["count"],
        replyWithCount: bool | None = _PARAMETERS["replyWithCount"],
        sort: str | None = _PARAMETERS["sort"],
        fields: str | None = _PARAMETERS["fields"],
    ) -> Response:
        return await run(request, [])

    async def query_one(request: Request, uuid: str = Path(description="The resource UUID.")) -> Response:
        return await run(request, [Condition("uuid", "=", uuid)])

    common: dict[str, Any] = {"response_model": reply, "responses": _ERRORS}
    router.add_api_route(
        path, query_all, methods=["GET"], operation_id=target.api, summary=target.api,
        description=f"{summary} {_QUERY_DOC}", **common,
    )
    router.add_api_route(
        f"{path}/{{uuid}}", query_one, methods=["GET"], operation_id=f"{target.api}ByUuid",
        summary=f"{target.api} by UUID",
        description=f"{summary} The result is `{{\"inventories\": [...]}}` with zero or one element, never a 404.",
        **common,
    )


_register("/images", IMAGES, ImageQueryReply, "List images.")
_register("/volume-backups", VOLUME_BACKUPS, VolumeBackupQueryReply, "List volume backups.")
# Before /backup-storage/{uuid}, which would otherwise take "image-store" for a UUID.
_register("/backup-storage/image-store", IMAGE_STORE_BACKUP_STORAGES, BackupStorageQueryReply,
          "List ImageStore backup storages.")
_register("/backup-storage", BACKUP_STORAGES, BackupStorageQueryReply, "List backup storages.")
