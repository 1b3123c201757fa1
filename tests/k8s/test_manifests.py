"""The shipped manifests validate offline against the Kubernetes OpenAPI schemas, and the shipped
probe Job is exactly what ``k8s probe`` creates (so documentation and code cannot drift)."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from fakes.kubeapi import probe_job_problems
from pulldoctor.k8s.jobs import example_job, job_name, probe_job

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
VERSIONS = ("1.28.0", "1.31.0", "1.37.0")


def _docs() -> list[tuple[str, dict[str, object]]]:
    out = []
    for f in sorted(DEPLOY.glob("*.yaml")):
        out += [(f.name, d) for d in yaml.safe_load_all(f.read_text()) if d]
    return out


def test_there_are_manifests() -> None:
    kinds = {d["kind"] for _, d in _docs()}
    assert {"Namespace", "ServiceAccount", "ClusterRole", "Role", "Job"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates(version: str) -> None:
    for name, doc in _docs():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata']}: {exc.message} at {list(exc.path)}")


def test_the_validator_rejects_a_broken_job() -> None:
    bad = example_job()
    bad["spec"]["template"]["spec"]["hostNetwork"] = "yes"  # type: ignore[index]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.31.0", strict=True)


def test_shipped_probe_job_is_what_the_code_generates() -> None:
    shipped = yaml.safe_load((DEPLOY / "probe-job.yaml").read_text())
    assert shipped == example_job(), "re-run: python -m pulldoctor.k8s.jobs --write " \
                                     "deploy/kubernetes/probe-job.yaml"
    assert probe_job_problems(shipped) == []


def test_probe_jobs_follow_the_rules_for_every_runtime() -> None:
    for rv in ("containerd://2.0.1", "docker://26.0.1", "cri-o://1.31.0", None):
        job = probe_job("node-with.a_long.name" * 4, "x/y:1", run_id="abc", runtime_version=rv)
        assert probe_job_problems(job) == []
        kubernetes_validate.validate(job, "1.31.0", strict=True)
        assert len(job["metadata"]["name"]) <= 63  # type: ignore[index]
    sock = probe_job("n", "x/y:1", run_id="abc", runtime_socket=True)
    assert any("socket" in p for p in probe_job_problems(sock))
    assert probe_job_problems(sock, allow_socket=True) == []


def test_job_names_are_dns_labels_and_unique_per_node() -> None:
    a, b = job_name("r1", "Node_A.example.com"), job_name("r1", "node-a-example-com")
    assert a != b and a.islower() and len(a) <= 63


def test_rbac_is_minimal() -> None:
    roles = {d["metadata"]["name"]: d for _, d in _docs() if d["kind"] in ("Role", "ClusterRole")}  # type: ignore[index]
    scan_verbs = {v for r in roles["pulldoctor-scan"]["rules"] for v in r["verbs"]}  # type: ignore[index]
    assert scan_verbs == {"get", "list", "watch"}
    probe_res = {res for r in roles["pulldoctor-probe"]["rules"] for res in r["resources"]}  # type: ignore[index]
    assert probe_res == {"jobs", "pods", "pods/log"}
    sa = [d for _, d in _docs() if d["kind"] == "ServiceAccount"
          and d["metadata"]["name"] == "pulldoctor-probe"]  # type: ignore[index]
    assert sa[0]["automountServiceAccountToken"] is False
