"""What every benchmark saves, and the small statistics they share.

Why one format: the README's benchmark table is regenerated from these files
(``bench/readme_table.py``), and every figure there must say when it was measured, by which
command, on what machine. So each bench writes ``bench/out/<name>.json``::

    {"bench": name, "date": "2026-12-05", "started_at": ..., "finished_at": ...,
     "command": "sudo python3 bench/bench_diagnose.py --part a --reps 3",
     "machine": {"cores": 2, "ram_gib": 23.5, "cpu_model": "...", "load_avg_start": [...],
                 "load_avg_end": [...]},
     "rows": [{"what": ..., "compared": ..., "ratio": ..., "correct": ..., ...}, ...],
     "extra": {...}}

A row always has ``what`` (the figure's subject), ``compared`` (against what, measured how),
``ratio`` (a number or None, with ``ratio_means`` saying which way it reads), ``correct`` (True,
False, or None where no diagnosis is involved) and ``figure`` (the human sentence). The rest of a
row is the bench's own detail. The machine is shared (2 cores, other jobs), so every timed figure
is the median of several runs with its spread (min–max), never the best run.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import statistics
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

OUT_DIR = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, Any]:
    """Cores, RAM and CPU model of this machine, and its load average now."""
    model = "unknown"
    ram_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "ram_gib": ram_gib, "cpu_model": model,
            "load_avg_start": [round(x, 2) for x in os.getloadavg()]}


def command_line(argv: Sequence[str] | None = None, *, root: bool = False) -> str:
    """The command that reproduces this run, as a person would type it from the repo root."""
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0])
    try:
        shown = str(script.resolve().relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        shown = str(script)
    return ("sudo " if root else "") + shlex.join(["python3", shown, *argv[1:]])


class Run:
    """One bench run: note the start, add rows, then :meth:`save` (date, command, machine)."""

    def __init__(self, bench: str, *, root: bool = False, argv: Sequence[str] | None = None,
                 echo: TextIO | None = None) -> None:
        self.bench = bench
        self.echo = echo
        self.started = datetime.datetime.now(datetime.UTC)
        self.command = command_line(argv, root=root)
        self.machine = machine()
        self.rows: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}

    def add(self, row: Mapping[str, Any]) -> None:
        """Keep a row and print it (what, compared with what, result, ratio, right or wrong)."""
        for key in ("what", "compared", "ratio", "correct", "figure"):
            if key not in row:
                raise ValueError(f"a result row needs {key!r}: {dict(row)}")
        self.rows.append(dict(row))
        print(row_text(row), file=self.echo or sys.stdout, flush=True)

    def document(self) -> dict[str, Any]:
        end = datetime.datetime.now(datetime.UTC)
        mach = {**self.machine, "load_avg_end": [round(x, 2) for x in os.getloadavg()]}
        return {"bench": self.bench, "date": self.started.date().isoformat(),
                "started_at": self.started.isoformat(timespec="seconds"),
                "finished_at": end.isoformat(timespec="seconds"),
                "command": self.command, "machine": mach, "rows": self.rows,
                "extra": self.extra}

    def save(self, path: Path | None = None) -> Path:
        """Write the result (atomically) to ``path`` or ``bench/out/<bench>.json``."""
        path = path or OUT_DIR / f"{self.bench}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.document(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path


def load(path: Path) -> dict[str, Any]:
    """A saved result; a file without the fields the README needs is an error, not a blank."""
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for key in ("bench", "date", "command", "machine", "rows"):
        if key not in doc:
            raise ValueError(f"{path}: no {key!r} (not a bench result)")
    return doc


VERDICT = {True: "RIGHT", False: "WRONG", None: "n/a"}
"""How a row's ``correct`` reads: the diagnosis (or the tool's check) was right, wrong, or there
is no diagnosis in this measurement."""


def row_text(row: Mapping[str, Any]) -> str:
    """The block every bench prints for every row."""
    ratio = "none (the row failed)" if row["ratio"] is None and row["correct"] is False else (
        "none (an absolute figure)" if row["ratio"] is None else
        f"{row['ratio']:g} ({row.get('ratio_means', '')})")
    lines = [f"[{VERDICT[row['correct']]}] {row['what']}",
             f"    compared: {row['compared']}",
             f"    result:   {row['figure']}",
             f"    ratio:    {ratio}"]
    if row.get("goal"):
        lines.append(f"    goal:     {row['goal']}: {'met' if row.get('meets') else 'MISSED'}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ statistics
def spread(values: Iterable[float]) -> dict[str, float | int]:
    """Median, min, max and count of several runs of the same measurement."""
    v = sorted(float(x) for x in values)
    if not v:
        raise ValueError("no values")
    return {"median": statistics.median(v), "min": v[0], "max": v[-1], "n": len(v)}


def fmt_s(values: Iterable[float], digits: int | None = None) -> str:
    """``1.52 s (1.48–1.60, n=3)``: the median, then the spread; one run has no spread."""
    s = spread(values)
    d = digits if digits is not None else (2 if s["median"] < 10 else 1)
    if s["n"] == 1:
        return f"{s['median']:.{d}f} s (n=1)"
    return f"{s['median']:.{d}f} s ({s['min']:.{d}f}–{s['max']:.{d}f}, n={s['n']})"


def machine_text(m: Mapping[str, Any]) -> str:
    """``2 cores, 23.5 GiB, Intel(R) Xeon(R) Processor``."""
    ram = f", {m['ram_gib']} GiB" if m.get("ram_gib") is not None else ""
    return f"{m.get('cores', '?')} cores{ram}, {m.get('cpu_model', 'unknown CPU')}"
