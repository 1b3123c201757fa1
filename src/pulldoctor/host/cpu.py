"""CPU throttling of the runtime's cgroup (cgroup v2 ``cpu.stat`` / ``cpu.max``).

A runtime squeezed by a CPU quota decompresses layers slowly and misses its own progress deadlines
(containerd's ``image_pull_progress_timeout``), which reads like a network stall. The check finds
the runtime's processes (:mod:`runtime_procs`), reads their cgroup, and reports the share of
periods that were throttled.
"""

from __future__ import annotations

from pulldoctor.host import runtime_procs
from pulldoctor.host.context import HostContext, outcome_of, read
from pulldoctor.model import Finding, Outcome, Step

NAME = "cpu"


def _parse_cpu_stat(text: str) -> dict[str, int]:
    """cgroup v2 ``cpu.stat`` (pure)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


def _runtime_cgroups(ctx: HostContext) -> dict[str, str]:
    """comm -> cgroup v2 path of the first runtime process of each kind (same netns)."""
    found: dict[str, str] = {}
    for p in runtime_procs.find(ctx.proc):
        if p.comm in found:
            continue
        cg, _ = read(ctx.proc / str(p.pid) / "cgroup")
        for line in (cg or "").splitlines():
            if line.startswith("0::"):
                found[p.comm] = line[3:].strip()
    return found


def check(ctx: HostContext) -> Step:
    groups = _runtime_cgroups(ctx)
    if not groups:
        return Step(NAME, Outcome.SKIPPED, summary="no container runtime process is running")
    findings: list[Finding] = []
    evidence: list[str] = []
    data: dict[str, object] = {}
    for name, path in sorted(groups.items()):
        base = ctx.sys / "fs" / "cgroup" / path.lstrip("/")
        stat_text, err = read(base / "cpu.stat")
        if stat_text is None:
            evidence.append(f"{name}: {err}")
            continue
        st = _parse_cpu_stat(stat_text)
        cmax, _ = read(base / "cpu.max")
        periods, throttled = st.get("nr_periods", 0), st.get("nr_throttled", 0)
        ratio = throttled / periods if periods else 0.0
        data[name] = {"cgroup": path, "cpu_max": (cmax or "").strip(), **st}
        evidence.append(f"{name} in cgroup {path}: cpu.max={(cmax or '?').strip()}, throttled in "
                        f"{throttled} of {periods} periods")
        if periods >= 100 and ratio >= 0.2:
            findings.append(Finding(f"{name} is CPU-throttled by its cgroup", "warning", None,
                                    [evidence[-1]], [f"systemctl set-property {name}.service CPUQuota="]))
    summary = findings[0].title if findings else "runtime not CPU-throttled"
    return Step(NAME, outcome_of(findings), summary=summary, evidence=evidence, findings=findings,
                data=data)
