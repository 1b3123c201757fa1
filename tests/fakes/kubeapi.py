"""A FAKE Kubernetes API server for tests: plain HTTP on 127.0.0.1, objects kept in memory.

Why a fake: no Kubernetes API server can run on these machines (none is packaged in Debian or on
PyPI), so the API side of ``pulldoctor k8s`` and ``pulldoctor watch --k8s`` is tested against this
server, which is named as a fake everywhere it is used. It speaks the real wire protocol for the
parts pulldoctor uses, so a real client library (lightkube) talks to it unchanged:

* list (``items`` + ``metadata.resourceVersion``), get, create (201), delete (``propagationPolicy``
  from the query or a ``DeleteOptions`` body) for any ``/api/v1/...`` or ``/apis/G/V/...`` path,
  namespaced or cluster-wide (``/api/v1/pods`` lists every namespace);
* ``labelSelector`` (``k=v``, ``k!=v``, ``k``, ``!k``) and ``fieldSelector`` (any dotted path,
  ``=``, ``==``, ``!=``: ``spec.nodeName``, ``involvedObject.name``, ``metadata.name``...);
* watch (``?watch=true``) as a stream of JSON lines ``{"type", "object"}``: with no
  ``resourceVersion`` every current object arrives as ADDED first; with one, only later changes;
  one older than :meth:`FakeKubeAPI.compact` gives the real ``410 Expired`` ERROR event;
  ``timeoutSeconds`` ends the stream, as does :meth:`FakeKubeAPI.stop`;
* pod logs (``/pods/NAME/log``) as text/plain; a pod whose container never started answers 400
  with the apiserver's own wording ("is waiting to start: trying and failing to pull image");
* a Job controller and a kubelet: creating a Job creates its Pod (``job-name`` labels, an
  ownerReference); a ``kubelet`` callback given by the test decides what that pod does (run to
  completion with a log, wait in ErrImagePull, or hang until deleted).

It also *checks* what clients send: every created Job passes through ``job_checks`` (see
:func:`probe_job_problems`), problems are kept in :attr:`FakeKubeAPI.violations`, and
:meth:`FakeKubeAPI.leftovers` names Jobs or their pods that were not deleted. Nothing here leaves
the loopback interface; every wait is bounded.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Obj = dict[str, Any]

PLURALS: dict[str, str] = {
    "pods": "Pod", "events": "Event", "nodes": "Node", "jobs": "Job", "namespaces": "Namespace",
    "daemonsets": "DaemonSet", "serviceaccounts": "ServiceAccount", "configmaps": "ConfigMap",
}
CLUSTER_SCOPED = {"nodes", "namespaces"}
MAX_WATCH_S = 120.0  # a watch never outlives this, whatever the client asks


@dataclass
class PodOutcome:
    """What the fake kubelet makes of a pod: see :class:`FakeKubeAPI`."""

    phase: str = "Succeeded"  # Succeeded | Failed | Pending (hold) | Running (hold)
    log: str = ""
    waiting: tuple[str, str] | None = None  # (reason, message): the container never starts
    exit_code: int = 0


Kubelet = Callable[[Obj], PodOutcome]


@dataclass
class _Change:
    rv: int
    type: str
    obj: Obj


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Obj | None = None


@dataclass
class _State:
    objects: dict[tuple[str, str, str, str], Obj] = field(default_factory=dict)
    changes: list[_Change] = field(default_factory=list)
    logs: dict[tuple[str, str], str] = field(default_factory=dict)
    rv: int = 1000
    compacted: int = 0


def _get_path(obj: Obj, dotted: str) -> str | None:
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return None if cur is None else str(cur)


def match_labels(labels: dict[str, str], selector: str) -> bool:
    """Equality-based label selector, as the apiserver reads it."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def match_fields(obj: Obj, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        neg = "!=" in term
        k, v = term.replace("==", "=").split("!=" if neg else "=", 1)
        got = _get_path(obj, k.strip()) or ""
        if (got == v.strip()) == neg:
            return False
    return True


def probe_job_problems(job: Obj, allow_socket: bool = False) -> list[str]:
    """What is wrong with a Job that ``pulldoctor k8s probe`` created (empty when correct).

    Written from the issue's requirements, independently of the code that builds the Jobs: one
    node per Job (``nodeName``), host network, read-only hostPath mounts only of configuration and
    data-root paths, never a runtime socket unless allowed, tolerations, no retries, bounded
    lifetime, no API token, no privilege, and the diagnose command with ``--root /host``.
    """
    out: list[str] = []
    spec = job.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    if not pod.get("nodeName"):
        out.append("no spec.template.spec.nodeName: the Job is not pinned to one node")
    if pod.get("hostNetwork") is not True:
        out.append("hostNetwork is not true: the probe would not see the node's network")
    if pod.get("restartPolicy") != "Never" or spec.get("backoffLimit") != 0:
        out.append("restartPolicy Never and backoffLimit 0 are required (no retries)")
    if not spec.get("activeDeadlineSeconds") or spec.get("ttlSecondsAfterFinished") is None:
        out.append("activeDeadlineSeconds and ttlSecondsAfterFinished bound the Job's life")
    if pod.get("automountServiceAccountToken") is not False:
        out.append("the probe pod must not get an API token (automountServiceAccountToken)")
    if not any(t.get("operator") == "Exists" and not t.get("key") for t in pod.get("tolerations") or []):
        out.append("no toleration for every taint: tainted nodes would not run the probe")
    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    containers = pod.get("containers") or []
    if len(containers) != 1:
        out.append(f"expected one container, got {len(containers)}")
    for c in containers:
        sc = c.get("securityContext") or {}
        if sc.get("privileged") or sc.get("allowPrivilegeEscalation") is not False:
            out.append("the probe container must not be privileged nor escalate")
        if sc.get("readOnlyRootFilesystem") is not True:
            out.append("the probe container's root file system must be read-only")
        argv = [*(c.get("command") or []), *(c.get("args") or [])]
        for want in ("diagnose", "--root", "/host", "--json", "--node"):
            if want not in argv:
                out.append(f"the probe command lacks {want!r}: {argv}")
        env = {e.get("name"): e for e in c.get("env") or []}
        ref = ((env.get("NODE_NAME") or {}).get("valueFrom") or {}).get("fieldRef") or {}
        if ref.get("fieldPath") != "spec.nodeName":
            out.append("NODE_NAME must come from the downward API (spec.nodeName)")
        for m in c.get("volumeMounts") or []:
            vol = vols.get(m.get("name")) or {}
            hp = (vol.get("hostPath") or {}).get("path")
            if hp is None:
                continue
            if m.get("readOnly") is not True:
                out.append(f"hostPath {hp} is mounted read-write")
            if not str(m.get("mountPath", "")).startswith("/host/"):
                out.append(f"hostPath {hp} is not mounted under /host")
            if hp in ("/", "/host", "/proc", "/sys", "/dev", "/root"):
                out.append(f"hostPath {hp} exposes far more than configuration")
            sock = hp.endswith(".sock") or hp in ("/run/containerd", "/var/run", "/run", "/run/crio")
            if sock and not allow_socket:
                out.append(f"hostPath {hp} gives the runtime socket without --runtime-socket")
    return out


class FakeKubeAPI:
    """A FAKE Kubernetes API server (see the module docstring). Use as a context manager."""

    def __init__(self, objects: Iterable[Obj] = (), *, kubelet: Kubelet | None = None,
                 job_checks: Callable[[Obj], list[str]] | None = None,
                 kubelet_delay_s: float = 0.05) -> None:
        self.state = _State()
        self.lock = threading.Condition()
        self.kubelet = kubelet
        self.job_checks = job_checks
        self.kubelet_delay_s = kubelet_delay_s
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.deleted: list[tuple[str, str, str | None]] = []  # (plural, name, propagationPolicy)
        self._stopping = False
        self._threads: list[threading.Thread] = []
        for o in objects:
            self.add(o)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._serve = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifetime
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeKubeAPI:
        self._serve.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self.lock.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def write_kubeconfig(self, path: Path, namespace: str = "default",
                         context: str = "fake-kubeapi") -> Path:
        """A kubeconfig (YAML is a superset of JSON) pointing at this fake, with no credentials."""
        doc = {"apiVersion": "v1", "kind": "Config", "current-context": context,
               "clusters": [{"name": context, "cluster": {"server": self.url}}],
               "contexts": [{"name": context, "context": {"cluster": context, "user": "nobody",
                                                          "namespace": namespace}}],
               "users": [{"name": "nobody", "user": {}}]}
        path.write_text(json.dumps(doc, indent=1))
        return path

    # ------------------------------------------------------------------ the store
    @staticmethod
    def _key(plural: str, obj: Obj) -> tuple[str, str, str, str]:
        md = obj.get("metadata") or {}
        ns = "" if plural in CLUSTER_SCOPED else md.get("namespace", "default")
        return (obj.get("apiVersion", "v1"), plural, ns, md.get("name", ""))

    @staticmethod
    def plural_of(obj: Obj) -> str:
        kind = obj.get("kind", "")
        for p, k in PLURALS.items():
            if k == kind:
                return p
        raise ValueError(f"the fake does not know kind {kind!r}")

    def _record(self, kind: str, obj: Obj) -> None:
        self.state.changes.append(_Change(self.state.rv, kind, copy.deepcopy(obj)))
        self.lock.notify_all()

    def add(self, obj: Obj, change: str = "ADDED") -> Obj:
        """Store (or replace) ``obj``, give it a new resourceVersion, tell the watchers."""
        plural = self.plural_of(obj)
        with self.lock:
            obj = copy.deepcopy(obj)
            md = obj.setdefault("metadata", {})
            if plural not in CLUSTER_SCOPED:
                md.setdefault("namespace", "default")
            md.setdefault("uid", str(uuid.uuid4()))
            md.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            key = self._key(plural, obj)
            if key in self.state.objects and change == "ADDED":
                change = "MODIFIED"
            self.state.rv += 1
            md["resourceVersion"] = str(self.state.rv)
            self.state.objects[key] = obj
            self._record(change, obj)
            return copy.deepcopy(obj)

    def remove(self, obj: Obj) -> None:
        plural = self.plural_of(obj)
        with self.lock:
            cur = self.state.objects.pop(self._key(plural, obj), None)
            if cur is not None:
                self.state.rv += 1
                self._record("DELETED", cur)

    def objects(self, plural: str) -> list[Obj]:
        with self.lock:
            return [copy.deepcopy(o) for k, o in self.state.objects.items() if k[1] == plural]

    def set_log(self, namespace: str, pod: str, text: str) -> None:
        with self.lock:
            self.state.logs[(namespace, pod)] = text

    def compact(self) -> None:
        """Forget the change history, as etcd compaction does: older watches get 410 Expired."""
        with self.lock:
            self.state.compacted = self.state.rv
            self.state.changes.clear()

    def leftovers(self) -> list[str]:
        """Jobs, and pods created for Jobs, that still exist (a probe must delete both)."""
        left = [f"job {o['metadata']['name']}" for o in self.objects("jobs")]
        left += [f"pod {o['metadata']['name']}" for o in self.objects("pods")
                 if "job-name" in (o["metadata"].get("labels") or {})]
        return left

    # ------------------------------------------------------------------ controllers
    def _job_created(self, job: Obj) -> None:
        if self.job_checks is not None:
            self.violations += [f"{job['metadata']['name']}: {p}" for p in self.job_checks(job)]
        md = job["metadata"]
        tmpl = copy.deepcopy(job["spec"]["template"])
        labels = {**(tmpl.get("metadata") or {}).get("labels", {}), "job-name": md["name"],
                  "batch.kubernetes.io/job-name": md["name"], "controller-uid": md["uid"]}
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{md['name']}-{uuid.uuid4().hex[:5]}",
                            "namespace": md["namespace"], "labels": labels,
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                                                 "name": md["name"], "uid": md["uid"],
                                                 "controller": True}]},
               "spec": tmpl["spec"], "status": {"phase": "Pending"}}
        pod = self.add(pod)
        t = threading.Thread(target=self._run_pod, args=(job, pod), daemon=True)
        self._threads.append(t)
        t.start()

    def _run_pod(self, job: Obj, pod: Obj) -> None:
        time.sleep(self.kubelet_delay_s)
        if self.kubelet is None or self._stopping:
            return
        try:
            out = self.kubelet(copy.deepcopy(pod))
        except Exception as exc:  # the test's kubelet broke: say so in the pod
            out = PodOutcome(phase="Failed", log=f"fake kubelet crashed: {exc!r}", exit_code=2)
        with self.lock:
            if self._key("pods", pod) not in self.state.objects:
                return  # deleted meanwhile
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        cname = pod["spec"]["containers"][0]["name"]
        image = pod["spec"]["containers"][0].get("image", "")
        if out.waiting is not None:
            reason, message = out.waiting
            pod["status"] = {"phase": "Pending", "containerStatuses": [{
                "name": cname, "image": image, "imageID": "", "ready": False, "restartCount": 0,
                "started": False, "state": {"waiting": {"reason": reason, "message": message}},
                "lastState": {}}]}
            self.add(pod)
            return
        if out.phase in ("Pending", "Running"):
            pod["status"] = {"phase": out.phase}
            self.add(pod)
            return
        self.set_log(ns, name, out.log)
        term = {"exitCode": out.exit_code, "reason": "Completed" if out.exit_code == 0 else "Error"}
        pod["status"] = {"phase": out.phase, "containerStatuses": [{
            "name": cname, "image": image, "imageID": f"{image}@sha256:{'0' * 64}",
            "ready": False, "restartCount": 0, "started": False,
            "state": {"terminated": term}, "lastState": {}}]}
        self.add(pod)
        job = copy.deepcopy(job)
        with self.lock:
            cur = self.state.objects.get(self._key("jobs", job))
        if cur is None:
            return
        cur = copy.deepcopy(cur)
        ok = out.phase == "Succeeded"
        cur["status"] = {"succeeded" if ok else "failed": 1,
                         "conditions": [{"type": "Complete" if ok else "Failed", "status": "True"}]}
        self.add(cur)

    def _deleted(self, plural: str, obj: Obj, policy: str | None) -> None:
        self.deleted.append((plural, obj["metadata"]["name"], policy))
        if plural == "jobs" and policy in ("Background", "Foreground"):
            uid = obj["metadata"]["uid"]
            for p in self.objects("pods"):
                if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or []):
                    self.remove(p)


def _handler(api: FakeKubeAPI) -> type[BaseHTTPRequestHandler]:
    from fakes.kubeapi_http import Handler

    class Bound(Handler):
        fake = api

    return Bound
