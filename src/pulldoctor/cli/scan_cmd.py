"""``pulldoctor scan``: find and group every pull failure in log files (or stdin)."""

from __future__ import annotations

import click

from pulldoctor.report.options import OutputOptions, output_options


@click.command(name="scan")
@click.argument("sources", nargs=-1)
@output_options
def command(sources: tuple[str, ...], output: OutputOptions) -> int:
    """Find every pull failure in log FILEs ("-" for stdin) and group them by cause and image.

    Reads journalctl output, kubelet/containerd/dockerd logs and "kubectl get events -o json" in
    constant memory. Exit code 1 when a failure was found, 0 when none, 2 on usage errors.

    \b
    Examples:
      journalctl -u kubelet -u containerd --since today | pulldoctor scan -
      kubectl get events -A -o json | pulldoctor scan - --json
      pulldoctor scan /var/log/syslog /var/log/containerd.log
    """
    from pulldoctor.explain.scan_files import scan

    report = scan(list(sources))
    output.emit(report)
    return 1 if report.causes else 0
