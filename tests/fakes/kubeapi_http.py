"""The HTTP side of the FAKE Kubernetes API server (:mod:`fakes.kubeapi`): routing and watch streams."""

from __future__ import annotations

import copy
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from fakes.kubeapi import FakeKubeAPI

Obj = dict[str, Any]
SCHEMA_VERSION = "1.31.0"  # the Kubernetes version whose OpenAPI schema the fake checks against


def _status(code: int, reason: str, message: str) -> Obj:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Handler(BaseHTTPRequestHandler):
    fake: FakeKubeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # ------------------------------------------------------------------ plumbing
    def _send(self, code: int, body: Obj | str, ctype: str = "application/json") -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Obj | None:
        n = int(self.headers.get("Content-Length") or 0)
        if not n:
            return None
        try:
            data = json.loads(self.rfile.read(n))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _route(self) -> tuple[str, str, str | None, str | None, str | None, dict[str, str]]:
        """(apiVersion, plural, namespace, name, subresource, query) of the request path."""
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        parts = [p for p in u.path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) >= 2:
            gv, rest = parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return "", "", None, None, None, q
        ns = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural = rest[0] if rest else ""
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return gv, plural, ns, name, sub, q

    def _record(self, body: Obj | None = None) -> None:
        from fakes.kubeapi import Request

        u = urlsplit(self.path)
        self.fake.requests.append(Request(self.command, u.path,
                                          {k: v[-1] for k, v in parse_qs(u.query).items()}, body))

    # ------------------------------------------------------------------ verbs
    def do_GET(self) -> None:
        self._record()
        path = urlsplit(self.path).path
        if path == "/version":
            self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake",
                             "platform": "linux/amd64"})
            return
        gv, plural, ns, name, sub, q = self._route()
        if not plural:
            self._send(404, _status(404, "NotFound", f"the fake does not serve {path}"))
            return
        if name is None:
            if q.get("watch") in ("1", "true"):
                self._watch(gv, plural, ns, q)
            else:
                self._list(gv, plural, ns, q)
            return
        obj = self._find(gv, plural, ns, name)
        if obj is None:
            self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
        elif sub == "log":
            self._log(obj)
        else:
            self._send(200, obj)

    def do_POST(self) -> None:
        body = self._body()
        self._record(body)
        gv, plural, ns, _name, _sub, _q = self._route()
        if body is None or not plural:
            self._send(400, _status(400, "BadRequest", "a JSON object is required"))
            return
        from fakes.kubeapi import CLUSTER_SCOPED, PLURALS

        if body.get("kind") != PLURALS.get(plural):
            self._send(400, _status(400, "BadRequest", f"kind {body.get('kind')} on {plural}"))
            return
        md = body.setdefault("metadata", {})
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
        if not md.get("name"):
            self._send(422, _status(422, "Invalid", "metadata.name: Required value"))
            return
        if plural not in CLUSTER_SCOPED:
            md["namespace"] = ns or md.get("namespace") or "default"
        if self._find(gv, plural, md.get("namespace"), md["name"]) is not None:
            self._send(409, _status(409, "AlreadyExists", f'{plural} "{md["name"]}" already exists'))
            return
        body["apiVersion"] = gv
        problems = _schema_problems(body)
        if problems:
            self.fake.violations += [f"{md['name']}: schema: {p}" for p in problems]
            self._send(422, _status(422, "Invalid", "; ".join(problems)))
            return
        created = self.fake.add(body)
        if plural == "jobs":
            self.fake._job_created(created)
        self._send(201, created)

    def do_DELETE(self) -> None:
        body = self._body()
        self._record(body)
        gv, plural, ns, name, _sub, q = self._route()
        obj = self._find(gv, plural, ns, name) if name else None
        if obj is None:
            self._send(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
            return
        policy = q.get("propagationPolicy") or (body or {}).get("propagationPolicy")
        self.fake.remove(obj)
        self.fake._deleted(plural, obj, policy)
        self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success",
                         "details": {"name": name, "kind": plural, "uid": obj["metadata"]["uid"]}})

    # ------------------------------------------------------------------ helpers
    def _find(self, gv: str, plural: str, ns: str | None, name: str | None) -> Obj | None:
        with self.fake.lock:
            for (v, p, n, nm), o in self.fake.state.objects.items():
                if v == gv and p == plural and nm == name and (ns is None or n == ns):
                    return copy.deepcopy(o)
        return None

    def _select(self, gv: str, plural: str, ns: str | None, q: dict[str, str], obj: Obj) -> bool:
        from fakes.kubeapi import match_fields, match_labels

        md = obj.get("metadata") or {}
        if obj.get("apiVersion") != gv or self.fake.plural_of(obj) != plural:
            return False
        if ns is not None and md.get("namespace") != ns:
            return False
        if q.get("labelSelector") and not match_labels(md.get("labels") or {}, q["labelSelector"]):
            return False
        return not (q.get("fieldSelector") and not match_fields(obj, q["fieldSelector"]))

    def _list(self, gv: str, plural: str, ns: str | None, q: dict[str, str]) -> None:
        from fakes.kubeapi import PLURALS

        with self.fake.lock:
            items = [copy.deepcopy(o) for (v, p, _n, _nm), o in self.fake.state.objects.items()
                     if v == gv and p == plural and self._select(gv, plural, ns, q, o)]
            rv = str(self.fake.state.rv)
        self._send(200, {"kind": f"{PLURALS.get(plural, plural)}List", "apiVersion": gv,
                         "metadata": {"resourceVersion": rv}, "items": items})

    def _log(self, pod: Obj) -> None:
        md = pod["metadata"]
        with self.fake.lock:
            text = self.fake.state.logs.get((md["namespace"], md["name"]))
        if text is None:
            cname = pod["spec"]["containers"][0]["name"]
            waiting = [c for c in (pod.get("status") or {}).get("containerStatuses") or []
                       if "waiting" in (c.get("state") or {})]
            why = "trying and failing to pull image" if waiting else "ContainerCreating"
            self._send(400, _status(400, "BadRequest", f'container "{cname}" in pod '
                                    f'"{md["name"]}" is waiting to start: {why}'))
            return
        self._send(200, text, "text/plain")

    def _watch(self, gv: str, plural: str, ns: str | None, q: dict[str, str]) -> None:
        """A watch stream (chunked JSON lines) until timeoutSeconds, MAX_WATCH_S or stop()."""
        from fakes.kubeapi import MAX_WATCH_S

        fake = self.fake
        try:
            limit = min(float(q.get("timeoutSeconds") or MAX_WATCH_S), MAX_WATCH_S)
        except ValueError:
            limit = MAX_WATCH_S
        end = time.monotonic() + limit
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        rv_q = q.get("resourceVersion") or ""
        with fake.lock:
            if rv_q in ("", "0"):
                pending = [("ADDED", copy.deepcopy(o)) for (v, p, _n, _nm), o
                           in fake.state.objects.items()
                           if v == gv and p == plural and self._select(gv, plural, ns, q, o)]
                since = fake.state.rv
            else:
                since = int(rv_q) if rv_q.isdigit() else 0
                pending = []
                if since < fake.state.compacted:
                    err = _status(410, "Expired", f"too old resource version: {since} "
                                  f"({fake.state.compacted})")
                    self._chunk({"type": "ERROR", "object": err})
                    self._chunk(None)
                    return
        try:
            for kind, obj in pending:
                self._chunk({"type": kind, "object": obj})
            while True:
                with fake.lock:
                    news = [c for c in fake.state.changes if c.rv > since]
                    if not news and not fake._stopping:
                        fake.lock.wait(timeout=min(0.5, max(0.0, end - time.monotonic())))
                        news = [c for c in fake.state.changes if c.rv > since]
                    stopping = fake._stopping
                for c in news:
                    since = max(since, c.rv)
                    if self._select(gv, plural, ns, q, c.obj):
                        self._chunk({"type": c.type, "object": c.obj})
                if stopping or time.monotonic() >= end:
                    break
            self._chunk(None)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _chunk(self, event: Obj | None) -> None:
        if event is None:
            self.wfile.write(b"0\r\n\r\n")
        else:
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def _schema_problems(obj: Obj) -> list[str]:
    """What the Kubernetes OpenAPI schema says about ``obj`` (as an apiserver would reject it).

    Uses kubernetes-validate (offline schemas from PyPI); a missing package is a failure, not a skip.
    """
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"]
    return []
