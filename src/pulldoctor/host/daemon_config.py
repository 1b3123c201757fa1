"""Lint of dockerd's effective configuration: daemon.json, docker.service drop-ins, live daemon.

Besides the file lint (:mod:`pulldoctor.config.lint_docker`), compares the file with what the
running daemon reports on ``GET /info``: a daemon.json edited without a restart is a frequent "my
mirror does nothing".
"""

from __future__ import annotations

from pulldoctor.config import docker as dkr
from pulldoctor.config.lint_docker import Issue, lint_daemon
from pulldoctor.host.config_findings import step, to_findings
from pulldoctor.host.context import HostContext
from pulldoctor.model import Step

NAME = "daemon_config"


def check(ctx: HostContext) -> Step:
    data, problem, exists = dkr.load_daemon_json(ctx.root)
    drop_env, drop_files = dkr.read_dropin_environment(ctx.root)
    evidence = [f"{dkr.DAEMON_JSON}: " + ("present" if exists else "absent (dockerd defaults)")]
    evidence += [f"drop-in {f}" for f in drop_files]
    issues: list[Issue] = []
    if problem:
        sev = "error" if exists and "permission" not in problem else "info"
        issues.append(Issue(sev, problem + ("; dockerd refuses to start with it" if sev == "error" else ""),
                            "", [f"dockerd --validate --config-file {dkr.DAEMON_JSON}"]))
    if data is not None:
        issues += lint_daemon(data, ctx.image if ctx.runtime_name == "docker" else None, drop_env)
        cfg = ctx.pull_config()
        live = cfg.settings.get("live") if cfg and cfg.runtime == "docker" else None
        if isinstance(live, dict):
            file_m = [str(m).rstrip("/") for m in data.get("registry-mirrors") or []]
            live_m = [str(m).rstrip("/") for m in live.get("mirrors") or []]
            if file_m != live_m:
                issues.append(Issue("warning", f"the running dockerd uses mirrors {live_m} but daemon.json "
                                    f"lists {file_m}: it was not restarted after the edit", "registry-mirrors",
                                    commands=["systemctl restart docker"]))
    findings = to_findings(issues, "docker")
    return step(NAME, findings, evidence, "daemon.json is valid" if exists else "no daemon.json",
                {"exists": exists, "keys": sorted(data) if data else []}, present=exists or bool(drop_files))
