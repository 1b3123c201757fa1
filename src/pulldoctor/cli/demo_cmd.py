"""``pulldoctor demo``: watch docker blame the wrong thing, then see the proven cause (root).

Why a demo at all: the classic failure (the registry's name resolves, the blob CDN's name does not,
because UDP DNS to that name is dropped) makes docker print an error that reads like a network
timeout on the image download and takes tens of seconds to appear. Seeing a real dockerd print it,
and ``pulldoctor diagnose`` name ``dns.udp_timeout`` with evidence in the same lab, explains the tool
better than any README. Everything runs in a throw-away lab that is torn down at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
import time
from typing import Any

import click

from pulldoctor.errors import UsageError

CLASSIC = "dns-udp-timeout-cdn"
"""The scenario the demo builds (registry resolves, the CDN host's UDP DNS is dropped)."""


def side_by_side(left: tuple[str, list[str]], right: tuple[str, list[str]],
                 width: int = 100) -> list[str]:
    """Two titled columns of wrapped text, as plain lines (printed before the report)."""
    col = (width - 3) // 2

    def wrap(lines: list[str]) -> list[str]:
        out: list[str] = []
        for ln in lines:
            out.extend(textwrap.wrap(ln, col, break_long_words=True, break_on_hyphens=False) or [""])
        return out

    lcol, rcol = wrap(left[1]), wrap(right[1])
    rows = [f"{left[0][:col]:<{col}} | {right[0][:col]}", f"{'-' * col}-+-{'-' * col}"]
    for i in range(max(len(lcol), len(rcol))):
        a = lcol[i] if i < len(lcol) else ""
        b = rcol[i] if i < len(rcol) else ""
        rows.append(f"{a:<{col}} | {b}".rstrip())
    return rows


def say(msg: str) -> None:
    """Progress while the lab runs (stderr); the result itself goes through ``emit``."""
    click.echo(msg, err=True)


def _cause_from_dict(d: dict[str, Any]) -> Any:
    from pulldoctor.model import Cause

    return Cause(code=d["code"], confidence=float(d.get("confidence", 0.0)),
                 evidence=list(d.get("evidence", [])), fix=list(d.get("fix", [])),
                 confirm=list(d.get("confirm", [])), distinguish=list(d.get("distinguish", [])),
                 advice=list(d.get("advice", [])), runtime=d.get("runtime"))


def _diagnose_in_lab(lab: Any, image: str, timeout: float) -> tuple[dict[str, Any] | None, float, str]:
    """Run ``pulldoctor diagnose`` as the lab's client; (parsed JSON report, seconds, problem)."""
    if importlib.util.find_spec("pulldoctor.cli.diagnose_cmd") is None:
        return None, 0.0, "pulldoctor diagnose is not available in this build"
    argv = [sys.executable, "-m", "pulldoctor", "diagnose", image, "--runtime", "docker", "--json",
            "--timeout", str(int(timeout))]
    t0 = time.monotonic()
    cp = lab.client_exec(argv, timeout=timeout + 15)
    took = time.monotonic() - t0
    try:
        return json.loads(cp.stdout), took, ""
    except ValueError:
        err = (cp.stderr or "").strip().splitlines()
        return None, took, f"diagnose exited {cp.returncode}: {err[-1] if err else 'no output'}"


@click.command()
@click.option("--timeout", type=click.FloatRange(10, 600), default=120.0, show_default=True,
              help="Bound of the docker pull, seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(timeout: float, as_json: bool) -> int:
    """Build the classic lab, run a real docker pull, then diagnose it (root).

    \b
    The lab: registry.lab.test resolves, but UDP DNS queries for the blob CDN host cdn.lab.test
    are dropped. docker's error talks about the image download; pulldoctor proves it is DNS.
      sudo pulldoctor demo
    """
    from pulldoctor.cli import ExitCode
    from pulldoctor.lab.capture import explained_code
    from pulldoctor.lab.clients import DockerClient
    from pulldoctor.lab.topology import Lab
    from pulldoctor.model import Outcome, Report, Step
    from pulldoctor.report.render import emit

    if os.geteuid() != 0:
        raise UsageError("pulldoctor demo needs root (it builds a lab of network namespaces)")
    from pulldoctor.lab.scenarios import SCENARIOS

    scenario = SCENARIOS.get(CLASSIC)
    if scenario is None:
        raise UsageError(f"the demo scenario {CLASSIC!r} is missing from this build")
    say(f"Building the lab: {scenario.summary}")
    t_start = time.monotonic()
    with Lab(prefix="demo") as lab:
        scenario.build(lab)
        docker = DockerClient()
        try:
            docker.start(lab)
            say(f"Running a real `docker pull {scenario.image}` ({docker.version}); "
                "it takes a while to give up...")
            pulled = docker.pull(scenario.image, timeout)
        finally:
            docker.stop()
        say(f"docker gave up after {pulled.duration_s:.1f}s. Now: pulldoctor diagnose "
            f"{scenario.image} in the same lab...")
        diag, diag_s, problem = _diagnose_in_lab(lab, scenario.image, 30.0)
    docker_text = pulled.error_text or pulled.output_text or "(no output)"
    explained = explained_code(docker_text)

    steps = [Step(name="docker pull (real dockerd)",
                  outcome=Outcome.OK if pulled.ok else
                  Outcome.TIMEOUT if pulled.timed_out else Outcome.PROBLEM,
                  duration_s=pulled.duration_s, summary=docker_text,
                  data={"argv": list(pulled.argv), "rc": pulled.rc, "version": pulled.version})]
    if diag is not None:
        causes = [_cause_from_dict(c) for c in diag.get("causes", [])]
        steps.append(Step(name="pulldoctor diagnose (same lab, same client view)",
                          outcome=Outcome.PROBLEM if causes else Outcome.OK, duration_s=diag_s,
                          summary=causes[0].code if causes else "no cause found"))
        steps.extend(_steps_from(diag))
        right_title = f"pulldoctor diagnose ({diag_s:.1f}s)"
        right = ([f"{causes[0].code}: {causes[0].info.title}", *causes[0].evidence[:2]]
                 if causes else ["no cause found"])
    else:
        from pulldoctor.model import Cause

        causes = [Cause.from_catalogue(explained, 0.5, [docker_text])] if explained else []
        steps.append(Step(name="pulldoctor diagnose", outcome=Outcome.SKIPPED, summary=problem))
        right_title = "pulldoctor explain (diagnose not available)"
        right = [f"{explained}: {causes[0].info.title}" if causes else "nothing recognised", problem]
    comparison = side_by_side(
        (f"docker pull ({pulled.duration_s:.1f}s)", [docker_text]), (right_title, right))
    notes = [f"expected cause: {scenario.code}"]
    if diag is not None and diag_s > 0:
        notes.insert(0, f"docker needed {pulled.duration_s:.0f}s to fail and names no cause; "
                        f"pulldoctor diagnose proved one in {diag_s:.1f}s "
                        f"({pulled.duration_s / diag_s:.0f}x sooner)")
    report = Report(
        command="demo", subject=scenario.image, causes=causes, steps=steps, notes=notes,
        duration_s=time.monotonic() - t_start,
        facts={"scenario": scenario.name, "docker_text": docker_text,
               "docker_seconds": pulled.duration_s, "diagnose_seconds": round(diag_s, 2),
               "explain_code": explained, "expected_code": scenario.code},
        extra={"side_by_side": comparison},
    )
    if not as_json:
        # The comparison is the point of the demo: shown whole, before the detailed report.
        from pulldoctor.redact import redact

        click.echo(redact("\n".join(comparison)) + "\n")
    emit(report, "json" if as_json else "text")
    top = causes[0].code if causes else None
    return ExitCode.HEALTHY if top == scenario.code else ExitCode.PROBLEM


def _steps_from(diag: dict[str, Any]) -> list[Any]:
    """diagnose's own steps, indented under the demo's, so the proof is visible."""
    from pulldoctor.model import Outcome, Step

    out = []
    for s in diag.get("steps", []):
        try:
            outcome = Outcome(s.get("outcome", "ok"))
        except ValueError:
            outcome = Outcome.WARNING
        out.append(Step(name=f"  {s.get('name', '?')}", outcome=outcome,
                        duration_s=float(s.get("duration_s", 0.0)), summary=s.get("summary", ""),
                        evidence=list(s.get("evidence", []))))
    return out
