"""Classifier of the credential helpers the runtime asks for the registry. Pure.

When a helper fails depends on the runtime (``config/credentials.py`` has the sources):

* containers/image (podman, skopeo, buildah; CRI-O when the kubelet passes no credentials) asks
  its helpers before the first request and stops with ``getting username and password: … error
  getting credentials`` unless a later helper has credentials: the cause, before any network step.
* docker's ``docker pull`` ignores the helper's error (``ResolveAuthConfig``) and pulls
  anonymously, so the helper is the cause only when the registry refuses that anonymous pull;
  ``docker run``/``create`` (CLI 24 and later), compose and buildx stop at the helper instead.
* containerd's CRI asks no helper (the kubelet passes credentials): nothing to classify.
"""

from __future__ import annotations

from collections.abc import Sequence

from pulldoctor.causes import Code
from pulldoctor.config.model import HelperStatus
from pulldoctor.diagnose.infer.common import Verdict
from pulldoctor.diagnose.observe import CredentialHelperObservation
from pulldoctor.model import Outcome, Step

_REFUSED = (Code.REGISTRY_UNAUTHORIZED, Code.REGISTRY_DENIED)

_STOPS_BEFORE_NETWORK = ("containers/image (podman, skopeo, buildah) stops here, before any network "
                        "step: \"getting username and password: … error getting credentials\"; "
                        "the steps below are what would come next")
_DOCKER_PULL_GOES_ON = ("docker pull ignores the helper's error and pulls anonymously; docker "
                       "run/create (CLI 24 and later), compose and buildx stop here instead, "
                       "before any network step, with \"error getting credentials\"")


def anonymous_refused(steps: Sequence[Step]) -> bool | None:
    """Whether the walk's registry refused its pull for want of credentials (True), served the
    manifest (False), or the walk never got that far (None). Pure over the steps' verdicts."""
    if any(s.outcome == Outcome.PROBLEM and s.cause in _REFUSED for s in steps):
        return True
    if any(s.name == "manifest" and s.outcome == Outcome.OK for s in steps):
        return False
    return None


def classify_credential_helpers(obs: CredentialHelperObservation) -> Verdict:
    """A helper the runtime cannot use is the cause when the runtime stops at it (see the module
    docstring); a helper with no credentials for the registry is fine for an anonymous pull."""
    ev = [h.describe() for h in obs.helpers]
    broken = [h for h in obs.helpers if h.status.broken]
    if not broken:
        if obs.anonymous_refused and all(h.status == HelperStatus.NO_CREDENTIALS
                                         for h in obs.helpers):
            ev.append("the helper has no credentials for this registry, which refuses anonymous "
                      "pulls: log in (the refusal below is the cause)")
        return Verdict(Outcome.OK, None, ev)
    # a helper looked for on a node's assumed PATH, not this machine's: less certain
    sure = 0.7 if all(h.note and "PATH is not known" in h.note for h in broken) else None
    if obs.runtime == "podman":
        if any(h.status == HelperStatus.ANSWERED for h in obs.helpers):
            return Verdict(Outcome.WARNING, None, [
                *ev, "a later helper has credentials: containers/image ignores the failure"])
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_CREDENTIAL_HELPER,
                       [*[h.describe() for h in broken], _STOPS_BEFORE_NETWORK,
                        *[h.describe() for h in obs.helpers if h not in broken]], sure or 0.95)
    if obs.runtime == "docker" and obs.anonymous_refused:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_CREDENTIAL_HELPER, [
            *ev, "the registry refused the anonymous pull docker falls back to: the credentials "
            "the helper should give never reach it", _DOCKER_PULL_GOES_ON], sure or 0.9)
    if obs.runtime == "docker":
        seen = ("the registry serves this image anonymously, so docker pull works"
                if obs.anonymous_refused is False else
                "the walk did not reach the registry's answer, so whether it needs credentials "
                "is not known")
        return Verdict(Outcome.WARNING, None, [*ev, _DOCKER_PULL_GOES_ON, seen])
    return Verdict(Outcome.OK, None, ev)
