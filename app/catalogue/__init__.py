"""The API catalogue: every ZStack API zstack-mock speaks, declared once (``model.Api``).

REST routing (``app.api.zstack.routes``), legacy RPC dispatch (``app.api.zstack.rpc``), the operation
names faults and the journal match on (``calls.ZStackCall``), the job kinds (``JOB_KINDS``) and the
OpenAPI entries all come from these declarations. Adding an API is one entry here, one domain
function that serves it, and its tests.
"""

from __future__ import annotations

from ..domain.job_kinds import JobKind
from .image_lifecycle import CHANGE_IMAGE_STATE, DELETE_IMAGE, EXPUNGE_IMAGE, RECOVER_IMAGE, UPDATE_IMAGE
from .images import CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP
from .jobs import QUERY_API_JOB, QUERY_API_RESULT
from .model import Api, Rpc
from .queries import (
    QUERY_BACKUP_STORAGE,
    QUERY_IMAGE,
    QUERY_IMAGE_STORE_BACKUP_STORAGE,
    QUERY_VOLUME_BACKUP,
)
from .sessions import IS_READY_TO_GO, LOG_IN_BY_ACCOUNT, LOG_OUT, RENEW_SESSION, VALIDATE_SESSION
from .tags import CREATE_TAG, DELETE_TAG, QUERY_TAG
from .volume_backups import DELETE_VOLUME_BACKUP

#: In REST routing order: a literal path before a pattern that would take it
#: (``/backup-storage/image-store`` before ``/backup-storage/{uuid}``).
APIS: tuple[Api, ...] = (
    CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP,
    QUERY_API_JOB,
    LOG_IN_BY_ACCOUNT,
    LOG_OUT,
    VALIDATE_SESSION,
    RENEW_SESSION,
    QUERY_IMAGE,
    QUERY_VOLUME_BACKUP,
    QUERY_IMAGE_STORE_BACKUP_STORAGE,
    QUERY_BACKUP_STORAGE,
    UPDATE_IMAGE,
    CHANGE_IMAGE_STATE,
    RECOVER_IMAGE,
    EXPUNGE_IMAGE,
    DELETE_IMAGE,
    DELETE_VOLUME_BACKUP,
    QUERY_TAG,
    CREATE_TAG,
    DELETE_TAG,
    IS_READY_TO_GO,
    QUERY_API_RESULT,
)

BY_NAME: dict[str, Api] = {api.name: api for api in APIS}
#: Every RPC message class zstack-mock answers: its API and the class its answer names.
BY_MESSAGE_CLASS: dict[str, tuple[Api, Rpc]] = {rpc.message_class: (api, rpc) for api in APIS for rpc in api.rpc}
#: How the jobs of each asynchronous API run, by API name (``app.domain.jobs`` finds them in the context).
JOB_KINDS: dict[str, JobKind] = {
    api.name: JobKind(api=api.name, event_class=api.reply_class, steps=api.job) for api in APIS if api.job is not None
}

__all__ = [
    "APIS", "BY_MESSAGE_CLASS", "BY_NAME", "CREATE_ROOT_VOLUME_TEMPLATE_FROM_VOLUME_BACKUP", "IS_READY_TO_GO",
    "JOB_KINDS", "LOG_IN_BY_ACCOUNT", "LOG_OUT", "QUERY_API_JOB", "QUERY_API_RESULT", "QUERY_BACKUP_STORAGE",
    "QUERY_IMAGE", "QUERY_IMAGE_STORE_BACKUP_STORAGE", "QUERY_VOLUME_BACKUP", "RENEW_SESSION", "VALIDATE_SESSION",
    "Api",
]
