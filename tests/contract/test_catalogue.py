"""The API catalogue is the one declaration: what it lists is routed, dispatched, named and documented."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from app.catalogue import APIS, BY_MESSAGE_CLASS, JOB_KINDS
from app.catalogue.calls import ZStackCall, rest_paths
from app.openapi_doc import openapi_text
from app.zstack.wire import REST_PREFIX


def test_every_rest_route_of_the_catalogue_is_in_the_openapi_document_under_the_api_name() -> None:
    paths = json.loads(openapi_text())["paths"]
    for api in APIS:
        if api.rest is None:
            continue
        whole = paths[REST_PREFIX + api.rest.path][api.rest.method.lower()]
        assert whole["operationId"] == api.name
        assert whole["tags"] == [api.docs.tag]
        if api.rest.by_uuid:
            one = paths[f"{REST_PREFIX}{api.rest.path}/{{uuid}}"][api.rest.method.lower()]
            assert one["operationId"] == f"{api.name}ByUuid"


def test_the_rest_api_documents_exactly_the_catalogue_routes() -> None:
    declared = {
        (api.rest.method.lower(), REST_PREFIX + template)
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
            call = ZStackCall(method=api.rest.method, path=path, headers=Headers())
            assert call.operation == api.name, (api.name, path)


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
