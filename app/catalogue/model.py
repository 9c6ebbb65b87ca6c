"""What the API catalogue says about one ZStack API: an ``Api`` and the parts it is made of."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ..domain.job_kinds import JobSteps
from ..zstack.errors import GENERIC_EVENT_CLASS, GENERIC_REPLY_CLASS
from ..zstack.inventories import InventoryView
from ..zstack.params import MessageSpec

#: A domain function serving an API: ``serve(ctx=..., session_uuid=..., message=...)`` returns the
#: reply's fields. ``message`` is a ``CheckedMessage`` for an action, a ``QueryRequest`` for a query.
Handler = Callable[..., dict[str, Any]]

#: ``action``: a message of fields (``params``, ``logInByAccount``...); ``query``: ZStack's query message
#: (``q=`` on REST, ``conditions`` on RPC); ``poll``: asks for an async call's result.
Kind = Literal["action", "query", "poll"]


@dataclass(frozen=True, slots=True)
class Rest:
    """How the REST API routes it: ZStack's ``@RestRequest``."""

    method: str
    #: Under ``/zstack/v1``, with ``{variables}`` that go into the message (they win over body fields).
    path: str
    #: The body object holding the message's fields (``parameterName``, or the action name); None: none
    #: (``parameterName``'s default, ``""``), so a body holds no fields but the tags.
    parameter: str | None = None
    #: REST name -> reply field, where the REST answer renames a field (``@RestResponse(fieldsTo)``).
    reply_fields: Mapping[str, str] = field(default_factory=dict)
    #: A query's second route, ``{path}/{uuid}``: the same query with the condition ``uuid=<uuid>``.
    by_uuid: bool = False
    #: The path is this API's alone on a real node, so ``RestServer.handleUniqueApi`` serves it whatever the
    #: method: GET and DELETE read the message from the query string, the others from the body.
    any_method: bool = False
    #: ``@RestRequest(isAction = true)``: a PUT whose body holds the message under the action's name
    #: (``action_name``); the path is shared with the other actions on it, and the body's key picks the API.
    action: bool = False

    @property
    def action_name(self) -> str:
        """``RestServer``'s action name: the parameter's name (the API's name, uncapitalized)."""
        return self.parameter or ""


@dataclass(frozen=True, slots=True)
class Rpc:
    """A legacy RPC message class (``/zstack/api``) and the reply or event class its answer names."""

    message_class: str
    reply_class: str


@dataclass(frozen=True, slots=True)
class Docs:
    """What the OpenAPI document says of the API's REST routes."""

    tag: str
    summary: str
    description: str
    #: Answers other than the reply model's 200, by status (FastAPI's ``responses``).
    responses: Mapping[int | str, Any] = field(default_factory=dict)
    #: The JSON body's model and named examples, for an API whose handler reads the raw body.
    body: tuple[type[BaseModel], Mapping[str, Any]] | None = None
    #: Path variable -> description.
    path: Mapping[str, str] = field(default_factory=dict)
    #: The query string of a DELETE (its message's fields): (name, type, description).
    query: tuple[tuple[str, Any, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Api:
    """One ZStack API, declared once: routing, dispatch, fault and journal names, jobs and docs come from it."""

    #: The message class's simple name without ``API`` and ``Msg``: what faults and the journal match on.
    name: str
    kind: Kind
    docs: Docs
    serve: Handler | None = None
    rest: Rest | None = None
    #: Its RPC message classes (one, but for an API that real clients send under two names).
    rpc: tuple[Rpc, ...] = ()
    #: ``@APIParam`` checks, in the order the real validator applies them; None: a message without fields.
    params: MessageSpec | None = None
    #: The REST reply's model (its 200 in the OpenAPI document).
    reply: type[BaseModel] | None = None
    #: The reply's fields that hold inventories, and their views: what its ``schema`` map names.
    reply_inventories: Mapping[str, InventoryView] = field(default_factory=dict)
    #: An asynchronous API (its answer is an API event): how its jobs run. None: answered at once.
    job: JobSteps | None = None
    #: Whether a call needs a session (``Authorization: OAuth``, or the RPC message's ``session``).
    authenticated: bool = True

    @property
    def asynchronous(self) -> bool:
        return self.job is not None

    @property
    def reply_class(self) -> str:
        """The class of its answer: a reply, or the event of an asynchronous API."""
        if self.rpc:
            return self.rpc[0].reply_class
        return GENERIC_EVENT_CLASS if self.asynchronous else GENERIC_REPLY_CLASS
