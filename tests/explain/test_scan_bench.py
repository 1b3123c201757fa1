"""The scan benchmark still runs and scan still finds every failure it sprinkles in.

Only correctness is asserted (bench_scan.py exits 1 when scan's counts differ from what it wrote);
the throughput numbers it prints are for people, never for assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_scan.py"


def test_bench_scan_small_run_finds_every_failure(tmp_path: Path) -> None:
    # --out: a test run must never replace the saved result the README table is built from
    p = subprocess.run([sys.executable, str(BENCH), "--size-mb", "3", "--failures", "40",
                        "--out", str(tmp_path / "scan.json")],
                       capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "scan throughput / grep -c pull throughput" in p.stdout
    assert "peak RSS" in p.stdout
    saved = json.loads((tmp_path / "scan.json").read_text())
    assert saved["command"].startswith("python3 bench/bench_scan.py --size-mb 3")
    assert [r["correct"] for r in saved["rows"]] == [True, True, True]
