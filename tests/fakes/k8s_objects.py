"""Real-shaped Kubernetes objects for the FAKE API server, each recorded from a public source.

The shapes (field names, nesting, which fields are empty or null) and the message texts come from
the places named in :data:`SOURCES`; names, nodes and times are parameters so a test can build a
cluster. Nothing here is contacted: addresses inside messages are text only.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

SOURCES: dict[str, str] = {
    "event_core_v1": "UKHomeOffice/kb8or#68 (kubectl get events -o yaml: count, firstTimestamp, "
                     "lastTimestamp, involvedObject.fieldPath spec.containers{...}, source "
                     "{component: kubelet, host: <node>})",
    "pod_waiting": "microsoft/pai#3572 (containerStatuses[].state.waiting {reason: ErrImagePull, "
                   "message: rpc error: ...}); kubernetes#96186 (phase stays Pending)",
    "log_waiting": "kubernetes#30148 ('container \"upload\" in pod \"upload\" is waiting to start: "
                   "trying and failing to pull image')",
    "node_info": "kubernetes PR #6211 and Icinga/icinga-kubernetes#77 (status.nodeInfo: "
                 "containerRuntimeVersion docker://26.0.1, kubeletVersion v1.30.0, kernelVersion, "
                 "osImage); scality/metalk8s#2768 (topology.kubernetes.io/zone label)",
    "msg_rate_limit": "kata-containers#10109 / dell/csi-baremetal#391 (containerd CRI, 429 from "
                      "registry-1.docker.io with 'toomanyrequests: You have reached your pull rate "
                      "limit')",
    "msg_dns_timeout": "kubernetes/minikube#4213 (kubelet: 'dial tcp: lookup registry-1.docker.io "
                       "on 10.0.2.3:53: read udp 10.0.2.15:54684->10.0.2.3:53: i/o timeout')",
    "msg_not_found": "UKHomeOffice/kb8or#68 ('Tag v2.0.0-bob not found in repository') and "
                     "microsoft/pai#3572 ('pull access denied for nginx211, repository does not "
                     "exist or may require docker login')",
}

MSG_RATE_LIMIT = (
    'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/busybox:'
    'latest": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1'
    '.docker.io/v2/library/busybox/manifests/sha256:50aa4698fa6262977cff89181b2664b99d8a56dbca847bf'
    '62f2ef04854597cf8: 429 Too Many Requests - Server message: toomanyrequests: You have reached '
    'your pull rate limit. You may increase the limit by authenticating and upgrading: '
    'https://www.docker.com/increase-rate-limit')
MSG_DNS_TIMEOUT = (
    "rpc error: code = Unknown desc = Error response from daemon: Get "
    "https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io on 10.0.2.3:53: read "
    "udp 10.0.2.15:54684->10.0.2.3:53: i/o timeout")
MSG_NOT_FOUND = (
    "rpc error: code = Unknown desc = Error response from daemon: pull access denied for nginx211, "
    "repository does not exist or may require 'docker login'")


def node(name: str, *, zone: str = "zone-a", pool: str = "pool-1",
         runtime: str = "containerd://1.7.24", kubelet: str = "v1.31.4",
         address: str = "198.18.64.2", taints: list[Obj] | None = None) -> Obj:
    """A Node as ``kubectl get node -o json`` prints it (SOURCES['node_info'])."""
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": "region-1", "node.kubernetes.io/instance-type": "m5.large",
            "eks.amazonaws.com/nodegroup": pool}},
        "spec": {"podCIDR": "10.244.1.0/24", **({"taints": taints} if taints else {})},
        "status": {
            "addresses": [{"type": "InternalIP", "address": address},
                          {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}],
            "nodeInfo": {"architecture": "amd64", "bootID": "6f0306c0-cfdc-4cdc-94a7-fa4e760a8e24",
                         "containerRuntimeVersion": runtime, "kernelVersion": "6.1.0-28-amd64",
                         "kubeProxyVersion": kubelet, "kubeletVersion": kubelet,
                         "machineID": "4ec039c18a394812b36d3c9f5210be7e", "operatingSystem": "linux",
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "systemUUID": "e866431f-0000-0000-8db5-d62e59446bd6"}},
    }


def pod(name: str, node_name: str | None, image: str, *, namespace: str = "default",
        reason: str | None = "ErrImagePull", message: str = "", container: str = "app",
        init: bool = False) -> Obj:
    """A Pod whose container waits on a pull (SOURCES['pod_waiting']); ``reason=None``: running."""
    state: Obj = ({"waiting": {"reason": reason, **({"message": message} if message else {})}}
                  if reason else {"running": {"startedAt": "2026-11-29T10:00:00Z"}})
    status_entry = {"name": container, "image": image, "imageID": "", "ready": reason is None,
                    "restartCount": 0, "started": reason is None, "state": state, "lastState": {}}
    status: Obj = {"phase": "Pending" if reason else "Running", "hostIP": "198.18.64.2",
                   "qosClass": "BestEffort", "startTime": "2026-11-29T10:00:00Z",
                   "conditions": [{"type": "PodScheduled", "status": "True"}]}
    status["initContainerStatuses" if init else "containerStatuses"] = [status_entry]
    spec: Obj = {"containers": [{"name": container, "image": image}], "restartPolicy": "Always"}
    if init:
        spec = {"initContainers": [{"name": container, "image": image}],
                "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10"}]}
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name.rsplit("-", 1)[0]}},
            "spec": spec, "status": status}


def event(pod_obj: Obj, reason: str, message: str, *, count: int = 1,
          first: str = "2026-11-29T10:00:05Z", last: str = "2026-11-29T10:04:45Z",
          type_: str = "Warning", suffix: str = "17a2b3c4d5e6f708") -> Obj:
    """A core/v1 Event as the kubelet records it (SOURCES['event_core_v1'])."""
    md = pod_obj["metadata"]
    node_name = pod_obj["spec"].get("nodeName")
    container = (pod_obj["spec"].get("initContainers") or pod_obj["spec"]["containers"])[0]["name"]
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{md['name']}.{suffix}", "namespace": md.get("namespace", "default")},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": md["name"],
                           "namespace": md.get("namespace", "default"),
                           "uid": md.get("uid", ""), "fieldPath": f"spec.containers{{{container}}}"},
        "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": first, "lastTimestamp": last, "eventTime": None,
        "source": {"component": "kubelet", **({"host": node_name} if node_name else {})},
        "reportingComponent": "kubelet", "reportingInstance": node_name or "",
    }


def failed_pull_event(pod_obj: Obj, message: str, **kw: Any) -> Obj:
    """The kubelet's ``Failed`` event: 'Failed to pull image "IMG": <runtime error>'."""
    image = (pod_obj["spec"].get("initContainers") or pod_obj["spec"]["containers"])[0]["image"]
    return event(pod_obj, "Failed", f'Failed to pull image "{image}": {message}', **kw)
