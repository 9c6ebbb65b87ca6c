"""Where webhooks may go in the public profile: the operator's ``--webhook-allow`` list.

A URL's host is either an address or a name. It is read as a resolver reads it, not with patterns:
``127.1``, ``0x7f000001``, ``2130706433`` and ``0177.0.0.1`` are all 127.0.0.1 to ``inet_aton``
(and so to ``getaddrinfo``), ``[::ffff:127.0.0.1]`` is 127.0.0.1 inside IPv6, ``LOCALHOST.`` is
``localhost``.

* An address is allowed if a listed address or network contains it.
* A name is allowed if it is listed itself; every address it resolves to when the sender connects
  must then be a public one (global, not multicast, not a cloud metadata service), or be listed.

So loopback, link-local, private, unique-local, multicast, unspecified and metadata addresses are
reached only when the operator names them, whatever name or spelling leads to them, and a name
that resolves to one later (DNS rebinding) is refused when the sender connects. No credentials in
the URL; http and https only; any port.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Cloud metadata services that sit on otherwise ordinary addresses (AWS's IPv6 one is unique-local,
#: Alibaba's is in the shared 100.64/10 block; both are refused anyway, listed here to say so).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
#: IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, IPv4-compatible).
_EMBEDDING_V4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"),
                 ipaddress.ip_network("::/96"))


class RefusedTarget(Exception):
    """A webhook URL or address the policy refuses; ``str()`` says why, naming only what the client sent."""


@dataclass(frozen=True, slots=True)
class AllowList:
    names: frozenset[str]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, entries: Sequence[str]) -> AllowList:
        """``--webhook-allow``'s entries: host names, addresses and CIDR networks. ValueError on a bad one."""
        names: set[str] = set()
        networks: list[Network] = []
        for entry in entries:
            text = entry.strip().strip("[]")
            if "/" in text:
                networks.append(ipaddress.ip_network(text, strict=False))
                continue
            address = literal_address(text)
            if address is not None:
                networks.append(ipaddress.ip_network(address))
            elif _is_host_name(normal_name(text)):
                names.add(normal_name(text))
            else:
                raise ValueError(f"not a host name, address or CIDR network: {entry!r}")
        return cls(frozenset(names), tuple(networks))

    def check_url(self, url: str) -> httpx.URL:
        """The URL, parsed as the sender will send it, if it may be sent to; else RefusedTarget."""
        import httpx  # here, not at the top: importing it is a tenth of a second of every start-up

        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError):
            raise RefusedTarget("the URL cannot be parsed") from None
        if parsed.scheme not in ("http", "https"):
            raise RefusedTarget("only http:// and https:// URLs are allowed")
        if parsed.userinfo:
            raise RefusedTarget("a URL with credentials (user:password@) is not allowed")
        host = parsed.host
        address = literal_address(host)
        if address is not None:
            if not self.lists(address):
                raise RefusedTarget(f"the address [{host}] is not on this server's webhook allow-list")
        elif normal_name(host) not in self.names:
            raise RefusedTarget(f"the host [{host}] is not on this server's webhook allow-list")
        return parsed

    def check_address(self, address: Address) -> None:
        """At connect time, for a listed name's resolved address: public, or listed itself."""
        if is_special(address) and not self.lists(address):
            raise RefusedTarget("the host resolves to an address that is not allowed")

    def lists(self, address: Address) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def literal_address(host: str) -> Address | None:
    """The address a host names without DNS, in any spelling a resolver accepts; None for a name."""
    text = normal_name(host)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefx." for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def is_special(address: Address) -> bool:
    """Not a public unicast address: loopback, link-local, private, unique-local, shared, reserved,
    multicast, unspecified, a metadata service, or IPv6 carrying such an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in (address.ipv4_mapped, address.sixtofour, _embedded_v4(address)):
            if embedded is not None and is_special(embedded):
                return True
    return not address.is_global or address.is_multicast or address in METADATA_ADDRESSES


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if any(address in prefix for prefix in _EMBEDDING_V4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def normal_name(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _is_host_name(name: str) -> bool:
    labels = name.split(".")
    return bool(name) and len(name) <= 253 and all(
        0 < len(label) <= 63 and all(c.isascii() and (c.isalnum() or c in "-_") for c in label) for label in labels
    )
