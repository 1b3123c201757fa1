"""The resolver a Go runtime on this host uses: resolv.conf as Go reads it, the stub, /etc/hosts.

Flags what changes a pull's DNS behaviour without anyone noticing: no usable nameserver (Go then
asks 127.0.0.1), a fourth nameserver Go ignores, a hostname where an IP must be, systemd-resolved's
stub with no upstream, /etc/hosts pinning the registry, options that switch Go to libc, and a retry
budget (timeout x attempts x servers) longer than the runtime's 30 s dial timeout.
"""

from __future__ import annotations

import ipaddress

from pulldoctor.causes import Code
from pulldoctor.config.files import read_text
from pulldoctor.config.resolv import RESOLV_CONF, RESOLVED_STUB
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "resolver"
DIAL_TIMEOUT_S = 30.0


def _raw_nameservers(text: str) -> list[str]:
    """Every ``nameserver`` value as written, valid or not (pure)."""
    return [ln.split()[1] for ln in text.splitlines()
            if ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return True


def check(ctx: HostContext) -> Step:
    cfg = ctx.pull_config()
    if cfg is None:
        return Step(NAME, Outcome.SKIPPED, summary="configuration could not be discovered")
    r = cfg.resolver
    findings: list[Finding] = []
    ev = [f"{r.path}: nameservers {', '.join(r.nameservers)}; search {' '.join(r.search) or '-'}; "
          f"ndots {r.ndots}, timeout {r.timeout_s:g}s, attempts {r.attempts}"
          + (", rotate" if r.rotate else "") + (", use-vc" if r.use_vc else "")]
    text, _ = read_text(ctx.root, RESOLV_CONF)
    raw = _raw_nameservers(text or "")
    for ns in raw:
        if not _is_ip(ns):
            findings.append(Finding(f"nameserver {ns!r} is not an IP address: Go ignores it", "warning",
                                    Code.DNS_RESOLVER_UNREACHABLE, [f"{RESOLV_CONF}: nameserver {ns}"],
                                    advice=[f"replace {ns!r} with the resolver's IP address in "
                                            f"{RESOLV_CONF}"]))
    valid = [n for n in raw if _is_ip(n)]
    if len(valid) > 3:
        findings.append(Finding("more than 3 nameservers: Go (and glibc) use only the first 3", "warning",
                                None, [f"ignored: {', '.join(raw[3:])}"]))
    if r.default_nameservers:
        why = r.read_error or f"{RESOLV_CONF} has no usable nameserver line"
        findings.append(Finding("no usable nameserver: Go falls back to 127.0.0.1:53 and [::1]:53",
                                "error", Code.DNS_RESOLVER_UNREACHABLE, [why],
                                advice=[f"add 'nameserver <resolver IP>' to {RESOLV_CONF}"]))
    if RESOLVED_STUB in r.nameservers:
        ev.append("systemd-resolved stub upstreams: " + (", ".join(r.stub_upstreams) or "none found"))
        if not r.stub_upstreams:
            findings.append(Finding("systemd-resolved stub 127.0.0.53 has no upstream DNS server",
                                    "warning", Code.DNS_RESOLVER_UNREACHABLE,
                                    ["/run/systemd/resolve/resolv.conf lists no nameserver"],
                                    ["resolvectl status"],
                                    advice=["give the stub an upstream: resolvectl dns IFACE SERVER"]))
    if "127.0.0.11" in r.nameservers:
        ev.append("127.0.0.11 is Docker's embedded DNS: this runtime runs inside a container")
    for host, ips in r.hosts_overrides.items():
        findings.append(Finding(f"/etc/hosts pins {host} to {', '.join(ips)}", "warning", None,
                                [f"/etc/hosts: {' '.join(ips)} {host}"],
                                advice=[f"remove the {host} line from /etc/hosts if that address "
                                        "is stale"]))
    if r.cgo_reasons:
        ev.append("Go would use libc (cgo) resolution: " + "; ".join(r.cgo_reasons))
        findings.append(Finding("lookups go through libc, not Go's resolver: errors read 'lookup X: "
                                "<libc text>' without 'on <server>'", "info", None, list(r.cgo_reasons)))
    budget = r.timeout_s * r.attempts * len(r.nameservers)
    if budget > DIAL_TIMEOUT_S:
        findings.append(Finding(f"a dead resolver costs up to {budget:g}s per name, more than the "
                                f"runtime's {DIAL_TIMEOUT_S:g}s dial timeout", "warning", None,
                                [f"timeout {r.timeout_s:g}s x attempts {r.attempts} x "
                                 f"{len(r.nameservers)} servers"],
                                advice=[f"set options timeout:2 attempts:2 in {RESOLV_CONF}"]))
    summary = next((f.title for f in findings if f.severity != "info"), None) or (
        f"Go asks {', '.join(r.nameservers)}")
    return Step(NAME, outcome_of(findings), summary=summary, evidence=ev, findings=findings,
                data=r.to_dict())
