"""Pieces of the OpenAPI document that the catalogue's entries share."""

from __future__ import annotations

from typing import Any

from ..zstack.schemas import ErrorReply


def text_error(description: str, example: str) -> dict[str, Any]:
    """A plain-text error answer."""
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}, "example": example}}}


#: The 503 every API answers when it fails.
API_FAILURE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorReply,
        "description": "The API failed: ZStack's ErrorCode, with the catalogue's description and precise details.",
    }
}

#: The 413 of an API whose body is read.
BODY_TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: text_error("The request body is larger than the limit (1 MiB by default). Plain text.",
                    "the request body exceeds the limit of 1048576 bytes"),
}
