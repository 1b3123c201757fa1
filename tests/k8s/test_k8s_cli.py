"""``pulldoctor k8s scan`` and ``k8s probe`` as a user runs them, against the FAKE API server.

The server is :class:`fakes.kubeapi.FakeKubeAPI` (no Kubernetes API server can run here); it
serves objects recorded from Kubernetes docs and issue threads, validates every Job the probe
creates against the 1.31 OpenAPI schema and the probe rules, runs a fake kubelet for the Jobs'
pods, and records what was deleted. The commands run as subprocesses with a kubeconfig.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

from fakes import k8s_objects as ko
from fakes.kubeapi import FakeKubeAPI, PodOutcome, probe_job_problems
from fakes.node_reports import node_report
from pulldoctor.causes import Code
from pulldoctor.report.schema import load_schema

IMG = "docker.io/library/busybox:latest"


def _run(kc: Path, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "k8s", *args, "--kubeconfig",
                           str(kc)], capture_output=True, text=True, timeout=timeout)


def _cluster() -> list[dict[str, object]]:
    """Five nodes: two in zone-b fail on DNS, one waits on a 429, one has a typo'd image, one is
    healthy."""
    objs: list[dict[str, object]] = [
        ko.node("node-1", zone="zone-a"), ko.node("node-2", zone="zone-a"),
        ko.node("node-3", zone="zone-b", pool="pool-2"),
        ko.node("node-4", zone="zone-b", pool="pool-2"), ko.node("node-5", zone="zone-a")]
    for i, n in enumerate(("node-3", "node-4")):
        p = ko.pod(f"web-{i}", n, IMG, reason="ImagePullBackOff", message="Back-off pulling image")
        objs += [p, ko.failed_pull_event(p, ko.MSG_DNS_TIMEOUT, count=7 + i, suffix=f"a{i}")]
    p = ko.pod("batch-0", "node-5", IMG, message=ko.MSG_RATE_LIMIT, namespace="jobs")
    objs += [p, ko.failed_pull_event(p, ko.MSG_RATE_LIMIT, suffix="b0")]
    objs.append(ko.pod("ok-0", "node-1", IMG, reason=None))
    objs.append(ko.pod("typo-0", "node-2", "nginx:1.27:latest", reason="InvalidImageName",
                       message='Failed to apply default image tag "nginx:1.27:latest": couldn\'t '
                               "parse image reference: invalid reference format"))
    return objs


def test_scan_groups_by_cause_node_registry_and_names_the_shared_zone(tmp_path: Path) -> None:
    with FakeKubeAPI(_cluster()) as api:
        kc = api.write_kubeconfig(tmp_path / "kc")
        r = _run(kc, "scan", "-A", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, load_schema())
    assert doc["command"] == "k8s-scan"
    assert doc["facts"]["nodes_total"] == 5 and doc["facts"]["nodes_failing"] == 4
    top = doc["causes"][0]
    assert top["code"] == Code.DNS_UDP_TIMEOUT and top["nodes"] == ["node-3", "node-4"]
    ev = "\n".join(top["evidence"])
    assert "share zone = zone-b" in ev and "node_pool = pool-2" in ev
    codes = {c["code"] for c in doc["causes"]}
    assert {Code.REGISTRY_RATE_LIMITED, Code.REF_INVALID} <= codes
    groups = {(g["code"], g["node"]): g for g in doc["pull_failures"]}
    g = groups[(Code.DNS_UDP_TIMEOUT, "node-3")]
    assert g["registry"] == "docker.io" and g["events"] == 7 and g["pods"] == ["default/web-0"]
    assert g["first_seen"] == "2026-11-29T10:00:05Z"


def test_scan_one_namespace_and_bad_kubeconfig(tmp_path: Path) -> None:
    with FakeKubeAPI(_cluster()) as api:
        kc = api.write_kubeconfig(tmp_path / "kc", namespace="jobs")
        r = _run(kc, "scan", "--json")
        assert r.returncode == 1
        assert [c["code"] for c in json.loads(r.stdout)["causes"]] == [Code.REGISTRY_RATE_LIMITED]
    (tmp_path / "bad").write_text("{not yaml: [")
    r = _run(tmp_path / "bad", "scan")
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    r = _run(kc, "scan")  # the server is gone now: unreachable is exit 3, one line
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr


def _kubelet(pod: dict[str, object]) -> PodOutcome:
    """Each node 'runs' diagnose: node-3/4 fail on their resolver, node-5 cannot pull the probe."""
    spec = pod["spec"]
    node = spec["nodeName"]  # type: ignore[index]
    args = spec["containers"][0]["args"]  # type: ignore[index]
    assert args[:2] == ["diagnose", IMG]
    if node == "node-5":
        return PodOutcome(waiting=("ErrImagePull", ko.MSG_RATE_LIMIT.replace(
            "library/busybox", "pulldoctor/pulldoctor")))
    if node in ("node-3", "node-4"):
        rep = node_report(node, code=Code.DNS_UDP_TIMEOUT, attrs={"resolver": "10.0.9.9"},
                          step="dns registry-1.docker.io", registry="docker.io")
    else:
        rep = node_report(node, step="dns registry-1.docker.io", registry="docker.io")
    return PodOutcome(phase="Failed" if node in ("node-3", "node-4") else "Succeeded",
                      log="some stderr line\n" + json.dumps(rep, indent=2) + "\n",
                      exit_code=1 if node in ("node-3", "node-4") else 0)


def test_probe_creates_correct_jobs_merges_and_deletes_them(tmp_path: Path) -> None:
    with FakeKubeAPI(_cluster(), kubelet=_kubelet, job_checks=probe_job_problems) as api:
        kc = api.write_kubeconfig(tmp_path / "kc")
        r = _run(kc, "probe", IMG, "--nodes", "failing", "--json", "--timeout", "30",
                 "--image", "mirror.example/pulldoctor/pulldoctor:0.1.0")
        assert api.violations == []
        assert api.leftovers() == []
        jobs = [j for (plural, j, _p) in api.deleted if plural == "jobs"]
        assert len(jobs) == 5 and all(p == "Background" for (_k, _j, p) in api.deleted)
        created = [q.body for q in api.requests if q.method == "POST"]
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, load_schema())
    assert doc["command"] == "fleet" and doc["facts"]["jobs_deleted"] == 5
    # failing nodes 3, 4, 5 plus the healthy controls 1, 2
    assert sorted(b["spec"]["template"]["spec"]["nodeName"] for b in created) == [  # type: ignore[index]
        f"node-{i}" for i in range(1, 6)]
    assert all(b["spec"]["template"]["spec"]["containers"][0]["image"]  # type: ignore[index]
               == "mirror.example/pulldoctor/pulldoctor:0.1.0" for b in created)
    dns = next(c for c in doc["causes"] if c["code"] == Code.DNS_UDP_TIMEOUT)
    assert dns["nodes"] == ["node-3", "node-4"]
    assert any("share resolver = 10.0.9.9" in e for e in dns["evidence"])
    own = next(c for c in doc["causes"] if c["nodes"] == ["node-5"])
    assert own["code"] == Code.REGISTRY_RATE_LIMITED
    assert any("own probe pod could not pull" in e for e in own["evidence"])
    assert any("probe pod itself could not pull" in n for n in doc["notes"])


def test_probe_deletes_its_jobs_on_ctrl_c(tmp_path: Path) -> None:
    with FakeKubeAPI(_cluster(), kubelet=lambda pod: PodOutcome(phase="Pending"),
                     job_checks=probe_job_problems) as api:
        kc = api.write_kubeconfig(tmp_path / "kc")
        proc = subprocess.Popen([sys.executable, "-m", "pulldoctor", "k8s", "probe", IMG,
                                 "--nodes", "all", "--timeout", "60", "--kubeconfig", str(kc)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            end = time.monotonic() + 30
            while len(api.objects("jobs")) < 5 and time.monotonic() < end:
                time.sleep(0.05)
            assert len(api.objects("jobs")) == 5
            time.sleep(0.3)
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 130, err
        assert api.leftovers() == [] and api.violations == []
        assert sorted(j for (k, j, _p) in api.deleted if k == "jobs") == sorted(
            q.body["metadata"]["name"] for q in api.requests if q.method == "POST")  # type: ignore[index]


def test_probe_unknown_node_is_a_usage_error(tmp_path: Path) -> None:
    with FakeKubeAPI(_cluster()) as api:
        kc = api.write_kubeconfig(tmp_path / "kc")
        r = _run(kc, "probe", IMG, "--nodes", "node-9")
        assert r.returncode == 2 and "unknown node" in r.stderr
        assert not [q for q in api.requests if q.method == "POST"]
