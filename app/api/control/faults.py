"""/_mock/faults and /_mock/scenarios: the fault rules, and the catalogue the scenario header names."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from ...faults.engine import SCENARIO_HEADER
from ...faults.rules import rule_spec
from ...faults.spec import RuleSpec, parse_rules
from ...store.records import FaultRule
from ...zstack.errors import bad_request, not_found
from ...zstack.responses import json_response
from ...zstack.wire import read_body
from ..deps import instance_of, server_of
from ..openapi import json_body
from ..routing import ZStackRoute
from .common import errors

router = APIRouter(prefix="/_mock", tags=["Control"], route_class=ZStackRoute)

RULE_ID = Path(description="The rule's id, as POST /_mock/faults gave it.")
#: Rule ids are the stores' 64-bit integers; at most 20 digits, so ``int`` never meets a huge string.
_RULE_ID_TEXT = re.compile(r"[-+]?[0-9]{1,20}")
_RULE_ID_BOUND = 2**63
PAGE_SIZE = 100
PAGE_SIZE_MAX = 1000
OFFSET_MAX = 1_000_000_000


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


class RulePage(RuleList):
    total: int = Field(description="Rules installed in all; a page holds `limit` of them from `offset`.")


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
                  "http": {"status": 502, "body": "502 Bad Gateway", "contentType": "text/plain"}},
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

def _rule_body() -> dict[str, Any]:
    """One rule or an array of them."""
    body = json_body(RuleSpec, RULE_EXAMPLES)
    content = body["requestBody"]["content"]["application/json"]
    one = content["schema"]
    content["schema"] = {"oneOf": [one, {"type": "array", "items": one}]}
    return body


@router.get("/faults", operation_id="ListFaultRules", responses=errors(400), summary="List fault rules",
            response_model=RulePage)
async def list_rules(
    request: Request,
    limit: int = Query(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX, description="Rules in the page."),
    offset: int = Query(0, ge=0, le=OFFSET_MAX, description="Rules skipped before the page."),
) -> Response:
    """Rules in the order they are checked, with how often each matched and fired, a page at a time,
    and how many there are in all."""
    params = request.query_params
    page_size = _whole_number(params.get("limit", str(PAGE_SIZE)), "limit", 1, PAGE_SIZE_MAX)
    skipped = _whole_number(params.get("offset", "0"), "offset", 0, OFFSET_MAX)
    instance = instance_of(request)
    now = instance.context.clock.now()
    rows, total = instance.faults.list_rules(limit=page_size, offset=skipped)
    return json_response({"rules": [_view(row, now) for row in rows], "total": total})


@router.post(
    "/faults",
    operation_id="AddFaultRules", responses=errors(409, body=True),
    summary="Add fault rules",
    status_code=201,
    response_model=RuleView | RuleList,
    openapi_extra=_rule_body(),
)
async def add_rules(request: Request) -> Response:
    """One rule (answered with it) or a JSON array of rules (answered with the list), appended after the
    existing ones. A rule matches on `match` (all conditions; empty: every ZStack call), then fires its
    effect unless `after`, `times` or `probability` say otherwise; the first rule that fires wins.
    Refused (400) when its latency exceeds `--max-fault-latency` or, in the public profile, when its
    `http` effect redirects or sets a content type or header not on the allow-list (docs/security.md);
    refused (409) when it would take the rules past `--max-fault-rules`."""
    specs, as_list = parse_rules(await read_body(request, server_of(request).settings.max_body_bytes))
    instance = instance_of(request)
    rows = instance.faults.add_rules(specs)
    now = instance.context.clock.now()
    views = [_view(row, now) for row in rows]
    return json_response({"rules": views} if as_list else views[0], status_code=201)


@router.delete("/faults", operation_id="DeleteFaultRules", summary="Delete every rule", response_model=Deleted)
async def delete_rules(request: Request) -> Response:
    """Removes every rule and the scenario counters ("fail the first N" starts again)."""
    return json_response({"deleted": instance_of(request).faults.delete_rules()})


@router.get("/faults/{rule_id}", operation_id="GetFaultRule", responses=errors(404), summary="Get a fault rule", response_model=RuleView)
async def get_rule(request: Request, rule_id: int = RULE_ID) -> Response:
    number = _rule_number(rule_id)
    row = None if number is None else instance_of(request).faults.get_rule(number)
    if row is None:
        raise not_found(f"no fault rule with id {rule_id}")
    return json_response(_view(row, instance_of(request).context.clock.now()))


@router.delete("/faults/{rule_id}", operation_id="DeleteFaultRule", responses=errors(404), summary="Delete a fault rule",
               response_model=Deleted)
async def delete_rule(request: Request, rule_id: int = RULE_ID) -> Response:
    number = _rule_number(rule_id)
    if number is None or not instance_of(request).faults.delete_rules(number):
        raise not_found(f"no fault rule with id {rule_id}")
    return json_response({"deleted": 1})


def _rule_number(raw: object) -> int | None:
    """The rule id a path names (``ZStackRoute`` hands it over as text), or None when it can name no rule."""
    text = str(raw)
    if _RULE_ID_TEXT.fullmatch(text) is None or not -_RULE_ID_BOUND <= int(text) < _RULE_ID_BOUND:
        return None
    return int(text)


@router.get("/scenarios", operation_id="ListScenarios", summary="List scenarios", response_model=ScenarioList)
async def list_scenarios(request: Request) -> Response:
    """The named scenarios a request can ask for with `X-Mock-Scenario: <name>` (for that request only).
    The header also takes an inline effect: `X-Mock-Scenario: {"error": {"code": "SYS.1000"}}`."""
    scenarios = [
        {"name": name, "description": spec.description,
         "effect": {k: v for k, v in spec.to_json().items() if k != "description"}}
        for name, spec in instance_of(request).faults.scenarios.items()
    ]
    return json_response({"header": SCENARIO_HEADER, "scenarios": scenarios})


def _whole_number(text: str, name: str, low: int, high: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 12) or not low <= int(text) <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}, got [{text[:40]}]")
    return int(text)


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
