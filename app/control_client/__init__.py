"""``Control``: a small typed client of the control API (``/_mock/``), for an embedded server or a remote one.

Every method is one documented control endpoint (docs/testing.md shows each beside its curl line); an
error answer raises ``ControlError`` with the server's status, code and message.
"""

from .client import Clock, Control, FaultRule, Jobs
from .models import (
    Account,
    BackupStorage,
    ClockState,
    ControlError,
    Health,
    Job,
    RequestEntry,
    ResetSummary,
    Snapshot,
    VolumeBackup,
)

__all__ = [
    "Account",
    "BackupStorage",
    "Clock",
    "ClockState",
    "Control",
    "ControlError",
    "FaultRule",
    "Health",
    "Job",
    "Jobs",
    "RequestEntry",
    "ResetSummary",
    "Snapshot",
    "VolumeBackup",
]
