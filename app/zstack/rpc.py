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

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response

from .errors import INVALID_SESSION, ServletError, TransportError, invalid_argument, zstack_error
from .json_kinds import json_kind
from .params import message_object
from .responses import gson_json, json_response
from .timefmt import java_date

API_PATH = "/zstack/api"
RESULT_PATH = "/zstack/api/result/{uuid}"

PROCESSING = "Processing"
DONE = "Done"

#: RestAPIVO keeps at most this many characters of a result; a poll answers the cut string.
RESULT_LIMIT = 64_000

# --- the request ---------------------------------------------------------------------------------

_BODY_FORM = (
    'The body must be a JSON object with one key, the full Java class name of the API message, e.g. '
    '{"org.zstack.header.identity.APILogInByAccountMsg": {"accountName": "admin", "password": "<sha512 hex>"}}'
)


@dataclass(frozen=True, slots=True)
class RpcCall:
    message_class: str
    message: dict[str, Any]


def parse_call(raw: bytes, known_classes: Collection[str]) -> RpcCall:
    """The body's message, checked in RESTApiDecoder's order. With several keys the first one is
    the message and the rest are ignored, as the decoder takes the object's first entry.

    The real servlet answers a body that is no API message in two ways: 200 and the exception's
    text when the message cannot be decoded (a ``TransportError`` of status 200), 500 and an HTML
    error page when decoding yields nothing at all (empty body, ``{}``, ``null``: a ``ServletError``).
    """
    if not raw.strip():
        raise ServletError(500, f"The request body is empty. {_BODY_FORM}.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise TransportError(200, f"The request body is not valid JSON ({exc}). {_BODY_FORM}.") from None
    if body is None:
        raise ServletError(500, f"The request body is JSON null. {_BODY_FORM}.")
    if not isinstance(body, dict):
        raise TransportError(200, f"The request body is a JSON {json_kind(body)}, not an object. {_BODY_FORM}.")
    if not body:
        raise ServletError(500, f"The request body is an empty JSON object, so it names no API message. {_BODY_FORM}.")
    message_class, message = next(iter(body.items()))
    if message_class not in known_classes:
        raise TransportError(
            200,
            f"Unable to deserialize class {message_class}: zstack-mock does not emulate an API message of that "
            f"name. {_BODY_FORM}. The messages zstack-mock answers are: "
            f"{', '.join(sorted(known_classes))}.",
        )
    if message is None:
        raise ServletError(
            500, f"The message {message_class} is null: give it as a JSON object, {{}} if it has no fields."
        )
    if not isinstance(message, dict):
        raise TransportError(
            200,
            f"The message {message_class} is a JSON {json_kind(message)}; it must be a JSON object of the "
            "message's fields.",
        )
    return RpcCall(message_class, message)


#: RestAPIVO's ``uuid`` column, which an asynchronous message's result is stored under.
MESSAGE_ID_LENGTH = 32


def message_id(message: Mapping[str, Any]) -> str | None:
    """The ``id`` a client gave its message, which RESTApiDecoder reads into ``Message.id`` and an
    asynchronous API's result is stored under; None when absent or empty (a fresh one is made).

    A number or boolean is read as its text, as Gson reads it into a String. Longer than the
    column, or an id a stored result already has: the insert fails, and the servlet answers 500.
    """
    value = message.get("id")
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise TransportError(
            200, f"The message's id is a JSON {json_kind(value)}; it must be a string: the UUID its result is kept under."
        )
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if len(text) > MESSAGE_ID_LENGTH:
        raise _insert_failed(
            f"Data too long for column 'uuid': the message's id[{text}] is longer than the {MESSAGE_ID_LENGTH} "
            "characters a result is kept under"
        )
    return text


def duplicate_message_id(uuid: str) -> ServletError:
    return _insert_failed(f"an API result is already kept under the message's id[{uuid}]")


def _insert_failed(why: str) -> ServletError:
    """``RESTApiFacadeImpl.persist`` failing: its CloudRuntimeException reaches the servlet's 500 page
    (which on a real node also echoes the request's headers and body; this one does not)."""
    return ServletError(
        500,
        "Error when calling /zstack/api\nexception message: javax.persistence.PersistenceException: "
        f"org.hibernate.exception.ConstraintViolationException: could not execute statement ({why})",
    )


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

def reply_result(reply_class: str, fields: Mapping[str, Any]) -> str:
    """A successful reply or event: its fields, then ``success`` (MessageReply's field, which Gson
    writes after the subclass's)."""
    return gson_json({reply_class: {**fields, "success": True}}).decode()


def failure_result(reply_class: str, error: Mapping[str, Any]) -> str:
    """A failed reply or event; ``error`` is an ErrorCode's JSON (``ErrorCode.to_json()``)."""
    return gson_json({reply_class: {"success": False, "error": error}}).decode()


def outcome_result(reply_class: str, *, success: bool, payload: Mapping[str, Any]) -> str:
    """A finished call's result string: ``payload`` is the reply's fields, or the ErrorCode's JSON."""
    return reply_result(reply_class, payload) if success else failure_result(reply_class, payload)


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


def result_not_found(uuid: str) -> ServletError:
    """A poll for a uuid with no stored result: unknown, expired, or a sync call's."""
    return ServletError(404, f"No api result[uuid:{uuid}] found")
