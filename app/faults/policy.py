"""What a fault written by a client may do in this server's profile (``docs/security.md``).

Rules posted to ``/_mock/faults`` and inline ``X-Mock-Scenario`` effects are checked here; the
operator's own ``--faults`` file and scenario catalogue are trusted and keep full power (their
latency is still capped when it runs). In every profile a fault waits at most ``--max-fault-latency``
seconds and a server (a sandbox tenant) holds at most ``--max-fault-rules`` rules. In the public
profile an ``http`` effect cannot put a page on the server's origin: no content a browser would run,
no header but a few harmless ones (no cookie, redirect, CORS or CSP), no 3xx status.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..limits import Limits
from .spec import Effect, HttpSpec

#: Media types an ``http`` effect may declare in the public profile: none a browser renders as a page.
PUBLIC_CONTENT_TYPES = ("application/json", "text/plain")
#: Headers an ``http`` effect may set in the public profile (compared without case).
PUBLIC_HEADERS = (
    "Age", "Cache-Control", "Content-Language", "Date", "ETag", "Expires", "Last-Modified", "Pragma",
    "Retry-After", "Server", "Via", "Warning", "X-Request-Id",
)
_PUBLIC_HEADERS = frozenset(name.lower() for name in PUBLIC_HEADERS)


@dataclass(frozen=True, slots=True)
class FaultPolicy:
    public: bool
    max_latency: float
    max_rules: int

    @classmethod
    def of(cls, limits: Limits) -> FaultPolicy:
        return cls(public=limits.public, max_latency=limits.max_fault_latency, max_rules=limits.max_fault_rules)

    def problems(self, effect: Effect) -> list[str]:
        """Why a client may not install ``effect`` here: empty if it may."""
        found = []
        if effect.latency is not None and effect.latency.ceiling > self.max_latency:
            found.append(
                f"latency: this effect may wait {effect.latency.ceiling:g} s; this server allows at most "
                f"{self.max_latency:g} s (--max-fault-latency)"
            )
        if self.public and effect.http is not None:
            found.extend(_public_http_problems(effect.http))
        return found

    def capped(self, seconds: float) -> float:
        return min(seconds, self.max_latency)


def _public_http_problems(http: HttpSpec) -> list[str]:
    found = []
    if 300 <= http.status <= 399:
        found.append(f"http.status: a redirect ({http.status}) is not allowed in the public profile")
    media_type = http.content_type.split(";", 1)[0].strip().lower()
    if media_type not in PUBLIC_CONTENT_TYPES:
        found.append(
            f"http.contentType: {http.content_type!r} is not allowed in the public profile "
            f"(allowed: {', '.join(PUBLIC_CONTENT_TYPES)})"
        )
    refused = [name for name in http.headers if name.lower() not in _PUBLIC_HEADERS]
    if refused:
        found.append(
            f"http.headers: {', '.join(refused)} not allowed in the public profile "
            f"(allowed: {', '.join(PUBLIC_HEADERS)})"
        )
    return found
