"""``watch --k8s`` against the FAKE Kubernetes API server (tests/fakes, from the fleet work):
list then watch with a field selector, this node's events only, resume from the saved
resourceVersion, a fresh list after 410 Expired, and a killed watcher that counts nothing twice.

No real API server can run here (none is packaged for Debian or PyPI); the fake speaks the wire
protocol the watcher uses (list + watch streams, resourceVersion, 410 as a watch ERROR event).
"""

from __future__ import annotations

import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fakes import k8s_objects as ko
from fakes.kubeapi import FakeKubeAPI
from pulldoctor.causes import Code
from pulldoctor.watch.k8s import FIELD_SELECTOR, ApiConfig, K8sEventsSource
from pulldoctor.watch.model import Batch

IMG = "docker.io/library/busybox:latest"


def _cluster() -> tuple[list[dict[str, object]], dict[str, object], dict[str, object]]:
    mine = ko.pod("web-1", "node-a", IMG, message=ko.MSG_RATE_LIMIT)
    other = ko.pod("web-2", "node-b", "ghcr.io/x/y:1", message=ko.MSG_DNS_TIMEOUT)
    objs = [ko.node("node-a"), ko.node("node-b"), mine, other,
            ko.failed_pull_event(mine, ko.MSG_RATE_LIMIT, count=4),
            ko.failed_pull_event(other, ko.MSG_DNS_TIMEOUT)]
    return objs, mine, other


class Run:
    def __init__(self, url: str, position: str | None = None) -> None:
        self.q: queue.Queue[Batch] = queue.Queue(1000)
        self.stop = threading.Event()
        self.src = K8sEventsSource(self.q, self.stop, position, api=ApiConfig(url), node="node-a")
        self.batches: list[Batch] = []
        self.src.start()

    def until(self, cond: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.batches.append(self.q.get(timeout=0.1))
            except queue.Empty:
                pass
            if cond():
                return
        raise AssertionError(f"timed out: {[b.note for b in self.batches if b.note]}")

    @property
    def sightings(self) -> list[tuple[str, str | None, str]]:
        return [(str(s.cause), s.image, s.key.rsplit(":", 1)[1])
                for b in self.batches for s in b.sightings]

    @property
    def position(self) -> str | None:
        return next((b.position for b in reversed(self.batches) if b.position), None)

    def close(self) -> None:
        """Stop; a thread blocked on an idle watch stream ends with the process (a daemon)."""
        self.stop.set()
        self.src.thread.join(0.5)


def test_list_watch_resume_and_relist_after_410() -> None:
    objs, mine, _ = _cluster()
    with FakeKubeAPI(objs) as api:
        r = Run(api.url)
        try:
            r.until(lambda: bool(r.sightings))
            assert r.sightings == [(str(Code.REGISTRY_RATE_LIMITED), "busybox:latest", "4")]
            assert all(s.kubernetes and s.origin == "default/web-1"
                       for b in r.batches for s in b.sightings)
            # the watch: a new failure on this node arrives, another node's does not
            api.add(ko.failed_pull_event(mine, ko.MSG_RATE_LIMIT, count=5))  # same event, count+1
            api.add(ko.failed_pull_event(ko.pod("x", "node-b", "a/b:1"), ko.MSG_NOT_FOUND,
                                         suffix="bb"))
            r.until(lambda: len(r.sightings) == 2)
            assert r.sightings[1][2] == "5"
            time.sleep(0.3)
            assert len(r.sightings) == 2
        finally:
            r.close()
        saved = r.position
        assert saved is not None
        events = [q for q in api.requests if q.path.endswith("/events")]
        assert all(q.query.get("fieldSelector") == FIELD_SELECTOR for q in events)
        assert any(q.query.get("watch") == "true" and q.query.get("resourceVersion")
                   for q in events)

        # stopped; one more failure; a restart resumes from the saved version: only the new one
        pod3 = ko.pod("web-3", "node-a", "registry.lab.test/app:2", message=ko.MSG_DNS_TIMEOUT)
        api.add(ko.failed_pull_event(pod3, ko.MSG_DNS_TIMEOUT, suffix="cc"))
        r2 = Run(api.url, saved)
        try:
            r2.until(lambda: bool(r2.sightings))
            time.sleep(0.3)
            assert [s[0] for s in r2.sightings] == [str(Code.DNS_UDP_TIMEOUT)]
            assert not any(q.path.endswith("/events") and "watch" not in q.query
                           for q in api.requests[len(events):])  # no LIST: it resumed
        finally:
            r2.close()

        # the saved version was compacted away: 410, a fresh LIST, everything seen again
        api.add(ko.node("node-c"))  # any change moves the version past the saved one
        api.compact()
        r3 = Run(api.url, r2.position)
        try:
            r3.until(lambda: len(r3.sightings) >= 2)
            assert any("expired" in (b.note or "") for b in r3.batches)
        finally:
            r3.close()


def _failures(db: Path) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in con.execute("SELECT record_key, cause, image FROM failures")]
    except sqlite3.Error:
        return []
    finally:
        con.close()


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_watch_cli_kill_9_and_a_relist_count_nothing_twice(tmp_path: Path) -> None:
    objs, _, _ = _cluster()
    db = tmp_path / "h.db"
    with FakeKubeAPI(objs) as api:
        argv = [sys.executable, "-m", "pulldoctor", "watch", "--k8s", "--k8s-api", api.url,
                "--node", "node-a", "--db", str(db), "--diagnose", "off"]
        w = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: len(_failures(db)) == 1)
            for i in range(3):  # three more pods failing on this node, each its own failure
                p = ko.pod(f"job-{i}", "node-a", f"registry.lab.test/job{i}:1",
                           message=ko.MSG_NOT_FOUND)
                api.add(ko.failed_pull_event(p, ko.MSG_NOT_FOUND, suffix=f"j{i}"))
            _wait(lambda: len(_failures(db)) == 4)
        finally:
            w.send_signal(signal.SIGKILL)
            w.wait()
        api.add(ko.node("node-c"))
        api.compact()  # and the version it saved is gone: the restart must LIST again
        w2 = subprocess.run([*argv, "--exit-idle", "2"], capture_output=True, text=True,
                            timeout=60)
    assert w2.returncode == 0, w2.stderr
    assert "expired" in w2.stderr
    rows = _failures(db)
    assert len(rows) == 4 and len({r[0] for r in rows}) == 4, rows
    assert sorted(r[2] for r in rows) == ["busybox:latest", "registry.lab.test/job0:1",
                                         "registry.lab.test/job1:1", "registry.lab.test/job2:1"]
