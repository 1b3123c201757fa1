"""The containers/image trust policy that applies to this image (policy.json scope, requirements,
registries.d signature locations), and whether a pull can meet it.

Only podman, skopeo, buildah and CRI-O enforce it: for docker and containerd the policy is shown
and said not to apply, never blamed. Without a walk the image's digest is unknown, so a signature
requirement is judged here only as far as files tell (key files, a local lookaside with no
signature for the repository at all); ``diagnose`` checks the image's own signature, and proves
the cause with a step and classifier of its own (``diagnose/infer/policy.py``), so this check is
``host``'s only.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.config.policy import (
    PolicyView,
    missing_key_files,
    read_policy,
    stored_signatures,
)
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step
from pulldoctor.reference import parse_reference

NAME = "signature_policy"
ENFORCED_BY = "podman, skopeo, buildah and CRI-O"


def _summary(view: PolicyView) -> str:
    reqs = ", ".join(r.describe() for r in view.requirements)
    return f"{view.path}: scope {view.scope} requires [{reqs}]"


def _policy_findings(view: PolicyView, root: str, image: str) -> list[Finding]:
    """What keeps a containers/image pull of ``image`` from meeting ``view`` (as far as files
    tell)."""
    if view.error:
        return [Finding(f"containers/image refuses every pull: {view.error}", "error",
                        Code.DAEMON_CONFIG, [view.error],
                        advice=["fix policy.json: it must parse, with a \"default\" entry and "
                                "only the keys containers-policy.json(5) documents"])]
    out: list[Finding] = []
    scope = f"the policy's scope {view.scope}"
    if view.rejects:
        out.append(Finding(f"{scope} rejects {image}: {ENFORCED_BY} refuse it (\"Source image "
                           f"rejected: Running image docker://{image} is rejected by policy\")",
                           "error", Code.IMAGE_POLICY_REJECTED, [_summary(view)],
                           advice=[f"give {image}'s registry a scope in {view.path} that accepts "
                                   "it (insecureAcceptAnything, or signedBy with its key)"]))
    for r in view.requirements:
        if r.type == "signedBaseLayer":
            out.append(Finding(f"{scope} requires signedBaseLayer, which containers/image does "
                               "not implement: every image is rejected", "error",
                               Code.IMAGE_POLICY_REJECTED, [_summary(view)]))
        if r.type == "sigstoreSigned" and not view.sigstore_attachments:
            out.append(Finding(
                f"{scope} requires a sigstore signature, but registries.d does not enable "
                f"use-sigstore-attachments for {image}: no signature can be found (\"A signature "
                "was required, but no signature exists\")", "error", Code.IMAGE_POLICY_REJECTED,
                [_summary(view), f"registries.d: {view.registries_d}"],
                advice=["set use-sigstore-attachments: true for the registry in "
                        f"{view.registries_d}/*.yaml"]))
    for k in missing_key_files(view, root):
        out.append(Finding(f"{scope} names the key file {k}, which does not exist: no signature "
                           "can be accepted", "error", Code.IMAGE_POLICY_REJECTED,
                           [_summary(view)], advice=[f"install the public key at {k}"]))
    if any(r.type == "signedBy" for r in view.requirements):
        held = stored_signatures(view, root)
        where = f"{view.lookaside} ({view.lookaside_source})"
        if held == []:
            out.append(Finding(f"{scope} requires a signature, and the lookaside {where} holds "
                               f"none for any digest of this repository", "error",
                               Code.IMAGE_POLICY_REJECTED, [_summary(view)],
                               advice=["publish the image's signatures to the lookaside, or set "
                                       "the registry's lookaside in registries.d"]))
        elif held is None:
            out.append(Finding(f"signatures are read from {where}: diagnose checks this image's",
                               "info", None, [_summary(view)]))
    if view.registries_d_error:
        out.append(Finding(f"registries.d does not load: {view.registries_d_error}", "warning",
                           None, [view.registries_d_error]))
    return out


def check(ctx: HostContext) -> Step:
    ref = ctx.image or parse_reference("busybox")
    view = read_policy(ctx.root, ctx.env, ref)
    runtime = ctx.runtime_name
    data = {"policy": view.to_dict(), "enforced": runtime == "podman"}
    evidence = ([f"scopes tried, most specific first: {', '.join(view.scopes_tried)}"]
                if view.scopes_tried else [])
    findings = _policy_findings(view, str(ctx.root), ref.familiar)
    if runtime != "podman":
        if view.path is None:
            return Step(NAME, Outcome.OK, summary="no containers/image policy.json (and "
                        f"{runtime} does not use one)", data=data)
        told = [f.title for f in findings if f.severity == "error"]
        notes = [Finding(f"{runtime} does not enforce containers/image's policy.json (only "
                         f"{ENFORCED_BY} do); for them: {t}", "info", None, [t]) for t in told]
        head = _summary(view) if view.error is None else view.error
        return Step(NAME, Outcome.OK, summary=f"{runtime} does not enforce policy.json; "
                    f"{ENFORCED_BY} would use {head}", evidence=[head, *evidence],
                    findings=notes, data=data)
    head = _summary(view) if view.error is None else view.error
    summary = next((f.title for f in findings if f.severity in ("error", "warning")), head)
    return Step(NAME, outcome_of(findings), summary=summary, evidence=[head, *evidence],
                findings=findings, data=data)
