"""``pulldoctor fleet merge`` of N reports vs ``jq -s length`` reading the same files (same run).

The reports are real ``diagnose --json`` output: one run against a closed port on loopback (nothing
leaves the machine) is the template for failing nodes, the same report with every step passed the
template for healthy ones; each copy gets its own node name, time and attributes (a third of the
failing nodes share one resolver, the rest vary). Both tools run as fresh processes, measured by
wall time and peak RSS (``wait4``), median of ``--reps``; the ratio is merge / jq. Memory is
measured at two sizes to show it stays flat while jq's grows with the input.

    python3 bench/bench_fleet_merge.py [--reports 5000] [--small 1000] [--reps 3]

The result goes to ``bench/out/fleet_merge.json`` (``--out``) for ``bench/readme_table.py``.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Run, fmt_s


def template() -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-m", "pulldoctor", "diagnose", "127.0.0.1:9/bench/app:1",
                        "--json", "--timeout", "3", "--runtime", "containerd"],
                       capture_output=True, text=True, timeout=60)
    doc: dict[str, Any] = json.loads(r.stdout)
    if not doc["causes"]:
        raise SystemExit("the template run found no cause; expected net.refused on 127.0.0.1:9")
    return doc


def healthy_of(doc: dict[str, Any]) -> dict[str, Any]:
    ok = copy.deepcopy(doc)
    ok["causes"] = []
    for s in ok["steps"]:
        s["outcome"] = "ok"
    return ok


def write_reports(d: Path, n: int, bad: dict[str, Any], good: dict[str, Any]) -> None:
    for i in range(n):
        doc = bad if i % 4 == 0 else good
        facts = doc["facts"]
        facts["node"] = f"node-{i:05d}"
        facts["observed_at"] = f"2026-11-29T10:{(i // 60) % 60:02d}:{i % 60:02d}Z"
        attrs = facts.setdefault("node_attrs", {})
        attrs["resolver"] = "10.0.9.9" if i % 12 == 0 else f"10.0.{i % 7}.53"
        attrs["subnet"] = f"10.{i % 250}.0.0/24"
        attrs["zone"] = f"zone-{'abc'[i % 3]}"
        (d / f"node-{i:05d}.json").write_text(json.dumps(doc, indent=2))


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process; its output is discarded."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen(argv, stdout=null, stderr=subprocess.PIPE)
        _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{argv[0]} failed ({code}): {err[-400:]}")
    return wall, usage.ru_maxrss


def measure(d: Path, n: int, reps: int) -> dict[str, Any]:
    files = sorted(str(p) for p in d.glob("*.json"))
    assert len(files) == n
    jq = [run(["jq", "-s", "length", *files]) for _ in range(reps)]
    pd = [run([sys.executable, "-m", "pulldoctor", "fleet", "merge", str(d), "--json"])
          for _ in range(reps)]
    return {"jq_s": statistics.median(w for w, _ in jq), "merge_s": statistics.median(w for w, _ in pd),
            "jq_rss_mib": max(r for _, r in jq) / 1024, "merge_rss_mib": max(r for _, r in pd) / 1024,
            "input_mib": sum(os.path.getsize(f) for f in files) / 2**20,
            "jq_all_s": [w for w, _ in jq], "merge_all_s": [w for w, _ in pd]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reports", type=int, default=5000)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, help="result file (default bench/out/fleet_merge.json)")
    a = ap.parse_args()
    if shutil.which("jq") is None:
        raise SystemExit("jq is not installed (apt-get install jq)")
    run = Run("fleet_merge")
    bad = template()
    good = healthy_of(bad)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pd-bench-fleet-") as tmp:
        for n in (a.small, a.reports):
            d = Path(tmp) / str(n)
            d.mkdir()
            write_reports(d, n, bad, good)
            m = measure(d, n, a.reps)
            rows.append((n, m))
            print(f"{n:6d} reports ({m['input_mib']:.1f} MiB): jq -s length {m['jq_s']:.2f} s "
                  f"({m['jq_rss_mib']:.0f} MiB peak) | fleet merge {m['merge_s']:.2f} s "
                  f"({m['merge_rss_mib']:.0f} MiB peak) | ratio {m['merge_s'] / m['jq_s']:.2f}x")
    (n_small, s), (n_big, b) = rows
    print(f"memory from {n_small} to {n_big} reports: fleet merge +{b['merge_rss_mib'] - s['merge_rss_mib']:.0f}"
          f" MiB, jq +{b['jq_rss_mib'] - s['jq_rss_mib']:.0f} MiB")
    ratio = b["merge_s"] / b["jq_s"]
    print(f"RESULT ratio={ratio:.2f} (target <= 3.0)")
    for n, m in rows:
        run.add({"what": f"fleet merge of {n:,} reports",
                 "compared": (f"`pulldoctor fleet merge DIR --json` vs `jq -s length` reading the "
                              f"same {n:,} real `diagnose --json` reports ({m['input_mib']:.1f} MiB), "
                              "fresh processes, wall time and peak RSS"),
                 "ratio": round(m["merge_s"] / m["jq_s"], 2), "ratio_means": "merge time / jq time",
                 "correct": None, "merge_s": m["merge_all_s"], "jq_s": m["jq_all_s"],
                 "merge_rss_mib": round(m["merge_rss_mib"], 1), "jq_rss_mib": round(m["jq_rss_mib"], 1),
                 "figure": (f"merge {fmt_s(m['merge_all_s'])} vs jq {fmt_s(m['jq_all_s'])}: "
                            f"{m['merge_s'] / m['jq_s']:.2f}× jq's time; peak RSS "
                            f"{m['merge_rss_mib']:.0f} MiB vs {m['jq_rss_mib']:.0f} MiB")})
    run.extra = {"rss_growth_mib": {
        "from": n_small, "to": n_big,
        "merge": round(b["merge_rss_mib"] - s["merge_rss_mib"], 1),
        "jq": round(b["jq_rss_mib"] - s["jq_rss_mib"], 1)}}
    print(f"saved {run.save(a.out)}")
    return 0 if ratio <= 3.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
