"""The SDK actions the tests call, as ``sdk/src/main/java/org/zstack/sdk/*Action.java`` declare their RestInfo."""

from __future__ import annotations

from typing import Any

from tests.helpers import BACKUP_WITH_METADATA, BS_READY, sha512
from tests.sdk.client import Action

CREATE_PATH = "/images/root-volume-templates/from/volume-template/{backupUuid}"


def log_in_by_account(account: str = "admin", password: str = "password") -> Action:
    return Action("PUT", "/accounts/login", {"accountName": account, "password": sha512(password)},
                  parameter_name="logInByAccount", need_session=False)


def log_out(session_uuid: str) -> Action:
    return Action("DELETE", "/accounts/sessions/{sessionUuid}", {"sessionUuid": session_uuid},
                  parameter_name="", need_session=False)


def validate_session(session_uuid: str) -> Action:
    return Action("GET", "/accounts/sessions/{sessionUuid}/valid", {"sessionUuid": session_uuid},
                  parameter_name="", need_session=False)


def renew_session(session: str, target: str, duration: int | None = None) -> Action:
    return Action("PUT", "/accounts/sessions/{sessionUuid}/renew", {"sessionUuid": target, "duration": duration},
                  parameter_name="renewSession", session=session, need_poll=True)


def create_template(session: str, backup: str = BACKUP_WITH_METADATA, **parameters: Any) -> Action:
    """CreateRootVolumeTemplateFromVolumeBackupAction (the premium SDK's): POST, ``params``, polled."""
    values = {"backupUuid": backup, "backupStorageUuid": BS_READY, "name": "sdk template", **parameters}
    return Action("POST", CREATE_PATH, values, session=session, need_poll=True)


def query(session: str, path: str, *conditions: str, **parameters: Any) -> Action:
    """QueryImageAction and the like: GET with ``q=`` for each condition."""
    return Action("GET", path, {"q": list(conditions), **parameters}, session=session, query=True)


def image_action(session: str, image: str, action: str, path_variable: str = "uuid", **parameters: Any) -> Action:
    """UpdateImageAction, ChangeImageStateAction, RecoverImageAction, ExpungeImageAction: PUT on
    ``/images/{uuid}/actions`` (``{imageUuid}`` for the last two), the action's name as ``parameterName``, polled."""
    return Action("PUT", f"/images/{{{path_variable}}}/actions", {path_variable: image, **parameters},
                  parameter_name=action, session=session, need_poll=True)


def delete_image(session: str, image: str, **parameters: Any) -> Action:
    """DeleteImageAction: DELETE, the fields in the query string, polled."""
    return Action("DELETE", "/images/{uuid}", {"uuid": image, **parameters}, parameter_name="", session=session,
                  need_poll=True)
