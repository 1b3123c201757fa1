"""``pulldoctor lab``: list, run, up/down, errors, and teardown on Ctrl-C (real processes)."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pulldoctor.cli import main
from pulldoctor.lab.procs import STATE_ROOT, is_alive

PD = [sys.executable, "-m", "pulldoctor"]


def _netns_of(lab_id: str) -> list[str]:
    p = Path("/run/netns")
    return sorted(n.name for n in p.iterdir() if n.name.startswith(f"pd-{lab_id}-")) \
        if p.exists() else []


def test_list_json_is_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"healthy", "dns-udp-timeout-cdn"} <= {d["name"] for d in data}
    assert main(["lab", "list"]) == 0
    assert "dns-udp-timeout-cdn" in capsys.readouterr().out


def test_not_root_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for argv in (["lab", "run", "healthy", "--", "true"], ["lab", "up", "healthy"],
                 ["lab", "down", "--all"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "needs root" in err


def test_unknown_scenario_and_bad_down_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to get past the root check")
    assert main(["lab", "run", "no-such", "--", "true"]) == 2
    assert "unknown scenario 'no-such'" in capsys.readouterr().err
    assert main(["lab", "down"]) == 2
    assert main(["lab", "down", "zzzzzz"]) == 2


@pytest.mark.lab
def test_run_healthy_runs_the_command_as_the_client_and_tears_down(lab_ok: None) -> None:
    r = subprocess.run([*PD, "lab", "run", "healthy", "--", "sh", "-c",
                        "getent hosts registry.lab.test; cat /etc/resolv.conf; exit 7"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 7, r.stderr
    assert "198.18.2.2" in r.stdout and "nameserver 198.18.4.2" in r.stdout
    lab_id = re.search(r"\(lab (\w+)\)", r.stderr).group(1)  # type: ignore[union-attr]
    assert _netns_of(lab_id) == []
    assert not (STATE_ROOT / lab_id).exists()


@pytest.mark.lab
def test_up_then_enter_then_down(lab_ok: None) -> None:
    r = subprocess.run([*PD, "lab", "up", "healthy"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lab_id = re.search(r"lab (\w+) is up", r.stdout).group(1)  # type: ignore[union-attr]
    try:
        assert len(_netns_of(lab_id)) == 7
        enter = next(line.strip() for line in r.stdout.splitlines() if line.startswith("  "))
        inside = subprocess.run([*shlex.split(enter), "-c",
                                 "getent hosts cdn.lab.test; echo HOME=$HOME"],
                                capture_output=True, text=True, timeout=30)
        assert "198.18.3.2" in inside.stdout, inside.stderr
        status = subprocess.run([*PD, "lab", "status", "--json"], capture_output=True,
                                text=True, timeout=30)
        row = next(x for x in json.loads(status.stdout) if x["id"] == lab_id)
        assert row["state"] == "up" and row["scenario"] == "healthy"
    finally:
        down = subprocess.run([*PD, "lab", "down", lab_id], capture_output=True, text=True,
                              timeout=60)
    assert down.returncode == 0, down.stderr
    assert _netns_of(lab_id) == []


@pytest.mark.lab
def test_ctrl_c_tears_the_lab_down(lab_ok: None) -> None:
    proc = subprocess.Popen([*PD, "lab", "run", "healthy", "--", "sh", "-c",
                             "echo pid=$$; exec sleep 120"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the command runs inside the lab
        client_pid = int(line.strip().split("=")[1])
        lab_id = next(p.name for p in STATE_ROOT.iterdir()
                      if any(str(client_pid) == f.stem for f in (p / "procs").glob("*.json")))
        assert _netns_of(lab_id)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    for _ in range(50):  # the client process is reaped by the teardown; allow it to vanish
        if not is_alive(client_pid, None):
            break
        time.sleep(0.1)
    assert not is_alive(client_pid, None)
    assert _netns_of(lab_id) == []
