"""Lint of containerd's registry configuration: config.toml and the hosts.toml files it reads."""

from __future__ import annotations

from pulldoctor.config import containerd as ctd
from pulldoctor.config.files import list_dir, read_text
from pulldoctor.config.lint_containerd import (
    lint_config_toml,
    lint_hosts_dir_names,
    lint_hosts_toml,
)
from pulldoctor.config.lint_docker import Issue
from pulldoctor.host.config_findings import step, to_findings
from pulldoctor.host.context import HostContext
from pulldoctor.model import Step

NAME = "containerd_config"


def check(ctx: HostContext) -> Step:
    cfg, problem, exists = ctd.load_config_toml(ctx.root)
    issues: list[Issue] = []
    evidence = [f"{ctd.CONFIG_TOML}: " + ("present" if exists else "absent (containerd defaults)")]
    if problem:
        issues.append(Issue("error" if "permission" not in problem else "info", problem, ""))
    if cfg is not None:
        issues += lint_config_toml(cfg)
    reg, name = ctd.registry_section(cfg)
    config_path = str(reg.get("config_path") or "") or (
        "" if reg.get("mirrors") or reg.get("configs") else ctd.DEFAULT_CONFIG_PATH)
    evidence.append(f"registry section {name}; config_path = {config_path or '(unset)'}")
    tag_pull = ctx.image is None or ctx.image.digest is None
    n_hosts = 0
    for base in [p for p in config_path.split(":") if p]:
        names = list_dir(ctx.root, base)
        issues += lint_hosts_dir_names(names, base)
        for n in names:
            text, err = read_text(ctx.root, f"{base}/{n}/hosts.toml")
            if err:
                issues.append(Issue("info", err, ""))
            if text is not None:
                n_hosts += 1
                issues += lint_hosts_toml(text, f"{base}/{n}/hosts.toml", tag_pull)
    if ctx.image is not None:
        d = ctd.find_host_dir(ctx.root, config_path, ctx.image.registry) if config_path else None
        evidence.append(f"{ctx.image.registry} uses " + (f"{d}" if d else "no hosts directory (defaults)"))
    evidence.append(f"{n_hosts} hosts.toml file(s) read")
    return step(NAME, to_findings(issues, "containerd"), evidence, "containerd registry config is valid",
                {"exists": exists, "config_path": config_path, "hosts_toml": n_hosts},
                present=exists or n_hosts > 0)
