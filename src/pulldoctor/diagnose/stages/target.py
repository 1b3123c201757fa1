"""The host one reach sub-walk is about, and which proxy (if any) the runtime uses for it.

Why the proxy changes the walk: with ``HTTPS_PROXY`` set, the runtime never resolves or dials the
registry itself: it resolves and dials the *proxy* and asks it to CONNECT; so those are the steps
probed, and their failures are the proxy's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from pulldoctor.config.model import ProxyConfig
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.model import Step


def proxy_for(url: str, proxy: ProxyConfig) -> str | None:
    """Go's ``ProxyFromEnvironment``: which proxy (if any) a request to ``url`` uses."""
    parts = urlsplit(url)
    chosen = proxy.https_proxy if parts.scheme == "https" else proxy.http_proxy
    if not chosen:
        return None
    host = (parts.hostname or "").lower()
    if host in ("localhost",) or _is_loopback(host):
        return None
    for raw in (proxy.no_proxy or "").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return None
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return None
            except ValueError:
                pass
            continue
        entry = entry.split(":")[0] if entry.count(":") == 1 else entry
        bare = entry.lstrip("*").lstrip(".")
        if host == bare or host.endswith("." + bare):
            return None
    return chosen if "://" in chosen else "http://" + chosen


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(slots=True)
class HostTarget:
    """One host of an endpoint's walk (registry, token realm, redirect target) being reached."""

    ew: EndpointWalk
    scheme: str
    host: str
    port: int
    role: str  # "registry", "token realm", "blob redirect"
    proxy: str | None  # the proxy URL requests go through, or None (direct)

    @classmethod
    def of(cls, ew: EndpointWalk, url: str, role: str) -> HostTarget:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(ew, parts.scheme, parts.hostname or "", port, role,
                   proxy_for(url, ew.proxy_settings))

    @property
    def proxy_host(self) -> tuple[str, int]:
        p = urlsplit(self.proxy or "")
        return p.hostname or "", p.port or 80

    @property
    def ended(self) -> bool:
        return self.ew.ended

    def record(self, step: Step) -> Step:
        return self.ew.record(step)
