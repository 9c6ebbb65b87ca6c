"""The committed OpenAPI document is the app's, and it carries the documentation page's contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.openapi_doc import openapi_text

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
CREATE = "/zstack/v1/images/root-volume-templates/from/volume-template/{backupUuid}"


def _document() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_committed_openapi_matches_the_app() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "openapi/openapi.json is out of date: run `make openapi` and commit the result"
    )


def test_create_operation_documents_the_seed_request_fields_with_their_descriptions() -> None:
    document = _document()
    operation = document["paths"][CREATE]["post"]
    assert operation["operationId"] == "CreateRootVolumeTemplateFromVolumeBackup"
    (path_param,) = [p for p in operation["parameters"] if p["in"] == "path"]
    assert path_param["name"] == "backupUuid"
    headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    assert headers == ["X-Job-UUID", "X-Web-Hook", "X-API-Timeout", "Prefer", "X-JSON-Schema", "X-Mock-Scenario"]
    assert path_param["description"] == "The UUID of the volume backup."

    schemas = document["components"]["schemas"]
    body = schemas["CreateRootVolumeTemplateFromVolumeBackupRequest"]
    assert body["required"] == ["params"]
    assert body["properties"]["params"]["description"] == "Request body parameter object."
    assert body["properties"]["systemTags"]["description"] == "Optional. The system tags."
    params = schemas["CreateRootVolumeTemplateFromVolumeBackupParams"]
    assert sorted(params["required"]) == ["backupStorageUuid", "name"]
    descriptions = {name: prop["description"] for name, prop in params["properties"].items()}
    assert descriptions["backupStorageUuid"] == "The UUID of the backup storage."
    assert descriptions["name"] == "The name of the root volume image."
    assert descriptions["tagUuids"] == "Optional. The tag UUIDs."
    assert {"description", "guestOsType", "platform", "system", "resourceUuid", "architecture"} <= set(descriptions)

    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["documentation"]["value"]["params"]["name"] == "<name>"


def test_create_operation_documents_success_and_both_error_forms() -> None:
    operation = _document()["paths"][CREATE]["post"]
    responses = operation["responses"]
    ok = responses["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/ImageInventoryReply"}
    assert ok["example"]["inventory"]["uuid"] == "e2b2695d55243c2997b5dc6165fffa83"
    assert responses["503"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorReply"}
    assert "text/plain" in responses["400"]["content"]


def test_inventory_schemas_carry_the_seed_descriptions() -> None:
    schemas = _document()["components"]["schemas"]
    image = schemas["ImageInventory"]["properties"]
    assert image["type"]["description"] == "The interval used field."
    assert image["actualSize"]["description"] == "The actual storage space used by the image."
    ref = schemas["ImageBackupStorageRefInventory"]["properties"]
    assert ref["installPath"]["description"] == "The installation path of the image on the backup storage."
    error = schemas["ErrorCode"]["properties"]
    assert error["cause"]["description"].startswith("The root error")


def test_the_session_and_the_admin_token_are_security_schemes() -> None:
    """So that /docs offers an Authorize button, and each call says what it needs."""
    document = _document()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ZStackSession"] == {**schemes["ZStackSession"], "type": "apiKey", "in": "header",
                                        "name": "Authorization"}
    assert schemes["AdminToken"]["scheme"] == "bearer"
    paths = document["paths"]
    assert paths[CREATE]["post"]["security"] == [{"ZStackSession": []}]
    assert paths["/zstack/v1/images"]["get"]["security"] == [{"ZStackSession": []}]
    assert "security" not in paths["/zstack/v1/accounts/login"]["put"]
    assert paths["/_mock/reset"]["post"]["security"] == [{"AdminToken": []}, {}]
    assert "security" not in paths["/_mock/health"]["get"]
    assert document["servers"] == [{"url": "/", "description": "This server"}]


def test_no_operation_documents_a_422_that_no_route_answers() -> None:
    for path, operations in _document()["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
