"""``pulldoctor lab capture``: record the real clients' output in every lab scenario.

A subcommand of the ``lab`` group (added there with ``group.add_command``); argument parsing and
progress lines only, the work is :mod:`pulldoctor.lab.capture`.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from pulldoctor.errors import UsageError


@click.command("capture")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME",
              help="Capture only this scenario (repeatable). Default: all.")
@click.option("--clients", "client_list", default="docker,containerd,skopeo", show_default=True,
              help="Comma-separated clients to run (each only where the scenario lists it).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("tests/fixtures/lab_capture.json"), show_default=True,
              help="The full capture (JSON fixture).")
@click.option("--corpus", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("tests/corpus/lab.jsonl"), show_default=True,
              help="Corpus file whose lines for the captured pairs are refreshed.")
@click.option("--workers", type=click.IntRange(1, 32), default=6, show_default=True,
              help="Labs built at the same time.")
@click.option("--timeout", type=click.FloatRange(5, 600), default=180.0, show_default=True,
              help="Bound of each client pull, seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(scenario_names: tuple[str, ...], client_list: str, out: Path, corpus: Path,
            workers: int, timeout: float, as_json: bool) -> int:
    """Run docker, containerd (ctr) and skopeo in every scenario; record what they print.

    \b
    Re-record everything (root, from the repository root):
      sudo pulldoctor lab capture
    One scenario, one client:
      sudo pulldoctor lab capture --scenario healthy --clients skopeo
    """
    from pulldoctor.cli import ExitCode
    from pulldoctor.lab import capture as cap
    from pulldoctor.lab.clients import CLIENTS
    from pulldoctor.model import Report
    from pulldoctor.report.render import emit

    if os.geteuid() != 0:
        raise UsageError("pulldoctor lab capture needs root (it builds network namespaces)")
    clients = [c.strip() for c in client_list.split(",") if c.strip()]
    unknown = [c for c in clients if c not in CLIENTS]
    if unknown or not clients:
        raise UsageError(f"unknown client(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(CLIENTS)}")
    from pulldoctor.lab.procs import reap_stale
    from pulldoctor.lab.scenarios import SCENARIOS

    missing = [n for n in scenario_names if n not in SCENARIOS]
    if missing:
        raise UsageError(f"unknown scenario(s) {', '.join(missing)} (see: pulldoctor lab list)")
    chosen = [SCENARIOS[n] for n in scenario_names] if scenario_names else list(SCENARIOS.values())
    pairs = cap.plan(chosen, clients)
    if not pairs:
        raise UsageError("no scenario runs any of the chosen clients")
    reap_stale()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    done = 0

    def progress(run: cap.CaptureRun) -> None:
        nonlocal done
        done += 1
        r = run.result
        state = (f"lab error: {run.lab_error}" if r is None else
                 f"rc={'timeout' if r.timed_out else r.rc} in {r.duration_s:.1f}s")
        click.echo(f"[{done}/{len(pairs)}] {run.scenario} x {run.client}: {state}", err=True)

    click.echo(f"capturing {len(pairs)} runs, {workers} labs at a time", err=True)
    runs = cap.capture(pairs, workers=workers, timeout=timeout, on_done=progress)
    wall = time.monotonic() - t0
    argv = ["pulldoctor", "lab", "capture", *sys.argv[3:]] if len(sys.argv) > 2 else []
    cmd = shlex.join(argv) if argv else "pulldoctor lab capture"
    full = not scenario_names and set(clients) == set(CLIENTS)
    cap.write_outputs(runs, fixture=out, corpus=corpus, command=cmd, started=started, wall_s=wall,
                      full=full)

    rows = []
    steps = []
    for run in runs:
        r = run.result
        text = r.error_text if r else ""
        got = cap.explained_code(text) if text else None
        want = SCENARIOS[run.scenario].explain_expected(run.client)
        rows.append({"scenario": run.scenario, "client": run.client, "code": run.code,
                     "rc": None if r is None else r.rc, "timed_out": bool(r and r.timed_out),
                     "duration_s": None if r is None else r.duration_s,
                     "explained": got, "text": text, "lab_error": run.lab_error})
        steps.append(_step(run, got, want))
    notes = [f"wrote {out} and refreshed {corpus} in {wall:.0f}s",
             "ok = the client did what the scenario expects of it (pulled, or failed), and explain "
             "read the expected cause from its text"]
    report = Report(command="lab capture", subject=f"{len(runs)} runs", notes=notes,
                    steps=steps, duration_s=wall, extra={"runs": rows})
    emit(report, "json" if as_json else "text")
    return ExitCode.INTERNAL if any(r.result is None for r in runs) else ExitCode.HEALTHY


def _step(run: Any, got: str | None, want: str | None) -> Any:
    """One capture run as a report step: ok when the client did what the scenario predicts."""
    from pulldoctor.model import Outcome, Step

    r = run.result
    name = f"{run.scenario} x {run.client}"
    if r is None:
        return Step(name=name, outcome=Outcome.CRASHED, summary=run.lab_error or "lab error")
    expected = run.code or "healthy"
    if r.timed_out:
        return Step(name=name, outcome=Outcome.TIMEOUT, duration_s=r.duration_s,
                    summary=f"the client hung until the bound; expected {expected}")
    if run.code is None:
        outcome = Outcome.OK if r.ok else Outcome.PROBLEM
        return Step(name=name, outcome=outcome, duration_s=r.duration_s,
                    summary="pulled" if r.ok else f"rc={r.rc}: {r.error_text[:120]}")
    if r.ok:
        return Step(name=name, outcome=Outcome.PROBLEM, duration_s=r.duration_s,
                    summary=f"pull succeeded; expected {expected}")
    outcome = Outcome.OK if got == want else Outcome.WARNING
    return Step(name=name, outcome=outcome, duration_s=r.duration_s,
                summary=f"rc={r.rc}, explained {got or 'nothing'} (expected {want or 'nothing'})")
