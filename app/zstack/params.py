"""ZStack's API parameter checks (``@APIParam``), in the order the real validator applies them.

A real management node turns the request body into a Java message with Gson, checks boolean
fields in the REST layer (``TypeVerifier``), trims every String field, and then walks the message's
fields in ``HashMap`` order, checking each field's value and then whether the resource it names
exists. Only the first failure is reported, so the order decides which error a client sees.
``MessageSpec.params`` lists the fields in that order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import NOT_FOUND, invalid_argument, zstack_error
from .json_kinds import json_kind

Kind = Literal["string", "boolean", "integer", "long", "string_list", "object_list"]

#: The ``message[...]`` part of validation errors names the validator class, not the API message:
#: the real validator calls ``getClass()`` on itself. Kept verbatim because clients match on it.
VALIDATOR_CLASS = "org.zstack.header.message.ApiMessageParamValidator"

#: The range of a Java ``Integer`` field.
JAVA_INT_MIN, JAVA_INT_MAX = -(2**31), 2**31 - 1
#: ...and of a Java ``Long``.
_JAVA_LONG_MIN, _JAVA_LONG_MAX = -(2**63), 2**63 - 1
#: What Java's ``Integer.valueOf`` reads: a sign and ASCII digits.
JAVA_INT_TEXT = re.compile(r"[+-]?[0-9]+")

#: ZStack's check of a resource UUID (``ApiMediatorImpl``, ``PortApiValidator``): lower-case hex, version 1-5,
#: RFC 4122 variant, no dashes.
RESOURCE_UUID = re.compile(r"[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}")

#: Java's String.trim() removes every character up to and including U+0020.
_JAVA_WHITESPACE = "".join(chr(c) for c in range(0x21))


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: Kind = "string"
    required: bool = False
    max_length: int | None = None
    valid_values: tuple[str, ...] = ()
    #: ZStack VO class name whose existence is checked (``resourceType``), e.g. ``VolumeBackupVO``.
    resource_type: str | None = None
    #: ``numberRange``: the lowest and highest value allowed, both included.
    number_range: tuple[int, int] | None = None
    #: ``nonempty``: a list field, when given, must hold an element.
    nonempty: bool = False
    #: ``successIfResourceNotExisting``: a well-formed UUID naming nothing is no error; the field then
    #: resolves to None and the API succeeds without doing anything (``PortApiValidator``).
    missing_ok: bool = False


@dataclass(frozen=True, slots=True)
class MessageSpec:
    class_name: str
    params: tuple[Param, ...]


@dataclass(frozen=True, slots=True)
class CheckedMessage:
    """An API message that passed its ``@APIParam`` checks: its typed, trimmed values (absent and null
    fields left out), and for each field naming a resource the record(s) found (``check_params``)."""

    values: Mapping[str, Any]
    resources: Mapping[str, Any]

    @classmethod
    def empty(cls) -> CheckedMessage:
        return cls({}, {})


#: Looks up a resource type's records by UUID: returns the found records keyed by UUID.
ResourceLookup = Callable[[str, list[str]], Mapping[str, Any]]


def message_object(field: str, value: Any) -> dict[str, Any]:
    """A body's wrapper object (``params``, ``logInByAccount``): absent means empty, else an object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_argument(
            f"Invalid value for field [{field}], a JSON object was expected, but got a JSON {json_kind(value)}."
        )
    return value


def read_params(spec: MessageSpec, raw: Mapping[str, Any]) -> dict[str, Any]:
    """JSON values to typed, trimmed values. Absent and null fields are left out.

    Type mismatches fail with SYS.1007 here, before any value check, as Gson and ``TypeVerifier``
    reject them before the validator runs.
    """
    values: dict[str, Any] = {}
    for param in spec.params:
        value = raw.get(param.name)
        if value is None:
            continue
        values[param.name] = _typed(param, value)
    return values


def _typed(param: Param, value: Any) -> Any:
    if param.kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):  # TypeVerifier is case-blind
            return value.lower() == "true"
        raise invalid_argument(
            f"Invalid value for boolean field [{param.name}], [{_java_text(value)}] is not a valid boolean "
            "string[true, false]."
        )
    if param.kind in ("integer", "long"):
        return _integer(param, value)
    if param.kind == "string_list":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid_argument(
                f"Invalid value for list field [{param.name}], [{_java_text(value)}] is not a list of strings."
            )
        return list(value)
    if param.kind == "object_list":
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise invalid_argument(
                f"Invalid value for list field [{param.name}], [{_java_text(value)}] is not a list of objects."
            )
        return list(value)
    if not isinstance(value, str):
        raise invalid_argument(
            f"Invalid value for string field [{param.name}], [{_java_text(value)}] is a JSON "
            f"{json_kind(value)}, not a string."
        )
    return value.strip(_JAVA_WHITESPACE)


def _integer(param: Param, value: Any) -> int:
    """A Java ``Integer`` or ``Long``: Gson also reads a whole float (``10.0``) and a numeric string (``"10"``)."""
    low, high = (JAVA_INT_MIN, JAVA_INT_MAX) if param.kind == "integer" else (_JAVA_LONG_MIN, _JAVA_LONG_MAX)
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and JAVA_INT_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise invalid_argument(
            f"Invalid value for {param.kind} field [{param.name}], [{_java_text(value)}] is not a whole number "
            f"between {low} and {high}."
        )
    return number


def check_params(spec: MessageSpec, values: Mapping[str, Any], lookup: ResourceLookup) -> dict[str, Any]:
    """Apply the ``@APIParam`` checks in order; return the resources found, keyed by field name.

    For a single-UUID field the value is the record; for a list field, the list of records.
    """
    resolved: dict[str, Any] = {}
    for param in spec.params:
        value = values.get(param.name)
        _check_value(param, value)
        if param.resource_type is None or value is None:
            continue
        uuids = value if isinstance(value, list) else [value]
        found = lookup(param.resource_type, uuids)
        missing = [u for u in uuids if u not in found]
        if missing and param.missing_ok and isinstance(value, str):
            if not RESOURCE_UUID.fullmatch(value):
                raise zstack_error(NOT_FOUND, f"invalid value[{value}] of field [{param.name}]")
            resolved[param.name] = None
            continue
        if missing:
            raise _not_found(param, missing if isinstance(value, list) else value)
        resolved[param.name] = [found[u] for u in uuids] if isinstance(value, list) else found[value]
    return resolved


def check_message(spec: MessageSpec, fields: Mapping[str, Any], lookup: ResourceLookup) -> CheckedMessage:
    """``read_params`` then ``check_params``: the message as the API's service receives it."""
    values = read_params(spec, fields)
    return CheckedMessage(values, check_params(spec, values, lookup))


def _check_value(param: Param, value: Any) -> None:
    if value is None:
        if param.required:
            raise invalid_argument(
                f"field[{param.name}] of message[{VALIDATOR_CLASS}] is mandatory, can not be null"
            )
        return
    if param.max_length is not None and isinstance(value, str) and len(value) > param.max_length:
        raise invalid_argument(
            f"field[{param.name}] of message[{VALIDATOR_CLASS}] exceeds max length of string. "
            f"expected was <= {param.max_length}, actual was {len(value)}"
        )
    if param.valid_values and value not in param.valid_values:
        raise invalid_argument(
            f"valid value for field[{param.name}] of message[{VALIDATOR_CLASS}] are "
            f"[{', '.join(param.valid_values)}], but {value} found"
        )
    if param.nonempty and isinstance(value, list) and not value:
        raise invalid_argument(f"field[{param.name}] must be a nonempty list")
    if param.number_range is not None and isinstance(value, int):
        low, high = param.number_range
        if not low <= value <= high:
            raise invalid_argument(f"field[{param.name}] must be in range of [{low}, {high}]")


def _not_found(param: Param, value: Any) -> Exception:
    if isinstance(value, list):
        return zstack_error(
            NOT_FOUND,
            f"invalid field[{param.name}], resource[uuids:[{', '.join(value)}], type:{param.resource_type}] not found",
        )
    details = f"invalid field[{param.name}], resource[uuid:{value}, type:{param.resource_type}] not found"
    if value.startswith("{") and value.endswith("}"):
        details += (
            f". The path parameter {value} was not substituted: the client sent the URL template literally "
            "(a known bug of some generated SDKs)"
        )
    return zstack_error(NOT_FOUND, details)


def _java_text(value: Any) -> str:
    """How a JSON value reads when Java prints it: true/false, numbers, [a, b], {k=v}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_text(v)}" for k, v in value.items()) + "}"
    return str(value)
