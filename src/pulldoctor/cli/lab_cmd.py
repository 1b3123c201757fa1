"""``pulldoctor lab``: build a scenario's real network and servers, run a command as its client.

Argument parsing and printing only; the lab itself is :mod:`pulldoctor.lab.topology` and
:mod:`pulldoctor.lab.scenarios`. Every command that builds a lab first reaps labs left behind by
killed runs, and tears its own lab down on any exit (error, Ctrl-C, SIGTERM) except ``up``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import click

from pulldoctor.errors import UsageError

if TYPE_CHECKING:
    from pulldoctor.lab.scenarios import Scenario


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise UsageError(f"pulldoctor lab {what} needs root (it builds network namespaces)")


def _scenario(name: str) -> Scenario:
    from pulldoctor.lab.scenarios import SCENARIOS

    if name not in SCENARIOS:
        raise UsageError(f"unknown scenario '{name}' (see: pulldoctor lab list)")
    return SCENARIOS[name]


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM/SIGHUP tear the lab down like Ctrl-C does (the context managers run)."""

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    old = {s: signal.signal(s, raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@click.group(name="lab")
def command() -> None:
    """Reproduce pull failures with real parts: namespaces, nftables, DNS, registry (root).

    \b
    Examples:
      pulldoctor lab list
      sudo pulldoctor lab run dns-udp-timeout-cdn -- skopeo inspect docker://registry.lab.test/lab/hello
      sudo pulldoctor lab up net-mtu-blackhole
      sudo pulldoctor lab down --all
    """


@command.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print every scenario as JSON data.")
def list_cmd(as_json: bool) -> int:
    """List the scenarios: name, the cause code it reproduces, what it does.

    With --json, each scenario's faults, services and what each real client is expected to show
    (``expect``: the cause, or null for a working pull, and what explain reads from its text).
    """
    from pulldoctor.lab.scenarios import SCENARIOS, scenarios_json

    if as_json:
        click.echo(scenarios_json())
        return 0
    width = max(len(n) for n in SCENARIOS)
    for s in SCENARIOS.values():
        first = re.split(r"[.:](?:\s|$)", s.summary, maxsplit=1)[0]
        per_client = "  [differs per client: --json]" if s.expect else ""
        click.echo(f"{s.name:<{width}}  {s.code or '(healthy)':<26}  {first}{per_client}")
    return 0


@command.command(name="run", context_settings={"ignore_unknown_options": True})
@click.argument("scenario")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--timeout", type=click.FloatRange(1, 3600), default=300.0, show_default=True,
              help="Bound of CMD, seconds (it is killed after that; exit code 124).")
def run_cmd(scenario: str, cmd: tuple[str, ...], timeout: float) -> int:
    """Build SCENARIO, run CMD as its client, tear down, exit with CMD's code.

    CMD runs in the client's network namespace with the scenario's resolv.conf, hosts,
    /etc/docker, /etc/containerd, /etc/containers and HOME; its output is shown as it runs.

    \b
    Example:
      sudo pulldoctor lab run healthy -- getent hosts registry.lab.test
    """
    _need_root("run")
    sc = _scenario(scenario)
    from pulldoctor.lab.procs import reap_stale
    from pulldoctor.lab.topology import Lab

    reap_stale()
    with _sigterm_as_interrupt(), Lab() as lab:
        sc.build(lab)
        click.echo(f"pulldoctor lab: {scenario} built (lab {lab.id}): {sc.summary}", err=True)
        click.echo(f"pulldoctor lab: running as the client: {shlex.join(cmd)}", err=True)
        sys.stdout.flush()
        result = lab.client_exec(list(cmd), timeout=timeout, capture=False)
    if result.returncode == 124:
        click.echo(f"pulldoctor lab: command killed after {timeout:.0f}s", err=True)
    return result.returncode if result.returncode >= 0 else 128 - result.returncode


@command.command(name="up")
@click.argument("scenario")
def up_cmd(scenario: str) -> int:
    """Build SCENARIO and leave it standing; print how to enter its client."""
    _need_root("up")
    sc = _scenario(scenario)
    from pulldoctor.lab.procs import reap_stale
    from pulldoctor.lab.topology import Lab

    reap_stale()
    with _sigterm_as_interrupt(), Lab() as lab:
        sc.build(lab)
        lab.state.set_meta(scenario=scenario, enter=lab.client_shell_argv())
        lab.detach()
        click.echo(f"lab {lab.id} is up: {scenario}")
        click.echo("enter the client (its network, resolv.conf, /etc/docker, HOME):")
        click.echo(f"  {shlex.join(lab.client_shell_argv())}")
        click.echo(f"logs: {lab.log_dir}")
        click.echo(f"tear down: pulldoctor lab down {lab.id}")
    return 0


@command.command(name="down")
@click.argument("lab_id", required=False)
@click.option("--all", "all_", is_flag=True,
              help="Every lab left by 'up' or by killed runs (labs of running processes stay).")
def down_cmd(lab_id: str | None, all_: bool) -> int:
    """Tear down a lab left standing by 'up' (stop its processes, delete its namespaces)."""
    _need_root("down")
    from pulldoctor.lab.procs import list_labs, teardown

    if bool(lab_id) == all_:
        raise UsageError("give a lab id or --all (ids: pulldoctor lab status)")
    labs = list_labs()
    if lab_id:
        chosen = [s for s in labs if s.lab_id == lab_id]
        if not chosen:
            raise UsageError(f"no lab '{lab_id}' (see: pulldoctor lab status)")
    else:
        chosen = [s for s in labs if s.detached or not s.owner_alive()]
    failed = False
    for state in chosen:
        problems = teardown(state)
        failed |= bool(problems)
        click.echo(f"lab {state.lab_id}: " + ("; ".join(problems) if problems else "torn down"))
    if all_ and not chosen:
        click.echo("no lab to tear down")
    return 3 if failed else 0


@command.command(name="status")
@click.option("--json", "as_json", is_flag=True)
def status_cmd(as_json: bool) -> int:
    """List the labs recorded on this machine: id, scenario, state."""
    from pulldoctor.lab.procs import list_labs

    rows = [{"id": s.lab_id, "scenario": s.meta().get("scenario"),
             "state": "up" if s.detached else ("running" if s.owner_alive() else "stale"),
             "processes": len(s.procs())} for s in list_labs()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    for r in [] if as_json else rows:
        click.echo(f"{r['id']}  {r['state']:<8} {r['scenario'] or '-'}  ({r['processes']} processes)")
    return 0


# ---------------------------------------------------------------- subcommands from other modules
# `pulldoctor lab capture` lives in pulldoctor.cli.lab_capture_cmd (the lab-clients engineer's);
# it is attached here so `pulldoctor lab --help` lists it. Add further subcommands the same way.
def _attach(module: str, name: str) -> None:
    import importlib
    import importlib.util

    if importlib.util.find_spec(module) is None:
        return
    sub: click.Command = importlib.import_module(module).command
    command.add_command(sub, name)


_attach("pulldoctor.cli.lab_capture_cmd", "capture")
