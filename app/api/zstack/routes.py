"""The REST API under ``/zstack/v1``: one route per catalogue API (two for a query: by conditions, by UUID).

Each route reads the call as ``RestServer`` does and hands it to ``serving``:

* an **action** reads the session (``Authorization: OAuth``) if the API needs one, then the body's
  ``parameter`` object, which with the body's tags and the path's variables makes the message; an
  asynchronous API answers 202 and a job when the call asks for it (``wants_async``);
* a **query** reads the session, then the query string (or the path's UUID) into a ``QueryRequest``;
* a **poll** is ``jobs.poll_job``.

The routes declare their parameters and bodies for the OpenAPI document only (``ZStackRoute`` passes
none of them): handlers read the raw request, so ZStack's own validation order and messages apply.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Union

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from ...catalogue import APIS
from ...catalogue.calls import normalized_path, rest_paths, shared_action_paths
from ...catalogue.docs import API_FAILURE, BODY_TOO_LARGE, text_error
from ...catalogue.model import Api, Rest
from ...domain.jobs import DEFAULT_API_TIMEOUT_MS, JobOptions, ensure_job_uuid_free
from ...zstack.async_jobs import (
    JSON_SCHEMA_HEADER,
    accepted_response,
    api_timeout_ms_from_headers,
    job_location,
    job_uuid_from_headers,
    wants_async,
    webhook_url_from_headers,
)
from ...zstack.errors import TransportError
from ...zstack.inventories import reply_schema
from ...zstack.query import Condition, QueryReply, QueryRequest, parse_query_params
from ...zstack.responses import JSON_MEDIA_TYPE, api_json, api_response
from ...zstack.wire import REST_PREFIX, read_json_body, rest_message_fields, session_uuid_from_headers
from ..deps import instance_of, public_base_url, server_of
from ..openapi import json_body
from ..routing import ZStackRoute
from .jobs import poll_job, poll_job_wrong_method
from .serving import CallReader, accept_job, serve_now

Endpoint = Callable[..., Coroutine[Any, Any, Response]]

QUERY_SYNTAX = (
    "Conditions: repeated `q=<field><op><value>` with `=`, `!=`, `>`, `<`, `>=`, `<=`, `?=` (in, comma "
    "list), `!?=` (not in), `~=` (like, `%` and `_`), `!~=` (not like), `<field> is null`, `<field> not null`; "
    "names through other inventories such as `backupStorageRefs.backupStorageUuid` or `backupStorage.name`, and "
    "`__systemTag__`, `__userTag__`, `__tagUuid__`. Paging: `limit` (default 1000), `start`. "
    "`count=true` answers the total alone, `replyWithCount=true` adds it. `sort=+field` / `-field`. "
    "`fields=a,b` selects fields. A normal account sees only what it owns."
)
#: The query string as the OpenAPI document shows it: (name, type, description).
QUERY_PARAMETERS: tuple[tuple[str, Any, str], ...] = (
    ("q", list[str] | None, "A condition, e.g. platform=Linux; repeat for more (all must hold)."),
    ("limit", int | None, "Page size (default 1000)."),
    ("start", int | None, "Offset of the first result."),
    ("count", bool | None, "true: answer {\"total\": N} only."),
    ("replyWithCount", bool | None, "true: add \"total\" to the reply."),
    ("sort", str | None, "+field (ascending) or -field (descending)."),
    ("fields", str | None, "Comma-separated fields to return."),
    ("filterName", str | None, "<filter type>:<argument>; the one filter type is applianceType (images)."),
)
#: The optional headers of the REST protocol, as the OpenAPI document shows them: (name, description).
JOB_UUID_DOC = ("X-Job-UUID", "The job's UUID, 32 characters (a UUID with '-' stripped). ZStack's SDKs send one with "
                "every call: on an asynchronous API it makes the call async (202); on any POST, PUT or DELETE a UUID a "
                "job already has is a 400.")
JSON_SCHEMA_DOC = ("X-JSON-Schema", "Present: the reply carries the `schema` map (the Java class of every object in "
                   "it, by JSON path).")
ASYNC_HEADERS = (
    ("X-Web-Hook", "An http(s) URL the result is POSTed to when the job ends; makes the call async. In the public "
                   "profile (--sandbox) only to hosts the operator allows (--webhook-allow); others are SYS.1007."),
    ("X-API-Timeout", "Seconds the job may run before it fails with SYS.1001 (default 72 hours)."),
    ("Prefer", "`respond-async` or `respond-sync` (RFC 7240): overrides the server's --api-mode for this call."),
)
SYNC_ACTION_ERRORS: dict[int | str, Any] = {
    400: text_error("Rejected by the REST layer (plain text): a malformed X-Job-UUID, or one a job already has.",
                    "Invalid header[X-Job-UUID], it must be a UUID with '-' stripped"),
}
QUERY_ERRORS = {
    400: text_error("A malformed query parameter (plain text).", "Invalid query parameter. 'limit' must be an integer"),
    **API_FAILURE,
}

# --- actions ----------------------------------------------------------------------------------------


def action_endpoint(api: Api, rest: Rest) -> Endpoint:
    async def endpoint(request: Request, **path: str) -> Response:
        session_uuid = _session(api, request)
        body = None
        if request.method not in ("GET", "DELETE"):
            body = await read_json_body(request, server_of(request).settings.max_body_bytes)
        return serve_action(request, api, rest, path, body, session_uuid)

    return endpoint


def shared_action_endpoint(apis: Sequence[Api]) -> Endpoint:
    """``PUT`` on a path several actions share: the body's key names the API (``RestServer.handleNonUniqueApi``)."""
    first = apis[0].rest
    assert first is not None
    names = _path_variables(first.path)

    async def endpoint(request: Request, **path: str) -> Response:
        body = await read_json_body(request, server_of(request).settings.max_body_bytes)
        for api in apis:
            assert api.rest is not None
            if api.rest.action_name in body:
                values = dict(zip(_path_variables(api.rest.path), (path[name] for name in names), strict=True))
                return serve_action(request, api, api.rest, values, body, _session(api, request))
        raise TransportError(400, "the body doesn't contain action mapping to the URL"
                                  f"[{request.url.path.removeprefix('/zstack')}]")

    return endpoint


def _path_variables(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


def _session(api: Api, request: Request) -> str | None:
    return session_uuid_from_headers(request.headers.get("authorization")) if api.authenticated else None


def serve_action(request: Request, api: Api, rest: Rest, path: Mapping[str, str],
                 body: Mapping[str, Any] | None, session_uuid: str | None) -> Response:
    """An action's answer; ``body`` is the JSON body, None for GET and DELETE (their query string is read)."""
    server = server_of(request)
    settings = server.settings
    headers = request.headers
    query = query_fields(api, request.query_params.multi_items()) if body is None else None

    def fields() -> dict[str, Any]:
        """The message's fields, read when needed: an async call's first error goes to its job."""
        if query is not None:
            return {**query, **path}
        return rest_message_fields(body or {}, rest.parameter or "", path)

    if api.asynchronous and wants_async(headers, settings.api_mode):
        return accepted(request, api, lambda: (session_uuid, fields()))
    ctx = server.instance_for(request.scope).context
    job_uuid = job_uuid_from_headers(headers)
    if job_uuid is not None and request.method in ("POST", "PUT", "DELETE"):
        ensure_job_uuid_free(ctx, job_uuid)
    reply = serve_now(api, ctx, session_uuid, fields())
    if rest.reply_fields:
        for rest_name, field in rest.reply_fields.items():
            reply[rest_name] = reply.pop(field)
    if JSON_SCHEMA_HEADER in headers:
        reply["schema"] = reply_schema(reply, api.reply_inventories)
    return api_response(reply)


def query_fields(api: Api, items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The message's fields from a GET or DELETE call's query string, as ``RestServer.handleApi`` reads
    them: a list field takes every value, any other field one (400 if it is given more); the @APIParam
    checks then type them. Names the message has not are ignored."""
    lists = {param.name for param in api.params.params if param.kind.endswith("_list")} if api.params else set()
    fields: dict[str, Any] = {}
    for name, value in items:
        if name in lists:
            fields.setdefault(name, []).append(value)
        elif name in fields:
            raise TransportError(400, f"Invalid query parameter[{name}], only one value is allowed for the parameter "
                                      "but multiple values found")
        else:
            fields[name] = value
    return fields


def accepted(request: Request, api: Api, read: CallReader) -> Response:
    """202 and a job; from here on every failure, even a malformed ``params``, comes through the job."""
    headers = request.headers
    options = JobOptions(
        job_uuid=job_uuid_from_headers(headers),
        webhook_url=webhook_url_from_headers(headers, server_of(request).webhook_allow),
        json_schema=JSON_SCHEMA_HEADER in headers,
        api_timeout_ms=api_timeout_ms_from_headers(headers, DEFAULT_API_TIMEOUT_MS),
    )
    job = accept_job(instance_of(request), api, options, read)
    response = accepted_response(job_location(public_base_url(request), job.uuid), job.api_timeout_ms)
    response.headers["Preference-Applied"] = "respond-async"
    return response


# --- queries ----------------------------------------------------------------------------------------


def query_endpoint(api: Api, *, by_uuid: bool) -> Endpoint:
    assert api.serve is not None
    serve = api.serve

    async def endpoint(request: Request, **path: str) -> Response:
        session_uuid = session_uuid_from_headers(request.headers.get("authorization"))
        if by_uuid:
            message = QueryRequest(conditions=[Condition("uuid", "=", path["uuid"])])
        else:
            message = parse_query_params(request.query_params.multi_items())
        reply = serve(ctx=instance_of(request).context, session_uuid=session_uuid, message=message)
        if not isinstance(reply, QueryReply):
            return api_response(query_answer(api, reply, None))
        if reply.rest_body is None:
            reply.rest_body = api_json(query_answer(api, reply, reply.inventory_class))
        return Response(reply.rest_body, media_type=JSON_MEDIA_TYPE)

    return endpoint


def query_answer(api: Api, reply: Mapping[str, Any], inventory_class: str | None) -> dict[str, Any]:
    """A query's REST answer: the reply's fields and, always, its ``schema`` map."""
    classes = None if inventory_class is None else {"inventories": inventory_class}
    return {**reply, "schema": reply_schema(reply, api.reply_inventories, classes=classes)}


# --- registration -----------------------------------------------------------------------------------


def _documented(endpoint: Endpoint, parameters: list[inspect.Parameter]) -> Endpoint:
    """``endpoint`` with the signature the OpenAPI document shows: the request, then ``parameters``."""
    request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)
    endpoint.__signature__ = inspect.Signature([request, *parameters])  # type: ignore[attr-defined]
    return endpoint


def _path_parameters(descriptions: Mapping[str, str]) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=Path(description=text), annotation=str)
        for name, text in descriptions.items()
    ]


def _header_parameters(headers: Sequence[tuple[str, str]]) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(name.lower().replace("-", "_"), inspect.Parameter.KEYWORD_ONLY,
                          default=Header(None, alias=name, description=text), annotation=str)
        for name, text in headers
    ]


def _query_parameters(parameters: Sequence[tuple[str, Any, str]] = QUERY_PARAMETERS) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=Query(None, description=text),
                          annotation=annotation)
        for name, annotation, text in parameters
    ]


def _router(api: Api, rest: Rest) -> APIRouter:
    router = APIRouter(prefix=REST_PREFIX, route_class=ZStackRoute)
    docs = api.docs
    common: dict[str, Any] = {"methods": [rest.method], "tags": [docs.tag], "response_model": api.reply}
    if api.kind == "query":
        whole, one = rest_paths(rest.path, by_uuid=True)
        session: dict[str, Any] = {"security": [{"ZStackSession": []}]}
        router.add_api_route(
            whole, _documented(query_endpoint(api, by_uuid=False), _query_parameters()),
            operation_id=api.name, summary=api.name, description=f"{docs.description} {QUERY_SYNTAX}",
            responses=QUERY_ERRORS, openapi_extra=session, **common,
        )
        router.add_api_route(
            one, _documented(query_endpoint(api, by_uuid=True), _path_parameters({"uuid": "The resource UUID."})),
            operation_id=f"{api.name}ByUuid", summary=f"{api.name} by UUID",
            description=f"{docs.description} The result is `{{\"inventories\": [...]}}` with zero or one element, "
            "never a 404.",
            responses=QUERY_ERRORS, openapi_extra=session, **common,
        )
        return router
    if api.kind == "poll":
        endpoint, headers, responses = poll_job, [JSON_SCHEMA_DOC], dict(docs.responses)
    elif api.asynchronous:
        endpoint, headers, responses = action_endpoint(api, rest), [JOB_UUID_DOC, *ASYNC_HEADERS, JSON_SCHEMA_DOC], \
            dict(docs.responses)
    else:
        endpoint, headers, responses = action_endpoint(api, rest), [JOB_UUID_DOC, JSON_SCHEMA_DOC], {
            **SYNC_ACTION_ERRORS, **(BODY_TOO_LARGE if rest.parameter is not None else {}), **docs.responses,
        }
    extra: dict[str, Any] = {} if docs.body is None else json_body(*docs.body)
    if api.authenticated:
        extra["security"] = [{"ZStackSession": []}]
    router.add_api_route(
        rest.path, _documented(endpoint, [*_path_parameters(docs.path), *_query_parameters(docs.query),
                                          *_header_parameters(headers)]),
        operation_id=api.name, summary=docs.summary, description=docs.description,
        responses=responses, openapi_extra=extra or None,
        **common,
    )
    if api.kind == "poll":
        router.add_api_route(rest.path, poll_job_wrong_method, methods=["POST", "PUT", "DELETE", "PATCH"],
                             include_in_schema=False)
    elif rest.any_method:
        others = [method for method in ("GET", "POST", "PUT", "DELETE", "PATCH") if method != rest.method]
        router.add_api_route(rest.path, endpoint, methods=others, include_in_schema=False)
    return router


def _shared_action_router(apis: Sequence[Api]) -> APIRouter:
    """One route for the actions that share a path; the OpenAPI document has one operation for them all, whose
    body is the first action's ``Docs.body`` (it lists every action's form)."""
    router = APIRouter(prefix=REST_PREFIX, route_class=ZStackRoute)
    first = apis[0]
    assert first.rest is not None and first.docs.body is not None
    names = [api.name for api in apis]
    description = "One path, several APIs: the body's one key names the API (`" + "`, `".join(
        api.rest.action_name for api in apis if api.rest is not None
    ) + "`), as on a real node. A body with none of them is a plain-text 400.\n\n" + "\n\n".join(
        f"**{api.name}.** {api.docs.description}" for api in apis
    )
    router.add_api_route(
        first.rest.path,
        _documented(shared_action_endpoint(apis), [*_path_parameters(first.docs.path),
                                                   *_header_parameters([JOB_UUID_DOC, *ASYNC_HEADERS,
                                                                        JSON_SCHEMA_DOC])]),
        methods=[first.rest.method], tags=[first.docs.tag], response_model=Union[tuple(dict.fromkeys(api.reply for api in apis))],  # noqa: UP007
        operation_id="".join(names), summary=", ".join(names), description=description,
        responses=dict(first.docs.responses),
        openapi_extra={**json_body(*first.docs.body), "security": [{"ZStackSession": []}], "x-zstack-apis": names},
    )
    return router


def _routers() -> list[APIRouter]:
    """One router per API, in the catalogue's order; the actions that share a path, one router at the first."""
    built: list[APIRouter] = []
    shared = shared_action_paths(APIS)
    for api in APIS:
        if api.rest is None:
            continue
        group = shared.get((api.rest.method, normalized_path(api.rest.path)))
        if group is None:
            built.append(_router(api, api.rest))
        elif group[0] is api:
            built.append(_shared_action_router(group))
    return built


#: ``create_app`` serves their routes, not the routers.
routers: list[APIRouter] = _routers()
