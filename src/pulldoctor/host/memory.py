"""Memory available to the pull and unpack, and pressure stall information (PSI).

Unpacking large layers (gzip/zstd, overlay copy-up) can be OOM-killed; the pull then fails with an
unhelpful EOF or "signal: killed". ``MemAvailable`` (not ``MemFree``) is what the kernel can give
without swapping, and PSI ``full`` says tasks actually stalled waiting for memory.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.host.context import HostContext, outcome_of, read
from pulldoctor.model import Finding, Outcome, Step

NAME = "memory"
_MIN_AVAILABLE = 256 << 20


def _parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo -> bytes by key (pure)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        f = v.split()
        if f and f[0].isdigit():
            out[k.strip()] = int(f[0]) * (1024 if len(f) > 1 and f[1] == "kB" else 1)
    return out


def _parse_psi(text: str) -> dict[str, dict[str, float]]:
    """/proc/pressure/memory -> {"some": {"avg10": ..}, "full": {...}} (pure)."""
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        out[f[0]] = {k: float(v) for k, _, v in (x.partition("=") for x in f[1:]) if v}
    return out


def check(ctx: HostContext) -> Step:
    text, err = read(ctx.proc / "meminfo")
    if text is None:
        return Step(NAME, Outcome.SKIPPED, summary="meminfo not readable", evidence=[str(err)])
    mi = _parse_meminfo(text)
    total, avail = mi.get("MemTotal", 0), mi.get("MemAvailable", mi.get("MemFree", 0))
    findings: list[Finding] = []
    evidence = [f"MemAvailable {avail >> 20} MiB of MemTotal {total >> 20} MiB"]
    data: dict[str, object] = {"mem_total": total, "mem_available": avail}
    if total and (avail < _MIN_AVAILABLE or avail < total * 0.03):
        findings.append(Finding("very little memory is available for unpacking layers", "error",
                                Code.HOST_MEMORY, [evidence[0]], ["free -h", "dmesg | grep -i oom"]))
    psi_text, _ = read(ctx.proc / "pressure" / "memory")
    if psi_text:
        psi = _parse_psi(psi_text)
        data["psi"] = psi
        full10 = psi.get("full", {}).get("avg10", 0.0)
        some10 = psi.get("some", {}).get("avg10", 0.0)
        evidence.append(f"memory pressure: some avg10={some10}%, full avg10={full10}%")
        if full10 >= 10:
            findings.append(Finding("tasks are stalling on memory (PSI full)", "warning", Code.HOST_MEMORY,
                                    [f"full avg10={full10}%"], ["cat /proc/pressure/memory"]))
    summary = findings[0].title if findings else f"{avail >> 20} MiB available"
    return Step(NAME, outcome_of(findings), summary=summary, evidence=evidence, findings=findings,
                data=data)
