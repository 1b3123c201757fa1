"""The credential-helper classifier and its place in the ranking, without processes or sockets."""

from __future__ import annotations

import pytest

from pulldoctor.causes import Code
from pulldoctor.config.model import HelperCheck, HelperStatus
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import CredentialHelperObservation
from pulldoctor.diagnose.rank import rank
from pulldoctor.model import Outcome, Step


def hc(status: HelperStatus, name: str = "desktop", note: str | None = None) -> HelperCheck:
    return HelperCheck(name, "registry.lab.test", "config.json credsStore", status,
                       exit_code=1 if status == HelperStatus.FAILED else None, note=note)


def verdict(runtime: str, *checks: HelperCheck, refused: bool | None = None) -> infer.Verdict:
    return infer.classify_credential_helpers(
        CredentialHelperObservation(runtime, list(checks), refused))


@pytest.mark.parametrize("status", [s for s in HelperStatus if s.broken])
def test_containers_image_stops_at_a_broken_helper_before_any_network_step(
        status: HelperStatus) -> None:
    v = verdict("podman", hc(status), refused=False)  # even when the registry is anonymous
    assert (v.outcome, v.code) == (Outcome.PROBLEM, Code.REGISTRY_CREDENTIAL_HELPER)
    assert v.confidence == 0.95 and "before any network step" in v.evidence[1]


def test_containers_image_goes_on_when_a_later_helper_has_credentials() -> None:
    v = verdict("podman", hc(HelperStatus.MISSING), hc(HelperStatus.ANSWERED, "pass"))
    assert (v.outcome, v.code) == (Outcome.WARNING, None)


@pytest.mark.parametrize("refused,outcome,code", [
    (True, Outcome.PROBLEM, Code.REGISTRY_CREDENTIAL_HELPER),  # the anonymous fallback is refused
    (False, Outcome.WARNING, None),  # docker pull works anonymously
    (None, Outcome.WARNING, None),  # the walk never reached the registry's answer
])
def test_docker_pull_is_blamed_on_the_helper_only_when_anonymous_is_refused(
        refused: bool | None, outcome: Outcome, code: Code | None) -> None:
    v = verdict("docker", hc(HelperStatus.MISSING), refused=refused)
    assert (v.outcome, v.code) == (outcome, code)
    assert any("docker pull ignores the helper's error" in e for e in v.evidence)


def test_no_credentials_is_fine_and_points_at_a_login_when_refused() -> None:
    v = verdict("docker", hc(HelperStatus.NO_CREDENTIALS), refused=True)
    assert (v.outcome, v.code) == (Outcome.OK, None)
    assert "log in" in v.evidence[-1]
    assert verdict("podman", hc(HelperStatus.NO_CREDENTIALS)).outcome == Outcome.OK


def test_a_node_s_assumed_path_lowers_confidence() -> None:
    v = verdict("podman", hc(HelperStatus.MISSING, note="the node's own PATH is not known from here"))
    assert v.code == Code.REGISTRY_CREDENTIAL_HELPER and v.confidence == 0.7
    assert verdict("docker", hc(HelperStatus.NOT_RUN)).outcome == Outcome.OK


def test_anonymous_refused_reads_the_walk() -> None:
    refused = Step("token auth.lab.test", Outcome.PROBLEM, cause=Code.REGISTRY_UNAUTHORIZED)
    served = Step("manifest", Outcome.OK)
    dns = Step("dns registry.lab.test", Outcome.PROBLEM, cause=Code.DNS_NXDOMAIN)
    assert infer.anonymous_refused([served]) is False
    assert infer.anonymous_refused([refused]) is True
    assert infer.anonymous_refused([dns]) is None


def test_the_helper_step_ranks_before_the_refusal_it_explains() -> None:
    v = verdict("docker", hc(HelperStatus.MISSING), refused=True)
    steps = [Step("config", Outcome.OK),
             Step("credential helper", v.outcome, cause=v.code, confidence=v.confidence,
                  evidence=v.evidence),
             Step("token auth.lab.test", Outcome.PROBLEM, cause=Code.REGISTRY_UNAUTHORIZED,
                  confidence=0.9, endpoint="https://registry.lab.test")]
    causes = rank(steps, values={"image": "registry.lab.test/lab/hello:latest",
                                 "registry": "registry.lab.test"}, runtime="docker")
    assert [c.code for c in causes] == [Code.REGISTRY_CREDENTIAL_HELPER,
                                        Code.REGISTRY_UNAUTHORIZED]
