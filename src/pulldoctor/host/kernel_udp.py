"""Kernel UDP: counters that prove datagrams were dropped, ephemeral ports, buffers, conntrack.

A DNS ``i/o timeout`` looks the same whether the resolver never answered or this kernel threw the
answer away (receive buffer full, conntrack table full, no free source port). Only the kernel's own
counters tell them apart, and only their *change across the probe* ties them to this pull: a
boot-time total proves nothing. So the API is a snapshot the diagnose engine takes before probing
(:func:`snapshot`) and hands back in ``HostContext.udp_before``; this check takes the second one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pulldoctor.causes import Code
from pulldoctor.host.context import HostContext, outcome_of, read
from pulldoctor.model import Finding, Outcome, Step

NAME = "kernel_udp"
_DROP_COUNTERS = ("InErrors", "RcvbufErrors", "SndbufErrors", "MemErrors", "InCsumErrors")
_WATCHED = ("InDatagrams", "NoPorts", *_DROP_COUNTERS, "OutDatagrams")
_FIX_PORTS = "sysctl -w net.ipv4.ip_local_port_range='1024 65535'"
_FIX_RMEM = "sysctl -w net.core.rmem_max=8388608 net.core.rmem_default=1048576"
_FIX_CT = "sysctl -w net.netfilter.nf_conntrack_max=262144"


@dataclass(slots=True)
class UdpSnapshot:
    """UDP counters (``Udp*`` from snmp, ``Udp6*`` from snmp6) at one instant."""

    counters: dict[str, int] = field(default_factory=dict)
    taken_at: float = 0.0
    source: str = ""


def parse_snmp(text: str) -> dict[str, int]:
    """``/proc/net/snmp`` header/value line pairs -> {"UdpRcvbufErrors": n, ...} (pure)."""
    out: dict[str, int] = {}
    lines = text.splitlines()
    for head, vals in zip(lines[::2], lines[1::2], strict=False):
        hk, _, hrest = head.partition(":")
        vk, _, vrest = vals.partition(":")
        if hk != vk or hk not in ("Udp", "UdpLite"):
            continue
        for name, value in zip(hrest.split(), vrest.split(), strict=False):
            try:
                out[hk + name] = int(value)
            except ValueError:
                continue
    return out


def parse_snmp6(text: str) -> dict[str, int]:
    """``/proc/net/snmp6`` "Name value" lines, UDP only (pure)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0].startswith("Udp6"):
            try:
                out[f[0]] = int(f[1])
            except ValueError:
                continue
    return out


def snapshot(net_dir: str | Path | None = None) -> UdpSnapshot:
    """Take the counters now; call before a probe and pass the result as ``udp_before``."""
    if net_dir is None:
        ts = Path("/proc/thread-self/net")
        net_dir = ts if ts.exists() else Path("/proc/net")
    d = Path(net_dir)
    counters: dict[str, int] = {}
    t4, _ = read(d / "snmp")
    if t4:
        counters.update(parse_snmp(t4))
    t6, _ = read(d / "snmp6")
    if t6:
        counters.update(parse_snmp6(t6))
    return UdpSnapshot(counters, time.time(), str(d))


def delta(before: UdpSnapshot, after: UdpSnapshot) -> dict[str, int]:
    """Counters that changed between two snapshots (pure)."""
    return {k: v - before.counters[k] for k, v in after.counters.items()
            if k in before.counters and v != before.counters[k]}


def parse_conntrack_stat(text: str) -> dict[str, int]:
    """``/proc/net/stat/nf_conntrack``: per-CPU hex rows summed by column (pure)."""
    lines = text.split("\n")
    if not lines or not lines[0].strip():
        return {}
    cols = lines[0].split()
    tot = dict.fromkeys(cols, 0)
    for row in lines[1:]:
        vals = row.split()
        if len(vals) != len(cols):
            continue
        for c, v in zip(cols, vals, strict=True):
            tot[c] += int(v, 16)
    tot.pop("entries", None)  # global, repeated on every row
    return tot


def count_sockets(text: str, lo: int, hi: int) -> tuple[int, int]:
    """(all sockets, sockets bound in the ephemeral range) from /proc/net/udp[6] text (pure)."""
    total = eph = 0
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 2 or ":" not in f[1]:
            continue
        total += 1
        port = int(f[1].rsplit(":", 1)[1], 16)
        if lo <= port <= hi:
            eph += 1
    return total, eph


def _sysctl(ctx: HostContext, name: str) -> str | None:
    text, _ = read(ctx.proc / "sys" / name.replace(".", "/"))
    return text.strip() if text is not None else None


def _drops(ctx: HostContext, findings: list[Finding], evidence: list[str], data: dict[str, object]) -> None:
    after = snapshot(ctx.net_dir)
    data["counters"] = {k: v for k, v in after.counters.items()
                        if k.removeprefix("Udp6").removeprefix("Udp") in _WATCHED}
    if not after.counters:
        evidence.append(f"{ctx.net_dir}/snmp: not readable")
        return
    before = ctx.udp_before if isinstance(ctx.udp_before, UdpSnapshot) else None
    if before is not None:
        d = delta(before, after)
        data["delta"] = d
        drops = {k: v for k, v in d.items() if any(k.endswith(c) for c in _DROP_COUNTERS) and v > 0}
        if drops:
            findings.append(Finding(
                "the kernel dropped UDP datagrams during the probe", "error", Code.HOST_KERNEL_UDP,
                [f"{k} rose by {v} ({before.counters[k]} -> {after.counters[k]}) in {after.source}"
                 for k, v in sorted(drops.items())],
                ["nstat -az UdpRcvbufErrors UdpInErrors UdpSndbufErrors", _FIX_RMEM]))
        late = {k: v for k, v in d.items() if k.endswith("NoPorts") and v > 0}
        if late:
            findings.append(Finding(
                "UDP datagrams reached closed ports during the probe (late replies, or probes to "
                "closed ports)", "warning", None,
                [f"{k} rose by {v} in {after.source}" for k, v in late.items()],
                ["ss -uanp   # which sockets were open"]))
        evidence.append("UDP counters compared across the probe: "
                        + (", ".join(f"{k}+{v}" for k, v in sorted(d.items())) or "no change"))
    else:
        totals = {k: after.counters.get(k, 0) for k in ("UdpRcvbufErrors", "UdpSndbufErrors", "UdpInErrors")}
        evidence.append("UDP drop counters since boot: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
        if totals["UdpRcvbufErrors"] or totals["UdpSndbufErrors"]:
            findings.append(Finding(
                "this kernel has dropped UDP datagrams since boot (not tied to one pull: run "
                "pulldoctor diagnose to compare across a probe)", "info", None,
                [f"{k}={v}" for k, v in totals.items() if v]))


def _ports(ctx: HostContext, findings: list[Finding], evidence: list[str], data: dict[str, object]) -> None:
    rng = _sysctl(ctx, "net.ipv4.ip_local_port_range")
    if not rng:
        return
    lo, hi = (int(x) for x in rng.split()[:2])
    size = hi - lo + 1
    total = eph = 0
    for f in ("udp", "udp6"):
        text, _ = read(ctx.net_dir / f)
        if text:
            t, e = count_sockets(text, lo, hi)
            total, eph = total + t, eph + e
    data.update({"port_range": [lo, hi], "udp_sockets": total, "udp_ephemeral_in_use": eph})
    evidence.append(f"ip_local_port_range {lo}-{hi} ({size} ports); {eph} UDP sockets bound in it "
                    f"({total} UDP sockets in all)")
    if eph >= 0.9 * size:
        findings.append(Finding("UDP ephemeral ports are (almost) exhausted", "error", Code.HOST_KERNEL_UDP,
                                [f"{eph} of {size} ephemeral ports in use by UDP sockets"], [_FIX_PORTS]))
    elif size < 1024:
        findings.append(Finding("the ephemeral port range is very small", "warning", Code.HOST_KERNEL_UDP,
                                [f"net.ipv4.ip_local_port_range = {lo} {hi}"], [_FIX_PORTS]))


def _conntrack(ctx: HostContext, findings: list[Finding], evidence: list[str], data: dict[str, object]) -> None:
    count, cmax = _sysctl(ctx, "net.netfilter.nf_conntrack_count"), _sysctl(ctx, "net.netfilter.nf_conntrack_max")
    if count is None or cmax is None:
        evidence.append("conntrack: not loaded in this namespace (no nf_conntrack sysctls)")
        return
    n, m = int(count), int(cmax)
    data["conntrack"] = {"count": n, "max": m}
    evidence.append(f"conntrack {n}/{m} entries")
    if m and n >= 0.9 * m:
        findings.append(Finding("the conntrack table is (almost) full: new flows, DNS included, are "
                                "dropped", "error", Code.HOST_KERNEL_UDP, [f"nf_conntrack_count {n} of max {m}"],
                                ["conntrack -S", _FIX_CT]))
    stat, _ = read(ctx.net_dir / "stat" / "nf_conntrack")
    if stat:
        s = parse_conntrack_stat(stat)
        bad = {k: s[k] for k in ("drop", "early_drop", "insert_failed") if s.get(k)}
        data["conntrack"] = {"count": n, "max": m, **{k: s.get(k, 0) for k in ("drop", "early_drop", "insert_failed")}}
        if bad:
            findings.append(Finding("conntrack has dropped or failed to insert flows since boot",
                                    "warning", Code.HOST_KERNEL_UDP,
                                    [f"{k}={v} (/proc/net/stat/nf_conntrack)" for k, v in bad.items()],
                                    ["conntrack -S", _FIX_CT]))


def check(ctx: HostContext) -> Step:
    findings: list[Finding] = []
    evidence: list[str] = []
    data: dict[str, object] = {}
    _drops(ctx, findings, evidence, data)
    _ports(ctx, findings, evidence, data)
    _conntrack(ctx, findings, evidence, data)
    bufs = {k: _sysctl(ctx, f"net.core.{k}") for k in ("rmem_default", "rmem_max", "wmem_default", "wmem_max")}
    data["buffers"] = {k: int(v) for k, v in bufs.items() if v and v.isdigit()}
    evidence.append("socket buffers: " + ", ".join(f"{k}={v}" for k, v in bufs.items()))
    out = outcome_of(findings)
    if not data.get("counters"):
        out = Outcome.SKIPPED if out == Outcome.OK else out
    summary = findings[0].title if findings else "no UDP drops, free ports, conntrack has room"
    return Step(name=NAME, outcome=out, summary=summary, evidence=evidence, findings=findings,
                data=data)
