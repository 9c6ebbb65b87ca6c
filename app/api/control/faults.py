"""/_mock/faults and /_mock/scenarios: the fault rules, and the catalogue the scenario header names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.responses import Response

from app.api.control.common import bad_request, not_found
from app.api.deps import context_of, faults_of, settings_of
from app.api.docs import json_body
from app.api.routing import ZStackRoute
from app.faults.engine import SCENARIO_HEADER, rule_spec
from app.faults.spec import RuleSpec
from app.store.records import FaultRule
from app.validation_errors import validation_problems
from app.zstack.wire import json_response, read_body

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)

RULE_ID = Path(description="The rule's id, as POST /_mock/faults gave it.")


class RuleView(BaseModel):
    id: int
    name: str | None = None
    rule: dict[str, Any] = Field(description="The rule as accepted: match, effect and modifiers.")
    matched: int = Field(description="Requests that met its conditions.")
    fired: int = Field(description="Requests its effect was applied to.")
    spent: bool = Field(description="Fired its `times`: it never fires again.")
    expired: bool = Field(description="Its ttl has run out.")
    createDate: datetime
    expireDate: datetime | None = None


class RuleList(BaseModel):
    rules: list[RuleView]


class Deleted(BaseModel):
    deleted: int


class ScenarioView(BaseModel):
    name: str
    description: str
    effect: dict[str, Any] = Field(description="What it does, in the rule format.")


class ScenarioList(BaseModel):
    header: str = Field(description="The request header that picks a scenario.")
    scenarios: list[ScenarioView]


RULE_EXAMPLES = {
    "disconnected-storage": {
        "summary": "Fail creates on one backup storage with SYS.1002",
        "value": {
            "name": "storage down",
            "match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup",
                      "backupStorageUuid": "4ed18086e5593b86932436d02f575213"},
            "error": {"code": "SYS.1002", "details": "Failed to download image on all backup storage",
                      "cause": {"code": "SYS.1006", "details": "backup storage is Disconnected"}},
        },
    },
    "flaky-login": {
        "summary": "30% of logins answer a proxy's 502, reproducibly under --seed",
        "value": {"match": {"operation": "LogInByAccount"}, "probability": 0.3,
                  "http": {"status": 502, "body": "<h1>502 Bad Gateway</h1>", "contentType": "text/html"}},
    },
    "fail-after": {
        "summary": "Let 2 queries through, then reset the next 3 connections",
        "value": {"match": {"operation": "QueryImage"}, "after": 2, "times": 3, "wire": "reset"},
    },
    "slow": {
        "summary": "Lognormal latency on every call for 10 minutes",
        "value": {"latency": {"lognormal": {"median": 0.3, "sigma": 0.6}}, "ttl": 600},
    },
    "held-job": {
        "summary": "Async creates stay Downloading until released",
        "value": {"match": {"operation": "CreateRootVolumeTemplateFromVolumeBackup"}, "job": {"hold": True}},
    },
}

_RULE_LIST = TypeAdapter(list[RuleSpec])


def _rule_body() -> dict[str, Any]:
    """One rule or an array of them."""
    body = json_body(RuleSpec, RULE_EXAMPLES)
    content = body["requestBody"]["content"]["application/json"]
    one = content["schema"]
    content["schema"] = {"oneOf": [one, {"type": "array", "items": one}]}
    return body


@router.get("/faults", operation_id="ListFaultRules", summary="List fault rules", response_model=RuleList)
async def list_rules(request: Request) -> Response:
    """Rules in the order they are checked, with how often each matched and fired."""
    ctx = context_of(request)
    now = ctx.clock.now()
    return json_response({"rules": [_view(row, now) for row in faults_of(request).list_rules()]})


@router.post(
    "/faults",
    operation_id="AddFaultRules",
    summary="Add fault rules",
    status_code=201,
    response_model=RuleView | RuleList,
    openapi_extra=_rule_body(),
)
async def add_rules(request: Request) -> Response:
    """One rule (answered with it) or a JSON array of rules (answered with the list), appended after the
    existing ones. A rule matches on `match` (all conditions; empty: every ZStack call), then fires its
    effect unless `after`, `times` or `probability` say otherwise; the first rule that fires wins."""
    raw = await read_body(request, settings_of(request).max_body_bytes)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc}") from None
    try:
        parsed = _RULE_LIST.validate_python(body) if isinstance(body, list) else RuleSpec.model_validate(body)
    except ValidationError as exc:
        raise bad_request(f"invalid rule: {validation_problems(exc)}") from None
    specs = parsed if isinstance(parsed, list) else [parsed]
    rows = faults_of(request).add_rules(specs)
    now = context_of(request).clock.now()
    views = [_view(row, now) for row in rows]
    return json_response(views[0] if not isinstance(parsed, list) else {"rules": views}, status_code=201)


@router.delete("/faults", operation_id="DeleteFaultRules", summary="Delete every rule", response_model=Deleted)
async def delete_rules(request: Request) -> Response:
    """Removes every rule and the scenario counters ("fail the first N" starts again)."""
    return json_response({"deleted": faults_of(request).delete_rules()})


@router.get("/faults/{rule_id}", operation_id="GetFaultRule", summary="Get a fault rule", response_model=RuleView)
async def get_rule(request: Request, rule_id: int = RULE_ID) -> Response:
    row = faults_of(request).get_rule(rule_id)
    if row is None:
        raise not_found(f"no fault rule with id {rule_id}")
    return json_response(_view(row, context_of(request).clock.now()))


@router.delete("/faults/{rule_id}", operation_id="DeleteFaultRule", summary="Delete a fault rule",
               response_model=Deleted)
async def delete_rule(request: Request, rule_id: int = RULE_ID) -> Response:
    if not faults_of(request).delete_rules(rule_id):
        raise not_found(f"no fault rule with id {rule_id}")
    return json_response({"deleted": 1})


@router.get("/scenarios", operation_id="ListScenarios", summary="List scenarios", response_model=ScenarioList)
async def list_scenarios(request: Request) -> Response:
    """The named scenarios a request can ask for with `X-Mock-Scenario: <name>` (for that request only).
    The header also takes an inline effect: `X-Mock-Scenario: {"error": {"code": "SYS.1000"}}`."""
    scenarios = [
        {"name": name, "description": spec.description,
         "effect": {k: v for k, v in spec.to_json().items() if k != "description"}}
        for name, spec in faults_of(request).scenarios.items()
    ]
    return json_response({"header": SCENARIO_HEADER, "scenarios": scenarios})


def _view(row: FaultRule, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "rule": rule_spec(row).to_json(),
        "matched": row.matched,
        "fired": row.fired,
        "spent": row.spent,
        "expired": row.expire_date is not None and now >= row.expire_date,
        "createDate": row.create_date.isoformat(),
        "expireDate": None if row.expire_date is None else row.expire_date.isoformat(),
    }
