"""Print the differential matrix for the README: every lab scenario x every real client.

Runs the matrix test (``tests/lab/test_lab_matrix.py``: each cell's client live or from the
recording, ``pulldoctor diagnose`` live as the client in the same lab) with pytest-xdist, has every
cell write its evidence, measures the run's wall time, and prints Markdown: per client the cells
(live / recorded), how many agree, and time to diagnose's verdict against the client's time to
its error; then every disagreeing cell with why.

    sudo python3 bench/matrix.py                 # run the matrix (-n 2), then print
    sudo python3 bench/matrix.py --from DIR      # print from the evidence of an earlier run

Re-record the clients' slow runs first when scenarios changed: ``sudo pulldoctor lab capture
--workers 2`` (it writes tests/fixtures/lab_capture.json). The result (one row per client, the
Markdown table and the disagreeing cells) goes to ``bench/out/matrix.json`` (``--out``) for
``bench/readme_table.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pulldoctor.lab import matrix

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Run

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", type=Path,
                        help="a directory of cell evidence (PULLDOCTOR_MATRIX_RECORD) to print")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (-n)")
    parser.add_argument("--out", type=Path, help="result file (default bench/out/matrix.json)")
    args = parser.parse_args(argv)
    run = Run("matrix", root=args.source is None,
              argv=None if argv is None else ["bench/matrix.py", *argv])
    wall = None
    if args.source is None:
        if os.geteuid() != 0:
            print("error: the matrix builds labs: run as root", file=sys.stderr)
            return 2
        args.source = Path(tempfile.mkdtemp(prefix="pd-matrix-"))
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", str(args.workers),
                            "-p", "no:cacheprovider", "tests/lab/test_lab_matrix.py"],
                           cwd=ROOT, env={**os.environ, "PULLDOCTOR_MATRIX_RECORD": str(args.source)},
                           capture_output=True, text=True, timeout=3600)
        wall = time.monotonic() - t0
        print(r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr[-500:],
              file=sys.stderr)
    results = matrix.read_results(args.source)
    if not results:
        print(f"error: no cell evidence in {args.source}", file=sys.stderr)
        return 1
    print(matrix.table(results))
    live = sum(r.client_run.live for r in results)
    print(f"{len(results)} cells, {live} with the client live, {len(results) - live} from the "
          f"recording; diagnose live in every cell"
          + (f"; wall time {wall / 60:.1f} min with -n {args.workers} (both matrix tests)"
             if wall else "") + ".\n")
    bad = matrix.disagreements(results)
    print("Cells where diagnose disagrees today:\n\n" + (bad or "- none\n"))
    for row in client_rows(results):
        run.add(row)
    run.extra = {"table_md": matrix.table(results), "disagreements_md": bad, "cells": len(results),
                 "live": live, "wall_min": round(wall / 60, 1) if wall else None,
                 "workers": args.workers, "from": None if wall else str(args.source)}
    print(f"saved {run.save(args.out)}")
    return 0


def client_rows(results: list[matrix.CellResult]) -> list[dict[str, object]]:
    """One saved row per client: agreement, and the speed-up on its slow failures."""
    rows: list[dict[str, object]] = []
    for client in ("docker", "containerd", "skopeo"):
        mine = [r for r in results if r.client == client]
        if not mine:
            continue
        agree = sum(r.agrees for r in mine)
        slow = [r for r in mine if r.client_run.failed
                and r.client_run.duration_s >= matrix.SLOW_FAILURE_S and r.agrees]
        ratios = [r.client_run.duration_s / max(r.diagnose.wall_s, 0.01) for r in slow]
        live = sum(r.client_run.live for r in mine)
        fig = f"{agree}/{len(mine)} cells agree ({live} with the client live)"
        if ratios:
            fig += (f"; on the {len(slow)} agreeing slow failures (client ≥ "
                    f"{matrix.SLOW_FAILURE_S:.0f} s) diagnose's verdict came "
                    f"{statistics.median(ratios):.1f}× sooner at the median (min "
                    f"{min(ratios):.1f}×)")
        rows.append({"what": f"differential matrix: {client}",
                     "compared": (f"every lab scenario {client} can run: the real client "
                                  "(live, or its recorded run when slow) vs pulldoctor diagnose "
                                  "--runtime <its runtime> live as the client in the same lab "
                                  f"(deadline {matrix.DEADLINE_S:.0f} s)"),
                     "ratio": round(statistics.median(ratios), 2) if ratios else None,
                     "ratio_means": "client time to error / diagnose time, median over the "
                                    "agreeing slow failures",
                     "correct": agree == len(mine), "cells": len(mine), "agree": agree,
                     "figure": fig})
    return rows


if __name__ == "__main__":
    sys.exit(main())
