"""The trust-policy classifier, without files or sockets; and explain reads the runtime's own
wording of each verdict as the same cause."""

from __future__ import annotations

import pytest

from pulldoctor.causes import Code
from pulldoctor.config.policy import PolicyView, Requirement
from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import PolicyObservation
from pulldoctor.explain import explain
from pulldoctor.model import Outcome

D = "sha256:" + "e" * 64
IMAGE = "registry.lab.test/lab/hello:latest"


def view(*reqs: Requirement, lookaside: str = "file:///var/lib/containers/sigstore/lab/hello",
         attachments: bool = False, error: str | None = None) -> PolicyView:
    return PolicyView("/etc/containers/policy.json", error=error, scope='docker "registry.lab.test"',
                      requirements=list(reqs), lookaside=lookaside,
                      sigstore_attachments=attachments)


def classify(v: PolicyView, **kw: object) -> infer.Verdict:
    return infer.classify_policy(PolicyObservation(v, IMAGE, D, **kw))  # type: ignore[arg-type]


SIGNED = Requirement("signedBy", ["/etc/pki/lab.gpg"], key_type="GPGKeys")
SIGSTORE = Requirement("sigstoreSigned", ["/etc/pki/cosign.pub"])


def test_reject_is_the_cause_in_the_runtime_s_own_words() -> None:
    v = classify(view(Requirement("reject")))
    assert (v.outcome, v.code, v.confidence) == (Outcome.PROBLEM, Code.IMAGE_POLICY_REJECTED, 0.97)
    said = v.evidence[1].split(" (what")[0]
    assert said == f"Source image rejected: Running image docker://{IMAGE} is rejected by policy"
    assert explain(said).causes[0].code == Code.IMAGE_POLICY_REJECTED


def test_a_policy_that_does_not_load_refuses_every_pull() -> None:
    err = 'invalid policy in "/etc/containers/policy.json": Unknown key "transport"'
    v = classify(view(error=err))
    assert (v.outcome, v.code) == (Outcome.PROBLEM, Code.DAEMON_CONFIG)
    assert explain(f"Error loading trust policy: {err}").causes[0].code == Code.DAEMON_CONFIG


@pytest.mark.parametrize("kw,outcome", [
    ({"stored": [D]}, Outcome.OK),
    ({"stored": ["sha256:" + "0" * 64]}, Outcome.PROBLEM),
    ({"stored": [], "missing_keys": []}, Outcome.PROBLEM),
    ({"stored": [D], "missing_keys": ["/etc/pki/lab.gpg"]}, Outcome.PROBLEM),
])
def test_signed_by_with_a_local_lookaside(kw: dict[str, object], outcome: Outcome) -> None:
    v = classify(view(SIGNED), **kw)
    assert v.outcome == outcome
    if outcome == Outcome.PROBLEM:
        assert v.code == Code.IMAGE_POLICY_REJECTED
        assert any("A signature was required, but no signature exists" in e
                   or "no signature can be accepted" in e for e in v.evidence)
    else:
        assert any("not verified here" in e for e in v.evidence)


@pytest.mark.parametrize("status,outcome", [(200, Outcome.OK), (404, Outcome.PROBLEM),
                                            (None, Outcome.OK)])
def test_signed_by_with_a_remote_lookaside(status: int | None, outcome: Outcome) -> None:
    url = f"https://sigs.lab.test/lab/hello@sha256={'e' * 64}/signature-1"
    v = classify(view(SIGNED, lookaside="https://sigs.lab.test/lab/hello"),
                 signature_url=url, signature_status=status)
    assert v.outcome == outcome
    if status is None:
        assert any("could not be checked" in e for e in v.evidence)
    if status == 404:
        assert "A signature was required, but no signature exists" in v.evidence[0]
        said = "Source image rejected: A signature was required, but no signature exists"
        assert explain(said).causes[0].code == Code.IMAGE_POLICY_REJECTED


@pytest.mark.parametrize("attachments,status,outcome", [
    (False, None, Outcome.PROBLEM), (True, 404, Outcome.PROBLEM), (True, 200, Outcome.OK)])
def test_sigstore_signed_needs_attachments(attachments: bool, status: int | None,
                                          outcome: Outcome) -> None:
    v = classify(view(SIGSTORE, attachments=attachments), attachment_status=status)
    assert v.outcome == outcome
    if outcome == Outcome.PROBLEM:
        assert v.code == Code.IMAGE_POLICY_REJECTED


def test_accepting_policies_and_signed_base_layer() -> None:
    ok = classify(view(Requirement("insecureAcceptAnything")))
    assert (ok.outcome, ok.code) == (Outcome.OK, None)
    assert "requires [insecureAcceptAnything]" in ok.evidence[0]
    base = classify(view(Requirement("signedBaseLayer")))
    assert base.code == Code.IMAGE_POLICY_REJECTED
