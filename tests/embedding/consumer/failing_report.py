"""Run on its own by the driving test: it fails on purpose, and its report must show its requests."""

from __future__ import annotations

import pytest
from zstack_calls import create_template, log_in


@pytest.mark.zstack_fault(operation="CreateRootVolumeTemplateFromVolumeBackup", error="SYS.1002")
def test_fails_after_a_faulted_create(zstack_url: str, zstack_session: str) -> None:
    assert log_in(zstack_url).status_code == 200
    answer = create_template(zstack_url, zstack_session, name="doomed")
    assert answer.status_code == 200, "the create failed"
