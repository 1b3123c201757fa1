"""The differential matrix: every scenario x every real client, against ``pulldoctor diagnose``.

One test per cell (scenario, client). The client's run is live when its recorded run ended within
``LIVE_MAX_S`` (and must then fail or pull as recorded); slower ones are read from
``tests/fixtures/lab_capture.json`` (re-record: ``sudo pulldoctor lab capture --workers 2``).
``diagnose --runtime <client's> --json`` runs live in every cell, as the client, in the same lab,
under a 12 s deadline it must keep. What agreeing means is :func:`pulldoctor.lab.matrix.judge`;
the expectation of each cell is its scenario's (``Scenario.expected`` / ``explain_expected``).

A second test per cell runs every **Confirm** command diagnose suggested, as the client, and fails
on a usage error, a command that is not one, or one that changes the host.

Cells of one scenario share one lab (built once per worker: ``xdist_group`` + ``--dist
loadgroup``). Cells where diagnose is wrong today are strict xfails naming the defect; a fix makes
them XPASS, which fails the run until the entry is removed. ``PULLDOCTOR_MATRIX_RECORD=DIR``
writes each cell's evidence to DIR (``bench/matrix.py`` prints the README's table from it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pulldoctor.lab import matrix
from pulldoctor.lab.scenarios import SCENARIOS, Scenario

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lab_capture.json"
RECORD = os.environ.get("PULLDOCTOR_MATRIX_RECORD")

# Where diagnose disagrees with the real client today (issue 9); a fix turns the cell XPASS.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {
    ("healthy-insecure-http", "skopeo"):
        "host check containers_config calls registry.lab.test:5002/... a short name "
        "(daemon.config) though the pull works",
    ("proxy-shell-only", "containerd"):
        "diagnose --runtime containerd takes the proxy from containerd.service only; ctr 1.6 "
        "fetches in its own process with the shell's HTTPS_PROXY",
}
"""(scenario, client) -> the diagnose defect that makes the cell disagree."""

CONFIRM_DEFECTS: dict[tuple[str, str], str] = {}
"""(scenario, client) -> the defect in a Confirm command diagnose suggests there."""


def _recordings() -> dict[tuple[str, str], dict[str, Any]]:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return {(r["scenario"], r["client"]): r["result"] for r in doc["runs"] if r["result"]}


RECORDED = _recordings()


def _params(known: dict[tuple[str, str], str]) -> list[Any]:
    out = []
    for name, client in matrix.cells(SCENARIOS.values()):
        marks: list[Any] = [pytest.mark.xdist_group(name)]
        if (name, client) in known:
            marks.append(pytest.mark.xfail(reason=known[(name, client)], strict=True))
        if not matrix.is_live(RECORDED.get((name, client))):
            marks.append(pytest.mark.slow)  # the diagnose side of a hang: up to its deadline
        out.append(pytest.param(name, client, id=f"{name}-{client}", marks=marks))
    return out


class LabCache:
    """The lab of the scenario being checked on this worker, kept while its cells run."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.lab: Lab | None = None
        self.diagnosed: dict[str, matrix.DiagnoseRun] = {}
        self.confirmed: dict[str, tuple[int, str]] = {}

    def get(self, sc: Scenario) -> Lab:
        from pulldoctor.lab.topology import Lab

        if self.name == sc.name and self.lab is not None:
            return self.lab
        self.close()
        lab = Lab(prefix="m")
        try:
            sc.build(lab)
        except BaseException:
            lab.close()
            raise
        self.name, self.lab = sc.name, lab
        return lab

    def diagnose(self, sc: Scenario, client: str) -> matrix.DiagnoseRun:
        if client not in self.diagnosed:
            self.diagnosed[client] = matrix.run_diagnose(self.get(sc), sc.image, client)
        return self.diagnosed[client]

    def close(self) -> None:
        lab, self.lab, self.name = self.lab, None, None
        self.diagnosed, self.confirmed = {}, {}
        if lab is not None:
            lab.close()


@pytest.fixture(scope="session")
def labs() -> Iterator[LabCache]:
    from pulldoctor.lab.topology import lab_unavailable

    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    cache = LabCache()
    try:
        yield cache
    finally:
        cache.close()


@pytest.mark.lab
@pytest.mark.parametrize(("name", "client"), _params(KNOWN_DEFECTS))
def test_diagnose_agrees_with_the_real_client(name: str, client: str, labs: LabCache) -> None:
    sc = SCENARIOS[name]
    record = RECORDED.get((name, client))
    lab = labs.get(sc)
    diag = labs.diagnose(sc, client)  # first: a live client run must not change what it sees
    if matrix.is_live(record):
        run = matrix.run_client(lab, sc.image, client)
        if record is not None:
            was = matrix.ClientRun.from_record(record)
            assert run.failed == was.failed, (
                f"{client} {'failed' if run.failed else 'pulled'} live but the recording says "
                f"otherwise: re-record with `sudo pulldoctor lab capture --scenario {name}`\n"
                f"{run.text}")
    else:
        assert record is not None
        run = matrix.ClientRun.from_record(record)
    explained = matrix.explained_code(run.text) if run.failed else None
    result = matrix.CellResult(name, client, sc.expected(client), sc.explain_expected(client),
                               run, diag, explained, matrix.judge(sc, client, run, diag, explained))
    if RECORD:
        out = Path(RECORD) / f"{name}__{client}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    assert result.agrees, "\n".join([*result.problems, "client: " + run.text[-600:],
                                     "diagnose steps:", *diag.steps])


@pytest.mark.lab
@pytest.mark.parametrize(("name", "client"), _params(CONFIRM_DEFECTS))
def test_every_confirm_command_runs_as_written(name: str, client: str, labs: LabCache) -> None:
    sc = SCENARIOS[name]
    lab = labs.get(sc)
    diag = labs.diagnose(sc, client)
    problems = []
    for command in diag.confirm:
        if command not in labs.confirmed:
            labs.confirmed[command] = (0, "") if matrix.confirm_problem(command, 0, "") else \
                matrix.run_confirm(lab, command)
        rc, output = labs.confirmed[command]
        why = matrix.confirm_problem(command, rc, output)
        if why:
            problems.append(f"$ {command}\n  {why}")
    assert not problems, "\n".join(problems)
