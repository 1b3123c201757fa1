"""``pulldoctor scan``: find and group every pull failure in log files (or stdin)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="scan")
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Output format.")
@click.option("-v", "--verbose", is_flag=True, help="Show more detail in text output.")
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the report as a self-contained HTML page to this file.")
def command(sources: tuple[str, ...], as_json: bool, fmt: str, verbose: bool,
            html: Path | None) -> int:
    """Find every pull failure in log FILEs (``-`` for stdin) and group them by cause and image.

    Reads journalctl output, kubelet/containerd/dockerd logs and ``kubectl get events -o json`` in
    constant memory. Exit code 1 when a failure was found, 0 when none, 2 on usage errors.

    \b
    Examples:
      journalctl -u kubelet -u containerd --since today | pulldoctor scan -
      kubectl get events -A -o json | pulldoctor scan - --json
      pulldoctor scan /var/log/syslog /var/log/containerd.log
    """
    from pulldoctor.explain.scan import scan
    from pulldoctor.report.render import emit

    report = scan(list(sources))
    emit(report, "json" if as_json else fmt, verbose=verbose, html=html)
    return 1 if report.causes else 0
