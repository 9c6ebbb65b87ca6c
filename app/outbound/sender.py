"""POSTing a webhook: one attempt, bounded in time, answering what went wrong in two forms.

In the public profile (an ``AllowList``) the sender resolves the host itself, checks every address it
resolves to, and connects to the first of them: the request goes to the address checked, with the
name's ``Host`` header and TLS server name, so a name that resolves elsewhere on a second lookup
(DNS rebinding) gains nothing. Redirects are never followed (a 3xx is a failed delivery), proxies
from the environment are ignored, and what went wrong is shown to the visitor without network
details. Without an allow-list (the local profile) the URL is POSTed as given, with the details.

The whole attempt (resolving, connecting, sending, the answer's headers) has one deadline; the
answer's body is never read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .targets import AllowList, RefusedTarget

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("zstack_mock.webhooks")

#: What a visitor reads about a failure in the public profile; the log has the details.
DELIVERY_FAILED = "webhook delivery failed"


@dataclass(frozen=True, slots=True)
class Failure:
    #: What the job's ``lastError`` shows.
    shown: str
    #: The whole story, for the server's log.
    detail: str
    #: False when trying again cannot help (a refused target).
    retry: bool = True


class WebhookSender:
    def __init__(self, *, allow: AllowList | None, timeout: float) -> None:
        self._allow = allow
        self._timeout = timeout
        # Made at the first webhook: an HTTP client loads the CA bundle, tens of milliseconds that every start
        # (an embedded server's in a test suite) would otherwise pay for webhooks most runs never send.
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # at the first webhook, as the client: most runs never send one

            # No bound on the pool: each tenant's concurrency bounds what it holds (the job runner).
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                trust_env=self._allow is None,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def post(self, url: str, content: bytes, headers: dict[str, str]) -> Failure | None:
        """One attempt; None when the target answered 2xx."""
        import httpx

        try:
            async with asyncio.timeout(self._timeout):
                request = await self._request(url, content, headers)
                response = await self.client.send(request, stream=True)
                await response.aclose()
        except RefusedTarget as exc:
            return Failure(f"{DELIVERY_FAILED}: {exc}", f"refused: {exc}", retry=False)
        except TimeoutError:
            return self._failure(f"no answer within {self._timeout:g} s")
        except (httpx.HTTPError, OSError) as exc:
            return self._failure(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        if 200 <= response.status_code < 300:
            return None
        answered = f"the webhook answered HTTP {response.status_code}"
        return Failure(f"{DELIVERY_FAILED}: {answered}" if self._allow is not None else answered, answered)

    def _failure(self, detail: str) -> Failure:
        return Failure(DELIVERY_FAILED if self._allow is not None else detail, detail)

    async def _request(self, url: str, content: bytes, headers: dict[str, str]) -> httpx.Request:
        if self._allow is None:
            return self.client.build_request("POST", url, content=content, headers=headers)
        checked = self._allow.check_url(url)
        address = await self._resolve(checked)
        request = self.client.build_request("POST", checked, content=content, headers=headers)
        # Host is already the name's (set from the URL above); the connection goes to the checked address.
        if checked.scheme == "https" and address.compressed != checked.host:
            request.extensions = {**request.extensions, "sni_hostname": checked.host}
        request.url = checked.copy_with(host=address.compressed)
        return request

    async def _resolve(self, url: httpx.URL) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The first address the host resolves to, once every one of them is allowed."""
        import httpx

        assert self._allow is not None
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpx.ConnectError(f"cannot resolve {url.host}: {exc}") from None
        addresses = [ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]) for *_, sockaddr in found]
        if not addresses:
            raise httpx.ConnectError(f"{url.host} resolves to no address")
        for address in addresses:
            self._allow.check_address(address)
        return addresses[0]
