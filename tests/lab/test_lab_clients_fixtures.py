"""Every failing text the real clients printed in the lab is explained as its scenario's cause.

Reads ``tests/fixtures/lab_capture.json`` (re-record: ``sudo pulldoctor lab capture``); needs no
root. One test per captured failing run, so a regression names the exact scenario and client.
The cause explain must read from each client's text is the scenario's own
(``Scenario.explain_expected``): where a client's text cannot carry the cause, the scenario says so
and why, so no test keeps a map of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulldoctor.causes import CODES
from pulldoctor.explain import explain
from pulldoctor.lab.scenarios import SCENARIOS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lab_capture.json"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "lab.jsonl"

def _doc() -> dict[str, Any]:
    return dict(json.loads(FIXTURE.read_text(encoding="utf-8")))


def _failing_runs() -> list[Any]:
    params = []
    for run in _doc()["runs"]:
        res = run.get("result")
        if run["code"] is None or res is None or res["rc"] == 0 or not res["error_text"]:
            continue
        params.append(pytest.param(run, id=f"{run['scenario']}-{run['client']}"))
    return params


def test_capture_fixture_is_complete() -> None:
    doc = _doc()
    assert doc["versions"], "client versions recorded"
    assert {"docker", "containerd", "skopeo"} <= set(doc["versions"])
    for run in doc["runs"]:
        assert run["code"] is None or run["code"] in CODES
        assert run["lab_error"] is None, f"{run['scenario']}/{run['client']}: {run['lab_error']}"
        assert run["result"]["duration_s"] > 0
        if run["code"] is not None:  # every fault bites: the real client failed or hung
            res = run["result"]
            assert res["rc"] != 0 or res["timed_out"], f"{run['scenario']}/{run['client']} pulled"


def test_healthy_runs_succeeded() -> None:
    healthy = [r for r in _doc()["runs"] if r["code"] is None]
    assert healthy, "the capture includes the healthy scenario"
    for run in healthy:
        assert run["result"]["rc"] == 0, f"{run['client']}: {run['result']['output_text']}"


@pytest.mark.parametrize("run", _failing_runs())
def test_captured_text_is_explained_as_scenario_code(run: dict[str, Any]) -> None:
    report = explain(run["result"]["error_text"])
    got = report.causes[0].code if report.causes else None
    want = SCENARIOS[run["scenario"]].explain_expected(run["client"])
    assert got == want, run["result"]["error_text"]


def test_fixture_records_what_each_scenario_expects_of_each_client() -> None:
    runs = {(r["scenario"], r["client"]): r for r in _doc()["runs"]}
    for sc in SCENARIOS.values():
        for client in sc.clients:
            run = runs.get((sc.name, client))
            assert run is not None, f"{sc.name} x {client} was never captured"
            assert run["code"] == sc.expected(client), f"{sc.name} x {client}: re-capture it"


def test_corpus_lines_match_fixture() -> None:
    lines = [json.loads(ln) for ln in CORPUS.read_text(encoding="utf-8").splitlines() if ln]
    texts = {r["result"]["error_text"] for r in _doc()["runs"]
             if r["code"] and r["result"] and r["result"]["rc"] != 0}
    assert lines, "tests/corpus/lab.jsonl has lines"
    for ln in lines:
        assert ln["confidence"] == "lab" and ln["label"] in CODES
        assert ln["source"].startswith("lab capture: pulldoctor lab capture --scenario ")
        assert ln["text"] in texts
