"""``pulldoctor fleet merge``: many hosts' reports in, one correlated fleet report out."""

from __future__ import annotations

import sys

import click

from pulldoctor.report.options import OutputOptions, output_options


@click.group(name="fleet")
def command() -> None:
    """Compare many hosts: which fail, where, and what the failing ones share.

    \b
    Examples:
      pulldoctor fleet merge reports/            # every *.json below reports/
      pulldoctor fleet merge node-*.json --format markdown
      cat */report.json | pulldoctor fleet merge - --json
    """


@command.command(name="merge")
@click.argument("reports", nargs=-1, required=True)
@output_options
def merge(reports: tuple[str, ...], output: OutputOptions) -> int:
    """Merge diagnose/host --json REPORTS (files, directories, - for stdin) from many hosts.

    One cause per (cause, failing step), most widespread first, naming the nodes it affects and
    the attributes they share that the healthy nodes lack (resolver, proxy, mirrors, runtime and
    version, config file hashes, MTU, subnet, zone, node pool); a burst many nodes hit on one
    registry in the same minute is told apart from node-local faults. Each report names its host
    in facts.node (diagnose/host --node NAME, else $NODE_NAME, else the hostname).

    Exit code 0 when every node is healthy, 1 when any node has a problem, 2 when an input is not
    a report (not JSON, truncated, another command's output, an empty directory).
    """
    from pulldoctor.fleet import correlate, read_summaries

    subject = ", ".join(reports) if len(reports) <= 3 else f"{len(reports)} inputs"
    report = correlate(read_summaries(reports, sys.stdin.buffer), subject=subject)
    output.emit(report)
    return 1 if report.facts["nodes_failing"] else 0
