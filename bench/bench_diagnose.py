"""Benchmark ``pulldoctor diagnose`` against the real clients, in the same lab and the same run.

Why ratios: absolute seconds depend on the machine; "diagnose names the cause 30x sooner than
docker reaches its error" does not. Three parts (root needed: everything runs inside the lab's
network namespaces; run it through ``/work/tools/heavy`` on the shared machine):

(a) ``rootcause``: every DNS, TCP and stall scenario of the lab catalogue (``pulldoctor lab list
    --json``; the expected cause is the scenario's ``code``, see ``rootcause.py`` for which codes
    count). In one lab per scenario, ``--reps`` times, alternating: ``diagnose --runtime docker``
    then a real ``docker pull`` (a fresh dockerd 20.10 each time, its default retries), then
    ``diagnose --runtime podman`` then ``skopeo copy`` with skopeo's defaults (``--retry-times``
    defaults to 0 in skopeo 1.9). Each row: the medians and spread, the speed-up, whether diagnose
    named the expected cause in every run (a wrong or missing cause fails the row, no speed is
    given), and issue 9's goal (10x sooner on DNS and TCP faults; within the deadline on stalls).
(b) ``healthy``: on a working pull, diagnose's verdict ("no problem", exit 0) vs ``skopeo inspect
    --config`` (one manifest and one config fetch), and the import time of the diagnose command.
(c) ``layers``: ``diagnose --layers`` vs ``curl | sha256sum`` and ``skopeo copy ... dir:`` on the
    same blob of the same lab registry, as throughput relative to the lab link's line rate
    (``curl -o /dev/null`` of that blob, same run); see ``diagnose_layers.py``.

    sudo python3 bench/bench_diagnose.py --part rootcause --reps 3     # writes bench/out/
    sudo python3 bench/bench_diagnose.py --part rootcause --scenario net-tcp-drop --reps 1
    sudo python3 bench/bench_diagnose.py --part healthy --reps 9
    sudo python3 bench/bench_diagnose.py --part layers --blob-mb 1024 --reps 3
    sudo python3 bench/bench_diagnose.py --part healthy --baseline-src /tmp/base/src

``--baseline-src`` (rootcause, healthy) times a second copy of pulldoctor (e.g. ``git archive HEAD
src | tar -x -C /tmp/base``) beside this one in the same lab and run. ``--strict`` exits 1 when
any row failed (wrong cause, client that pulled) or missed its goal. Results go to
``bench/out/diagnose_<part>.json`` (``bench/readme_table.py`` builds the README table from them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rootcause as rc
from results import Run, fmt_s

PY = sys.executable
BOUND_S = 180.0
"""Bound of one client pull: docker's retries of a config blob behind a TCP blackhole take
~154 s (insecure-cdn-tcp-drop), so anything past 180 s is a hang."""


def catalogue() -> list[dict[str, Any]]:
    """The lab catalogue as ``pulldoctor lab list --json`` prints it (the expected causes)."""
    out = subprocess.run([PY, "-m", "pulldoctor", "lab", "list", "--json"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    doc: list[dict[str, Any]] = json.loads(out)
    return doc


def diagnose(lab: Any, image: str, runtime: str, extra: tuple[str, ...] = (),
             src: str | None = None) -> rc.DiagRun:
    """``diagnose IMAGE --json --runtime R`` as the lab's client (its default deadline)."""
    env = {"PYTHONPATH": src} if src else None
    t0 = time.monotonic()
    r = lab.client_exec([PY, "-m", "pulldoctor", "diagnose", image, "--json", "--runtime",
                         runtime, *extra], timeout=120, env=env)
    return rc.DiagRun.from_report(r.returncode, time.monotonic() - t0, r.stdout, r.stderr)


def docker_pull(lab: Any, image: str, bound: float) -> rc.ClientRun:
    """A real ``docker pull`` through a dockerd started for this pull (its start not timed)."""
    from pulldoctor.lab.clients import make_client

    dc = make_client("docker")
    try:
        dc.start(lab)
        res = dc.pull(image, timeout=bound)
    finally:
        dc.stop()
    return rc.ClientRun(not res.ok, res.duration_s, res.timed_out, res.error_text)


def skopeo_copy(lab: Any, image: str, bound: float) -> rc.ClientRun:
    """``skopeo copy docker://IMAGE oci:DIR`` with skopeo's defaults, as the lab's client."""
    from pulldoctor.lab.procs import TIMEOUT_RC

    dest = lab.data_dir / "skopeo-bench"
    dest.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    r = lab.client_exec(["skopeo", "copy", f"docker://{image}", f"oci:{dest}/image:pulled"],
                        timeout=bound)
    took = time.monotonic() - t0
    timed_out = r.returncode == TIMEOUT_RC and took >= bound * 0.98
    return rc.ClientRun(r.returncode != 0, took, timed_out, (r.stderr or "").strip()[-300:])


def part_rootcause(run: Run, names: list[str] | None, reps: int, bound: float,
                   clients: list[str], baseline: str | None) -> list[dict[str, Any]]:
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    chosen = rc.select(catalogue())
    if names:
        unknown = set(names) - {s["name"] for s in chosen}
        if unknown:
            raise SystemExit(f"not a DNS/TCP/stall scenario of the catalogue: {sorted(unknown)}")
        chosen = [s for s in chosen if s["name"] in names]
    rows = []
    for sc in chosen:
        pairs: dict[str, list[rc.Pair]] = {c: [] for c in clients if c in sc["clients"]}
        with Lab(prefix="b") as lab:
            SCENARIOS[sc["name"]].build(lab)
            for _ in range(reps):
                for client, got in pairs.items():
                    rt = rc.RUNTIME[client]
                    d = diagnose(lab, SCENARIOS[sc["name"]].image, rt)
                    base = (diagnose(lab, SCENARIOS[sc["name"]].image, rt, src=baseline)
                            if baseline else None)
                    pull = docker_pull if client == "docker" else skopeo_copy
                    c = pull(lab, SCENARIOS[sc["name"]].image, bound)
                    got.append(rc.Pair(d, c, {"baseline": base} if base else {}))
        for client, got in pairs.items():
            row = rc.judge(sc["name"], sc["kind"], client, sc["expect"].get(client), got, bound)
            if baseline:
                b = [p.extra["baseline"] for p in got]
                row["baseline"] = {"wall_s": [round(x.wall_s, 3) for x in b],
                                   "tops": [x.top for x in b]}
            run.add(row)
            print(rc.time_line(row), flush=True)
            rows.append(row)
    return rows


def part_healthy(run: Run, reps: int, baseline: str | None) -> dict[str, Any]:
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS["healthy"]
    d_runs, b_runs, s_times, s_rcs = [], [], [], []
    with Lab(prefix="b") as lab:
        sc.build(lab)
        for _ in range(reps):
            d_runs.append(diagnose(lab, sc.image, "docker"))
            if baseline:
                b_runs.append(diagnose(lab, sc.image, "docker", src=baseline))
            t0 = time.monotonic()
            r = lab.client_exec(["skopeo", "inspect", "--config", f"docker://{sc.image}"],
                                timeout=60)
            s_times.append(time.monotonic() - t0)
            s_rcs.append(r.returncode)
    imp = subprocess.run([PY, "-X", "importtime", "-c", "import pulldoctor.cli.diagnose_cmd"],
                         capture_output=True, text=True, timeout=60)
    # "import time: self [us] | cumulative | name"; top-level imports have no indent in name
    top = [int(m.group(1)) for m in
           re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)", imp.stderr)]
    wrong = [f"{d.top or 'no cause'} (exit {d.rc})" for d in d_runs if d.rc != 0 or d.causes]
    d_med = statistics.median(d.wall_s for d in d_runs)
    s_med = statistics.median(s_times)
    ok = not wrong and not any(s_rcs)
    row: dict[str, Any] = {
        "what": "healthy pull: diagnose's verdict vs skopeo inspect --config",
        "compared": ("pulldoctor diagnose --runtime docker (every step of the pull walked: DNS, "
                     "TCP, TLS, ping, token, manifest, config, host checks; process wall time) vs "
                     "skopeo inspect --config (manifest + config fetch only), healthy lab, "
                     "alternating"),
        "correct": ok, "diagnose_wall_s": [round(d.wall_s, 3) for d in d_runs],
        "skopeo_s": [round(s, 3) for s in s_times], "skopeo_rcs": s_rcs,
        "breakdown": rc.breakdown(d_runs, top=5),
        "import_diagnose_cmd_ms": round(sum(top) / 1000, 1),
        "ratio": round(d_med / s_med, 2) if ok else None,
        "ratio_means": "diagnose time / skopeo inspect time (× slower: diagnose walks more)",
        "figure": (f"diagnose {fmt_s(d.wall_s for d in d_runs)} vs skopeo inspect --config "
                   f"{fmt_s(s_times)}: {d_med / s_med:.1f}× slower (walks every step)"
                   if ok else f"FAILED: diagnose said {wrong} on a healthy pull; skopeo rc "
                   f"{s_rcs}")}
    if b_runs:
        row["baseline_wall_s"] = [round(b.wall_s, 3) for b in b_runs]
    run.add(row)
    print(f"{rc.time_line(row)}; importing the diagnose command "
          f"{row['import_diagnose_cmd_ms']:.0f} ms", flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", action="append", choices=["rootcause", "healthy", "layers"],
                    help="default: all three")
    ap.add_argument("--scenario", action="append", help="(rootcause) only these scenarios")
    ap.add_argument("--client", action="append", choices=["docker", "skopeo"],
                    help="(rootcause) only these clients (default both)")
    ap.add_argument("--reps", type=int, default=3, help="runs of each measurement (median)")
    ap.add_argument("--bound", type=float, default=BOUND_S, help="(rootcause) client bound, s")
    ap.add_argument("--blob-mb", type=int, default=512, help="(layers) blob size")
    ap.add_argument("--out-dir", type=Path, help="where the JSON results go (default bench/out)")
    ap.add_argument("--baseline-src", metavar="DIR",
                    help="(rootcause, healthy) also time diagnose from this source tree")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when a row failed (wrong cause) or missed its goal")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_diagnose: needs root (network namespaces)", file=sys.stderr)
        return 2
    if args.reps < 1:
        print("bench_diagnose: --reps must be at least 1", file=sys.stderr)
        return 2
    failed = []
    for part in args.part or ["rootcause", "healthy", "layers"]:
        argv = [sys.argv[0], "--part", part, *_part_args(args, part)]
        run = Run(f"diagnose_{part}", root=True, argv=argv)
        if part == "rootcause":
            part_rootcause(run, args.scenario, args.reps, args.bound,
                           args.client or ["docker", "skopeo"], args.baseline_src)
        elif part == "healthy":
            part_healthy(run, args.reps, args.baseline_src)
        else:
            from diagnose_layers import part_layers

            part_layers(run, args.blob_mb, args.reps)
        path = run.save(args.out_dir / f"{run.bench}.json" if args.out_dir else None)
        print(f"saved {path}", flush=True)
        failed += [r["what"] for r in run.rows if r["correct"] is False or r.get("meets") is False]
    if failed:
        print(f"{len(failed)} row(s) failed or missed their goal:\n  " + "\n  ".join(failed))
    return 1 if args.strict and failed else 0


def _part_args(args: argparse.Namespace, part: str) -> list[str]:
    """The options that shaped this part's run, for the command its result records."""
    out = ["--reps", str(args.reps)]
    if part == "rootcause":
        for s in args.scenario or []:
            out += ["--scenario", s]
        for c in args.client or []:
            out += ["--client", c]
        if args.bound != BOUND_S:
            out += ["--bound", f"{args.bound:g}"]
    if part == "layers":
        out += ["--blob-mb", str(args.blob_mb)]
    if args.baseline_src and part != "layers":
        out += ["--baseline-src", args.baseline_src]
    return out


if __name__ == "__main__":
    raise SystemExit(main())
