"""Shared by the three configuration checks: lint issues become findings with cause ``daemon.config``."""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.config.lint_docker import Issue
from pulldoctor.host.context import outcome_of
from pulldoctor.model import Finding, Outcome, Step

_RESTART = {"docker": "systemctl restart docker", "containerd": "systemctl restart containerd",
           "podman": ""}


def to_findings(issues: list[Issue], runtime: str) -> list[Finding]:
    out: list[Finding] = []
    for i in issues:
        fix = list(i.commands)
        if i.severity == "error" and _RESTART.get(runtime):
            fix.append(_RESTART[runtime])
        out.append(Finding(i.message, i.severity, Code.DAEMON_CONFIG, [i.message], fix,
                           advice=list(i.fix)))
    return out


def step(name: str, findings: list[Finding], evidence: list[str], ok_summary: str,
         data: dict[str, object] | None = None, present: bool = True) -> Step:
    if not present:
        return Step(name, Outcome.OK, summary=ok_summary, evidence=evidence, data=data or {})
    unreadable = [f.title for f in findings if "permission denied" in f.title]
    if unreadable and not any(f.severity in ("error", "warning") for f in findings):
        return Step(name, Outcome.SKIPPED, summary=unreadable[0], evidence=evidence, findings=findings,
                    data=data or {})
    summary = next((f.title for f in findings if f.severity == "error"), None) or (
        findings[0].title if findings and findings[0].severity != "info" else ok_summary)
    return Step(name, outcome_of(findings), summary=summary, evidence=evidence, findings=findings,
                data=data or {})
