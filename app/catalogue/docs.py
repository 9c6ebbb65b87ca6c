"""Pieces of the OpenAPI document that the catalogue's entries share."""

from __future__ import annotations

from typing import Any

from ..zstack.schemas import AsyncAccepted, ErrorReply


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


#: How an API event (an asynchronous API) answers, for its description.
ASYNC_EVENT_NOTE = (
    " An API event: with `X-Job-UUID` or `X-Web-Hook` (what ZStack's SDKs send), `Prefer: respond-async` or a "
    "server in `--api-mode async` the answer is 202 and a job, as on a real node; otherwise 200 at once. "
    "Auth required: `Authorization: OAuth <sessionUuid>`."
)
#: The answers of an API event besides its 200.
EVENT_RESPONSES: dict[int | str, Any] = {
    202: {"model": AsyncAccepted, "description": "Accepted as a job (async). Poll the location or wait for the "
                                                 "X-Web-Hook POST."},
    400: text_error("Rejected by the REST layer (plain text): the Authorization header, a body that is not JSON "
                    "or names no action of the path, or a bad X-Job-UUID, X-API-Timeout or X-Web-Hook.",
                    "the body doesn't contain action mapping to the URL[/v1/images/<uuid>/actions]"),
    **BODY_TOO_LARGE,
    **API_FAILURE,
}
