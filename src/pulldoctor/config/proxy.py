"""Which proxy a Go runtime uses for one URL: ``golang.org/x/net/http/httpproxy``, rule for rule.

dockerd, containerd, podman and skopeo all use ``http.ProxyFromEnvironment``. People write NO_PROXY
the way curl reads it and are surprised: Go lower-cases, strips ``*.``, matches ``foo.com`` against
``foo.com`` *and* every subdomain, honours CIDRs and ``host:port`` entries, and never proxies
``localhost`` or loopback IPs. Getting any of that wrong sends a diagnosis the wrong way, so this
module copies the algorithm (``config.init`` / ``useProxy`` / ``parseProxy``) instead of
approximating it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pulldoctor.config.model import ProxyConfig

_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def _env_any(env: Mapping[str, str], *names: str) -> str | None:
    """First non-empty value, upper-case name first (``getEnvAny``)."""
    for n in names:
        v = env.get(n)
        if v:
            return v
    return None


def from_environment(env: Mapping[str, str], source: str = "environment") -> ProxyConfig:
    """The proxy settings ``httpproxy.FromEnvironment`` reads from ``env``."""
    return ProxyConfig(
        http_proxy=_env_any(env, "HTTP_PROXY", "http_proxy"),
        https_proxy=_env_any(env, "HTTPS_PROXY", "https_proxy"),
        no_proxy=_env_any(env, "NO_PROXY", "no_proxy"),
        source=source,
    )


def parse_proxy(value: str | None) -> str | None:
    """Go's ``parseProxy``: a value without a known scheme is retried as ``http://value``."""
    if not value:
        return None
    scheme = urlsplit(value).scheme if "://" in value else ""
    if scheme not in _PROXY_SCHEMES:
        return "http://" + value
    return value


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _split_host_port(addr: str) -> tuple[str, str] | None:
    """``net.SplitHostPort``: needs a port; IPv6 must be bracketed."""
    if addr.startswith("["):
        end = addr.find("]")
        if end < 0 or not addr[end + 1 :].startswith(":"):
            return None
        return addr[1:end], addr[end + 2 :]
    if addr.count(":") != 1:
        return None
    host, port = addr.split(":")
    return host, port


@dataclass(frozen=True, slots=True)
class _Matcher:
    kind: str  # "all" | "cidr" | "ip" | "domain"
    value: str
    port: str = ""
    match_host: bool = False

    def match(self, host: str, port: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "cidr":
            return ip is not None and ip in ipaddress.ip_network(self.value, strict=False)
        if self.kind == "ip":
            return ip is not None and ip == _ip(self.value) and self.port in ("", port)
        if host.endswith(self.value) or (self.match_host and host == self.value[1:]):
            return self.port in ("", port)
        return False


def _matchers(no_proxy: str | None) -> tuple[list[_Matcher], list[_Matcher]]:
    """``config.init``: split NO_PROXY into IP matchers and domain matchers."""
    ips: list[_Matcher] = []
    domains: list[_Matcher] = []
    for raw in (no_proxy or "").split(","):
        p = raw.strip().lower()
        if not p:
            continue
        if p == "*":
            return [_Matcher("all", "")], [_Matcher("all", "")]
        if "/" in p:
            try:
                ipaddress.ip_network(p, strict=False)
                ips.append(_Matcher("cidr", p))
                continue
            except ValueError:
                pass
        hp = _split_host_port(p)
        if hp is not None:
            phost, pport = hp
            if not phost:
                continue
        else:
            phost, pport = p, ""
        if _ip(phost) is not None:
            ips.append(_Matcher("ip", phost, pport))
            continue
        if not phost:
            continue
        if phost.startswith("*."):
            phost = phost[1:]
        match_host = False
        if not phost.startswith("."):
            match_host = True
            phost = "." + phost
        domains.append(_Matcher("domain", phost, pport, match_host))
    return ips, domains


def _use_proxy(addr: str, no_proxy: str | None) -> bool:
    """``useProxy(canonicalAddr)``: False when NO_PROXY (or loopback) excludes ``host:port``."""
    if not addr:
        return True
    hp = _split_host_port(addr)
    if hp is None:
        return False
    host, port = hp
    if host == "localhost":
        return False
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return False
    host = host.strip().lower()
    ips, domains = _matchers(no_proxy)
    if ip is not None and any(m.match(host, port, ip) for m in ips):
        return False
    return not any(m.match(host, port, ip) for m in domains)


def _canonical_addr(url: str) -> str:
    """``canonicalAddr``: lower-case host plus the port, defaulted from the scheme."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"https": 443, "http": 80, "socks5": 1080}.get(parts.scheme, 0)
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def proxy_for(url: str, proxy: ProxyConfig) -> str | None:
    """The proxy URL Go's transport uses for ``url``, or None for a direct connection."""
    scheme = urlsplit(url).scheme
    if scheme == "https":
        chosen = parse_proxy(proxy.https_proxy)
    elif scheme == "http":
        chosen = parse_proxy(proxy.http_proxy)
    else:
        chosen = None
    if chosen is None:
        return None
    if not _use_proxy(_canonical_addr(url), proxy.no_proxy):
        return None
    return chosen
