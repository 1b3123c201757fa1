"""Node reports (diagnose/host --json of one node) for fleet and k8s tests, built through the real model."""

from __future__ import annotations

from typing import Any

from pulldoctor.causes import Code
from pulldoctor.model import Cause, Outcome, Report, Step

BASE_ATTRS = {"resolver": "198.18.4.2", "proxy": "direct", "mirrors": "none",
              "runtime": "containerd", "runtime_version": "containerd://1.7.24", "mtu": "1500"}


def node_report(node: str, *, code: Code | None = None, step: str = "dns registry.lab.test",
                attrs: dict[str, str] | None = None, at: str = "2026-11-29T10:00:00Z",
                registry: str = "registry.lab.test", egress: str | None = None,
                command: str = "diagnose") -> dict[str, Any]:
    """A diagnose (or host) report of ``node``: healthy when ``code`` is None."""
    steps = [Step("config", Outcome.OK)]
    causes: list[Cause] = []
    if code is not None:
        data: dict[str, Any] = {"cause": str(code)}
        if egress:
            data["rate_limit"] = {"ratelimit-limit": "100;w=21600", "docker-ratelimit-source": egress}
        steps.append(Step(step, Outcome.PROBLEM, summary=f"{step}: it failed on {node}", data=data))
        causes.append(Cause.from_catalogue(code, 0.9, [f"{step} failed"]))
    else:
        steps.append(Step(step, Outcome.OK))
    facts = {"image": f"{registry}/lab/hello:latest", "registry": registry, "node": node,
             "observed_at": at, "node_attrs": {**BASE_ATTRS, **(attrs or {})}}
    return Report(command=command, subject="lab/hello", causes=causes, facts=facts,
                  steps=steps).to_dict()
