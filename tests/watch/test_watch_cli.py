"""``pulldoctor watch``, ``history`` and ``npd-check`` as a user runs them (subprocesses).

Diagnosis is off here (``--diagnose off``): a capture probes the image's registry, and outside
the lab that would leave this machine; the lab tests run it for real inside namespaces.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

FAIL = ('E1129 09:59:02.123456    1234 kuberuntime_manager.go:1234] "Failed to pull image" '
        'err="rpc error: code = NotFound desc = failed to pull and unpack image '
        '\\"docker.io/library/{img}\\": failed to resolve reference \\"docker.io/library/{img}\\":'
        ' docker.io/library/{img}: not found" image="{img}"\n')
OK = "I1129 09:59:02.1 1 kubelet.go:1] all good {n}\n"

WRITER = r"""
import sys, time
path, n, pace = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fail = sys.argv[4]
with open(path, "a", buffering=1) as f:
    for i in range(n):
        f.write(fail.replace("{img}", f"app{i}:1"))
        for k in range(20):
            f.write(f"I1129 kubelet.go:1] all good {i}.{k}\n")
        time.sleep(pace)
"""


def pd(*args: str, timeout: float = 60, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", *args], capture_output=True,
                          text=True, timeout=timeout, **kw)  # type: ignore[call-overload]


def watch(*args: str, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pulldoctor", "watch", "--diagnose", "off",
                             "--node", "test-node", *args], stdout=open(out, "wb"),
                            stderr=subprocess.STDOUT)


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM failures").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def _wait(cond, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_kill_9_mid_stream_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    log, db, prom = tmp_path / "kubelet.log", tmp_path / "h.db", tmp_path / "m.prom"
    log.write_text("")
    n = 120
    w1 = watch("--file", str(log), "--db", str(db), out=tmp_path / "w1.out")
    writer = None
    try:
        _wait(lambda: "watching" in (tmp_path / "w1.out").read_text())
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(n), "0.02", FAIL])
        _wait(lambda: _count(db) >= 20)
        w1.send_signal(signal.SIGKILL)
        w1.wait()
        assert _count(db) < n  # killed mid-stream
        writer.wait(timeout=60)
    finally:
        if w1.poll() is None:
            w1.kill()
        if writer is not None and writer.poll() is None:
            writer.kill()
    w2 = watch("--file", str(log), "--db", str(db), "--textfile", str(prom), "--exit-idle", "1.5",
               out=tmp_path / "w2.out")
    assert w2.wait(timeout=60) == 0, (tmp_path / "w2.out").read_text()
    con = sqlite3.connect(db)
    images = [r[0] for r in con.execute("SELECT image FROM failures")]
    keys = [r[0] for r in con.execute("SELECT record_key FROM failures")]
    con.close()
    assert sorted(images) == sorted(f"app{i}:1" for i in range(n))
    assert len(set(keys)) == n
    metrics = prom.read_text()
    line = next(ln for ln in metrics.splitlines()
                if ln.startswith("pulldoctor_pull_failures_total{"))
    assert 'cause="registry.not_found"' in line and 'registry="docker.io"' in line
    assert 'node="test-node"' in line and 'source="file"' in line
    assert float(line.rsplit(" ", 1)[1]) == n  # restored from the history, none twice
    assert "app1" not in metrics  # never an image in a label
    assert f'pulldoctor_watch_lines_read_total{{source="file:{log}"}}' in metrics

    # history: list, filter, JSON, show
    r = pd("history", "--db", str(db), "--since", "1h", "--limit", "500")
    assert r.returncode == 1 and "registry.not_found" in r.stdout and "app0:1" in r.stdout
    r = pd("history", "--db", str(db), "--json", "--image", "app7:")
    doc = json.loads(r.stdout)
    assert doc["schema"] == "pulldoctor.history/1" and doc["count"] == 1
    (item,) = doc["failures"]
    assert item["image"] == "app7:1" and item["skip_reason"] == "disabled"
    r = pd("history", "--db", str(db), "--cause", "dns.nxdomain")
    assert r.returncode == 0 and "no pull failures" in r.stdout
    r = pd("history", "show", str(item["id"]), "--db", str(db), "--json")
    assert r.returncode == 1, r.stderr
    rep = json.loads(r.stdout)
    assert rep["command"] == "explain" and rep["causes"][0]["code"] == "registry.not_found"
    assert "not diagnosed (disabled)" in rep["notes"][0]
    r = pd("history", "show", str(item["id"]), "--db", str(db))
    assert "registry.not_found" in r.stdout and "failure #" in r.stdout
    r = pd("history", "show", "99999", "--db", str(db))
    assert r.returncode == 2 and "no failure #99999" in r.stderr
    r = pd("history", "--db", str(db), "--cause", "no.such")
    assert r.returncode == 2

    # npd-check reads the same history
    r = pd("npd-check", "--db", str(db), "--minutes", "60")
    assert r.returncode == 1, r.stdout
    (msg,) = r.stdout.splitlines()
    assert len(msg) <= 80 and "registry.not_found" in msg and f"{n} pull failures" in msg


def test_npd_check_unknown_and_ok(tmp_path: Path) -> None:
    r = pd("npd-check", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and len(r.stdout.strip()) <= 80 and r.stdout.startswith("unknown")
    log, db = tmp_path / "a.log", tmp_path / "h.db"
    log.write_text("")
    w = watch("--file", str(log), "--db", str(db), "--exit-idle", "0.5", out=tmp_path / "w.out")
    assert w.wait(timeout=30) == 0
    r = pd("npd-check", "--db", str(db))
    assert (r.returncode, r.stdout.strip()) == (0, "no image pull failures in the last 10m")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    r = pd("watch", "--file", str(tmp_path / "x.log"), "--db", str(tmp_path / "h.db"),
           "--listen", "nonsense")
    assert r.returncode == 2 and "--listen" in r.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = pd("watch", "--file", str(tmp_path / "x.log"), "--db", str(tmp_path / "h.db"),
               "--listen", f"127.0.0.1:{port}", "--diagnose", "off")
    assert r.returncode == 2 and "in use" in r.stderr
    r = pd("watch", "--k8s", "--k8s-api", "http://198.18.0.1:8080", "--db", str(tmp_path / "h.db"))
    assert r.returncode == 2 and "loopback" in r.stderr
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    r = pd("watch", "--k8s", "--db", str(tmp_path / "h.db"), env=env)
    assert r.returncode == 2 and "not running in a pod" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_database_that_cannot_be_created_exits_3(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("")
    r = pd("watch", "--file", str(log), "--db", "/proc/pulldoctor-test/h.db", "--diagnose", "off")
    assert r.returncode == 3, r.stderr
    assert "cannot write the history database" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "junk.db"
    bad.write_bytes(b"not sqlite at all" * 100)
    r = pd("watch", "--file", str(log), "--db", str(bad), "--diagnose", "off")
    assert r.returncode == 3 and "cannot write" in r.stderr


def test_help_and_listing_without_history(tmp_path: Path) -> None:
    r = pd("watch", "--help")
    assert r.returncode == 0 and "Exit codes" in r.stdout
    r = pd("history", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 3 and "no history database" in r.stderr
