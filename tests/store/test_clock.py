from __future__ import annotations

import re
import uuid

from app.clock import Clock

ZSTACK_UUID = re.compile(r"[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}")


def test_new_uuids_are_version_4_without_dashes_and_distinct() -> None:
    clock = Clock()
    uuids = {clock.new_uuid() for _ in range(2000)}
    assert len(uuids) == 2000
    for value in uuids:
        assert ZSTACK_UUID.fullmatch(value), value
        assert uuid.UUID(value).version == 4
