"""The README's benchmark tables are generated from saved results: pure parts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import readme_table as rt
import results

MACHINE = {"cores": 2, "ram_gib": 23.5, "cpu_model": "Xeon", "load_avg_start": [4.0, 3, 3],
           "load_avg_end": [3.5, 3, 3]}


def _doc(bench: str, rows: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {"bench": bench, "date": "2026-12-05", "command": f"python3 bench/{bench}.py",
            "machine": MACHINE, "rows": rows, "extra": extra}


def _rc_row(scenario: str, client: str, *, correct: bool = True, ratio: float | None = 30.0,
            meets: bool | None = True, goal: str | None = "≥ 10×") -> dict[str, object]:
    return {"what": f"time to root cause: {scenario} x {client}", "compared": "c",
            "scenario": scenario, "client": client, "kind": "dns", "expected": "dns.nxdomain",
            "correct": correct, "ratio": ratio, "meets": meets, "goal": goal,
            "problems": [] if correct else ["diagnose named net.unreachable in 1 of 3 runs"],
            "client_s": [0.1, 0.1, 0.2],
            "figure": "FAILED: x" if ratio is None else f"diagnose 1.00 s vs {client} 30 s",
            "breakdown": {"wall_s": 0.5, "startup_s": 0.3, "walk_s": 0.2,
                          "steps": [{"step": "dns r", "endpoint": "e", "median_s": 0.15,
                                     "outcome": "problem"}]}}


def test_rootcause_table_one_line_per_scenario_wrong_rows_say_why() -> None:
    doc = _doc("diagnose_rootcause", [_rc_row("a", "docker"), _rc_row("a", "skopeo", goal=None,
                                                                      meets=None),
                                      _rc_row("b", "docker", correct=False, ratio=None,
                                              meets=False)])
    runs = rt.Runs()
    table = rt.rootcause_table(doc, runs)
    lines = table.splitlines()
    assert len(lines) == 4
    assert "| `a` (dns) | `dns.nxdomain` | right | 1.00 s vs docker 30 s | met |" in lines[2]
    assert "**WRONG**: docker: diagnose named net.unreachable" in lines[3]
    assert "failed (no speed)" in lines[3] and "**missed**" in lines[3]
    assert runs.legend().startswith("- **R1**: 2026-12-05, `python3 bench/diagnose_rootcause.py`")


def test_summary_names_every_miss_with_its_time_breakdown() -> None:
    doc = _doc("diagnose_rootcause", [_rc_row("a", "docker"),
                                      _rc_row("q", "docker", ratio=0.2, meets=False)])
    text = rt.rootcause_summary(doc)
    assert "met in 1 of 2 rows" in text
    assert ("`q` × docker: docker reaches its error in 0.10 s, so 10× needs diagnose within "
            "0.01 s; it takes 0.50 s: start-up and rendering 0.30 s (alone more than that), the "
            "walk 0.20 s (the step that proved it: dns r 0.15 s)" in text)


def test_other_table_marks_absolute_figures_and_failed_rows() -> None:
    docs = [_doc("scan", [{"what": "w", "compared": "c|d", "figure": "f", "ratio": 0.7,
                           "ratio_means": "scan/grep", "correct": True},
                          {"what": "idle", "compared": "c", "figure": "f", "ratio": None,
                           "correct": None}])]
    table = rt.other_table(docs, rt.Runs())
    assert "| w | c\\|d | f | 0.7 (scan/grep) | right | R1 |" in table
    assert "| idle | c | f | – (absolute) | – | R1 |" in table
    again = rt.other_table([_doc("x", [{"what": "a", "compared": "same", "figure": "f",
                                         "ratio": 1, "correct": None}] * 2)], rt.Runs())
    assert again.splitlines()[-1].startswith("| a | as above | f |")


def test_accuracy_row_is_the_recorded_blind_figure(tmp_path: Path) -> None:
    p = tmp_path / "blind.json"
    p.write_text(json.dumps({"batches": [
        {"batch": "b1", "n": 10, "frozen": "2026-11-29", "top1_pct": 50.0, "top3_pct": None,
         "no_cause_pct": None},
        {"batch": "b2", "n": 30, "frozen": "2026-12-05", "top1_pct": 80.0, "top3_pct": 90.0,
         "no_cause_pct": 10.0, "file": "blind-b2.jsonl", "scored_with": "abc1234"}]}))
    row = rt.accuracy_row(p)
    assert "top-1 72.5% (40 texts), top-3 90.0% (30 texts)" in row
    assert "b2 (30 texts, frozen 2026-12-05): 80.0% / 90.0% / 10.0%" in row
    assert "--blind tests/corpus/blind-b2.jsonl" in row


def test_replace_between_markers() -> None:
    text = "a\n<!-- x -->\nold\n<!-- y -->\nb\n"
    assert rt.replace_between(text, "<!-- x -->", "<!-- y -->", "new") == \
        "a\n<!-- x -->\nnew\n<!-- y -->\nb\n"
    with pytest.raises(ValueError):
        rt.replace_between("no markers", "<!-- x -->", "<!-- y -->", "new")


def test_saved_result_round_trip_and_row_checks(tmp_path: Path) -> None:
    run = results.Run("demo", argv=["bench/demo.py", "--reps", "3"])
    with pytest.raises(ValueError, match="needs 'correct'"):
        run.add({"what": "w", "compared": "c", "ratio": 1.0, "figure": "f"})
    run.add({"what": "w", "compared": "c", "ratio": 1.0, "figure": "f", "correct": None})
    doc = results.load(run.save(tmp_path / "demo.json"))
    assert doc["command"] == "python3 bench/demo.py --reps 3"
    assert doc["machine"]["cores"] and doc["rows"][0]["what"] == "w"
    assert {"load_avg_start", "load_avg_end", "cpu_model", "ram_gib"} <= set(doc["machine"])


def test_spread_and_format() -> None:
    assert results.spread([3, 1, 2]) == {"median": 2, "min": 1, "max": 3, "n": 3}
    assert results.fmt_s([1.0, 1.2, 1.1]) == "1.10 s (1.00–1.20, n=3)"
    assert results.fmt_s([52.7]) == "52.7 s (n=1)"


def test_readme_tables_match_the_saved_results() -> None:
    """README.md's generated tables are what bench/out/ and blind_scores.json say (no hand edits).

    After re-running a bench (or recording a blind batch): ``python3 bench/readme_table.py
    --write``.
    """
    readme = rt.README.read_text(encoding="utf-8")
    assert rt.regenerate(readme) == readme, "run: python3 bench/readme_table.py --write"
