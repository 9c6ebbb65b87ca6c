"""The envelope and result-string helpers of `app.zstack.rpc`, including the async forms the result
endpoint answers (docs/behaviour.md, "Legacy RPC API")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.catalogue import CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP, LOG_IN_BY_ACCOUNT, Api
from app.zstack import rpc
from app.zstack.errors import GENERIC_EVENT_CLASS, GENERIC_REPLY_CLASS, ErrorCode, ZStackError, failure_class
from app.zstack.responses import gson_json
from app.zstack.timefmt import java_date

CREATED = datetime(2026, 1, 19, 16, 37, 30, tzinfo=UTC)
FINISHED = CREATED + timedelta(seconds=3)
UUID = "5b4c1ab8e3b24d0a8e6f2c4d9a7b1e03"
EVENT = "org.zstack.header.storage.volume.backup.APICreateRootVolumeTemplateFromVolumeBackupEvent"


def test_accepted_envelope_is_processing_with_uuid_and_creation_date_only() -> None:
    assert rpc.accepted_envelope(uuid=UUID, created=CREATED) == {
        "uuid": UUID, "state": "Processing", "createdDate": java_date(CREATED),
    }
    assert list(rpc.accepted_envelope(uuid=UUID, created=CREATED)) == ["uuid", "state", "createdDate"]


def test_polled_envelope_while_running_already_has_a_finished_date() -> None:
    envelope = rpc.polled_envelope(uuid=UUID, created=CREATED)
    assert envelope == {
        "uuid": UUID, "state": "Processing", "createdDate": java_date(CREATED), "finishedDate": java_date(CREATED),
    }


def test_polled_envelope_when_done_carries_the_result_last() -> None:
    result = rpc.reply_result(EVENT, {"inventory": {"uuid": "x"}})
    envelope = rpc.polled_envelope(uuid=UUID, created=CREATED, finished=FINISHED, result=result)
    assert list(envelope) == ["uuid", "state", "createdDate", "finishedDate", "result"]
    assert envelope["state"] == "Done"
    assert envelope["finishedDate"] == java_date(FINISHED)
    assert json.loads(envelope["result"]) == {EVENT: {"inventory": {"uuid": "x"}, "success": True}}


def test_polled_result_is_cut_at_64000_characters() -> None:
    result = rpc.reply_result(EVENT, {"inventory": {"description": "d" * 70_000}})
    envelope = rpc.polled_envelope(uuid=UUID, created=CREATED, finished=FINISHED, result=result)
    assert len(result) > 70_000
    assert envelope["result"] == result[:64_000]


def test_sync_result_is_not_cut() -> None:
    result = rpc.reply_result(EVENT, {"inventory": {"description": "d" * 70_000}})
    assert rpc.sync_envelope(created=CREATED, finished=FINISHED, result=result)["result"] == result


def test_outcome_result_for_success_and_failure() -> None:
    error = ErrorCode(code="SYS.1006", details="it broke").to_json()
    assert json.loads(rpc.outcome_result(EVENT, success=True, payload={"inventory": {}})) == {
        EVENT: {"inventory": {}, "success": True}
    }
    failed = json.loads(rpc.outcome_result(GENERIC_EVENT_CLASS, success=False, payload=error))
    assert failed == {GENERIC_EVENT_CLASS: {"success": False, "error": error}}
    assert list(failed[GENERIC_EVENT_CLASS]) == ["success", "error"]


@pytest.mark.parametrize(
    ("api", "in_service", "expected"),
    [
        pytest.param(LOG_IN_BY_ACCOUNT, False, GENERIC_REPLY_CLASS, id="sync-intercepted"),
        pytest.param(LOG_IN_BY_ACCOUNT, True, LOG_IN_BY_ACCOUNT.reply_class, id="sync-in-service"),
        pytest.param(CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP, False, GENERIC_EVENT_CLASS,
                     id="async-intercepted"),
        pytest.param(CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP, True, EVENT, id="async-in-service"),
    ],
)
def test_failure_class_follows_where_the_error_was_raised(api: Api, in_service: bool, expected: str) -> None:
    error = ZStackError(ErrorCode(code="SYS.1007", details="x"), in_service=in_service)
    assert failure_class(error, reply_class=api.reply_class, asynchronous=api.asynchronous) == expected


def test_gson_json_escapes_what_gson_escapes_and_nothing_else() -> None:
    text = gson_json({"k=": "<a href='x'>&</a>\u2028\u2029\"\\/é\n"}).decode()
    assert text == (
        '{"k\\u003d":"\\u003ca href\\u003d\\u0027x\\u0027\\u003e\\u0026\\u003c/a\\u003e\\u2028\\u2029'
        '\\"\\\\/é\\n"}'
    )
    assert json.loads(text) == {"k=": "<a href='x'>&</a>\u2028\u2029\"\\/é\n"}
