"""The API catalogue is the one declaration: what it lists is routed, dispatched, named and documented."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from app.catalogue import APIS, BY_MESSAGE_CLASS, JOB_KINDS
from app.catalogue.calls import ZStackCall, normalized_path, rest_paths
from app.openapi_doc import openapi_text
from app.zstack.wire import REST_PREFIX


def _documented_path(template: str) -> str:
    """The document's path for a route template: actions sharing a path are documented under the first one's."""
    for api in APIS:
        if api.rest is not None and api.rest.action and normalized_path(api.rest.path) == normalized_path(template):
            return REST_PREFIX + api.rest.path
    return REST_PREFIX + template


def test_every_rest_route_of_the_catalogue_is_in_the_openapi_document_under_the_api_name() -> None:
    paths = json.loads(openapi_text())["paths"]
    for api in APIS:
        if api.rest is None:
            continue
        whole = paths[_documented_path(api.rest.path)][api.rest.method.lower()]
        if api.rest.action:
            assert api.name in whole["x-zstack-apis"] and api.rest.action_name in whole["description"]
            continue
        assert whole["operationId"] == api.name
        assert whole["tags"] == [api.docs.tag]
        if api.rest.by_uuid:
            one = paths[f"{REST_PREFIX}{api.rest.path}/{{uuid}}"][api.rest.method.lower()]
            assert one["operationId"] == f"{api.name}ByUuid"


def test_the_rest_api_documents_exactly_the_catalogue_routes() -> None:
    declared = {
        (api.rest.method.lower(), _documented_path(template))
        for api in APIS if api.rest is not None
        for template in rest_paths(api.rest.path, api.rest.by_uuid)
    }
    documented = {
        (method, path)
        for path, operations in json.loads(openapi_text())["paths"].items() if path.startswith(REST_PREFIX)
        for method in operations
    }
    assert documented == declared


def test_a_call_is_named_after_the_api_its_route_belongs_to() -> None:
    for api in APIS:
        if api.rest is None:
            continue
        for template in rest_paths(api.rest.path, api.rest.by_uuid):
            path = REST_PREFIX + re.sub(r"\{\w+\}", "0123456789abcdef0123456789abcdef", template)
            body = json.dumps({api.rest.action_name: {}}).encode() if api.rest.action else b""
            call = ZStackCall(method=api.rest.method, path=path, headers=Headers(), body=body)
            assert call.operation == api.name, (api.name, path)


def test_an_action_on_a_shared_path_is_named_by_the_body_and_nothing_without_one() -> None:
    path = f"{REST_PREFIX}/images/0123456789abcdef0123456789abcdef/actions"
    for key, name in (("changeImageState", "ChangeImageState"), ("expungeImage", "ExpungeImage")):
        call = ZStackCall(method="PUT", path=path, headers=Headers(), body=json.dumps({key: {}}).encode())
        assert (call.operation, dict(call.path_vars)) == (name, {
            "uuid" if name == "ChangeImageState" else "imageUuid": "0123456789abcdef0123456789abcdef"
        })
    assert ZStackCall(method="PUT", path=path, headers=Headers(), body=b"{}").operation is None


def test_an_api_is_named_after_its_message_class() -> None:
    for api in APIS:
        for rpc in api.rpc:
            assert rpc.message_class.rsplit(".", 1)[-1] == f"API{api.name}Msg"


def test_every_rpc_message_class_of_the_catalogue_is_answered_in_the_envelope(client: TestClient) -> None:
    for message_class in BY_MESSAGE_CLASS:
        response = client.post("/zstack/api", json={message_class: {}})
        assert response.status_code == 200, response.text
        assert response.json()["state"] in ("Done", "Processing"), response.text


def test_the_asynchronous_apis_are_the_job_kinds() -> None:
    assert set(JOB_KINDS) == {api.name for api in APIS if api.asynchronous}
    for name, kind in JOB_KINDS.items():
        api = next(api for api in APIS if api.name == name)
        assert kind.event_class == api.reply_class
        assert kind.event_class.endswith("Event")
