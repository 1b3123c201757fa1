"""Lint of registries.conf (+ registries.conf.d) as podman, skopeo, buildah and CRI-O read it."""

from __future__ import annotations

from pulldoctor.config import containers as ctr
from pulldoctor.config.lint_containers import lint_registries
from pulldoctor.config.lint_docker import Issue
from pulldoctor.host.config_findings import step, to_findings
from pulldoctor.host.context import HostContext
from pulldoctor.model import Step

NAME = "containers_config"


def check(ctx: HostContext) -> Step:
    top, regs, files, problems = ctr.load_registries(ctx.root, ctx.env)
    issues = [Issue("error" if "permission" not in p else "info", p, "") for p in problems]
    issues += lint_registries(top, regs, ctx.image if ctx.runtime_name == "podman" else None)
    evidence = [f"read {f}" for f in files] or ["no registries.conf (containers/image defaults)"]
    return step(NAME, to_findings(issues, "podman"), evidence, "registries.conf is valid",
                {"files": files, "registries": len(regs)}, present=bool(files or problems))
