"""Regenerate the README's benchmark tables from the benches' saved results (``bench/out/*.json``).

Why generated: a figure typed by hand drifts from the run it came from. Every bench writes its
rows with the date, the command and the machine (``bench/results.py``); this script turns them
into the README's "Benchmarks" tables (and the differential matrix's table), where every figure
points to the run that produced it. Explain's accuracy line is not a timing: it is the recorded
blind score (``tests/corpus/blind_scores.json``), the headline under the blind protocol, never
today's figure on texts the rules were tuned on.

    python3 bench/readme_table.py            # print the generated Markdown
    python3 bench/readme_table.py --write    # replace it between the markers in README.md
    python3 bench/readme_table.py --check    # exit 1 when README.md differs from the results

The README keeps the generated parts between ``<!-- bench-table:begin -->`` /
``<!-- bench-table:end -->`` and ``<!-- matrix-table:begin -->`` / ``<!-- matrix-table:end -->``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import OUT_DIR, load, machine_text

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLIND = ROOT / "tests" / "corpus" / "blind_scores.json"
# The saved results, in the order their rows appear in the "other benchmarks" table.
OTHER = ("diagnose_healthy", "diagnose_layers", "scan", "watch", "fleet_merge", "lab_setup")
MARKERS = {"bench": ("<!-- bench-table:begin -->", "<!-- bench-table:end -->"),
           "matrix": ("<!-- matrix-table:begin -->", "<!-- matrix-table:end -->")}


class Runs:
    """The runs a table cites, numbered in order of first citation (R1, R2, ...)."""

    def __init__(self) -> None:
        self.docs: list[Mapping[str, Any]] = []

    def ref(self, doc: Mapping[str, Any]) -> str:
        for i, d in enumerate(self.docs):
            if d is doc:
                return f"R{i + 1}"
        self.docs.append(doc)
        return f"R{len(self.docs)}"

    def legend(self) -> str:
        out = []
        for i, d in enumerate(self.docs):
            m = d["machine"]
            load = ""
            if m.get("load_avg_start") and m.get("load_avg_end"):
                load = (f", load average {m['load_avg_start'][0]:.1f} at the start, "
                        f"{m['load_avg_end'][0]:.1f} at the end")
            out.append(f"- **R{i + 1}**: {d['date']}, `{d['command']}`, {machine_text(m)}{load} "
                       f"(`bench/out/{d['bench']}.json`)")
        return "\n".join(out)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _verdict(correct: bool | None) -> str:
    return {True: "right", False: "**WRONG**", None: "–"}[correct]


def _ratio(row: Mapping[str, Any]) -> str:
    if row["ratio"] is None:
        return "– (failed)" if row["correct"] is False else "– (absolute)"
    means = row.get("ratio_means", "")
    return f"{row['ratio']:g} ({means})" if means else f"{row['ratio']:g}"


def rootcause_table(doc: Mapping[str, Any], runs: Runs) -> str:
    """One line per scenario: diagnose vs docker pull and vs skopeo copy, right or wrong."""
    ref = runs.ref(doc)
    by: dict[str, dict[str, Mapping[str, Any]]] = {}
    for row in doc["rows"]:
        by.setdefault(row["scenario"], {})[row["client"]] = row
    lines = ["| scenario (kind) | expected cause | diagnose right? | diagnose vs `docker pull` | "
             "issue 9 goal | diagnose vs `skopeo copy` | run |",
             "|---|---|---|---|---|---|---|"]
    for name, rows in by.items():
        any_row = next(iter(rows.values()))
        problems = [f"{c}: {'; '.join(r['problems'])}" for c, r in rows.items()
                    if r["problems"]]
        goal = "–"
        d = rows.get("docker")
        goals = [r for r in rows.values() if r.get("goal")]
        if goals:
            goal = "; ".join(("met" if r["meets"] else "**missed**")
                             + (f" ({r['client']})" if len(goals) > 1 else "") for r in goals)
        lines.append("| " + " | ".join(_cell(x) for x in (
            f"`{name}` ({any_row['kind']})", f"`{any_row['expected']}`",
            ("right" if all(r["correct"] for r in rows.values()) else "**WRONG**")
            + (": " + "; ".join(problems) if problems else ""),
            _short(d) if d else "–", goal,
            _short(rows["skopeo"]) if "skopeo" in rows else "–", ref)) + " |")
    return "\n".join(lines)


def _short(row: Mapping[str, Any]) -> str:
    """``1.52 s vs 52.7 s: 34.6× sooner`` from a rootcause row's figure."""
    if row["ratio"] is None:
        return "failed (no speed)"
    return str(row["figure"]).removeprefix("diagnose ")


def rootcause_summary(doc: Mapping[str, Any]) -> str:
    """Issue 9's goal, met or missed, with where diagnose's time went on every miss."""
    rows = [r for r in doc["rows"] if r.get("goal")]
    missed = [r for r in rows if not r["meets"]]
    text = (f"Issue 9's goals (diagnose ≥ 10× sooner than `docker pull` on every DNS and TCP "
            f"fault; within its deadline on stalls): met in {len(rows) - len(missed)} of "
            f"{len(rows)} rows.")
    if not missed:
        return text
    text += " Missed:\n\n"
    for r in missed:
        b = r["breakdown"]
        if r["ratio"] is None:
            why = "; ".join(r["problems"])
        else:
            med = sorted(r["client_s"])[len(r["client_s"]) // 2]
            need = med / 10
            why = (f"{r['client']} reaches its error in {med:.2f} s, so 10× needs diagnose within "
                   f"{need:.2f} s; it takes {b['wall_s']:.2f} s: start-up and rendering "
                   f"{b['startup_s']:.2f} s" + (" (alone more than that)" if b["startup_s"] > need
                                                else "")
                   + f", the walk {b['walk_s']:.2f} s" + _steps(b))
        text += f"- `{r['scenario']}` × {r['client']}: {why}\n"
    return text.rstrip("\n")


EVIDENCE = ("problem", "timeout", "crashed")


def _steps(b: Mapping[str, Any]) -> str:
    """The step(s) that proved the cause, then the slowest others."""
    steps = b.get("steps", [])
    proof = [s for s in steps if s["outcome"] in EVIDENCE]
    rest = [s for s in steps if s["outcome"] not in EVIDENCE and s["median_s"] >= 0.01][:2]

    def fmt(s: Mapping[str, Any]) -> str:
        return f"{s['step']} {s['median_s']:.2f} s"
    out = ""
    if proof:
        out += " (the step that proved it: " + ", ".join(fmt(s) for s in proof)
        out += "; slowest others: " + ", ".join(fmt(s) for s in rest) + ")" if rest else ")"
    elif rest:
        out += " (slowest steps: " + ", ".join(fmt(s) for s in rest) + ")"
    return out


def other_table(docs: Sequence[Mapping[str, Any]], runs: Runs,
                accuracy: str | None = None) -> str:
    lines = ["| what | compared (same run, same machine) | result (median, spread) | ratio | "
             "right? | run |", "|---|---|---|---|---|---|"]
    previous = None
    for doc in docs:
        ref = runs.ref(doc)
        for row in doc["rows"]:
            compared = "as above" if row["compared"] == previous else row["compared"]
            previous = row["compared"]
            lines.append("| " + " | ".join(_cell(x) for x in (
                row["what"], compared, row["figure"], _ratio(row),
                _verdict(row["correct"]), ref)) + " |")
    if accuracy:
        lines.append(accuracy)
    return "\n".join(lines)


def accuracy_row(blind_path: Path = BLIND) -> str:
    """The blind headline, as recorded (never recomputed): pooled, and the latest batch."""
    import json

    batches = json.loads(blind_path.read_text(encoding="utf-8"))["batches"]

    def pooled(key: str) -> str:
        have = [(b[key], b["n"]) for b in batches if b.get(key) is not None]
        n = sum(k for _, k in have)
        hits = sum(round(v / 100 * k) for v, k in have)
        return f"{100 * hits / n:.1f}% ({n} texts)" if n else "–"

    last = batches[-1]
    fig = (f"pooled over every blind batch: top-1 {pooled('top1_pct')}, top-3 "
           f"{pooled('top3_pct')}, no cause {pooled('no_cause_pct')}; latest batch "
           f"{last['batch']} ({last['n']} texts, frozen {last['frozen']}): "
           f"{last['top1_pct']}% / {last['top3_pct']}% / {last['no_cause_pct']}%")
    run = (f"recorded once per batch at its freeze (latest {last['frozen']}, scored with "
           f"{last.get('scored_with') or '?'}: `python3 bench/accuracy.py --blind "
           f"tests/corpus/{last.get('file')}`); not a timing, any machine")
    return "| " + " | ".join(_cell(x) for x in (
        "explain accuracy (the headline: blind)",
        "explain's top cause vs the cause the public thread established, on thread texts "
        "scored once before any rule was tuned on them (`tests/corpus/blind_scores.json`)",
        fig, "– (absolute)", "–", run)) + " |"


def bench_section(out_dir: Path = OUT_DIR, blind: Path = BLIND) -> str:
    """The generated Markdown between the bench-table markers."""
    runs = Runs()
    parts = ["_Generated by `python3 bench/readme_table.py --write` from `bench/out/*.json`; "
             "every figure names its run (R1, …: date, command, machine) below. Timings are "
             "medians of several runs with their spread (min–max), on a shared 2-core machine._"]
    rc = out_dir / "diagnose_rootcause.json"
    if rc.exists():
        doc = load(rc)
        parts += ["**Time to root cause vs the real client failing**, same lab, same run "
                  "(diagnose as the lab's client with its default 15 s deadline; a fresh "
                  "dockerd 20.10 per pull with its default retries; skopeo with its defaults, "
                  "`--retry-times` 0; a client still running at the bound counts as hung, its "
                  "ratio a lower bound). A wrong cause fails the row and gives no speed:",
                  rootcause_table(doc, runs), rootcause_summary(doc)]
    others = [load(out_dir / f"{name}.json") for name in OTHER
              if (out_dir / f"{name}.json").exists()]
    parts += ["**Other benchmarks** (ratios against the real tools in the same run; an "
              "absolute figure says so):", other_table(others, runs, accuracy_row(blind))]
    setup = next((d for d in others if d["bench"] == "lab_setup"), None)
    if setup and setup.get("extra", {}).get("scenario_medians_spread"):
        s = setup["extra"]["scenario_medians_spread"]
        parts.append(f"Absolute, not a ratio ({runs.ref(setup)}): building a scenario's lab "
                     f"(services, image push, faults) and tearing it down takes "
                     f"{s['min']:.1f}–{s['max']:.1f} s per scenario (median per scenario; "
                     f"median of those {s['median']:.1f} s, {s['n']} scenarios).")
    parts.append("Runs:\n\n" + runs.legend())
    return "\n\n".join(parts)


def matrix_section(out_dir: Path = OUT_DIR) -> str | None:
    path = out_dir / "matrix.json"
    if not path.exists():
        return None
    doc = load(path)
    ex = doc.get("extra", {})
    wall = (f"; both matrix tests took {ex['wall_min']} min of wall time with -n {ex['workers']}"
            if ex.get("wall_min") else "")
    return (f"_Generated by `python3 bench/readme_table.py --write` from the run of "
            f"{doc['date']}: `{doc['command']}`, {machine_text(doc['machine'])}{wall}._\n\n"
            + ex["table_md"].rstrip("\n") + "\n\nCells where diagnose disagrees in that run:\n\n"
            + (ex.get("disagreements_md") or "- none\n").rstrip("\n"))


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with what lies between the two marker lines replaced by ``body`` (pure)."""
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < 0 or j < i:
        raise ValueError(f"README.md has no {begin} ... {end} pair")
    return text[:i + len(begin)] + "\n" + body.strip("\n") + "\n" + text[j:]


def regenerate(readme: str, out_dir: Path = OUT_DIR, blind: Path = BLIND) -> str:
    text = replace_between(readme, *MARKERS["bench"], bench_section(out_dir, blind))
    matrix = matrix_section(out_dir)
    if matrix is not None:
        text = replace_between(text, *MARKERS["matrix"], matrix)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="rewrite README.md between the markers")
    g.add_argument("--check", action="store_true", help="exit 1 when README.md is out of date")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    try:
        readme = README.read_text(encoding="utf-8")
        new = regenerate(readme, args.out_dir)
    except (OSError, ValueError, KeyError) as e:
        print(f"readme_table: {e}", file=sys.stderr)
        return 2
    if args.write:
        README.write_text(new, encoding="utf-8")
    elif args.check:
        if new != readme:
            print("README.md's benchmark tables differ from bench/out/: run "
                  "`python3 bench/readme_table.py --write`", file=sys.stderr)
            return 1
    else:
        print(bench_section(args.out_dir))
        matrix = matrix_section(args.out_dir)
        if matrix:
            print("\n" + matrix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
