"""resolv.conf, /etc/hosts and nsswitch.conf as Go's resolver reads them (``src/net/dnsconfig.go``).

A pull error's ``lookup X on Y:53`` names what *Go* made of these files, which is not what glibc
makes of them: Go keeps at most three IP-literal nameservers, clamps ``ndots``/``timeout``/
``attempts``, and any option or keyword it does not know (``sortlist``, ``inet6``...) silently hands
every lookup to libc (cgo), which changes the error wording entirely. systemd-resolved's stub
127.0.0.53 hides the real servers, so their list (``/run/systemd/resolve/resolv.conf``) is read too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path

from pulldoctor.config.files import read_text
from pulldoctor.config.model import ResolverConfig

RESOLV_CONF = "/etc/resolv.conf"
RESOLVED_UPSTREAM = "/run/systemd/resolve/resolv.conf"
RESOLVED_STUB = "127.0.0.53"
_GO_DEFAULT_NAMESERVERS = ("127.0.0.1", "::1")
_GO_NSS_SOURCES = {"files", "dns", "myhostname"}


def _clamp_int(text: str, lo: int, hi: int | None = None) -> int:
    """Go's ``dtoi`` then clamp: leading digits only, garbage reads as 0."""
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    n = int(digits) if digits else 0
    n = max(lo, n)
    return min(hi, n) if hi is not None else n


def parse_resolv_conf(text: str, path: str = RESOLV_CONF) -> ResolverConfig:
    """Parse resolv.conf text exactly as ``parseResolvConf`` does (pure)."""
    cfg = ResolverConfig(path=path)
    for line in text.splitlines():
        if line[:1] in (";", "#"):
            continue
        f = line.split()
        if not f:
            continue
        key = f[0]
        if key == "nameserver":
            if len(f) > 1 and len(cfg.nameservers) < 3:
                try:
                    ipaddress.ip_address(f[1].split("%", 1)[0])
                    cfg.nameservers.append(f[1])
                except ValueError:
                    pass
        elif key == "domain":
            if len(f) > 1:
                cfg.search = [f[1].rstrip(".") + "."]
        elif key == "search":
            cfg.search = [n.rstrip(".") + "." for n in f[1:] if n != "."]
        elif key == "options":
            for opt in f[1:]:
                _apply_option(cfg, opt)
        elif key == "lookup":
            pass  # OpenBSD only; Go parses and ignores it on Linux
        else:
            cfg.unknown_options.append(key)
    if not cfg.nameservers:
        cfg.nameservers = list(_GO_DEFAULT_NAMESERVERS)
        cfg.default_nameservers = True
    return cfg


def _apply_option(cfg: ResolverConfig, opt: str) -> None:
    if opt.startswith("ndots:"):
        cfg.ndots = _clamp_int(opt[6:], 0, 15)
    elif opt.startswith("timeout:"):
        cfg.timeout_s = float(_clamp_int(opt[8:], 1))
    elif opt.startswith("attempts:"):
        cfg.attempts = _clamp_int(opt[9:], 1)
    elif opt == "rotate":
        cfg.rotate = True
    elif opt in ("single-request", "single-request-reopen"):
        cfg.single_request = True
    elif opt in ("use-vc", "usevc", "tcp"):
        cfg.use_vc = True
    elif opt in ("trust-ad", "edns0", "no-reload"):
        pass
    else:
        cfg.unknown_options.append(opt)


def parse_hosts(text: str) -> dict[str, list[str]]:
    """/etc/hosts: lower-cased name -> addresses, in file order (pure)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) < 2:
            continue
        try:
            ipaddress.ip_address(f[0].split("%", 1)[0])
        except ValueError:
            continue
        for name in f[1:]:
            out.setdefault(name.lower().rstrip("."), []).append(f[0])
    return out


def nsswitch_hosts_line(text: str) -> str | None:
    """The sources after ``hosts:`` in nsswitch.conf, or None (pure)."""
    for line in text.splitlines():
        s = line.split("#", 1)[0].strip()
        if s.startswith("hosts:"):
            return s[len("hosts:") :].strip()
    return None


def _nss_sources(line: str) -> list[tuple[str, list[str]]]:
    """``hosts:`` sources, each with the ``STATUS=action`` criteria of the ``[...]`` after it."""
    out: list[tuple[str, list[str]]] = []
    rest = line
    while rest.strip():
        rest = rest.strip()
        if rest.startswith("["):
            end = rest.find("]")
            group, rest = (rest[1:end], rest[end + 1 :]) if end >= 0 else (rest[1:], "")
            if out:
                out[-1][1].extend(group.lower().split())
        else:
            tok = rest.split(None, 1)[0].split("[", 1)[0]
            rest = rest[len(tok):]
            out.append((tok.lower(), []))
    return out


def _standard_criteria(criteria: list[str]) -> bool:
    """Go's ``standardCriteria``: criteria that change nothing (e.g. a final ``NOTFOUND=return``)."""
    defaults = {"success": "return", "notfound": "continue", "unavail": "continue",
                "tryagain": "continue"}
    for i, crit in enumerate(criteria):
        status, _, action = crit.partition("=")
        if status.startswith("!") or status not in defaults:
            return False
        if not (i == len(criteria) - 1 and action == "return") and action != defaults[status]:
            return False
    return True


def cgo_reasons(
    cfg: ResolverConfig, nss_hosts: str | None, env: Mapping[str, str], name: str | None = None,
    mdns_allow: bool = False,
) -> list[str]:
    """Why Go (``src/net/conf.go``) would use libc instead of its own resolver (pure)."""
    reasons: list[str] = []
    godebug = env.get("GODEBUG", "")
    if "netdns=go" in godebug:
        return []
    if "netdns=cgo" in godebug:
        return ["GODEBUG=netdns=cgo"]
    for var in ("LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES"):
        if var in env:
            reasons.append(f"environment variable {var} is set")
    if cfg.unknown_options:
        reasons.append("resolv.conf has options/keywords Go does not know: "
                       + ", ".join(cfg.unknown_options))
    if nss_hosts is not None:
        for src, criteria in _nss_sources(nss_hosts):
            if src.startswith("mdns"):
                continue  # Go skips mdns* sources (libc would not find a non-.local name there)
            if src not in _GO_NSS_SOURCES:
                reasons.append(f"nsswitch.conf hosts line uses source {src!r}")
            elif criteria and not _standard_criteria(criteria):
                reasons.append(f"nsswitch.conf hosts line gives {src} criteria {' '.join(criteria)}")
    if name and name.rstrip(".").endswith(".local"):
        reasons.append(f"{name} ends in .local")
    if mdns_allow:
        reasons.append("/etc/mdns.allow exists")
    return reasons


def read_resolver(
    root: str | Path = "/", env: Mapping[str, str] | None = None, registry_host: str | None = None,
) -> ResolverConfig:
    """The resolver configuration a Go runtime on this host uses, read from ``root``."""
    text, err = read_text(root, RESOLV_CONF)
    if text is None:
        cfg = parse_resolv_conf("")
        cfg.read_error = err or f"{RESOLV_CONF}: missing (Go then asks 127.0.0.1:53 and [::1]:53)"
    else:
        cfg = parse_resolv_conf(text)
    if RESOLVED_STUB in cfg.nameservers:
        up, _ = read_text(root, RESOLVED_UPSTREAM)
        if up is not None:
            cfg.stub_upstreams = [
                n for n in parse_resolv_conf(up, RESOLVED_UPSTREAM).nameservers
                if n not in _GO_DEFAULT_NAMESERVERS
            ]
    hosts, _ = read_text(root, "/etc/hosts")
    if hosts is not None:
        table = parse_hosts(hosts)
        if registry_host:
            h = registry_host.lower().rstrip(".")
            if h in table:
                cfg.hosts_overrides[h] = table[h]
    nss, _ = read_text(root, "/etc/nsswitch.conf")
    cfg.nsswitch_hosts = nsswitch_hosts_line(nss) if nss is not None else None
    mdns, _ = read_text(root, "/etc/mdns.allow")
    cfg.cgo_reasons = cgo_reasons(cfg, cfg.nsswitch_hosts, env or {}, registry_host, mdns is not None)
    return cfg
