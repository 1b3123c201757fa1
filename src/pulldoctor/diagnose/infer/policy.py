"""Classifier of containers/image's trust policy for the image the walk fetched. Pure.

containers/image judges the policy once the source's manifest is read (``copy.Image``:
``IsRunningImageAllowed`` on the top-level manifest, before any layer): every requirement of the
scope must be met. What is proven here is what the runtime would refuse for sure (a ``reject``, a
file that does not load, a signature that is not there, a key that does not exist); a signature
that is there is not verified (pulldoctor holds no GPG or sigstore verifier), and says so.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.diagnose.infer.common import Verdict
from pulldoctor.diagnose.observe import PolicyObservation
from pulldoctor.model import Outcome

NO_SIGNATURE = "A signature was required, but no signature exists"


def classify_policy(obs: PolicyObservation) -> Verdict:
    """The policy step of a containers/image walk (see the module docstring)."""
    v = obs.policy
    if v.error:
        return Verdict(Outcome.PROBLEM, Code.DAEMON_CONFIG, [
            f"containers/image refuses every pull: {v.error}"], 0.9)
    reqs = ", ".join(r.describe() for r in v.requirements)
    head = f"{v.path}: scope {v.scope} requires [{reqs}]"
    types = {r.type for r in v.requirements}
    if "reject" in types:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_POLICY_REJECTED, [
            head, f"Source image rejected: Running image docker://{obs.image} is rejected by "
            "policy (what podman, skopeo, buildah and CRI-O print)"], 0.97)
    if "signedBaseLayer" in types:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_POLICY_REJECTED, [
            head, "signedBaseLayer is not implemented by containers/image: every image is "
            "rejected"], 0.95)
    ev = [head]
    problems: list[str] = []
    if obs.missing_keys:
        problems.append("the key file(s) " + ", ".join(obs.missing_keys) + " do not exist: no "
                        "signature can be accepted")
    if "signedBy" in types:
        where = obs.signature_url or v.lookaside
        if obs.stored is not None and obs.digest is not None:
            if obs.digest in obs.stored:
                ev.append(f"a signature for {obs.digest} is stored at {where} (not verified here)")
            else:
                problems.append(f"no signature for {obs.digest} at {where}: {NO_SIGNATURE}")
        elif obs.signature_status == 200:
            ev.append(f"a signature for {obs.digest} is served at {where} (not verified here)")
        elif obs.signature_status == 404:
            problems.append(f"{where} -> HTTP 404: {NO_SIGNATURE}")
        else:
            ev.append(f"whether {where} holds a signature could not be checked")
    if "sigstoreSigned" in types:
        if not v.sigstore_attachments:
            problems.append("sigstoreSigned needs use-sigstore-attachments for this image in "
                            f"{v.registries_d}, which is not set: {NO_SIGNATURE}")
        elif obs.attachment_status == 404:
            problems.append(f"the registry holds no sigstore signature for {obs.digest} "
                            f"(its .sig tag -> HTTP 404): {NO_SIGNATURE}")
        elif obs.attachment_status == 200:
            ev.append(f"a sigstore signature for {obs.digest} is attached (not verified here)")
    if problems:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_POLICY_REJECTED, [*problems, *ev], 0.92)
    if v.registries_d_error:
        return Verdict(Outcome.WARNING, None, [*ev, f"registries.d: {v.registries_d_error}"])
    return Verdict(Outcome.OK, None, ev)
