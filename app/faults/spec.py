"""What a fault is, as clients write it: the JSON of ``POST /_mock/faults``, ``--faults FILE``,
``fixtures/scenarios.yaml`` and the inline ``X-Mock-Scenario`` form.

One shape serves all four. An *effect* says what happens to a request (at most one of ``error``,
``http``, ``wire``, ``job``, optionally after ``latency``); a *rule* adds what it matches and how
often it fires; a *scenario* adds a description. Field names are camelCase, like ZStack's.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ..validation_errors import validation_problems
from ..zstack.errors import ErrorCode, bad_request
from .paths import pattern_problem

_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]*\.\d+$")
#: What an HTTP/1.1 server can send: a token for a name; for a value, Latin-1 without control characters.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
#: Causes nest; JSON encoders stop at a few hundred levels, and ZStack's chains are a few deep.
MAX_CAUSE_DEPTH = 32
#: A ttl must keep the expiry date within what a datetime holds: about 31 years.
MAX_TTL_SECONDS = 1e9


class _Spec(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, allow_inf_nan=False
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


class ErrorSpec(_Spec):
    """A ZStack ErrorCode; ``description`` comes from the catalogue (conf/errorCodes)."""

    code: str = Field(description="A catalogue code such as SYS.1002 or ID.1001.")
    details: str | None = Field(
        None,
        description="What went wrong. May name the call's {operation}, {backupUuid}, {backupStorageUuid}, "
        "{sessionUuid} and {name} (the message's name). Default: a sentence saying the error was injected.",
    )
    cause: ErrorSpec | None = None

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not _ERROR_CODE.match(value):
            raise ValueError(f"an error code looks like SYS.1002 or ID.1001, got {value!r}")
        return value

    @model_validator(mode="after")
    def _shallow_causes(self) -> ErrorSpec:
        depth, cause = 0, self.cause
        while cause is not None:
            depth, cause = depth + 1, cause.cause
        if depth > MAX_CAUSE_DEPTH:
            raise ValueError(f"a cause chain is at most {MAX_CAUSE_DEPTH} causes deep, got {depth}")
        return self

    def error_code(self, fields: dict[str, str]) -> ErrorCode:
        details = self.details if self.details is not None else f"injected by zstack-mock: {self.code}"
        return ErrorCode(
            code=self.code,
            details=_fill(details, fields),
            cause=None if self.cause is None else self.cause.error_code(fields),
        )


class HttpSpec(_Spec):
    """A raw answer that is not ZStack's, e.g. a proxy's 502 page."""

    status: int = Field(ge=200, le=599, description="A final status: 1xx are not answers.")
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra headers; the body sets Content-Length (Transfer-Encoding is not allowed)."
    )

    @field_validator("content_type")
    @classmethod
    def _sendable_content_type(cls, value: str) -> str:
        if not _HEADER_VALUE.match(value):
            raise ValueError(f"a content type is printable Latin-1 on one line, got {value!r}")
        return value

    @field_validator("headers")
    @classmethod
    def _sendable_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"header name {name!r} is not an HTTP token (letters, digits, !#$%&'*+-.^_`|~)")
            if name.lower() in ("content-length", "transfer-encoding"):
                raise ValueError(f"header {name} is set from the body, not by the rule")
            if not _HEADER_VALUE.match(text):
                raise ValueError(f"header {name}: a value is printable Latin-1 on one line, got {text!r}")
        return value

    @model_validator(mode="after")
    def _bodiless_status(self) -> HttpSpec:
        if self.status in (204, 304) and self.body:
            raise ValueError(f"a {self.status} answer has no body")
        return self


class Uniform(_Spec):
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.low > self.high:
            raise ValueError(f"uniform latency needs low <= high, got {self.low} > {self.high}")
        return self


class LogNormal(_Spec):
    median: float = Field(gt=0, description="Seconds; half the draws are shorter.")
    sigma: float = Field(ge=0, description="Spread of the underlying normal distribution.")


class LatencySpec(_Spec):
    """Seconds to wait before the answer: exactly one of fixed, uniform, lognormal (capped by ``max``)."""

    fixed: float | None = Field(None, ge=0)
    uniform: Uniform | None = None
    lognormal: LogNormal | None = None
    max: float = Field(60.0, gt=0, le=3600, description="No draw exceeds this many seconds (at most an hour).")

    @model_validator(mode="before")
    @classmethod
    def _number_is_fixed(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"fixed": value}
        if isinstance(value, dict) and isinstance(value.get("uniform"), list | tuple):
            low_high = value["uniform"]
            if len(low_high) == 2:
                value = {**value, "uniform": {"low": low_high[0], "high": low_high[1]}}
        return value

    @property
    def ceiling(self) -> float:
        """The longest wait this latency asks for: its fixed value, its uniform high, or its lognormal max."""
        if self.fixed is not None:
            return self.fixed
        if self.uniform is not None:
            return self.uniform.high
        return self.max

    @model_validator(mode="after")
    def _one_distribution(self) -> LatencySpec:
        given = [name for name in ("fixed", "uniform", "lognormal") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("latency takes exactly one of fixed (seconds), uniform ([low, high]) or "
                             f"lognormal ({{median, sigma}}); got {given or 'none'}")
        return self


WireKind = Literal["reset", "close", "truncate", "malformed", "dribble", "hang"]


class WireSpec(_Spec):
    """A fault on the connection itself (needs a real socket; see app.faults.transport).

    * ``reset``: the connection is reset (TCP RST), no answer;
    * ``close``: the connection is closed with no answer at all;
    * ``truncate``: the real answer's headers and part of its body, then the connection closes;
    * ``malformed``: the real answer's status and headers with a body cut mid-JSON (Content-Length matches);
    * ``dribble``: the real answer, ``chunkBytes`` at a time every ``intervalSeconds``;
    * ``hang``: no answer until the client gives up (or ``seconds`` pass, then the connection closes).

    ``reset``, ``close`` and ``hang`` strike before the request is handled (nothing changes) unless
    ``afterHandling`` is true: then the request takes effect (an image is made) and only the answer is lost.
    """

    kind: WireKind
    after_handling: bool = False
    chunk_bytes: int = Field(16, ge=1)
    interval_seconds: float = Field(0.2, ge=0, le=60)
    seconds: float = Field(300.0, gt=0, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _name_is_kind(cls, value: Any) -> Any:
        return {"kind": value} if isinstance(value, str) else value


class JobSpec(_Spec):
    """A fault for the job a call starts (an asynchronous API called async: the create, the image lifecycle,
    tags, DeleteVolumeBackup); calls that start no job are not matched."""

    error: ErrorSpec | None = None
    after_seconds: float | None = Field(None, ge=0, description="Fail this long after the accept.")
    hold: bool = Field(False, description="Stay Running (a create's image Downloading) until released or timed out.")

    @model_validator(mode="after")
    def _error_or_hold(self) -> JobSpec:
        if (self.error is None) == (not self.hold):
            raise ValueError("a job fault takes either error (the job fails with it) or hold: true, not both")
        if self.after_seconds is not None and self.error is None:
            raise ValueError("afterSeconds goes with error: when the job fails")
        return self


class Effect(_Spec):
    """What happens to a request: ``latency`` first, then at most one of error, http, wire, job."""

    latency: LatencySpec | None = None
    error: ErrorSpec | None = None
    http: HttpSpec | None = None
    wire: WireSpec | None = None
    job: JobSpec | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> Effect:
        outcomes = [name for name in ("error", "http", "wire", "job") if getattr(self, name) is not None]
        if len(outcomes) > 1:
            raise ValueError(f"an effect takes at most one of error, http, wire, job; got {', '.join(outcomes)}")
        if not outcomes and self.latency is None:
            raise ValueError("an effect needs one of error, http, wire, job or latency")
        return self


class Modifiers(_Spec):
    probability: float = Field(1.0, ge=0, le=1, description="Chance the effect fires on a match (seeded draw).")
    times: int | None = Field(None, ge=1, description="Fires this many times, then is spent.")
    after: int = Field(0, ge=0, description="Lets the first N matching requests through untouched.")


HeaderCondition = str | bool


class Match(_Spec):
    """Conditions a request must meet, all of them; an empty match takes every ZStack API call."""

    operation: str | list[str] | None = Field(
        None, description="API name(s): CreateRootVolumeTemplateFromVolumeBackup, LogInByAccount, QueryImage..."
    )
    method: str | None = None
    path: str | None = Field(None, description="A glob over the path: * within a segment, ** across segments.")
    backup_uuid: str | None = None
    backup_storage_uuid: str | None = None
    account: str | None = Field(None, description="The caller's account, by UUID or name.")
    headers: dict[str, HeaderCondition] | None = Field(
        None, description="Header name to a value it must equal, true (present) or false (absent)."
    )

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @field_validator("path")
    @classmethod
    def _bounded_pattern(cls, value: str | None) -> str | None:
        problem = None if value is None else pattern_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def operations(self) -> tuple[str, ...] | None:
        if self.operation is None:
            return None
        return (self.operation,) if isinstance(self.operation, str) else tuple(self.operation)


class RuleSpec(Effect, Modifiers):
    name: str | None = Field(None, max_length=255)
    match: Match = Field(default_factory=Match)
    ttl: float | None = Field(
        None, gt=0, le=MAX_TTL_SECONDS, description="Seconds until the rule expires by itself (at most 10^9)."
    )


class ScenarioSpec(Effect, Modifiers):
    """A named effect a request asks for with the scenario header. Counters (``times``, ``after``,
    ``probability``) run per scenario, operation and session."""

    description: str = ""


class ScenarioCatalogue(_Spec):
    scenarios: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")], ScenarioSpec]


_RULE_LIST = TypeAdapter(list[RuleSpec])


def parse_rules(body: bytes) -> tuple[list[RuleSpec], bool]:
    """The body of ``POST /_mock/faults``: (its rules, whether it was an array of them); 400 otherwise."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    try:
        if isinstance(document, list):
            return _RULE_LIST.validate_python(document), True
        return [RuleSpec.model_validate(document)], False
    except ValidationError as exc:
        raise bad_request(f"invalid rule: {validation_problems(exc)}") from None


_PLACEHOLDER = re.compile(r"\{(operation|backupUuid|backupStorageUuid|sessionUuid|name)\}")


def _fill(text: str, fields: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: fields.get(m.group(1), "null"), text)
