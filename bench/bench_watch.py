"""Benchmark ``pulldoctor watch``: throughput on one core, CPU while idle, memory over a long run.

All parts pin the watcher to one CPU (``sched_setaffinity``) and run with ``--diagnose off``
(a capture probes registries; that is not what is measured here, and this machine must not
reach outside). The traffic is bench_scan's journal-style kubelet/containerd/dockerd chatter,
about 6% of it pull-related ("Pulling image", "Successfully pulled"), so the prefilter and the
image-context search really work.

* ``catchup``: a pre-written file read from its start (``--from-start``); lines per CPU second,
  and grep counting a fixed string over the same file in the same run, for a ratio.
* ``journal``: the same lines as ``journalctl -o json`` entries (the recorded field set of
  tests/fixtures/journalctl_json.json), produced by a stand-in ``journalctl`` on PATH (a shell
  script that cats them: no real journal is involved in this part).
* ``live``: a writer appends at a fixed rate (default 20,000 lines/s) while the watcher follows;
  the watcher's CPU share of one core, and whether it has read every line within 2 s of the end.
* ``idle``: a file nobody writes and a ``journalctl`` that prints nothing, for 30 s: CPU share.
* ``long``: the live writer for minutes, with one failure (a new image each time) every 2,000
  lines; the watcher's RSS sampled every 5 s: first sample after warm-up vs the last.

    python3 bench/bench_watch.py                    # every part (~4 min)
    python3 bench/bench_watch.py --part live --rate 50000

Each part is run once (the long one lasts minutes); the result goes to ``bench/out/watch.json``
(``--out``) for ``bench/readme_table.py``: only the catch-up has a like-for-like tool (grep on the
same file), the other figures are absolute (CPU share, RSS) and are saved as such.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_scan import FAILURES, HOSTS, NOISE, _fill
from results import Run

CPU = 0
TICK = os.sysconf("SC_CLK_TCK")


def _pool(rnd: random.Random, n: int = 20000) -> list[str]:
    weights = [6 if "ull" not in tmpl else 2 for tmpl in NOISE]
    out = []
    for i in range(n):
        t = f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        out.append(f"Nov 29 {t} {rnd.choice(HOSTS)} " + _fill(rnd.choices(NOISE, weights)[0], rnd, t))
    return out


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pin() -> None:
    os.sched_setaffinity(0, {CPU})


def _watch(args: list[str], work: Path, env: dict[str, str] | None = None
           ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "pulldoctor", "watch", "--diagnose", "off",
                             "--db", str(work / "h.db"), *args], stdout=subprocess.DEVNULL,
                            stderr=open(work / "watch.err", "ab"), preexec_fn=_pin,
                            env=env)


def _lines_read(port: int) -> float:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    text = opener.open(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines()
               if ln.startswith("pulldoctor_watch_lines_read_total{"))


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"watch exited with {proc.returncode}")
        try:
            _lines_read(port)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("watch did not start")


def _run_to_exit(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """(wall s, CPU s) of a child that exits by itself."""
    t0 = time.perf_counter()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def part_catchup(work: Path, lines: int) -> dict[str, object]:
    rnd = random.Random(7)
    pool = _pool(rnd)
    log = work / "catchup.log"
    with open(log, "w") as f:
        for i in range(0, lines, 10000):
            f.write("\n".join(rnd.choices(pool, k=min(10000, lines - i))) + "\n")
    size = log.stat().st_size
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    idle = 1.0
    wall, cpu = _run_to_exit(_watch(["--file", str(log), "--from-start", "--exit-idle",
                                     str(idle)], work))
    g0 = time.perf_counter()
    subprocess.run(["grep", "-c", "-F", "ailed to pull", str(log)], stdout=subprocess.DEVNULL,
                   preexec_fn=_pin)
    grep_s = time.perf_counter() - g0
    busy = max(0.001, wall - idle)
    return {"lines": lines, "MB": round(size / 1e6), "watch_wall_s": round(busy, 2),
            "watch_cpu_s": round(cpu, 2), "lines_per_cpu_s": round(lines / cpu),
            "grep_s": round(grep_s, 2), "watch_vs_grep": round(busy / grep_s, 1)}


JOURNAL_FIELDS = ("_TRANSPORT", "_UID", "_GID", "_COMM", "_EXE", "_CMDLINE", "_CAP_EFFECTIVE",
                  "_SYSTEMD_CGROUP", "_SYSTEMD_UNIT", "_SYSTEMD_SLICE", "_BOOT_ID", "_MACHINE_ID",
                  "_HOSTNAME", "_RUNTIME_SCOPE", "PRIORITY", "SYSLOG_FACILITY", "_STREAM_ID")


def _fake_journalctl(bindir: Path, jsonl: Path | None) -> None:
    bindir.mkdir(exist_ok=True)
    script = bindir / "journalctl"
    body = f"cat {jsonl}\n" if jsonl else ""
    script.write_text(f"#!/bin/sh\n# stand-in for journalctl -f -o json (benchmark only)\n{body}"
                      "exec sleep 3600\n")
    script.chmod(0o755)


def part_journal(work: Path, lines: int) -> dict[str, object]:
    rnd = random.Random(8)
    pool = _pool(rnd)
    jsonl = work / "journal.jsonl"
    base = {k: "x" * rnd.randint(4, 40) for k in JOURNAL_FIELDS}
    base["_SYSTEMD_UNIT"] = "containerd.service"
    with open(jsonl, "w") as f:
        t = 1796485000000000
        for i in range(lines):
            entry = {"__CURSOR": f"s=0f;i={i:x};b=5a;m={i:x};t={t + i:x};x=aa",
                     "__REALTIME_TIMESTAMP": str(t + i), "__MONOTONIC_TIMESTAMP": str(i),
                     **base, "MESSAGE": rnd.choice(pool).split(": ", 1)[1],
                     "SYSLOG_IDENTIFIER": "containerd", "_PID": str(rnd.randint(300, 9000))}
            f.write(json.dumps(entry, separators=(",", ":")) + "\n")
    size = jsonl.stat().st_size
    _fake_journalctl(work / "bin", jsonl)
    env = {**os.environ, "PATH": f"{work / 'bin'}:{os.environ['PATH']}"}
    idle = 1.0
    wall, cpu = _run_to_exit(_watch(["--journal", "--exit-idle", str(idle)], work, env))
    return {"entries": lines, "MB": round(size / 1e6), "watch_wall_s": round(wall - idle, 2),
            "watch_cpu_s": round(cpu, 2), "entries_per_cpu_s": round(lines / cpu),
            "note": "cpu includes the stand-in journalctl (cat), not a real journal"}


def _writer(log: Path, rate: int, seconds: float, fail_every: int, pool: list[str]) -> int:
    """Append ``rate`` lines/s for ``seconds`` in 50 ms steps; returns lines written."""
    rnd = random.Random(9)
    step, n, i = 0.05, 0, 0
    per = max(1, int(rate * step))
    t0 = time.monotonic()
    with open(log, "a", buffering=1024 * 1024) as f:
        while time.monotonic() - t0 < seconds:
            chunk = rnd.choices(pool, k=per)
            if fail_every:
                for j in range(per):
                    if (n + j) % fail_every == 0:
                        tmpl = FAILURES[i % len(FAILURES)][1]
                        chunk[j] = "Nov 29 10:00:00 n " + tmpl.format(
                            pid=300, t="10:00:00", us=100000, n=7, hex=f"{i:016x}",
                            img=f"registry.bench.example/app{i}:1")  # a new image each time
                        i += 1
            f.write("\n".join(chunk) + "\n")
            f.flush()
            n += per
            wait = t0 + (n / rate) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    return n


def part_live(work: Path, rate: int, seconds: float, port: int) -> dict[str, object]:
    pool = _pool(random.Random(10))
    log = work / "live.log"
    log.write_text("")
    w = _watch(["--file", str(log), "--listen", f"127.0.0.1:{port}"], work)
    try:
        _wait_port(port, w)
        c0, t0 = _cpu_s(w.pid), time.monotonic()
        n = _writer(log, rate, seconds, 0, pool)
        wrote_s = time.monotonic() - t0
        deadline = time.monotonic() + 2.0
        read = _lines_read(port)
        while read < n and time.monotonic() < deadline:
            time.sleep(0.05)
            read = _lines_read(port)
        cpu = _cpu_s(w.pid) - c0
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(30)
    return {"rate_lines_s": rate, "seconds": round(wrote_s, 1), "lines": n,
            "read_within_2s_of_end": read >= n, "lines_read": int(read),
            "watch_cpu_share_of_one_core": round(cpu / wrote_s, 3)}


def part_idle(work: Path, seconds: float, port: int) -> dict[str, object]:
    log = work / "idle.log"
    log.write_text("")
    _fake_journalctl(work / "idlebin", None)
    env = {**os.environ, "PATH": f"{work / 'idlebin'}:{os.environ['PATH']}"}
    w = _watch(["--file", str(log), "--journal", "--listen", f"127.0.0.1:{port}"], work, env)
    try:
        _wait_port(port, w)
        time.sleep(2)
        c0 = _cpu_s(w.pid)
        time.sleep(seconds)
        cpu = _cpu_s(w.pid) - c0
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(30)
    return {"seconds": seconds, "cpu_s": round(cpu, 3),
            "cpu_share_of_one_core": round(cpu / seconds, 4)}


def part_long(work: Path, rate: int, seconds: float, port: int) -> dict[str, object]:
    pool = _pool(random.Random(11))
    log = work / "long.log"
    log.write_text("")
    w = _watch(["--file", str(log), "--listen", f"127.0.0.1:{port}"], work)
    samples: list[float] = []
    try:
        _wait_port(port, w)
        import threading

        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(5.0):
                samples.append(round(_rss_mib(w.pid), 1))

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        n = _writer(log, rate, seconds, 2000, pool)
        stop.set()
        th.join(6)
        time.sleep(1.0)
        read = _lines_read(port)
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(30)
    import sqlite3

    con = sqlite3.connect(work / "h.db")
    stored = con.execute("SELECT count(*) FROM failures WHERE source_id LIKE '%long.log'"
                         ).fetchone()[0]
    con.close()
    warm = samples[2] if len(samples) > 3 else (samples[0] if samples else 0.0)
    return {"rate_lines_s": rate, "seconds": seconds, "lines": n, "lines_read": int(read),
            "failures_stored": stored, "rss_mib_after_15s": warm,
            "rss_mib_at_end": samples[-1] if samples else None,
            "rss_mib_max": max(samples) if samples else None, "samples": samples}


def _row(run: Run, part: str, r: dict[str, Any]) -> None:
    """The saved row of one part; only the catch-up has a like-for-like tool (a ratio)."""
    absolute = {"ratio": None, "ratio_means": "absolute (no like-for-like tool)", "correct": None}
    if part == "catchup":
        row = {"what": "watch catch-up of a log file on one core",
               "compared": (f"`pulldoctor watch --file F --from-start` over {r['lines']:,} "
                            f"journal-style lines ({r['MB']} MB), pinned to one CPU, vs "
                            "`grep -c -F` over the same file (cheapest pass over it)"),
               "ratio": r["watch_vs_grep"], "ratio_means": "watch wall time / grep wall time",
               "correct": None,
               "figure": (f"{r['lines_per_cpu_s']:,} lines per CPU-second ({r['watch_wall_s']} s "
                          f"wall; grep {r['grep_s']} s: {r['watch_vs_grep']}× grep's time; n=1)")}
    elif part == "journal":
        row = {"what": "watch reading journalctl JSON on one core", **absolute,
               "compared": (f"`pulldoctor watch --journal` over {r['entries']:,} `journalctl -o "
                            "json` entries from a stand-in journalctl (cat), CPU time"),
               "figure": f"{r['entries_per_cpu_s']:,} entries per CPU-second (n=1)"}
    elif part == "live":
        row = {"what": "watch following a live log", **absolute,
               "compared": (f"watch's CPU share of one core while a writer appends "
                            f"{r['rate_lines_s']:,} lines/s for {r['seconds']} s"),
               "figure": (f"{100 * r['watch_cpu_share_of_one_core']:.1f}% of one core; every "
                          f"line read within 2 s of the end: {r['read_within_2s_of_end']} (n=1)")}
    elif part == "idle":
        row = {"what": "watch idle", **absolute,
               "compared": f"a file nobody writes and an empty journal for {r['seconds']:.0f} s",
               "figure": f"{100 * r['cpu_share_of_one_core']:.2f}% of one core (n=1)"}
    else:
        row = {"what": "watch memory over a long run", **absolute,
               "compared": (f"{r['seconds']:.0f} s at {r['rate_lines_s']:,} lines/s with a new "
                            f"failure every 2,000 lines ({r['lines']:,} lines, "
                            f"{r['failures_stored']:,} failures stored); RSS sampled every 5 s"),
               "figure": (f"RSS {r['rss_mib_after_15s']} MiB after 15 s, max "
                          f"{r['rss_mib_max']} MiB, {r['rss_mib_at_end']} MiB at the end (n=1)")}
    run.add({**row, "part": part, "detail": r})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", action="append",
                    choices=["catchup", "journal", "live", "idle", "long"])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rate", type=int, default=20_000)
    ap.add_argument("--live-seconds", type=float, default=20.0)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--long-seconds", type=float, default=120.0)
    ap.add_argument("--out", type=Path, help="result file (default bench/out/watch.json)")
    args = ap.parse_args()
    parts = args.part or ["catchup", "journal", "live", "idle", "long"]
    if shutil.which("grep") is None:
        print("grep not found", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="pulldoctor-bench-watch-"))
    run = Run("watch")
    try:
        results: dict[str, Any] = {"cpu": f"pinned to CPU {CPU}", "python": sys.version.split()[0]}
        port = 19700 + os.getpid() % 200
        for p in parts:
            for f in work.glob("h.db*"):
                f.unlink()
            if p == "catchup":
                results[p] = part_catchup(work, args.lines)
            elif p == "journal":
                results[p] = part_journal(work, args.lines // 2)
            elif p == "live":
                results[p] = part_live(work, args.rate, args.live_seconds, port)
            elif p == "idle":
                results[p] = part_idle(work, args.idle_seconds, port + 1)
            elif p == "long":
                results[p] = part_long(work, args.rate, args.long_seconds, port + 2)
            print(json.dumps({p: results[p]}), flush=True)
            _row(run, p, results[p])
        print(f"saved {run.save(args.out)}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
