"""Print the differential matrix for the README: every lab scenario x every real client.

Runs the matrix test (``tests/lab/test_lab_matrix.py``: each cell's client live or from the
recording, ``pulldoctor diagnose`` live as the client in the same lab) with pytest-xdist, has every
cell write its evidence, measures the run's wall time, and prints Markdown: per client the cells
(live / recorded), how many agree, and time to diagnose's verdict against the client's time to
its error; then every disagreeing cell with why.

    sudo python3 bench/matrix.py                 # run the matrix (-n 2), then print
    sudo python3 bench/matrix.py --from DIR      # print from the evidence of an earlier run

Re-record the clients' slow runs first when scenarios changed: ``sudo pulldoctor lab capture
--workers 2`` (it writes tests/fixtures/lab_capture.json).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pulldoctor.lab import matrix

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source", type=Path,
                        help="a directory of cell evidence (PULLDOCTOR_MATRIX_RECORD) to print")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (-n)")
    args = parser.parse_args(argv)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
