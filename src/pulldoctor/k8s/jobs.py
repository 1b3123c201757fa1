"""The probe Job: one short-lived pod on one node that runs ``pulldoctor diagnose --root /host``.

Pure: a manifest (dict) from parameters. ``deploy/kubernetes/probe-job.yaml`` is this function's
output for an example node (a test keeps the two equal). Why each field:

* ``nodeName`` pins the pod to the node (no scheduler, so it also runs on cordoned nodes);
  ``tolerations: [{operator: Exists}]`` lets it run on tainted ones;
* ``hostNetwork: true``: resolve and connect from the node's network namespace, as the runtime
  does (the node's ``127.0.0.53`` stub is reachable there); ``dnsPolicy: Default`` keeps the
  pod's own resolver the node's, not the cluster DNS;
* read-only ``hostPath`` mounts under ``/host``: ``/etc`` (runtime configuration, certs.d,
  registries.conf, resolv.conf, hosts), ``/run/systemd/resolve`` (the stub's upstreams), and the
  runtime's data root for the disk check; never the runtime socket unless ``runtime_socket``
  (it is root on the node);
* no API token (``automountServiceAccountToken: false``), no privilege, every capability dropped,
  a read-only root file system; no retries (``backoffLimit: 0``, ``restartPolicy: Never``), a hard
  deadline (``activeDeadlineSeconds``) and garbage collection (``ttlSecondsAfterFinished``) even
  if pulldoctor itself is killed before it deletes the Job.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_NAME_LABEL = "app.kubernetes.io/name"
RUN_LABEL = "pulldoctor.io/run"
_NODE_ANNOTATION = "pulldoctor.io/node"
_SERVICE_ACCOUNT = "pulldoctor-probe"
DEFAULT_NAMESPACE = "pulldoctor"
DEFAULT_PROBE_IMAGE = "ghcr.io/pulldoctor/pulldoctor:0.1.0"
_TTL_AFTER_FINISHED_S = 300
DATA_ROOTS = {"containerd": "/var/lib/containerd", "docker": "/var/lib/docker",
              "cri-o": "/var/lib/containers"}
_SOCKETS = {"containerd": "/run/containerd/containerd.sock", "docker": "/var/run/docker.sock",
           "cri-o": "/var/run/crio/crio.sock"}


def _runtime_of(runtime_version: str | None) -> str:
    """``containerd://1.7.24`` -> ``containerd`` (the node's ``containerRuntimeVersion``)."""
    scheme = (runtime_version or "containerd://").split("://", 1)[0].lower()
    return scheme if scheme in DATA_ROOTS else "containerd"


def job_name(run_id: str, node: str) -> str:
    """A valid, unique-per-node Job name (DNS-1123, at most 63 characters)."""
    safe = re.sub(r"[^a-z0-9-]+", "-", node.lower()).strip("-")[:30] or "node"
    digest = hashlib.sha256(node.encode()).hexdigest()[:6]
    return f"pulldoctor-{run_id}-{safe}-{digest}"[:63].rstrip("-")


def probe_job(node: str, image: str, *, run_id: str, probe_image: str = DEFAULT_PROBE_IMAGE,
              timeout_s: int = 120, diagnose_timeout_s: float = 15.0,
              runtime_version: str | None = None, node_labels: dict[str, str] | None = None,
              runtime_socket: bool = False) -> dict[str, Any]:
    """The Job manifest that diagnoses ``image`` on ``node`` (see the module docstring)."""
    runtime = _runtime_of(runtime_version)
    labels = {_NAME_LABEL: "pulldoctor", "app.kubernetes.io/component": "probe", RUN_LABEL: run_id}
    host_paths = [("host-etc", "/etc"), ("host-resolve", "/run/systemd/resolve"),
                  ("host-data-root", DATA_ROOTS[runtime])]
    if runtime_socket:
        host_paths.append(("host-runtime-socket", _SOCKETS[runtime]))
    volumes = [{"name": n, "hostPath": {"path": p}} for n, p in host_paths]
    mounts = [{"name": n, "mountPath": f"/host{p}", "readOnly": True} for n, p in host_paths]
    env: list[dict[str, Any]] = [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    if runtime_version:
        env.append({"name": "PULLDOCTOR_RUNTIME_VERSION", "value": runtime_version})
    if node_labels:
        env.append({"name": "PULLDOCTOR_NODE_LABELS",
                    "value": ",".join(f"{k}={v}" for k, v in sorted(node_labels.items()))})
    args = ["diagnose", image, "--root", "/host", "--json", "--node", "$(NODE_NAME)",
            "--runtime", "docker" if runtime == "docker" else
            ("podman" if runtime == "cri-o" else "containerd"),
            "--timeout", f"{diagnose_timeout_s:g}"]
    container = {
        "name": "probe", "image": probe_image, "imagePullPolicy": "IfNotPresent", "args": args,
        "env": env, "volumeMounts": mounts,
        "resources": {"requests": {"cpu": "10m", "memory": "64Mi"},
                      "limits": {"memory": "256Mi"}},
        "securityContext": {"privileged": False, "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True, "runAsUser": 0,
                            "capabilities": {"drop": ["ALL"]}},
    }
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": job_name(run_id, node), "labels": labels,
                     "annotations": {_NODE_ANNOTATION: node}},
        "spec": {
            "backoffLimit": 0, "activeDeadlineSeconds": int(timeout_s),
            "ttlSecondsAfterFinished": _TTL_AFTER_FINISHED_S,
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "nodeName": node, "hostNetwork": True, "dnsPolicy": "Default",
                    "restartPolicy": "Never", "serviceAccountName": _SERVICE_ACCOUNT,
                    "automountServiceAccountToken": False,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [container], "volumes": volumes,
                },
            },
        },
    }


_JOB_HEADER = """\
# One probe Job, as `pulldoctor k8s probe` creates it for each chosen node (generated by
# `python -m pulldoctor.k8s.jobs --write deploy/kubernetes/probe-job.yaml`; do not edit by hand).
# To run one by hand: change spec.template.spec.nodeName and the image after `diagnose`, then
#   kubectl apply -f rbac.yaml -f probe-job.yaml
#   kubectl -n pulldoctor wait --for=condition=complete job/pulldoctor-manual-worker-1-13029f
#   kubectl -n pulldoctor logs job/pulldoctor-manual-worker-1-13029f > worker-1.json
#   kubectl -n pulldoctor delete job pulldoctor-manual-worker-1-13029f --cascade=background
#   pulldoctor fleet merge *.json
"""


def example_job() -> dict[str, Any]:
    """The shipped example: node ``worker-1``, run ``manual``, containerd."""
    job = probe_job("worker-1", "docker.io/library/nginx:latest", run_id="manual",
                    runtime_version="containerd://1.7.24",
                    node_labels={"topology.kubernetes.io/zone": "zone-a"})
    job["metadata"]["namespace"] = DEFAULT_NAMESPACE
    return job


def _main(argv: list[str]) -> int:
    """``python -m pulldoctor.k8s.jobs --write``: regenerate deploy/kubernetes/probe-job.yaml."""
    import sys
    from pathlib import Path

    import yaml

    doc = example_job()
    text = _JOB_HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    if "--write" in argv:
        Path(argv[argv.index("--write") + 1]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
