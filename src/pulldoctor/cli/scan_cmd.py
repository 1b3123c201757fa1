"""``pulldoctor scan``: find and group every pull failure in log files (or stdin)."""

from __future__ import annotations

import click

from pulldoctor.report.options import OutputOptions, output_options


@click.command(name="scan")
@click.argument("sources", nargs=-1)
@output_options
def command(sources: tuple[str, ...], output: OutputOptions) -> int:
    """Find every pull failure in log FILEs ("-" for stdin), one group per cause, image, registry
    and node, most frequent first.

    Reads journalctl output (short, short-iso, -o json), kubelet/containerd/CRI-O/dockerd logs in
    constant memory, and "kubectl get events" (-o json, -o yaml, the table) as documents. Exit code
    1 when a failure was found, 0 when none, 2 on usage errors.

    \b
    Examples:
      journalctl -u kubelet -u containerd --since today -o short-iso | pulldoctor scan -
      kubectl get events -A -o yaml | pulldoctor scan - --json
      pulldoctor scan /var/log/syslog node2.journal.json --format markdown
    """
    from pulldoctor.explain.scan_files import scan

    report = scan(list(sources))
    output.emit(report)
    return 1 if report.causes else 0
