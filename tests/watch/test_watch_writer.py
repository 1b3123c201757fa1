"""The writer: folding repeats, completing a failure's image, k8s re-lists, restore after a
restart, and holding changes while the database refuses them."""

from __future__ import annotations

import io
from pathlib import Path

from pulldoctor.causes import Code
from pulldoctor.model import Report
from pulldoctor.watch.capture import Capture, Limits
from pulldoctor.watch.model import Batch, Sighting, SourceKind
from pulldoctor.watch.runner import Writer
from pulldoctor.watch.store import Store, StoreError


def _sg(at: float, *, image: str | None = "nginx:1", key: str = "k", cause: Code = Code.NET_RESET,
        registry: str = "docker.io") -> Sighting:
    return Sighting(text="t", cause=cause, confidence=0.8, image=image, registry=registry, at=at,
                    key=key)


class Clock:
    t = 10_000.0

    def __call__(self) -> float:
        return self.t


def _no_probe(image: str, runtime: str, text: str | None, timeout: float) -> Report:
    raise AssertionError("these tests never start a probe")


def _writer(tmp_path: Path, clock: Clock, *, enabled: bool = False) -> Writer:
    return Writer(Store(tmp_path / "h.db"), Capture(Limits(), enabled=enabled, diagnose=_no_probe),
                  "n1", out=io.StringIO(), err=io.StringIO(), clock=clock)


def _rows(w: Writer) -> list[tuple[str | None, str, int]]:
    return [(r["image"], r["cause"], r["lines"]) for r in
            w.store.db.execute("SELECT image, cause, lines FROM failures ORDER BY id")]


def test_repeats_fold_into_one_failure_within_the_gap(tmp_path: Path) -> None:
    clock = Clock()
    w = _writer(tmp_path, clock)
    b = Batch("file:/x", SourceKind.FILE, position="1:2:3:0:0")
    b.sightings = [_sg(clock.t, key="1"), _sg(clock.t + 30, key="2"), _sg(clock.t + 200, key="3"),
                   _sg(clock.t + 30, key="4", cause=Code.DNS_NXDOMAIN)]
    w.handle(b)
    w._commit(force=True)
    assert _rows(w) == [("nginx:1", "net.reset", 2), ("nginx:1", "dns.nxdomain", 1),
                        ("nginx:1", "net.reset", 1)]  # stored in the order they happened


def test_a_later_line_naming_the_image_completes_the_failure(tmp_path: Path) -> None:
    clock = Clock()
    w = _writer(tmp_path, clock, enabled=True)
    b = Batch("file:/x", SourceKind.FILE)
    b.sightings = [_sg(clock.t, image=None, key="1", registry="registry.lab.test"),
                   _sg(clock.t + 1, image="registry.lab.test/a:1", key="2",
                       registry="registry.lab.test")]
    w.handle(b)
    (row,) = w._dirty.values()
    assert row.image == "registry.lab.test/a:1" and row.lines == 2
    assert row.skip_reason is None and row.diagnosis_state == "queued"  # now it can be probed
    w.capture.drop_pending()


def test_relisted_kubernetes_events_are_not_counted_again(tmp_path: Path) -> None:
    clock = Clock()
    w = _writer(tmp_path, clock)
    for _ in range(2):
        b = Batch("k8s:n1", SourceKind.K8S, position="100")
        b.sightings = [_sg(clock.t - 400, key="uid-1:1")]
        w.handle(b)
        w._commit(force=True)
    assert _rows(w) == [("nginx:1", "net.reset", 1)]
    # and after a restart, from the history
    w.store.close()
    w2 = _writer(tmp_path, clock)
    src = type("S", (), {"kind": SourceKind.K8S, "id": "k8s:n1"})()
    w2.restore([src])  # type: ignore[list-item]
    b = Batch("k8s:n1", SourceKind.K8S, position="100")
    b.sightings = [_sg(clock.t - 400, key="uid-1:1")]
    w2.handle(b)
    w2._commit(force=True)
    assert _rows(w2) == [("nginx:1", "net.reset", 1)]


def test_restore_keeps_folding_into_the_stored_failure(tmp_path: Path) -> None:
    clock = Clock()
    w = _writer(tmp_path, clock)
    b = Batch("file:/x", SourceKind.FILE, position="1")
    b.sightings = [_sg(clock.t, key="1")]
    w.handle(b)
    w._commit(force=True)
    w.store.close()
    w2 = _writer(tmp_path, clock)
    w2.restore([])
    b = Batch("file:/x", SourceKind.FILE, position="2")
    b.sightings = [_sg(clock.t + 5, key="2")]
    w2.handle(b)
    w2._commit(force=True)
    assert _rows(w2) == [("nginx:1", "net.reset", 2)]


class RefusingStore(Store):
    refuse = True

    def commit(self, *a, **kw):  # type: ignore[no-untyped-def]
        if self.refuse:
            raise StoreError("cannot write the history database x: the disk holding it is full")
        return super().commit(*a, **kw)


def test_changes_wait_in_memory_while_the_database_refuses_them(tmp_path: Path) -> None:
    clock = Clock()
    store = RefusingStore(tmp_path / "h.db")
    err = io.StringIO()
    w = Writer(store, Capture(Limits(), enabled=False), "n1", out=io.StringIO(), err=err,
               clock=clock)
    b = Batch("file:/x", SourceKind.FILE, position="1:1:99:0:0")
    b.sightings = [_sg(clock.t, key="1")]
    w.handle(b)
    w._commit()
    w._commit()  # within the retry delay: not tried again, not said again
    assert err.getvalue().count("full") == 1
    assert store.positions() == {}  # nothing acknowledged
    store.refuse = False
    w._commit(force=True)
    assert _rows(w) == [("nginx:1", "net.reset", 1)]
    assert store.positions() == {"file:/x": ("1:1:99:0:0", None)}
    assert "accepts writes again" in err.getvalue()
