"""A history database that is full or read-only (a tiny tmpfs, as root): the watcher says so in
one line, keeps reading, and stores everything once it can; at start it exits 3."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a tmpfs")

FAIL = ('level=error msg="Handler for POST /v1.41/images/create?fromImage=registry.lab.test%2F'
        '{img}&tag=1 returned error: Get \\"https://registry.lab.test/v2/\\": dial tcp '
        '198.18.2.2:443: connect: connection refused"\n')


@pytest.fixture
def tinyfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "fs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _images(db: Path) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT image FROM failures"))
    finally:
        con.close()


def _wait(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except (OSError, sqlite3.Error):
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")


def _start(log: Path, db: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pulldoctor", "watch", "--file", str(log),
                             "--db", str(db), "--diagnose", "off", *extra],
                            stdout=open(out, "wb"), stderr=subprocess.STDOUT)


def _fill(where: Path) -> Path:
    junk = where / "fill"
    fd = os.open(junk, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return junk


def test_a_full_disk_is_survived_and_nothing_is_lost(tmp_path: Path, tinyfs: Path) -> None:
    log, db, out, prom = tmp_path / "d.log", tinyfs / "h.db", tmp_path / "w.out", tmp_path / "m"
    log.write_text("")
    w = _start(log, db, out, "--textfile", str(prom))
    try:
        _wait(lambda: "watching" in out.read_text())
        with open(log, "a") as f:
            f.write(FAIL.format(img="a"))
        _wait(lambda: _images(db) == ["registry.lab.test/a:1"])
        junk = _fill(tinyfs)
        with open(log, "a") as f:
            for img in ("b", "c"):
                f.write(FAIL.format(img=img))
        _wait(lambda: "full" in out.read_text())
        # still reading and counting while the database refuses writes
        _wait(lambda: 'pulldoctor_pull_failures_total{cause="net.refused"' in prom.read_text()
              and " 3.0" in prom.read_text().split("pulldoctor_pull_failures_total{")[1]
              .split("\n")[0])
        assert "pulldoctor_watch_db_errors_total 0.0" not in prom.read_text()
        junk.unlink()
        _wait(lambda: "accepts writes again" in out.read_text())
        _wait(lambda: len(_images(db)) == 3)
    finally:
        w.send_signal(signal.SIGTERM)
        rc = w.wait(timeout=30)
    assert rc == 0, out.read_text()
    assert _images(db) == ["registry.lab.test/a:1", "registry.lab.test/b:1",
                           "registry.lab.test/c:1"]
    assert "Traceback" not in out.read_text()


def test_a_read_only_database_at_start_exits_3(tmp_path: Path, tinyfs: Path) -> None:
    log, db = tmp_path / "d.log", tinyfs / "h.db"
    log.write_text("")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE x (y)")
    con.commit()
    con.close()
    subprocess.run(["mount", "-o", "remount,ro", str(tinyfs)], check=True)
    r = subprocess.run([sys.executable, "-m", "pulldoctor", "watch", "--file", str(log),
                        "--db", str(db), "--diagnose", "off"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 3, r.stderr
    assert "cannot write the history database" in r.stderr and "read-only" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
