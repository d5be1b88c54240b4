"""Where a webhook may point: http(s) to public addresses only.

A receiver's url is checked when it is registered (and changed) and again before each
attempt, after resolving its name, so a name that later resolves to a private address
is caught too. Loopback, private, link-local (cloud metadata at 169.254.169.254),
shared, multicast, reserved and unspecified addresses are refused, however written
(``http://0x7f000001`` resolves to 127.0.0.1), unless the host's name or one of its
addresses is allowed by ``PMO_WEBHOOK_ALLOW_HOSTS``. An attempt connects to the address
that was checked (``Target``), never resolving the name a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}


class UnsafeUrl(Exception):
    """Why a url may not receive webhooks (one sentence)."""


@dataclass(frozen=True)
class Target:
    """A checked url: where to connect, and the name the request and TLS carry."""

    url: str
    host: str
    port: int
    address: str


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of a url a webhook may use, else ``UnsafeUrl``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"not a valid url: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl("only http and https urls receive webhooks")
    if not parts.hostname:
        raise UnsafeUrl("the url names no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the url may not carry credentials; use the signature to authenticate")
    if parts.fragment:
        raise UnsafeUrl("the url may not have a fragment")
    return scheme, parts.hostname.lower().rstrip("."), port or SCHEMES[scheme]


async def resolve(url: str, allowed: Collection[str]) -> Target:
    """The address to deliver ``url`` to, checked; ``UnsafeUrl`` when none may be used."""
    _scheme, host, port = parse(url)
    infos: list[Any] = []
    # Refused below, outside this block: the refusal carries no OSError with it (which
    # the request's unit of work would take for the database being unreachable).
    with contextlib.suppress(OSError, UnicodeError):
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl(f"the host {host} does not resolve")
    if host in allowed:
        return Target(url, host, port, str(addresses[0]))
    for address in addresses:
        if not _public(address) and str(address) not in allowed:
            raise UnsafeUrl(
                f"the host {host} resolves to {address}, a private, loopback or reserved "
                "address (PMO_WEBHOOK_ALLOW_HOSTS may allow it)"
            )
    return Target(url, host, port, str(addresses[0]))


_allowed: frozenset[str] = frozenset()


def allow(hosts: Collection[str]) -> None:
    """The hosts and addresses ``PMO_WEBHOOK_ALLOW_HOSTS`` allows: a setting of the
    process, set when the app or the worker starts (the apps of one process share it)."""
    global _allowed
    _allowed = frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip())


def allowed_hosts() -> frozenset[str]:
    return _allowed
