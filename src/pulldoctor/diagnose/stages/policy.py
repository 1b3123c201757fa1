"""Stage: containers/image's trust policy, judged where the runtime judges it (podman, skopeo,
buildah, CRI-O only; docker and containerd do not enforce it, so the stage does not apply).

``copy.Image`` evaluates the policy once the source's top-level manifest is read, before the
platform's manifest and any blob; so this stage comes right after the manifest, and the platform
stage needs it. It reads policy.json and registries.d under the walk's root
(:func:`pulldoctor.config.policy.read_policy`), and for a signature requirement looks for the
signature of the manifest's digest where containers/image would: a ``file://`` lookaside under
the root, an ``http(s)://`` lookaside by a GET (reached like any other host of the walk), or the
registry's sigstore attachment (``sha256-HEX.sig``) with the walk's own credentials.
"""

from __future__ import annotations

import os

from pulldoctor.config.policy import (
    attachment_tag,
    missing_key_files,
    read_policy,
    signature_url,
    stored_signatures,
)
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import ManifestObservation, PolicyObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.request import request
from pulldoctor.diagnose.timing import step_cap
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step


def _digest(ew: EndpointWalk) -> str | None:
    """The top-level manifest's digest, as the walk fetched it (what signatures are for)."""
    for st in reversed(ew.steps):
        obs = st.observation
        if st.name == "manifest" and isinstance(obs, ManifestObservation):
            return obs.expected_digest or obs.http.fetched.sha256 or None
    return None


async def _run(ew: EndpointWalk) -> Step | None:
    from pulldoctor.probes import registry_api as rp

    if ew.walk.config.runtime != "podman":
        return None
    root = ew.walk.root
    view = read_policy(root, os.environ, ew.ref)
    digest = _digest(ew)
    obs = PolicyObservation(view, ew.ref.familiar, digest,
                            missing_key_files(view, root) if view.error is None else [],
                            stored_signatures(view, root) if view.error is None else None)
    types = {r.type for r in view.requirements} if view.error is None else set()
    remote: str | None = None
    if "signedBy" in types and digest:
        obs.signature_url = signature_url(view.lookaside, digest)
        if view.lookaside.startswith(("http://", "https://")):
            reached = await ew.reach(obs.signature_url, "signature lookaside")
            remote = obs.signature_url if reached.ok else None
    attach: str | None = None
    if "sigstoreSigned" in types and view.sigstore_attachments and digest:
        attach = rp.manifest_url(ew.base, ew.ref.repository, attachment_tag(digest))
    rtt = ew.rtt()
    cap = step_cap(5.0, rtt) if remote or attach else 1.0

    async def probe(timeout: float) -> PolicyObservation:
        if remote is not None:
            http = await request(ew, "GET", remote, what="signature", timeout=timeout / 2,
                                 rtt=rtt, keep_body=0)
            obs.signature_status = http.status if http.fetched.failure is None else None
        if attach is not None:
            headers = ew.headers(attach, Accept=rp.accept_header("podman"))
            http = await request(ew, "GET", attach, what="signature attachment",
                                 timeout=timeout / 2, rtt=rtt, headers=headers, keep_body=0)
            obs.attachment_status = http.status if http.fetched.failure is None else None
        return obs

    return await ew.observe("signature policy", cap, probe, infer.classify_policy,
                            Waiting("http", "the image's signature", remote or attach))


STAGE: Stage[EndpointWalk] = Stage("signature policy", ("manifest",), _run,
                                   shown_when_blocked=False)  # docker, containerd: never applies
