"""The FAKE Kubernetes API server itself, driven by a real client (lightkube) and raw HTTP.

Other tests trust the fake, so its protocol is tested here: list + selectors, watch with and without
resourceVersion (and 410 after compaction), pod logs (and the apiserver's wording for a pod that
never started), the Job controller, delete propagation, and its checks on what clients create.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from fakes import k8s_objects as ko
from fakes.kubeapi import FakeKubeAPI, PodOutcome, probe_job_problems


def _cluster() -> list[dict[str, object]]:
    p1 = ko.pod("web-1", "node-a", "docker.io/library/busybox:latest", message=ko.MSG_RATE_LIMIT)
    p2 = ko.pod("web-2", "node-b", "docker.io/library/busybox:latest", reason=None,
                namespace="team")
    return [ko.node("node-a"), ko.node("node-b", zone="zone-b"), p1, p2,
            ko.failed_pull_event(p1, ko.MSG_RATE_LIMIT, count=4)]


def test_list_get_and_selectors(tmp_path: Path) -> None:
    from lightkube import Client, KubeConfig
    from lightkube.resources.core_v1 import Event, Node, Pod

    with FakeKubeAPI(_cluster()) as api:
        cfg = KubeConfig.from_file(api.write_kubeconfig(tmp_path / "kc"))
        client = Client(cfg, trust_env=False)
        assert sorted(p.metadata.name for p in client.list(Pod, namespace="*")) == ["web-1", "web-2"]
        assert [p.metadata.name for p in client.list(Pod, namespace="team")] == ["web-2"]
        on_a = list(client.list(Pod, namespace="*", fields={"spec.nodeName": "node-a"}))
        assert [p.metadata.name for p in on_a] == ["web-1"]
        assert on_a[0].status.containerStatuses[0].state.waiting.reason == "ErrImagePull"
        ev = list(client.list(Event, namespace="default", fields={"involvedObject.name": "web-1"}))
        assert ev[0].count == 4 and ev[0].source.host == "node-a"
        zb = list(client.list(Node, labels={"topology.kubernetes.io/zone": "zone-b"}))
        assert [n.metadata.name for n in zb] == ["node-b"]
        assert client.get(Node, "node-a").status.nodeInfo.kubeletVersion == "v1.31.4"


def test_watch_from_resource_version_and_410_after_compaction() -> None:
    with FakeKubeAPI(_cluster()) as api:
        listing = httpx.get(f"{api.url}/api/v1/namespaces/default/events", timeout=5).json()
        rv = listing["metadata"]["resourceVersion"]
        got: list[dict[str, object]] = []

        def watch() -> None:
            with httpx.stream("GET", f"{api.url}/api/v1/namespaces/default/events",
                              params={"watch": "true", "resourceVersion": rv,
                                      "timeoutSeconds": "3"}, timeout=10) as r:
                for line in r.iter_lines():
                    got.append(json.loads(line))
                    break

        t = threading.Thread(target=watch)
        t.start()
        pod = ko.pod("web-3", "node-b", "ghcr.io/x/y:1", message=ko.MSG_DNS_TIMEOUT)
        api.add(ko.failed_pull_event(pod, ko.MSG_DNS_TIMEOUT, suffix="aa"))
        t.join(timeout=10)
        assert got and got[0]["type"] == "ADDED"
        assert got[0]["object"]["involvedObject"]["name"] == "web-3"  # type: ignore[index]
        api.compact()
        r = httpx.get(f"{api.url}/api/v1/namespaces/default/events",
                      params={"watch": "1", "resourceVersion": rv}, timeout=5)
        first = json.loads(r.text.splitlines()[0])
        assert first["type"] == "ERROR" and first["object"]["code"] == 410


def test_watch_without_version_starts_with_current_objects() -> None:
    with FakeKubeAPI(_cluster()) as api:
        r = httpx.get(f"{api.url}/api/v1/pods", params={"watch": "true", "timeoutSeconds": "1"},
                      timeout=5)
        names = sorted(json.loads(x)["object"]["metadata"]["name"] for x in r.text.splitlines())
        assert names == ["web-1", "web-2"]


def _job(name: str, node: str, **pod_extra: object) -> dict[str, object]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "nodeName": node, "restartPolicy": "Never",
                "containers": [{"name": "probe", "image": "pulldoctor:test"}], **pod_extra}}}}


def test_job_controller_kubelet_logs_and_delete_propagation() -> None:
    def kubelet(pod: dict[str, object]) -> PodOutcome:
        node = pod["spec"]["nodeName"]  # type: ignore[index]
        if node == "node-b":
            return PodOutcome(waiting=("ErrImagePull", ko.MSG_DNS_TIMEOUT))
        return PodOutcome(log=f"hello from {node}\n")

    with FakeKubeAPI(_cluster(), kubelet=kubelet, job_checks=probe_job_problems) as api:
        for n in ("node-a", "node-b"):
            r = httpx.post(f"{api.url}/apis/batch/v1/namespaces/pd/jobs", json=_job(f"p-{n}", n),
                           timeout=5)
            assert r.status_code == 201, r.text
        assert api.violations  # the minimal Job above breaks the probe rules
        pods = {}
        for _ in range(100):
            pods = {p["spec"]["nodeName"]: p for p in api.objects("pods")
                    if "job-name" in p["metadata"]["labels"]
                    and p["status"].get("containerStatuses")}
            if {"node-a", "node-b"} <= set(pods):
                break
            threading.Event().wait(0.05)
        a, b = pods["node-a"]["metadata"]["name"], pods["node-b"]["metadata"]["name"]
        log = httpx.get(f"{api.url}/api/v1/namespaces/pd/pods/{a}/log", timeout=5)
        assert log.text == "hello from node-a\n"
        err = httpx.get(f"{api.url}/api/v1/namespaces/pd/pods/{b}/log", timeout=5)
        assert err.status_code == 400 and "trying and failing to pull image" in err.text
        httpx.delete(f"{api.url}/apis/batch/v1/namespaces/pd/jobs/p-node-a",
                     params={"propagationPolicy": "Background"}, timeout=5)
        httpx.delete(f"{api.url}/apis/batch/v1/namespaces/pd/jobs/p-node-b", timeout=5)
        # no propagation policy: the Job's pod is orphaned, and the fake says so
        assert api.leftovers() == [f"pod {b}"]


def test_schema_rejects_invalid_objects() -> None:
    with FakeKubeAPI() as api:
        bad = _job("bad", "node-a", hostNetwork="yes")
        r = httpx.post(f"{api.url}/apis/batch/v1/namespaces/pd/jobs", json=bad, timeout=5)
        assert r.status_code == 422 and "hostNetwork" in r.text


def test_probe_job_rules_catch_a_socket_mount() -> None:
    job = _job("x", "node-a", hostNetwork=True,
               volumes=[{"name": "s", "hostPath": {"path": "/run/containerd/containerd.sock"}}])
    job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [  # type: ignore[index]
        {"name": "s", "mountPath": "/host/run/containerd/containerd.sock", "readOnly": True}]
    assert any("runtime socket" in p for p in probe_job_problems(job))
    assert not any("runtime socket" in p for p in probe_job_problems(job, allow_socket=True))


@pytest.mark.parametrize("path", ["/api/v1/nodes/none", "/nothing"])
def test_unknown_paths_are_404(path: str) -> None:
    with FakeKubeAPI() as api:
        assert httpx.get(api.url + path, timeout=5).status_code == 404
