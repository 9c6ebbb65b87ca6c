"""ZStack's error model: the ErrorCode body, the code catalogue, and the one exception tree of every answer
that is an error.

    Exception
     └── AnsweredError           anything zstack-mock answers as an error; ``response()`` renders it
          ├── ZStackError        an ErrorCode: {"error": ErrorCode}, 503 on the API (4xx on /_mock)
          └── TransportError     the REST layer's plain-text 4xx, before any API ran
               └── ServletError  the servlet's HTML error page (the legacy RPC endpoint)

Domain code, the wire readers and the control API raise these, never catch them to translate.
One handler (``app.zstack.wire.install_error_handlers``) sends ``response()`` for any REST call;
the legacy RPC dispatcher puts a ``ZStackError``'s ErrorCode in a failed reply, and a job stores it,
both under the class ``failure_class`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from .responses import html_error_page, json_response, text_response

#: Fixed descriptions from ZStack's conf/errorCodes/{sys,identity}.xml.
CATALOGUE: dict[str, str] = {
    "SYS.1000": "An internal error happened in system",
    "SYS.1001": "A message or a operation timeout",
    "SYS.1002": "Unable to create a resource",
    "SYS.1003": "A resource can not be found",
    "SYS.1004": "Unable to delete a resource",
    "SYS.1005": "Unable to change resource state",
    "SYS.1006": "An operation failed",
    "SYS.1007": "One or more API argument is invalid",
    "SYS.1008": "Unknown message, no service can deal with the message",
    "SYS.1009": "No route for message",
    "SYS.1010": "Management server is not ready to serve",
    "SYS.1011": "The message can not be delivered by Rabbitmq",
    "SYS.1012": "The management node is unavailable",
    "SYS.1013": "The resource doesn't have capability to proceed an operation",
    "SYS.1014": "The operation is not implemented or not supported yet",
    "SYS.1015": "Cannot make a HTTP request",
    "SYS.1016": "Cannot do an IO operation(e.g. network IO error, file IO error)",
    "SYS.1017": "A message or a operation cancelled",
    "ID.1000": "Unable to authenticate a user",
    "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
    "ID.1002": "The user doesn't have permission to perform the operation",
    "ID.1003": "The user exceeds a quota of a resource",
    "ID.1004": "Invalid quota operation",
    "ID.1005": "The user has to change initial password",
    "ID.1006": "Max number of active sessions exceeded",
    "ID.2000": "Addition authentication error",
    "ID.2001": "The user has to login by addition authentication",
    "ID.2002": "Fail to authenticate a user due to addition authentication",
    "ID.2003": "Fail to authenticate a user due to remote authentication server error",
}

@dataclass(frozen=True, slots=True)
class Elaboration:
    """An entry of ZStack's ``conf/errorElaborations/Elaboration.json`` that errors this server raises match.

    ``Platform.generateElaboration`` looks one up by the error's format string, else (for a few codes)
    by its description, and sets the error's ``elaboration`` (``Error message: <message_en>``) and
    ``messages`` (the entry's messages, ``source``, ``distance`` and ``method``; English locale).
    """

    error_code: str
    #: The error's details, or its description, that the entry matches, compared without case.
    matches: str
    on_description: bool
    code: str
    message_cn: str
    message_en: str

    def messages(self) -> dict[str, Any]:
        return {"code": self.code, "message_cn": self.message_cn, "message_en": self.message_en,
                "source": "zstack", "distance": 0.0, "method": "distance"}


_ELABORATIONS = (
    Elaboration("ID.1000", "wrong account name or password", False, "1000", "错误的帐号或密码。",
                "Wrong account name or password."),
    Elaboration("ID.1001", "The session is invalid, either wrong session id or the session has been expired", True,
                "1001", "session 已过期\uff0c或者提供了不正确的 session id。", "Session expired or wrong session ID."),
)


def _elaboration(code: str, details: str, description: str) -> Elaboration | None:
    for entry in _ELABORATIONS:
        if entry.error_code == code and entry.matches.lower() == (description if entry.on_description else details).lower():
            return entry
    return None

INTERNAL_ERROR = "SYS.1000"
OPERATION_TIMEOUT = "SYS.1001"
CREATE_FAILED = "SYS.1002"
NOT_FOUND = "SYS.1003"
OPERATION_FAILED = "SYS.1006"
INVALID_ARGUMENT = "SYS.1007"
AUTHENTICATION_FAILED = "ID.1000"
INVALID_SESSION = "ID.1001"
PERMISSION_DENIED = "ID.1002"
QUOTA_EXCEEDED = "ID.1003"
TOO_MANY_SESSIONS = "ID.1006"


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """ZStack's ErrorCode. ``description`` comes from the catalogue; ``details`` says what went wrong."""

    code: str
    details: str
    description: str = ""
    cause: ErrorCode | None = None
    elaboration: str | None = None
    opaque: dict[str, Any] | None = None
    messages: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.description:
            object.__setattr__(self, "description", CATALOGUE.get(self.code, "An operation failed"))
        if self.elaboration is None:
            found = _elaboration(self.code, self.details, self.description)
            if found is not None:
                object.__setattr__(self, "elaboration", f"Error message: {found.message_en}")
                object.__setattr__(self, "messages", found.messages())

    def to_json(self) -> dict[str, Any]:
        """The wire form: nulls omitted as Gson does; ``cost`` only on errors with no cause."""
        body: dict[str, Any] = {"code": self.code, "description": self.description, "details": self.details}
        if self.elaboration is not None:
            body["elaboration"] = self.elaboration
        if self.messages is not None:
            body["messages"] = self.messages
        if self.opaque is not None:
            body["opaque"] = self.opaque
        if self.cause is not None:
            body["cause"] = self.cause.to_json()
        else:
            body["cost"] = "0ms"
        return body


class AnsweredError(Exception):
    """Anything zstack-mock answers as an error. ``response()`` is its REST form; the legacy RPC
    surface and the job store read a ``ZStackError``'s ``error`` instead (``failure_class``)."""

    status_code: int

    def response(self) -> Response:
        raise NotImplementedError


class ZStackError(AnsweredError):
    """A ZStack ErrorCode: ``{"error": ErrorCode}``, HTTP 503 on the ZStack API.

    ``status_code`` is another 4xx only off the emulated API: the control API (400, 401, 403,
    404, 409) and the sandbox's rate limits (429), which answer in the same shape.

    ``in_service`` tells where the real server would raise it: in the API's own service (the
    failure comes back as the API's reply or event class) or, by default, while the message is
    intercepted (checked by ApiMediator: the generic ``APIReply``/``APIEvent``). Only the legacy
    RPC envelope and a job's result class show the difference.
    """

    def __init__(
        self,
        error: ErrorCode,
        *,
        in_service: bool = False,
        status_code: int = 503,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error.code}: {error.details}")
        self.error = error
        self.in_service = in_service
        self.status_code = status_code
        self.headers = headers

    def response(self) -> Response:
        response = json_response({"error": self.error.to_json()}, status_code=self.status_code)
        if self.headers:
            response.headers.update(self.headers)
        return response


class TransportError(AnsweredError):
    """A rejection by the REST layer itself, before any API ran: a plain-text body, no ErrorCode."""

    def __init__(self, status_code: int, text: str) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.text = text

    def response(self) -> Response:
        return text_response(self.status_code, self.text)


class ServletError(TransportError):
    """A failure of the servlet itself, answered with the container's HTML error page (``sendError``)."""

    def response(self) -> Response:
        return html_error_page(self.status_code, self.text)


def zstack_error(
    code: str, details: str, *, cause: ErrorCode | None = None, in_service: bool = False
) -> ZStackError:
    return ZStackError(ErrorCode(code=code, details=details, cause=cause), in_service=in_service)


def invalid_argument(details: str) -> ZStackError:
    return zstack_error(INVALID_ARGUMENT, details)


def operation_failed(details: str, *, in_service: bool = False) -> ZStackError:
    return zstack_error(OPERATION_FAILED, details, in_service=in_service)


def invalid_session() -> ZStackError:
    return zstack_error(INVALID_SESSION, "Session expired")


def not_found(details: str) -> ZStackError:
    """A control call naming something that does not exist: 404, SYS.1003."""
    return ZStackError(ErrorCode(code=NOT_FOUND, details=details), status_code=404)


def bad_request(details: str) -> ZStackError:
    """A control call with invalid input: 400, SYS.1007."""
    return ZStackError(ErrorCode(code=INVALID_ARGUMENT, details=details), status_code=400)


def forbidden(details: str) -> ZStackError:
    """A control call the server's profile does not allow (the public profile's): 403, ID.1002."""
    return ZStackError(ErrorCode(code=PERMISSION_DENIED, details=details), status_code=403)


def conflict(details: str) -> ZStackError:
    """A valid control call the state forbids (a name taken): 409, SYS.1007, as ZStack says so."""
    return ZStackError(ErrorCode(code=INVALID_ARGUMENT, details=details), status_code=409)


#: The classes a failure comes back as when the message was refused before its service saw it.
GENERIC_REPLY_CLASS = "org.zstack.header.message.APIReply"
GENERIC_EVENT_CLASS = "org.zstack.header.message.APIEvent"


def failure_class(error: ZStackError, *, reply_class: str, asynchronous: bool) -> str:
    """The class a failed reply (RPC) or job result is named after: the API's own reply or event
    class if its service raised the error, else the generic one of its kind (ApiMediator refused
    the message before any service saw it)."""
    if error.in_service:
        return reply_class
    return GENERIC_EVENT_CLASS if asynchronous else GENERIC_REPLY_CLASS
