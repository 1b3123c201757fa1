"""Benchmark lab setup + teardown: the bare topology against plain iproute2, and every scenario.

Why: every lab test and every ``pulldoctor lab run`` pays for a build and a teardown, so they must
stay fast. The topology is compared, in the same run, with the cheapest possible equivalent (one
shell script calling ``ip`` for the same 7 namespaces, 6 veth pairs and addresses, then deleting
them), reported as a ratio so the number means something on any machine. Scenarios are reported as
the median of ``--reps`` builds (services, image push, faults) plus teardown: absolute seconds,
with no like-for-like tool to compare with, so they are saved apart from the ratio (``extra`` in
``bench/out/lab_setup.json``), not as a row of the ratio table.

    sudo python bench/bench_lab_setup.py               # topology + every scenario, 3 reps
    sudo python bench/bench_lab_setup.py --reps 5 --scenario healthy --scenario net-mtu-blackhole
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Run, fmt_s, spread

ROLES = ("client", "router", "registry", "cdn", "dns", "proxy", "auth")


def _baseline_script(tag: str) -> str:
    ns = [f"pb-{tag}-{r}" for r in ROLES]
    lines = [f"ip netns add {n}" for n in ns]
    router = f"pb-{tag}-router"
    for i, role in enumerate(r for r in ROLES if r != "router"):
        n = f"pb-{tag}-{role}"
        lines += [f"ip link add eth0 netns {n} type veth peer name r-{role} netns {router}",
                  f"ip -n {n} addr add 198.18.{i + 1}.2/24 dev eth0",
                  f"ip -n {n} link set eth0 up", f"ip -n {n} link set lo up",
                  f"ip -n {router} addr add 198.18.{i + 1}.1/24 dev r-{role}",
                  f"ip -n {router} link set r-{role} up"]
    lines += [f"ip netns delete {n}" for n in ns]
    return "set -e\n" + "\n".join(lines) + "\n"


def _time(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench_topology(reps: int) -> dict[str, object]:
    from pulldoctor.lab.topology import Lab

    def lab_once() -> None:
        Lab(prefix="b").close()

    def baseline_once() -> None:
        subprocess.run(["sh", "-c", _baseline_script(secrets.token_hex(3))], check=True,
                       timeout=60)

    lab_t = [_time(lab_once) for _ in range(reps)]
    base_t = [_time(baseline_once) for _ in range(reps)]
    lab_m, base_m = statistics.median(lab_t), statistics.median(base_t)
    return {"lab_median_s": round(lab_m, 4), "iproute2_median_s": round(base_m, 4),
            "ratio": round(lab_m / base_m, 2), "lab_s": [round(x, 4) for x in lab_t],
            "iproute2_s": [round(x, 4) for x in base_t]}


def bench_scenario(name: str, reps: int) -> dict[str, object]:
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    builds, totals = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        with Lab(prefix="b") as lab:
            SCENARIOS[name].build(lab)
            builds.append(time.perf_counter() - t0)
        totals.append(time.perf_counter() - t0)
    return {"build_median_s": round(statistics.median(builds), 3),
            "build_plus_teardown_median_s": round(statistics.median(totals), 3),
            "build_plus_teardown_s": [round(x, 3) for x in totals]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scenario", action="append", help="only these scenarios (repeatable)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, help="result file (default bench/out/lab_setup.json)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_lab_setup: needs root", file=sys.stderr)
        return 2
    from pulldoctor.lab.scenarios import SCENARIOS

    run = Run("lab_setup", root=True, echo=sys.stderr if args.json else None)
    result: dict[str, Any] = {"topology": bench_topology(max(args.reps, 5)), "scenarios": {}}
    for name in args.scenario or list(SCENARIOS):
        result["scenarios"][name] = bench_scenario(name, args.reps)
    _save(run, result, args.out)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    topo = result["topology"]
    print(f"topology setup+teardown: lab {topo['lab_median_s']:.3f}s, plain iproute2 "
          f"{topo['iproute2_median_s']:.3f}s, ratio {topo['ratio']:.2f}")
    print(f"{'scenario':28} {'build':>8} {'build+teardown':>15}   (median of {args.reps})")
    for name, r in result["scenarios"].items():
        print(f"{name:28} {r['build_median_s']:>7.2f}s {r['build_plus_teardown_median_s']:>14.2f}s")
    return 0


def _save(run: Run, result: dict[str, Any], out: Path | None) -> None:
    """The topology ratio is the one row; the scenarios' absolute seconds go to ``extra``."""
    topo = result["topology"]
    lab_t, base_t = topo["lab_s"], topo["iproute2_s"]
    run.add({"what": "lab topology build + teardown (7 namespaces, 6 veth pairs, addresses)",
             "compared": ("pulldoctor's Lab() built and closed vs a plain shell script of `ip "
                          "netns add` / `ip link add ... veth` / `ip addr add` / `ip netns delete` "
                          "for the same namespaces, veths and addresses, same run"),
             "ratio": topo["ratio"], "ratio_means": "lab time / iproute2 script time (below 1: the lab is quicker)",
             "correct": None,
             "figure": (f"lab {fmt_s(lab_t, 3)} vs iproute2 script {fmt_s(base_t, 3)}: "
                        f"{topo['ratio']}× the script's time (the lab batches its `ip` calls)")})
    scen = result["scenarios"]
    medians = [float(r["build_plus_teardown_median_s"]) for r in scen.values()]
    run.extra = {"scenarios": scen, "absolute_note": (
        "scenario build (services, image push, faults) + teardown, median per scenario: absolute "
        "seconds, no like-for-like tool")}
    if medians:
        run.extra["scenario_medians_spread"] = spread(medians)
    print(f"saved {run.save(out)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
