"""ZStack's legacy RPC API (``/zstack/api``): the body, the envelope, result strings, class names.

A call is a JSON object whose single key is the API message's Java class name::

    {"org.zstack.header.identity.APILogInByAccountMsg": {"accountName": "admin", "password": "..."}}

Every answer the API itself gives is HTTP 200 with RestAPIResponse's envelope, fields in this
order and nulls omitted: ``uuid``, ``state`` (``Processing`` or ``Done``), ``createdDate``,
``finishedDate``, ``result``. ``result`` is JSON *inside a string*, ``{"<ReplyClass>": {...,
"success": true}}``, written by a Gson that escapes ``< > & = '``.

* sync call: no ``uuid``, ``Done``, both dates, the result;
* async call accepted: ``uuid``, ``Processing``, ``createdDate``;
* poll of ``/zstack/api/result/{uuid}``: the same plus ``finishedDate``, then ``Done`` with the
  result, cut at 64,000 characters; an unknown uuid is a 404 HTML page;
* API failure: the same envelope, result ``{"<Class>": {"success": false, "error": ErrorCode}}``,
  where ``<Class>`` is the generic ``APIReply``/``APIEvent`` if the message was refused while being
  intercepted (session, parameters) and the API's own reply/event class if its service failed;
* a body that is no message at all: 200 plain text, or a 500 HTML page when the servlet itself
  fails (empty body, ``{}``), as RESTApiController answers.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response

from app.domain.params import message_object
from app.zstack.errors import INVALID_SESSION, ZStackError, invalid_argument, zstack_error
from app.zstack.json_kinds import json_kind
from app.zstack.timefmt import java_date
from app.zstack.wire import json_response, text_response

API_PATH = "/zstack/api"
RESULT_PATH = "/zstack/api/result/{uuid}"

PROCESSING = "Processing"
DONE = "Done"

#: RestAPIVO keeps at most this many characters of a result; a poll answers the cut string.
RESULT_LIMIT = 64_000

#: What a failure raised while the message was intercepted comes back as.
GENERIC_REPLY_CLASS = "org.zstack.header.message.APIReply"
GENERIC_EVENT_CLASS = "org.zstack.header.message.APIEvent"

HTML_MEDIA_TYPE = "text/html; charset=utf-8"

_GSON_HTML_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "=": "\\u003d",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GSON_ESCAPE_TABLE = str.maketrans(_GSON_HTML_ESCAPES)


@dataclass(frozen=True, slots=True)
class RpcApi:
    """One API message and the class its answer is named after (a reply, or an event if async)."""

    message_class: str
    reply_class: str
    asynchronous: bool = False


_IDENTITY = "org.zstack.header.identity"
_BACKUP = "org.zstack.header.storage.volume.backup"

LOG_IN_BY_ACCOUNT = RpcApi(f"{_IDENTITY}.APILogInByAccountMsg", f"{_IDENTITY}.APILogInReply")
LOG_OUT = RpcApi(f"{_IDENTITY}.APILogOutMsg", f"{_IDENTITY}.APILogOutReply")
VALIDATE_SESSION = RpcApi(f"{_IDENTITY}.APIValidateSessionMsg", f"{_IDENTITY}.APIValidateSessionReply")
#: The class zstack-ctl and the installer send (``org.zstack.header.apimediator``).
IS_READY_TO_GO = RpcApi(
    "org.zstack.header.apimediator.APIIsReadyToGoMsg", "org.zstack.header.apimediator.APIIsReadyToGoReply"
)
#: The name the project's RPC reference gives it; no such class exists on a real node, but clients
#: written from that reference send it, so it is answered too, in its own package.
IS_READY_TO_GO_AS_DOCUMENTED = RpcApi(
    "org.zstack.header.managementnode.APIIsReadyToGoMsg",
    "org.zstack.header.managementnode.APIIsReadyToGoReply",
)
QUERY_IMAGE = RpcApi("org.zstack.header.image.APIQueryImageMsg", "org.zstack.header.image.APIQueryImageReply")
QUERY_VOLUME_BACKUP = RpcApi(f"{_BACKUP}.APIQueryVolumeBackupMsg", f"{_BACKUP}.APIQueryVolumeBackupReply")
QUERY_BACKUP_STORAGE = RpcApi(
    "org.zstack.header.storage.backup.APIQueryBackupStorageMsg",
    "org.zstack.header.storage.backup.APIQueryBackupStorageReply",
)
CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP = RpcApi(
    f"{_BACKUP}.APICreateRootVolumeTemplateFromVolumeBackupMsg",
    f"{_BACKUP}.APICreateRootVolumeTemplateFromVolumeBackupEvent",
    asynchronous=True,
)

RPC_APIS: dict[str, RpcApi] = {
    api.message_class: api
    for api in (
        LOG_IN_BY_ACCOUNT,
        LOG_OUT,
        VALIDATE_SESSION,
        IS_READY_TO_GO,
        IS_READY_TO_GO_AS_DOCUMENTED,
        QUERY_IMAGE,
        QUERY_VOLUME_BACKUP,
        QUERY_BACKUP_STORAGE,
        CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP,
    )
}


# --- the request ---------------------------------------------------------------------------------

_BODY_FORM = (
    'The body must be a JSON object with one key, the full Java class name of the API message, e.g. '
    '{"org.zstack.header.identity.APILogInByAccountMsg": {"accountName": "admin", "password": "<sha512 hex>"}}'
)


@dataclass(frozen=True, slots=True)
class RpcCall:
    message_class: str
    message: dict[str, Any]


class UnreadableCall(Exception):
    """A body that is no API message. The real servlet answers such bodies in two ways: 200 and
    the exception's text when the message cannot be decoded, 500 and an HTML error page when
    decoding yields nothing at all (empty body, ``{}``, ``null``)."""

    def __init__(self, status_code: int, text: str) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.text = text

    def response(self) -> Response:
        if self.status_code == 200:
            return text_response(200, self.text)
        return html_error_page(self.status_code, self.text)


def parse_call(raw: bytes, known_classes: Collection[str]) -> RpcCall:
    """The body's message, checked in RESTApiDecoder's order. With several keys the first one is
    the message and the rest are ignored, as the decoder takes the object's first entry."""
    if not raw.strip():
        raise UnreadableCall(500, f"The request body is empty. {_BODY_FORM}.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnreadableCall(200, f"The request body is not valid JSON ({exc}). {_BODY_FORM}.") from None
    if body is None:
        raise UnreadableCall(500, f"The request body is JSON null. {_BODY_FORM}.")
    if not isinstance(body, dict):
        raise UnreadableCall(200, f"The request body is a JSON {json_kind(body)}, not an object. {_BODY_FORM}.")
    if not body:
        raise UnreadableCall(500, f"The request body is an empty JSON object, so it names no API message. {_BODY_FORM}.")
    message_class, message = next(iter(body.items()))
    if message_class not in known_classes:
        raise UnreadableCall(
            200,
            f"Unable to deserialize class {message_class}: zstack-mock does not emulate an API message of that "
            f"name. {_BODY_FORM}. The messages zstack-mock answers are: "
            f"{', '.join(sorted(known_classes))}.",
        )
    if message is None:
        raise UnreadableCall(
            500, f"The message {message_class} is null: give it as a JSON object, {{}} if it has no fields."
        )
    if not isinstance(message, dict):
        raise UnreadableCall(
            200,
            f"The message {message_class} is a JSON {json_kind(message)}; it must be a JSON object of the "
            "message's fields.",
        )
    return RpcCall(message_class, message)


def session_uuid_of(message_class: str, message: Mapping[str, Any]) -> str:
    """The session an authenticated message carries as ``"session": {"uuid": ...}``; ID.1001 when
    it has none, as the session check that intercepts every such message answers."""
    if message.get("session") is None:
        raise zstack_error(INVALID_SESSION, f"session of message[{message_class}] is null")
    session = message_object("session", message["session"])
    uuid = session.get("uuid")
    if uuid is None:
        raise zstack_error(INVALID_SESSION, "session uuid is null")
    if not isinstance(uuid, str):
        raise invalid_argument(
            f"Invalid value for string field [session.uuid], [{uuid}] is a JSON {json_kind(uuid)}, not a string."
        )
    return uuid


# --- result strings ------------------------------------------------------------------------------

def gson_json(value: Any) -> str:
    """JSON as ZStack's Gson writes it: compact, with ``< > & = '`` (and U+2028/9) as ``\\uXXXX``.

    Those characters cannot occur in JSON outside strings, so replacing them in the whole text
    escapes exactly the ones inside strings.
    """
    return orjson.dumps(value).decode().translate(_GSON_ESCAPE_TABLE)


def reply_result(reply_class: str, fields: Mapping[str, Any]) -> str:
    """A successful reply or event: its fields, then ``success`` (MessageReply's field, which Gson
    writes after the subclass's)."""
    return gson_json({reply_class: {**fields, "success": True}})


def failure_result(reply_class: str, error: Mapping[str, Any]) -> str:
    """A failed reply or event; ``error`` is an ErrorCode's JSON (``ErrorCode.to_json()``)."""
    return gson_json({reply_class: {"success": False, "error": error}})


def outcome_result(reply_class: str, *, success: bool, payload: Mapping[str, Any]) -> str:
    """A finished call's result string: ``payload`` is the reply's fields, or the ErrorCode's JSON."""
    return reply_result(reply_class, payload) if success else failure_result(reply_class, payload)


def failure_class(api: RpcApi, error: ZStackError) -> str:
    """Which class a failure comes back as: the API's own if its service raised it, else the
    generic one of its kind (ApiMediator refused the message before any service saw it)."""
    if error.in_service:
        return api.reply_class
    return GENERIC_EVENT_CLASS if api.asynchronous else GENERIC_REPLY_CLASS


# --- envelopes -----------------------------------------------------------------------------------

def sync_envelope(*, created: datetime, finished: datetime, result: str) -> dict[str, Any]:
    return {"state": DONE, "createdDate": java_date(created), "finishedDate": java_date(finished), "result": result}


def accepted_envelope(*, uuid: str, created: datetime) -> dict[str, Any]:
    """An async call's first answer: always ``Processing``, however fast the work."""
    return {"uuid": uuid, "state": PROCESSING, "createdDate": java_date(created)}


def polled_envelope(
    *, uuid: str, created: datetime, finished: datetime | None = None, result: str | None = None
) -> dict[str, Any]:
    """A poll's answer: ``Done`` with ``result`` once there is one, else ``Processing``.

    ``finishedDate`` is the stored call's last change, so it is there while the call still runs
    (then equal to ``createdDate`` unless ``finished`` says otherwise).
    """
    envelope = {
        "uuid": uuid,
        "state": DONE if result is not None else PROCESSING,
        "createdDate": java_date(created),
        "finishedDate": java_date(finished or created),
    }
    if result is not None:
        envelope["result"] = result[:RESULT_LIMIT]
    return envelope


def envelope_response(envelope: Mapping[str, Any]) -> Response:
    return json_response(envelope)


def result_not_found(uuid: str) -> Response:
    """A poll for a uuid with no stored result: unknown, expired, or a sync call's."""
    return html_error_page(404, f"No api result[uuid:{uuid}] found")


_REASONS = {404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error"}


def html_error_page(status_code: int, message: str) -> Response:
    """The servlet container's error page (``sendError``), short and with the message in it."""
    title = f"HTTP Status {status_code} - {_REASONS.get(status_code, 'Error')}"
    page = (
        f"<!doctype html><html lang=\"en\"><head><title>{title}</title></head><body>"
        f"<h1>{title}</h1><p><b>Message</b> {html.escape(message)}</p><hr/><p>zstack-mock</p></body></html>"
    )
    return Response(page, status_code=status_code, media_type=HTML_MEDIA_TYPE)
