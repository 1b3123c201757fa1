"""``--k8s``: the Kubernetes API's events about pulls on this node, listed then watched.

Events are the only place the API keeps the pull error text, and only for an hour
(``--event-ttl``), which is why they are read as they arrive. The protocol is the API's own:
``LIST`` for a consistent snapshot and its ``resourceVersion``, then ``WATCH`` from that version
(``allowWatchBookmarks`` so an idle watch still advances it); the version is the position saved
with the failures, so a restart resumes exactly there. A version the server has compacted away
(HTTP 410 or a watch ``ERROR`` with code 410) means a fresh ``LIST``: events seen before are
recognised by their uid and count and not stored twice.

The field selector narrows the stream to events about pods (``involvedObject.kind=Pod``).
Core/v1 events have no selectable node field: the selectable ones are ``involvedObject.*``,
``reason``, ``source`` (the component, not the host), ``type``, ``reportingComponent`` (recent
API servers only) and ``metadata.*``. So every node's watcher receives the cluster's pod events
and drops those of other nodes here, by ``source.host`` (or ``reportingInstance``): the cost of
reading the only place that keeps the text, in a cluster whose event rate is modest; a very large
cluster should prefer ``--journal`` on each node. Speaks plain
HTTP(S) with httpx and a bearer token (in-cluster: the service account's files, re-read at every
connection because projected tokens rotate).
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pulldoctor.errors import UsageError
from pulldoctor.redact import register_secret
from pulldoctor.watch.model import Batch, Sighting, SourceKind
from pulldoctor.watch.recognise import Recogniser, success_image
from pulldoctor.watch.sources import Source

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
FIELD_SELECTOR = "involvedObject.kind=Pod"
_WATCH_TIMEOUT_S = 290
"""Server-side end of one watch request (the client reconnects from the last version)."""
_PAGE = 500
_PULL_REASONS = frozenset({"Failed", "BackOff", "ErrImageNeverPull", "InspectFailed", "Pulled"})


class K8sError(Exception):
    """The API answered something other than what the protocol promises."""


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Where the API is and how to authenticate (in-cluster by default)."""

    url: str
    token_file: str | None = None
    ca_file: str | None = None

    @classmethod
    def in_cluster(cls) -> ApiConfig:
        host = os.environ.get("KUBERNETES_SERVICE_HOST")
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise UsageError("--k8s: not running in a pod (KUBERNETES_SERVICE_HOST is unset); "
                             "give --k8s-api URL")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        token = SA_DIR / "token"
        ca = SA_DIR / "ca.crt"
        return cls(f"https://{host}:{port}", str(token) if token.exists() else None,
                   str(ca) if ca.exists() else None)

    def check(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--k8s-api must be an http(s) URL, not {self.url!r}")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
            raise UsageError("--k8s-api: plain http only to a loopback address (a local proxy "
                             "such as `kubectl proxy`); the token would travel in clear text")
        for f in (self.token_file, self.ca_file):
            if f and not os.path.isfile(f):
                raise UsageError(f"--k8s: {f} does not exist")

    def token(self) -> str | None:
        if not self.token_file:
            return None
        try:
            value = Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        register_secret(value)
        return value or None


def _event_time(obj: dict[str, Any]) -> float | None:
    """The newest time an event carries (series, lastTimestamp, eventTime, creation)."""
    series = obj.get("series") if isinstance(obj.get("series"), dict) else {}
    meta = obj.get("metadata") or {}
    for value in ((series or {}).get("lastObservedTime"), obj.get("lastTimestamp"),
                  obj.get("eventTime"), obj.get("firstTimestamp"),
                  meta.get("creationTimestamp")):
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


def event_count(obj: dict[str, Any]) -> int:
    series = obj.get("series")
    if isinstance(series, dict) and isinstance(series.get("count"), int):
        return int(series["count"])
    count = obj.get("count")
    return count if isinstance(count, int) else 1


def _event_node(obj: dict[str, Any]) -> str:
    src = obj.get("source") if isinstance(obj.get("source"), dict) else {}
    return str((src or {}).get("host") or obj.get("reportingInstance") or "")


_SPACE = re.compile(r"\s+")


def read_event(rec: Recogniser, obj: dict[str, Any], node: str, now: float
               ) -> tuple[Sighting | None, str | None]:
    """(failure, image pulled) in one event object; (None, None) when it is neither or not ours.

    Pure: the event as the API serves it in, typed values out.
    """
    if _event_node(obj) != node:
        return None, None
    reason = str(obj.get("reason") or "")
    message = str(obj.get("message") or "")
    if reason not in _PULL_REASONS or not message:
        return None, None
    if reason == "Pulled":
        return None, success_image(message)
    inv = obj.get("involvedObject") or {}
    meta = obj.get("metadata") or {}
    origin = f"{inv.get('namespace', '')}/{inv.get('name', '')}".strip("/")
    key = f"{meta.get('uid') or meta.get('name') or ''}:{event_count(obj)}"
    at = _event_time(obj) or now
    sg = rec.text(message, at=at, key=key, kubernetes=True, origin=origin, runtime="auto")
    return sg, None


class K8sEventsSource(Source):
    kind = SourceKind.K8S

    def __init__(self, out: queue.Queue[Batch], stop: threading.Event, position: str | None,
                 *, api: ApiConfig, node: str) -> None:
        super().__init__(f"k8s:{node}", out, stop, position)
        self.api = api
        self.node = node
        self.recogniser.kubernetes = True

    def _client(self) -> Any:
        import httpx

        headers = {"Accept": "application/json"}
        token = self.api.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        verify: Any = self.api.ca_file or True
        return httpx.Client(base_url=self.api.url, headers=headers, verify=verify,
                            timeout=httpx.Timeout(10.0, read=_WATCH_TIMEOUT_S + 30.0),
                            trust_env=False)

    def follow(self) -> None:
        with self._client() as client:
            rv = self.position or self._list(client)
            self.note(f"k8s: watching kubelet events for node {self.node} at {self.api.url}",
                      up=True)
            while not self.stop.is_set():
                rv = self._watch(client, rv)

    def _batch(self, objs: list[dict[str, Any]], rv: str | None, lines: int,
               errors: int = 0) -> None:
        now = time.time()
        b = Batch(self.id, self.kind, lines=lines, parse_errors=errors, position=rv)
        newest = None
        for obj in objs:
            sg, pulled = read_event(self.recogniser, obj, self.node, now)
            if sg is not None:
                b.sightings.append(sg)
                newest = max(newest or 0.0, sg.at)
            if pulled:
                b.pulled.append(pulled)
        if newest:
            b.lag_s = max(0.0, now - newest)
        if rv:
            self.position = rv
        self.emit(b)

    def _list(self, client: Any) -> str:
        """LIST every page; emit what it holds; return the list's resourceVersion."""
        params: dict[str, Any] = {"fieldSelector": FIELD_SELECTOR, "limit": _PAGE}
        while True:
            r = client.get("/api/v1/events", params=params)
            if r.status_code != 200:
                raise K8sError(f"LIST events: HTTP {r.status_code}: {r.text[:200]}")
            doc = r.json()
            items = [i for i in doc.get("items") or [] if isinstance(i, dict)]
            meta = doc.get("metadata") or {}
            cont = meta.get("continue")
            rv = str(meta.get("resourceVersion") or "")
            self._batch(items, rv if not cont else None, len(items))
            if not cont:
                if not rv:
                    raise K8sError("LIST events: the answer has no resourceVersion")
                return rv
            params["continue"] = cont

    def _watch(self, client: Any, rv: str) -> str:
        """One WATCH request from ``rv``; returns the version to continue from."""
        params = {"fieldSelector": FIELD_SELECTOR, "watch": "true", "resourceVersion": rv,
                  "allowWatchBookmarks": "true", "timeoutSeconds": str(_WATCH_TIMEOUT_S)}
        with client.stream("GET", "/api/v1/events", params=params) as r:
            if r.status_code == 410:
                self.note("k8s: resource version expired: listing again", up=True)
                return self._list(client)
            if r.status_code != 200:
                r.read()
                raise K8sError(f"WATCH events: HTTP {r.status_code}: {r.text[:200]}")
            for line in r.iter_lines():
                if self.stop.is_set():
                    return rv
                if not line.strip():
                    continue
                try:
                    ev = json.loads(line)
                    kind, obj = ev["type"], ev["object"]
                except (ValueError, KeyError, TypeError):
                    self._batch([], None, 1, errors=1)
                    continue
                if kind == "ERROR":
                    if isinstance(obj, dict) and obj.get("code") == 410:
                        self.note("k8s: resource version expired: listing again", up=True)
                        return self._list(client)
                    raise K8sError(f"WATCH events: {_SPACE.sub(' ', str(obj))[:200]}")
                new_rv = str(((obj or {}).get("metadata") or {}).get("resourceVersion") or rv)
                if kind in ("ADDED", "MODIFIED"):
                    self._batch([obj], new_rv, 1)
                elif kind == "BOOKMARK":
                    self._batch([], new_rv, 0)
                rv = new_rv
        return rv
