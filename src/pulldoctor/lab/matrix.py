"""The differential oracle: every scenario x every real client, against ``pulldoctor diagnose``.

A cell is one (scenario, client). What the client did comes from a live run in the cell's lab, or
from its recorded run (``tests/fixtures/lab_capture.json``) when it is slow; what ``diagnose
--runtime <that client's runtime> --json`` says always comes from a live run, as the client, in
the same lab. A cell agrees (:func:`judge`) only when

* the client fails  <=>  diagnose exits 1;
* when it fails, diagnose's first cause is the scenario's expected code for that client, and
  ``explain`` reads the scenario's expected code from the client's own text (a documented
  difference lives in the scenario, :class:`~pulldoctor.lab.scenarios.ClientExpect`; a client
  that hung until its bound printed nothing to read);
* diagnose kept its deadline.

:func:`confirm_problem` judges the **Confirm** commands diagnose suggests, run as the client:
a usage error (the command does not run as written) is a defect; the command finding the fault
is not. The functions here are pure except :func:`run_diagnose`, :func:`run_client` and
:func:`run_confirm`, which run things inside a lab.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulldoctor.lab.procs import TIMEOUT_RC

if TYPE_CHECKING:
    from pulldoctor.lab.scenarios import Scenario
    from pulldoctor.lab.topology import Lab

RUNTIME: Mapping[str, str] = {"docker": "docker", "containerd": "containerd", "skopeo": "podman"}
"""The ``diagnose --runtime`` that walks each client's configuration."""
DEADLINE_S = 12.0
"""diagnose's ``--timeout`` in every cell."""
SLACK_S = 6.0
"""Interpreter start-up inside the client's namespaces, and the report itself, on a busy machine."""
LIVE_MAX_S = 2.0
"""A cell's client runs live when its recorded run ended within this; slower ones (timeouts,
retries) are read from the recording."""
_CONFIRM_BOUND_S = 8.0

_USAGE = re.compile(
    r"usage:|unknown (?:option|flag|shorthand flag|command)|unrecognized (?:option|arguments?)|"
    r"invalid option|illegal option|flag provided but not defined|flag needs an argument|"
    r"requires (?:at least|exactly|at most) \d+ arg|accepts (?:at most |)\d+ arg|"
    r"invalid reference format|missing (?:argument|operand)|bad (?:option|argument)|"
    r"can(?:no|')t be used with|not allowed with|no tag or digest allowed", re.I)
_DESTRUCTIVE = re.compile(
    r"(?:^|[;&|]\s*|\s)(?:rm|rmdir|mkfs|dd|kill|pkill|killall|reboot|shutdown|iptables\s+-[FDX]|"
    r"nft\s+(?:flush|delete|add|insert|replace)|ip\s+(?:route|link|addr)\s+(?:del|add|change|set)|"
    r"systemctl\s+(?:restart|stop|start|reload|daemon-reload|disable|enable)|"
    r"docker\s+(?:rm|rmi|system\s+prune|image\s+prune)|sysctl\s+-w|tee|sed\s+-i|chmod|chown)\b")


@dataclass(frozen=True)
class ClientRun:
    """What the client did in a cell: failed or pulled, its error text, how long it took."""

    failed: bool
    text: str
    duration_s: float
    live: bool
    timed_out: bool = False

    @classmethod
    def from_record(cls, result: Mapping[str, Any]) -> ClientRun:
        return cls(failed=result["rc"] != 0 or bool(result["timed_out"]),
                   text=result["error_text"], duration_s=float(result["duration_s"]),
                   live=False, timed_out=bool(result["timed_out"]))


@dataclass(frozen=True)
class DiagnoseRun:
    """What ``pulldoctor diagnose --json`` said in a cell."""

    rc: int
    causes: tuple[str, ...]
    duration_s: float  # the report's own duration
    wall_s: float  # the process, start to exit, as the client
    confirm: tuple[str, ...]
    steps: tuple[str, ...] = ()  # "OUTCOME name: summary", for failure messages
    error: str = ""  # stderr when the output was not a report
    runtime: str = ""  # the runtime whose configuration the report says it walked

    @property
    def top(self) -> str | None:
        return self.causes[0] if self.causes else None


@dataclass
class CellResult:
    """One cell's evidence and verdict (written as JSON for the README's matrix)."""

    scenario: str
    client: str
    expected: str | None
    explain_expected: str | None
    client_run: ClientRun
    diagnose: DiagnoseRun
    explained: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["agrees"] = self.agrees
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CellResult:
        cr = dict(d["client_run"])
        dg = dict(d["diagnose"])
        dg = {**dg, **{k: tuple(v) for k, v in dg.items() if isinstance(v, list)}}
        return cls(d["scenario"], d["client"], d["expected"], d["explain_expected"],
                   ClientRun(**cr), DiagnoseRun(**dg), d["explained"], list(d["problems"]))


def cells(scenarios: Iterable[Scenario]) -> list[tuple[str, str]]:
    """Every (scenario, client) cell, in catalogue order."""
    return [(s.name, c) for s in scenarios for c in s.clients]


def is_live(record: Mapping[str, Any] | None) -> bool:
    """Whether a cell's client runs live: no recording, or a recorded run that ended quickly."""
    return record is None or (not record["timed_out"] and record["duration_s"] <= LIVE_MAX_S)


def judge(sc: Scenario, client: str, run: ClientRun, diag: DiagnoseRun,
          explained: str | None) -> list[str]:
    """Why a cell disagrees (empty: it agrees). Pure."""
    problems = []
    want = sc.expected(client)
    if run.failed != (want is not None):
        problems.append(f"the client {'failed' if run.failed else 'pulled'}, but the scenario "
                        f"expects {want or 'a working pull'} (lab or recording out of date)")
    if diag.rc not in (0, 1):
        problems.append(f"diagnose exited {diag.rc}: {diag.error[-300:]}")
    elif run.failed != (diag.rc == 1):
        problems.append(f"the client {'fails' if run.failed else 'pulls'}, but diagnose exits "
                        f"{diag.rc} ({', '.join(diag.causes) or 'no cause'})")
    if run.failed and diag.rc == 1 and diag.top != want:
        problems.append(f"diagnose names {diag.top or 'no cause'}, the scenario {want} "
                        f"(all: {', '.join(diag.causes) or '-'})")
    if not run.failed and diag.causes:
        problems.append(f"the client pulls, but diagnose names {', '.join(diag.causes)}")
    hung_silent = run.timed_out and not run.text.strip()  # nothing printed: nothing to read
    if run.failed and not hung_silent and explained != sc.explain_expected(client):
        problems.append(f"explain reads {explained or 'nothing'} from the client's text, the "
                        f"scenario expects {sc.explain_expected(client)}")
    if diag.rc in (0, 1) and diag.runtime != RUNTIME[client]:
        problems.append(f"diagnose walked {diag.runtime or '?'}'s configuration, not "
                        f"{RUNTIME[client]}'s")
    if diag.duration_s > DEADLINE_S + 0.5:
        problems.append(f"diagnose's report took {diag.duration_s:.1f}s, past its "
                        f"{DEADLINE_S:.0f}s deadline")
    if diag.wall_s > DEADLINE_S + SLACK_S:
        problems.append(f"diagnose ran {diag.wall_s:.1f}s as a process (deadline {DEADLINE_S:.0f}s)")
    return problems


def explained_code(text: str) -> str | None:
    from pulldoctor.explain import explain

    report = explain(text)
    return str(report.causes[0].code) if report.causes else None


def run_diagnose(lab: Lab, image: str, client: str) -> DiagnoseRun:
    """``pulldoctor diagnose IMAGE --runtime <client's> --json`` as the client, in ``lab``."""
    argv = [sys.executable, "-m", "pulldoctor", "diagnose", image, "--json",
            "--runtime", RUNTIME[client], "--timeout", str(DEADLINE_S)]
    t0 = time.monotonic()
    r = lab.client_exec(argv, timeout=DEADLINE_S + SLACK_S + 10)
    wall = time.monotonic() - t0
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        return DiagnoseRun(r.returncode, (), 0.0, wall, (), error=r.stderr or r.stdout)
    causes = tuple(str(c["code"]) for c in rep.get("causes", []))
    confirm = tuple(dict.fromkeys(str(x) for c in rep.get("causes", [])
                                  for x in c.get("confirm", [])))
    steps = tuple(f"{s.get('outcome', '?'):8} {s.get('name', '?')}: {s.get('summary', '')}"
                  for s in rep.get("steps", []))
    return DiagnoseRun(r.returncode, causes, float(rep.get("duration_s") or 0.0), wall, confirm,
                       steps, runtime=str((rep.get("facts") or {}).get("runtime", "")))


def run_client(lab: Lab, image: str, client: str, timeout: float = 60.0) -> ClientRun:
    """Pull ``image`` with the real ``client`` in ``lab`` (its daemons stopped afterwards)."""
    from pulldoctor.lab.clients import make_client

    c = make_client(client)
    try:
        c.start(lab)
        res = c.pull(image, timeout)
    finally:
        c.stop()
    return ClientRun(failed=not res.ok, text=res.error_text, duration_s=res.duration_s,
                     live=True, timed_out=res.timed_out)


def confirm_problem(command: str, rc: int, output: str) -> str | None:
    """Why a Confirm command is defective as written, or None (it ran; finding the fault is fine).

    Pure. A usage error (exit 64, or a usage message), a command the shell cannot find (exit
    127: prose formatted as a command, or a tool this runtime's host does not have) and a
    command that changes the host are defects; any other result is the command doing its job.
    """
    if _DESTRUCTIVE.search(command):
        return "changes the host (a Confirm command must only look)"
    if rc == 127:
        return f"not a command here: {output.strip()[-200:]}"
    if rc == 64 or _USAGE.search(output):
        return f"usage error (exit {rc}): {output.strip()[-300:]}"
    return None


def run_confirm(lab: Lab, command: str) -> tuple[int, str]:
    """Run one Confirm command as the client (``sh -c``), bounded; its exit code and output."""
    r = lab.client_exec(["sh", "-c", command], timeout=_CONFIRM_BOUND_S)
    if r.returncode == TIMEOUT_RC:
        return r.returncode, "(still running at the bound: not a usage error)"
    return r.returncode, (r.stdout or "") + (r.stderr or "")


# ------------------------------------------------------------------------------ the table
SLOW_FAILURE_S = 5.0
"""A client failure that took at least this long is where diagnose's speed matters."""


def table(results: Sequence[CellResult], clients: Sequence[str] = ("docker", "containerd",
                                                                   "skopeo")) -> str:
    """The README's matrix, per client, as Markdown (pure).

    Columns: cells (client live / from the recording), cells where diagnose agrees; then the
    failures where the client took :data:`SLOW_FAILURE_S` or more (timeouts, retries, hangs cut
    at the recording's bound): how many, the median time to diagnose's verdict and to the
    client's error, and the speed-up (the client's time over diagnose's, smallest and median);
    then the same medians for the quick failures (refused, 404, bad certificate), where the
    client is the quicker one.
    """
    lines = ["| client | cells (live / recorded) | diagnose agrees | slow failures | "
             "diagnose / client (median) | speed-up min / median | quick failures: diagnose "
             "/ client (median) |",
             "|---|---|---|---|---|---|---|"]
    for client in clients:
        mine = [r for r in results if r.client == client]
        if not mine:
            continue
        live = sum(r.client_run.live for r in mine)
        agree = sum(r.agrees for r in mine)
        slow = [r for r in mine if r.client_run.failed
                and r.client_run.duration_s >= SLOW_FAILURE_S]
        quick = [r for r in mine if r.client_run.failed
                 and r.client_run.duration_s < SLOW_FAILURE_S]
        row = [client, f"{len(mine)} ({live} / {len(mine) - live})", f"{agree}/{len(mine)}",
               str(len(slow))]
        if slow:
            ratios = [r.client_run.duration_s / max(r.diagnose.wall_s, 0.01) for r in slow]
            row += [f"{_median(r.diagnose.wall_s for r in slow):.1f} s / "
                    f"{_median(r.client_run.duration_s for r in slow):.1f} s",
                    f"{min(ratios):.1f}x / {statistics.median(ratios):.1f}x"]
        else:
            row += ["-", "-"]
        row.append(f"{_median(r.diagnose.wall_s for r in quick):.2f} s / "
                   f"{_median(r.client_run.duration_s for r in quick):.2f} s" if quick else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def disagreements(results: Sequence[CellResult]) -> str:
    """The cells that disagree, one line each (Markdown list, pure)."""
    bad = sorted((r for r in results if not r.agrees), key=lambda r: (r.scenario, r.client))
    return "".join(f"- `{r.scenario}` x {r.client}: {'; '.join(r.problems)}\n" for r in bad)


def read_results(directory: Path) -> list[CellResult]:
    return [CellResult.from_dict(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(directory.glob("*.json"))]
