"""The polls of asynchronous calls: REST's api-jobs (QueryApiJob) and the legacy RPC result (QueryApiResult).

Neither is an API message: each asks for a job's answer by its UUID, with no session. They are
listed so that faults and the journal can name them; their routes answer in the forms
``app.api.zstack.jobs`` and ``app.api.zstack.rpc`` describe.
"""

from __future__ import annotations

from ..zstack.schemas import ApiJobResult, ErrorReply
from .docs import text_error
from .model import Api, Docs, Rest

QUERY_API_JOB = Api(
    name="QueryApiJob",
    kind="poll",
    authenticated=False,
    rest=Rest("GET", "/api-jobs/{uuid}"),
    reply=ApiJobResult,
    docs=Docs(
        tag="Async jobs",
        summary="Poll an async job",
        description="202 `{}` while the job runs; 200 and the API's reply (e.g. `{\"inventory\": ...}`) when it "
        "succeeded; 503 `{\"error\": ErrorCode}` when it failed; 404 once it has expired (finished jobs are kept "
        "3 hours by default). With `X-JSON-Schema`, a result carries the `schema` map.",
        responses={
            202: {"description": "The job is still running.", "content": {"application/json": {"example": {}}}},
            404: text_error("Unknown or expired job (plain text).", "the job has been expired"),
            405: text_error("Any method but GET (plain text).", "only GET method is allowed for querying job status"),
            503: {"model": ErrorReply, "description": "The job failed."},
        },
        path={"uuid": "The job UUID from the 202's location (the X-Job-UUID the client sent, if any)."},
    ),
)

#: ``GET``/``PUT /zstack/api/result/{uuid}``: not under ``/zstack/v1``, so no ``Rest``.
QUERY_API_RESULT = Api(
    name="QueryApiResult",
    kind="poll",
    authenticated=False,
    docs=Docs(tag="Legacy RPC", summary="Poll an async call", description="The legacy RPC API's poll."),
)
