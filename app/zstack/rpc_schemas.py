"""Pydantic models of the legacy RPC API's bodies, for the OpenAPI document only."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from .schemas import TIMESTAMP_EXAMPLE, TIMESTAMP_NOTE


class RpcRequest(RootModel[dict[str, dict[str, Any]]]):
    """One key, the API message's full Java class name; its value, the message's fields.

    Authenticated messages carry ``"session": {"uuid": "<session uuid>"}`` among their fields.
    """


class RpcEnvelope(BaseModel):
    uuid: str | None = Field(
        None, description="The call's UUID; only on async calls (poll /zstack/api/result/{uuid} with it)."
    )
    state: Literal["Processing", "Done"] = Field(description="Done once the result is there.")
    createdDate: str = Field(description=f"When the call arrived.{TIMESTAMP_NOTE}", examples=[TIMESTAMP_EXAMPLE])
    finishedDate: str | None = Field(None, description=f"When the call last changed.{TIMESTAMP_NOTE}")
    result: str | None = Field(
        None,
        description='A JSON document in a string: {"<reply class>": {...reply fields..., "success": true}}, or '
        '{"<class>": {"success": false, "error": ErrorCode}}. HTML characters are escaped as \\u003c etc.',
    )
