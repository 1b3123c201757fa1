"""``watch`` against real runtimes failing real pulls in the lab, and a real Prometheus.

Everything runs inside the lab's client (its network namespace, its /etc/docker): dockerd, the
watcher following dockerd's log, the capture diagnosis the watcher starts, and Prometheus scraping
the watcher on the client's loopback. dockerd runs with ``"debug": true`` added to the scenario's
daemon.json, because only its debug lines name the image being pulled (its error lines do not);
without them watch stores the failure with its registry host and says it has no image to probe.

containerd 1.6's daemon logs nothing about a failed ``ctr images pull`` (ctr resolves and fetches
in its own process, and the CRI plugin that would log ``PullImage ... failed`` needs a CRI client
this machine does not have), so for containerd the watcher follows ctr's own output appended to a
log file, the way a CI job's log is kept.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulldoctor.lab.scenarios import SCENARIOS
from pulldoctor.reference import parse_reference

pytestmark = pytest.mark.lab

CAPTURE_WITHIN_S = 6.0
"""A failure must be diagnosed this soon after the watcher read it (the issue's "seconds")."""


def _rows(db: Path, sql: str) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    except sqlite3.Error:
        return []
    finally:
        con.close()


def _wait(cond: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _debug_daemon(lab: Any) -> None:
    """Add "debug": true to the scenario's daemon.json (dockerd reads it at start)."""
    path = lab.client_files / "etc/docker/daemon.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc["debug"] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _start_watch(lab: Any, log: Path, db: Path, *extra: str) -> Any:
    argv = [sys.executable, "-m", "pulldoctor", "watch", "--file", str(log), "--db", str(db),
            "--node", "lab-client", "--diagnose-timeout", "8", *extra]
    return lab.client_spawn(argv, log_name="watch")


def _watch_log(lab: Any) -> str:
    try:
        return (lab.log_dir / "watch.log").read_text()
    except OSError:
        return ""


PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pulldoctor
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""

QUERY = r"""
import json, sys, urllib.parse, urllib.request
url = "http://127.0.0.1:%s/api/v1/query?query=" % sys.argv[1] + urllib.parse.quote(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(opener.open(url, timeout=5).read().decode())
"""


def _promql(lab: Any, port: int, query: str) -> list[dict[str, Any]]:
    r = lab.client_exec([sys.executable, "-c", QUERY, str(port), query], timeout=15)
    if r.returncode != 0:
        return []
    doc = json.loads(r.stdout)
    assert doc["status"] == "success", doc
    result: list[dict[str, Any]] = doc["data"]["result"]
    return result


@pytest.mark.parametrize("name", ["tls-unknown-authority", "registry-unauthorized",
                                  "dns-nxdomain"])
def test_dockerd_failure_is_stored_and_diagnosed_while_the_fault_is_there(
        name: str, lab: Any, tmp_path: Path) -> None:
    from pulldoctor.lab.clients import DockerClient

    sc = SCENARIOS[name]
    sc.build(lab)
    _debug_daemon(lab)
    docker = DockerClient()
    docker.start(lab)
    log, db = docker.work / "dockerd.log", tmp_path / "h.db"
    metrics_port, prom_port = 19890, 19090
    watch = _start_watch(lab, log, db, "--listen", f"127.0.0.1:{metrics_port}")
    prom = None
    try:
        _wait(lambda: "watching" in _watch_log(lab), 20, "the watcher to start")
        if name == "tls-unknown-authority":  # one Prometheus run is enough for the suite
            cfg = tmp_path / "prometheus.yml"
            cfg.write_text(PROMETHEUS_CONFIG.format(port=metrics_port))
            prom = lab.client_spawn(["prometheus", f"--config.file={cfg}",
                                     f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                     f"--web.listen-address=127.0.0.1:{prom_port}"],
                                    log_name="prometheus")
        result = docker.pull(sc.image, timeout=60)
        assert result.rc not in (0, None), result.output_text
        failures = _wait(lambda: _rows(db, "SELECT * FROM failures"), 15,
                         f"the failure in the history; watch said:\n{_watch_log(lab)}")
        (failure,) = failures  # dockerd's several lines about one pull are one failure
        assert failure["cause"] == str(sc.code), failure
        assert failure["image"] == parse_reference(sc.image).familiar
        assert failure["image_inferred"] == 1 and failure["source"] == "file"
        diag = _wait(lambda: _rows(db, "SELECT * FROM diagnoses"), 20,
                     f"the capture diagnosis; watch said:\n{_watch_log(lab)}")[0]
        # diagnosed from the same client while the lab's fault is still in place
        assert diag["started"] - failure["first_seen"] < CAPTURE_WITHIN_S, (diag, failure)
        assert diag["outcome"] == "confirmed", (diag["outcome"], diag["cause"])
        report = json.loads(diag["report"])
        assert report["command"] == "diagnose" and report["causes"][0]["code"] == str(sc.code)
        shown = lab.client_exec([sys.executable, "-m", "pulldoctor", "history", "show",
                                 str(failure["id"]), "--db", str(db)], timeout=30)
        assert str(sc.code) in shown.stdout and "captured by pulldoctor watch" in shown.stdout
        if prom is not None:
            got = _wait(lambda: _promql(lab, prom_port,
                                        "sum by (cause) (pulldoctor_pull_failures_total)"),
                        40, "Prometheus to scrape the watcher")
            assert [(g["metric"]["cause"], float(g["value"][1])) for g in got] == \
                [(str(sc.code), 1.0)]
            diag_series = _wait(lambda: _promql(
                lab, prom_port, 'pulldoctor_diagnoses_total{outcome="confirmed"}'), 20,
                "the diagnosis counter")
            assert diag_series[0]["metric"]["cause"] == str(sc.code)
            up = _promql(lab, prom_port, 'up{job="pulldoctor"}')
            assert up and up[0]["value"][1] == "1"
    finally:
        if prom is not None:
            lab.procs.stop(prom.pid)
        lab.procs.stop(watch.pid)
        docker.stop()
    assert "Traceback" not in _watch_log(lab)


def test_ctr_failure_followed_in_a_job_log_is_diagnosed(lab: Any, tmp_path: Path) -> None:
    from pulldoctor.lab.clients import ContainerdClient

    sc = SCENARIOS["tls-unknown-authority"]
    sc.build(lab)
    ctr = ContainerdClient()
    ctr.start(lab)
    log, db = tmp_path / "job.log", tmp_path / "h.db"
    log.write_text("")
    watch = _start_watch(lab, log, db)
    try:
        _wait(lambda: "watching" in _watch_log(lab), 20, "the watcher to start")
        argv = ctr.pull_argv(sc.image)
        r = lab.client_exec(["/bin/sh", "-c", f'exec "$0" "$@" >>{log} 2>&1', *argv], timeout=60)
        assert r.returncode != 0
        (failure,) = _wait(lambda: _rows(db, "SELECT * FROM failures"), 15,
                           f"the failure; watch said:\n{_watch_log(lab)}")
        assert failure["cause"] == str(sc.code)
        assert failure["image"] == "registry.lab.test/lab/hello:latest"
        assert failure["image_inferred"] == 0
        diag = _wait(lambda: _rows(db, "SELECT * FROM diagnoses"), 20,
                     f"the diagnosis; watch said:\n{_watch_log(lab)}")[0]
        assert diag["outcome"] == "confirmed"
        assert json.loads(diag["report"])["facts"]["runtime"] == "containerd"
    finally:
        lab.procs.stop(watch.pid)
        ctr.stop()


@pytest.mark.slow
def test_diagnosis_lands_before_docker_gives_up(lab: Any, tmp_path: Path) -> None:
    """dockerd retries a CDN lookup whose UDP packets are dropped for ~50 s; its first retry line
    comes after ~20 s and the diagnosis must be stored before docker's pull has even ended."""
    import threading

    from pulldoctor.lab.clients import DockerClient

    sc = SCENARIOS["dns-udp-timeout-cdn"]
    sc.build(lab)
    _debug_daemon(lab)
    docker = DockerClient()
    docker.start(lab)
    db = tmp_path / "h.db"
    watch = _start_watch(lab, docker.work / "dockerd.log", db)
    done: list[float] = []
    try:
        _wait(lambda: "watching" in _watch_log(lab), 20, "the watcher to start")
        pull = threading.Thread(target=lambda: (docker.pull(sc.image, timeout=90),
                                                done.append(time.time())))
        pull.start()
        diag = _wait(lambda: _rows(db, "SELECT * FROM diagnoses"), 80,
                     f"the diagnosis; watch said:\n{_watch_log(lab)}")[0]
        stored_at = time.time()
        pull.join(100)
        assert done and stored_at < done[0], "docker had already given up"
        assert diag["outcome"] == "confirmed" and diag["cause"] == "dns.udp_timeout"
    finally:
        lab.procs.stop(watch.pid)
        docker.stop()
