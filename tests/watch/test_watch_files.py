"""``--file``: a real file followed through appends, rotation, truncation, deletion, restarts,
a 10 MB line and binary junk."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pulldoctor.causes import Code
from pulldoctor.watch.files import MAX_CARRY, FileSource
from pulldoctor.watch.model import Batch

FAIL = ('E1129 09:59:02.123456    1234 kuberuntime_manager.go:1234] "Failed to pull image" '
        'err="rpc error: code = NotFound desc = failed to pull and unpack image '
        '\\"docker.io/library/{img}\\": failed to resolve reference \\"docker.io/library/{img}\\":'
        ' docker.io/library/{img}: not found" image="{img}"\n')
OK = "I1129 09:59:02.1 1 kubelet.go:1] everything is fine, nothing to see {n}\n"


class Follower:
    def __init__(self, path: Path, position: str | None = None, **kw: object) -> None:
        self.q: queue.Queue[Batch] = queue.Queue(1000)
        self.stop = threading.Event()
        self.src = FileSource(path, self.q, self.stop, position, poll_s=0.05, **kw)  # type: ignore[arg-type]
        self.batches: list[Batch] = []
        self.src.start()

    def drain(self) -> None:
        while True:
            try:
                self.batches.append(self.q.get_nowait())
            except queue.Empty:
                return

    def until(self, cond: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            if cond():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out; notes: {self.notes}, images: {self.images}")

    @property
    def images(self) -> list[str | None]:
        return [s.image for b in self.batches for s in b.sightings]

    @property
    def notes(self) -> list[str]:
        return [b.note for b in self.batches if b.note]

    @property
    def position(self) -> str | None:
        pos = [b.position for b in self.batches if b.position]
        return pos[-1] if pos else None

    def close(self) -> None:
        self.stop.set()
        self.src.thread.join(5)


def _append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    p = tmp_path / "kubelet.log"
    p.write_text(FAIL.format(img="old:1"))  # existing content: not read by default
    return p


def test_new_lines_only_then_from_start(log: Path) -> None:
    f = Follower(log)
    try:
        time.sleep(0.2)
        _append(log, OK.format(n=1) + FAIL.format(img="new:1"))
        f.until(lambda: f.images == ["nginx:new:1".replace("nginx:", "")])
        assert f.batches[-1].sightings[0].cause == Code.REGISTRY_NOT_FOUND
    finally:
        f.close()
    g = Follower(log, from_start=True)
    try:
        g.until(lambda: g.images == ["old:1", "new:1"])
    finally:
        g.close()


def test_rotation_by_rename_reads_the_old_file_to_its_end(log: Path) -> None:
    f = Follower(log)
    try:
        time.sleep(0.2)
        _append(log, FAIL.format(img="a:1"))
        f.until(lambda: "a:1" in f.images)
        log.rename(log.with_name("kubelet.log.1"))
        _append(log.with_name("kubelet.log.1"), FAIL.format(img="late:1"))  # still written
        log.write_text(FAIL.format(img="b:1"))
        f.until(lambda: "b:1" in f.images)
        assert f.images == ["a:1", "late:1", "b:1"]
        assert any("rotated" in n for n in f.notes)
    finally:
        f.close()


def test_copytruncate_starts_again_at_zero(log: Path) -> None:
    f = Follower(log)
    try:
        time.sleep(0.2)
        _append(log, FAIL.format(img="a:1") + OK.format(n=2) * 50)
        f.until(lambda: "a:1" in f.images)
        os.truncate(log, 0)
        time.sleep(0.3)
        _append(log, FAIL.format(img="b:1"))
        f.until(lambda: "b:1" in f.images)
        assert any("truncated" in n for n in f.notes)
    finally:
        f.close()


def test_a_file_that_disappears_and_comes_back(log: Path) -> None:
    f = Follower(log)
    try:
        time.sleep(0.2)
        log.unlink()
        f.until(lambda: any("disappeared" in n for n in f.notes))
        assert any(b.up is False for b in f.batches)
        log.write_text(FAIL.format(img="back:1"))
        f.until(lambda: "back:1" in f.images)
    finally:
        f.close()


def test_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    f = Follower(path)
    try:
        f.until(lambda: any("does not exist" in n for n in f.notes))
        path.write_text(FAIL.format(img="first:1"))
        f.until(lambda: "first:1" in f.images)
    finally:
        f.close()


def test_restart_resumes_at_the_saved_position(log: Path) -> None:
    f = Follower(log)
    time.sleep(0.2)
    _append(log, FAIL.format(img="a:1"))
    f.until(lambda: "a:1" in f.images)
    saved = f.position
    f.close()
    _append(log, FAIL.format(img="b:1"))  # written while stopped
    g = Follower(log, saved)
    try:
        g.until(lambda: g.images == ["b:1"])
    finally:
        g.close()


def test_rotated_while_stopped_finishes_the_old_file_first(log: Path) -> None:
    f = Follower(log)
    time.sleep(0.2)
    _append(log, FAIL.format(img="a:1"))
    f.until(lambda: "a:1" in f.images)
    saved = f.position
    f.close()
    _append(log, FAIL.format(img="b:1"))
    log.rename(log.with_name("kubelet.log.1"))
    log.write_text(FAIL.format(img="c:1"))
    g = Follower(log, saved)
    try:
        g.until(lambda: g.images == ["b:1", "c:1"])
        assert any("rotated while we were stopped" in n for n in g.notes)
    finally:
        g.close()


def test_replaced_while_stopped_reads_the_new_file(log: Path) -> None:
    f = Follower(log)
    time.sleep(0.2)
    _append(log, OK.format(n=1))
    f.until(lambda: f.position is not None)
    f.close()
    saved = f.position
    size = log.stat().st_size
    log.unlink()  # the next file may well get the same inode number: the fingerprint tells
    log.write_text(FAIL.format(img="new:1").ljust(size - 1) + "\n")
    g = Follower(log, saved)
    try:
        g.until(lambda: g.images == ["new:1"])
        assert any("replaced" in n for n in g.notes)
    finally:
        g.close()


def test_a_ten_megabyte_line_and_binary_junk_keep_memory_bounded(log: Path) -> None:
    f = Follower(log)
    try:
        time.sleep(0.2)
        huge = b"z" * (5 * 1024 * 1024) + FAIL.format(img="inside:1").rstrip("\n").encode() \
            + b"z" * (5 * 1024 * 1024) + b"\n"
        _append(log, huge)
        _append(log, bytes(range(256)) * 8192)  # 2 MiB of junk without a newline
        _append(log, b"\n" + FAIL.format(img="after:1").encode())
        f.until(lambda: "after:1" in f.images)
        assert f.images == ["inside:1", "after:1"]
        assert len(f.src._carry) <= MAX_CARRY
    finally:
        f.close()
