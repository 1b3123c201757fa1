"""The credential helpers the runtime's configuration names for this image's registry, each found
on PATH and asked ``get`` (bounded; what it answers is never shown).

docker: ``config.json`` ``credHelpers[registry]`` or ``credsStore``; containers/image:
``registries.conf`` ``credential-helpers`` and the auth files' ``credHelpers``; containerd's CRI
asks none (the kubelet passes credentials). Discovery asked them already
(:mod:`pulldoctor.config.credentials`); this check says what each answer means for the runtime.
``diagnose`` proves the same with a classifier of its own, knowing whether the registry refuses
anonymous pulls (``diagnose/infer/credentials.py``), so this check runs in ``host`` only.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.config.credentials import HUB_KEY, docker_config_path, docker_key, hub_key_mistakes
from pulldoctor.config.model import HelperCheck, HelperStatus
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "credential_helpers"

_EFFECT = {
    "docker": ("docker pull ignores it and pulls anonymously (a private image then gets 401); "
               "docker run/create (CLI 24 and later), compose and buildx stop with \"error "
               "getting credentials\" before any network step"),
    "podman": ("podman, skopeo and buildah stop with \"getting username and password: … error "
               "getting credentials\" before any network step (unless a later helper has "
               "credentials)"),
}


def _remedy(h: HelperCheck) -> str:
    if " credential-helpers " in h.source:  # registries.conf's list
        where = h.source.split(" credential-helpers ", 1)[0]
        return (f"remove {h.helper!r} from credential-helpers in {where}, or install "
                f"{h.name} on PATH")
    where, _, key = h.source.rpartition(" ")  # "FILE credsStore", "FILE credHelpers['host']"
    return f"remove {key} from {where}, or install {h.name} on PATH"


def _finding(h: HelperCheck, runtime: str, on_node: bool) -> Finding | None:
    line = h.describe()
    if h.status.broken:
        sev = "warning" if on_node and h.status == HelperStatus.MISSING else "error"
        return Finding(f"{h.name} cannot be used: {_EFFECT.get(runtime, '')}", sev,
                       Code.REGISTRY_CREDENTIAL_HELPER, [line],
                       advice=[_remedy(h)])
    if h.status == HelperStatus.NO_CREDENTIALS:
        return Finding(f"{h.name} has no credentials for {h.server}: the pull is anonymous "
                       "(fine for a public image)", "info", None, [line])
    if h.status == HelperStatus.NOT_RUN:
        return Finding(f"{h.name} is installed on the node; whether it answers cannot be known "
                       "from here", "info", None, [line])
    return None


def check(ctx: HostContext) -> Step:
    cfg = ctx.pull_config()
    if cfg is None:
        return Step(NAME, Outcome.SKIPPED, summary="the configuration could not be read")
    registry = ctx.image.registry if ctx.image else "docker.io"
    if cfg.runtime == "containerd":
        return Step(NAME, Outcome.OK, summary="containerd's CRI asks no credential helper (the "
                    "kubelet passes credentials; ctr takes --user)")
    on_node = str(ctx.root) not in ("", "/")
    findings = [f for h in cfg.helpers if (f := _finding(h, cfg.runtime, on_node)) is not None]
    evidence = [h.describe() for h in cfg.helpers]
    if cfg.runtime == "docker":
        path = docker_config_path(ctx.env)
        for key in hub_key_mistakes(ctx.root, path) if registry == "docker.io" else []:
            findings.append(Finding(
                f"{path} credHelpers has {key!r}, which docker never uses for Docker Hub (it "
                f"looks Hub up as {HUB_KEY!r})", "warning", None,
                [f"credHelpers[{key!r}] in {path}"],
                advice=[f"rename the credHelpers key {key!r} to {HUB_KEY!r}"]))
    if not cfg.helpers:
        key = docker_key(registry) if cfg.runtime == "docker" else registry
        summary = f"no credential helper is configured for {key}"
        return Step(NAME, outcome_of(findings), summary=findings[0].title if findings else summary,
                    evidence=[summary], findings=findings, data={"helpers": []})
    summary = next((f.title for f in findings if f.severity in ("error", "warning")),
                   f"every credential helper for {registry} answers")
    return Step(NAME, outcome_of(findings), summary=summary, evidence=evidence, findings=findings,
                data={"helpers": [h.to_dict() for h in cfg.helpers]})
