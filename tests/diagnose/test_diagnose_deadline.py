"""When the absolute deadline cuts the walk (issue 9, defect 3).

``diagnose HOST:PORT/x --timeout 1`` against a server that accepts TCP and never answers: the old
walk exited 0, said both "A step failed, but no single root cause could be proven" and "every step
passed", and never named the stalled step. Now: exit 1, the TLS step is TIMEOUT and says what it
waited for, and the stall is the evidence (``net.tls_handshake_timeout``).

The server is a socket on this machine's loopback that accepts and holds connections (nothing
leaves the host); the walk reads its configuration from an empty root, as a user's would be read.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def silent() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback port that accepts TCP and never sends a byte (held until the test ends), and
    the connections it accepted so far."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield srv.getsockname()[1], held
    finally:
        stop.set()
        th.join(2)
        for c in held:
            c.close()
        srv.close()


def _diagnose(port: int, root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "diagnose", f"127.0.0.1:{port}/x",
                           "--timeout", "1", "--runtime", "docker", "--root", str(root), *extra],
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def silent_port(silent: tuple[int, list[socket.socket]]) -> int:
    return silent[0]


def test_a_stalled_handshake_cut_by_the_deadline_is_named(silent_port: int,
                                                          tmp_path: Path) -> None:
    r = _diagnose(silent_port, tmp_path, "--json")
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr
    rep = json.loads(r.stdout)
    assert rep["causes"][0]["code"] == "net.tls_handshake_timeout"
    tls = next(s for s in rep["steps"] if s["name"] == f"tls 127.0.0.1:{silent_port}")
    assert tls["outcome"] == "timeout" and tls["cause"] == "net.tls_handshake_timeout"
    assert "waiting for 127.0.0.1's answer to the TLS ClientHello" in tls["summary"]
    assert not any("every step passed" in n for n in rep["notes"])

    text = _diagnose(silent_port, tmp_path)
    assert text.returncode == 1
    assert "every step passed" not in text.stdout
    assert "no single root cause" not in text.stdout
    assert "VERDICT: net.tls_handshake_timeout" in text.stdout


def test_ctrl_c_says_what_it_interrupted_and_exits_130(
        silent: tuple[int, list[socket.socket]], tmp_path: Path) -> None:
    """Issue 9, defect 6: Ctrl-C printed a blank line and nothing else."""
    import signal
    import time

    silent_port, held = silent
    proc = subprocess.Popen([sys.executable, "-m", "pulldoctor", "diagnose",
                             f"127.0.0.1:{silent_port}/x", "--timeout", "30", "--runtime",
                             "docker", "--root", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):  # the TCP step's connect, then the TLS step's, which then waits
            if len(held) >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert f"pulldoctor: diagnose interrupted while running tls 127.0.0.1:{silent_port}" in err
    assert "TLS ClientHello" in err and "Traceback" not in err + out
