"""Where a /hub callback may point (the SSRF guard).

A callback's host is resolved and every address it resolves to must be public — not loopback,
link-local (169.254.0.0/16 holds the cloud metadata service, fe80::/10), private (10/8, 172.16/12,
192.168/16, fc00::/7), unspecified, multicast or otherwise reserved — unless it lies in a network the
operator allowed (`hub_allowed_networks`). A non-empty `hub_allowed_hosts` admits only those hosts. The
check runs at registration and again before every delivery, and the delivery connects to the very
address that was checked, so a name that re-resolves elsewhere (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from kam_platform.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CallbackNotAllowed(Exception):
    """The callback's host is not allowed or resolves to an address callbacks may not reach."""


@dataclass(frozen=True)
class Target:
    """A checked callback: the URL to connect to (the checked address) and the original host."""

    url: str
    host_header: str
    sni_hostname: str | None


def _why_refused(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved, non-public address"
    return None


@dataclass(frozen=True)
class CallbackPolicy:
    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackPolicy:
        return cls(
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in settings.hub_allowed_networks),
            allowed_hosts=tuple(h.lower().rstrip(".") for h in settings.hub_allowed_hosts),
        )

    def _host_allowed(self, host: str) -> bool:
        if not self.allowed_hosts:
            return True
        return any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allowed_hosts)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why callbacks may not reach `ip` (None when they may)."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip.version == net.version and ip in net for net in self.allowed_networks):
            return None
        return _why_refused(ip)

    async def resolve(self, url: str) -> Target:
        """Check `url` and pin it to a checked address; CallbackNotAllowed says why it is refused."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            raise CallbackNotAllowed("callback must be an absolute http(s) URL")
        if not self._host_allowed(host):
            raise CallbackNotAllowed(f"callback host {host} is not in the allowed hosts of this node")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await _lookup(host, port)
        for ip in addresses:
            why = self.refusal(ip)
            if why is not None:
                raise CallbackNotAllowed(
                    f"callback host {host} resolves to {ip}, {why}; callbacks must reach public addresses"
                    " (an operator may allow networks with KAM_HUB_ALLOWED_NETWORKS)"
                )
        ip = addresses[0]
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        host_header = parts.netloc.rsplit("@", 1)[-1]
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        return Target(pinned, host_header, host if parts.scheme == "https" else None)


async def _lookup(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackNotAllowed(f"callback host {host} does not resolve ({exc})") from None
    out: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    if not out:
        raise CallbackNotAllowed(f"callback host {host} does not resolve")
    return out
