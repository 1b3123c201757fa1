"""The one module that talks to a Kubernetes API server (through lightkube).

Why lightkube (``pip install 'pulldoctor[k8s]'``): it is maintained (1.0.1, 2026), ships typed
models (dataclasses, ``py.typed``), so this code stays under mypy --strict; it reads kubeconfig
files and contexts including exec credential plugins and in-cluster service accounts; it lists
with label/field selectors, watches, streams pod logs and deletes with a propagation policy - all
pulldoctor needs - with one small dependency tree. The official ``kubernetes`` client is
generated, heavy and only partly typed; ``kr8s`` is dict-backed with partial typing and still
0.x. Nothing outside this module imports lightkube: callers get the typed views of
:mod:`pulldoctor.k8s.objects`, and every client error becomes :class:`K8sError` (or a
:class:`~pulldoctor.errors.UsageError` for a missing or bad kubeconfig/context).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pulldoctor.errors import PulldoctorError, UsageError
from pulldoctor.k8s.objects import ContainerWait, EventView, NodeView, PodView

_MAX_LOG_BYTES = 4 * 1024 * 1024


class K8sError(PulldoctorError):
    """The API server refused or could not be reached (exit code 3)."""


def _stamp(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


@contextmanager
def _errors(what: str) -> Iterator[None]:
    import httpx2
    from lightkube import ApiError, ConfigError

    try:
        yield
    except ApiError as exc:
        code = exc.status.code if exc.status is not None else "?"
        msg = exc.status.message if exc.status is not None else str(exc)
        raise K8sError(f"{what}: the API server answered {code}: {msg}") from None
    except ConfigError as exc:
        raise UsageError(f"kubeconfig: {exc}") from None
    except httpx2.HTTPError as exc:
        raise K8sError(f"{what}: {type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # an object the typed models cannot decode (msgspec), bad JSON
        raise K8sError(f"{what}: unexpected answer from the API server: {exc}") from None


def _pod_view(p: Any) -> PodView:
    waits: list[ContainerWait] = []
    exit_code: int | None = None
    status = p.status
    for init, statuses in ((True, status.initContainerStatuses if status else None),
                           (False, status.containerStatuses if status else None)):
        for cs in statuses or []:
            state = cs.state
            if state is not None and state.waiting is not None:
                waits.append(ContainerWait(cs.name, cs.image or "", state.waiting.reason or "",
                                           state.waiting.message or "", init))
            if not init and state is not None and state.terminated is not None:
                exit_code = state.terminated.exitCode
    md = p.metadata
    return PodView(name=md.name, namespace=md.namespace or "default",
                   node=p.spec.nodeName if p.spec else None,
                   phase=(status.phase if status else None) or "Unknown",
                   labels=dict(md.labels or {}), waits=tuple(waits), exit_code=exit_code)


def _event_view(e: Any) -> EventView:
    io = e.involvedObject
    node = (e.source.host if e.source else None) or e.reportingInstance or None
    count = e.count or (e.series.count if e.series else None) or 1
    last = e.lastTimestamp or (e.series.lastObservedTime if e.series else None) or e.eventTime
    return EventView(namespace=io.namespace or e.metadata.namespace or "default",
                     pod=io.name or "", reason=e.reason or "", message=e.message or "",
                     type=e.type or "", count=int(count), first_seen=_stamp(e.firstTimestamp),
                     last_seen=_stamp(last), node=node)


def _node_view(n: Any) -> NodeView:
    info = n.status.nodeInfo if n.status else None
    ip = next((a.address for a in (n.status.addresses or []) if a.type == "InternalIP"), None) \
        if n.status else None
    return NodeView(name=n.metadata.name, labels=dict(n.metadata.labels or {}),
                    runtime_version=info.containerRuntimeVersion if info else None,
                    kubelet_version=info.kubeletVersion if info else None,
                    kernel=info.kernelVersion if info else None,
                    os_image=info.osImage if info else None, internal_ip=ip)


class Api:
    """A connection to one cluster (one kubeconfig context)."""

    def __init__(self, *, context: str | None = None, kubeconfig: str | None = None,
                 timeout_s: float = 10.0) -> None:
        import httpx2
        import yaml
        from lightkube import Client, ConfigError, KubeConfig

        try:
            cfg = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
            single = cfg.get(context_name=context) if context else cfg.get()
        except (ConfigError, yaml.YAMLError, OSError, KeyError, TypeError, ValueError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise UsageError(f"kubeconfig {kubeconfig or '(default)'}: cannot use it: {first}") from None
        if single is None:
            raise UsageError("kubeconfig has no current context: pass --context")
        with _errors("kubeconfig"):
            self._client = Client(single, timeout=httpx2.Timeout(timeout_s), trust_env=False,
                                  field_manager="pulldoctor")
        self.context = single.context_name
        self.namespace = single.namespace

    def close(self) -> None:
        self._client.close()

    def pods(self, namespace: str | None = None, *, labels: dict[str, str] | None = None,
             node: str | None = None) -> list[PodView]:
        """Pods of ``namespace`` (every namespace when None)."""
        from lightkube.resources.core_v1 import Pod

        fields: dict[str, Any] | None = {"spec.nodeName": node} if node else None
        sel: dict[str, Any] | None = dict(labels) if labels else None
        with _errors("list pods"):
            return [_pod_view(p) for p in self._client.list(
                Pod, namespace=namespace or "*", labels=sel, fields=fields)]

    def events(self, namespace: str | None = None) -> list[EventView]:
        """core/v1 Events of ``namespace`` (every namespace when None) about pods."""
        from lightkube.resources.core_v1 import Event

        with _errors("list events"):
            return [_event_view(e) for e in self._client.list(
                Event, namespace=namespace or "*", fields={"involvedObject.kind": "Pod"})]

    def nodes(self) -> list[NodeView]:
        from lightkube.resources.core_v1 import Node

        with _errors("list nodes"):
            return [_node_view(n) for n in self._client.list(Node)]

    def create(self, manifest: dict[str, Any], namespace: str) -> str:
        """Create one object from its manifest; returns its name."""
        from lightkube import codecs

        with _errors(f"create {manifest.get('kind')}"):
            obj: Any = codecs.from_dict(manifest)
            created: Any = self._client.create(obj, namespace=namespace)
            return str(created.metadata.name)

    def delete_job(self, name: str, namespace: str) -> None:
        """Delete a Job *and its pods* (background propagation; the API default orphans them)."""
        from lightkube import ApiError
        from lightkube.resources.batch_v1 import Job
        from lightkube.types import CascadeType

        try:
            with _errors(f"delete job {name}"):
                self._client.delete(Job, name, namespace=namespace, cascade=CascadeType.BACKGROUND)
        except K8sError as exc:
            if "answered 404" not in str(exc):
                raise
        except ApiError:  # pragma: no cover - mapped above
            raise

    def job_names(self, namespace: str, labels: dict[str, str]) -> list[str]:
        """Names of the Jobs in ``namespace`` with ``labels``."""
        from lightkube.resources.batch_v1 import Job

        sel: dict[str, Any] = dict(labels)
        with _errors("list jobs"):
            jobs: list[Any] = list(self._client.list(Job, namespace=namespace, labels=sel))
            return [str(j.metadata.name) for j in jobs]

    def log(self, pod: str, namespace: str) -> str:
        """The pod's log, at most :data:`_MAX_LOG_BYTES`."""
        out: list[str] = []
        size = 0
        with _errors(f"log of pod {pod}"):
            for line in self._client.log(pod, namespace=namespace):
                size += len(line)
                if size > _MAX_LOG_BYTES:
                    break
                out.append(line)
        return "".join(out)
