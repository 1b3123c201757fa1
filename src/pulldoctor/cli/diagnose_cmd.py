"""``pulldoctor diagnose IMAGE``: re-walk the pull from this host and prove the root cause."""

from __future__ import annotations

import sys

import click

from pulldoctor.model import Outcome, Report
from pulldoctor.report.options import OutputOptions, output_options

_MAX_ERROR_TEXT = 1024 * 1024


def _error_text(value: str | None) -> str | None:
    if value is None:
        return None
    if value == "-":
        data = sys.stdin.buffer.read(_MAX_ERROR_TEXT + 1)
        if len(data) > _MAX_ERROR_TEXT:
            raise click.UsageError("--error - : stdin is larger than 1 MiB")
        value = data.decode("utf-8", errors="replace")
    return value if value.strip() else None


@click.command(name="diagnose")
@click.argument("image")
@click.option("--error", "error", metavar="TEXT|-",
              help="The error the pull printed (or - to read it from stdin): used as evidence.")
@click.option("--runtime", type=click.Choice(["auto", "docker", "containerd", "podman"]),
              default="auto", show_default=True, help="Whose configuration to walk with.")
@click.option("--client", type=click.Choice(["auto", "cli", "cri"]), default="auto",
              show_default=True,
              help="containerd: which process pulls, so whose proxy applies. cli: ctr (1.6, "
                   "1.7; 2.x with --local) and nerdctl fetch in their own process, with this "
                   "shell's HTTPS_PROXY/NO_PROXY. cri: kubelet and crictl (and ctr 2.x's "
                   "transfer service): containerd fetches, with containerd.service's "
                   "environment. auto: walk both when their proxies differ (each under its own "
                   "heading; exit 1 if either fails), else one walk; under --root only cri.")
@click.option("--platform", metavar="OS/ARCH", default=None,
              help="Platform to choose from an index (default: this host's).")
@click.option("--layers", is_flag=True,
              help="Download and verify every layer (digest, size, throughput); raise --timeout "
                   "for large images.")
@click.option("--timeout", type=click.FloatRange(min=0.5, max=600.0), default=15.0,
              show_default=True, help="Absolute deadline for the whole walk, in seconds.")
@click.option("--root", default="/", show_default=True, metavar="DIR",
              help="Read configuration, credentials, resolv.conf and data roots from the host "
                   "file system mounted at DIR (a node at /host), probing from this network.")
@click.option("--node", default=None, metavar="NAME",
              help="This host's name in the report (facts.node; default $NODE_NAME, else the "
                   "hostname), for fleet merge.")
@output_options
def command(image: str, error: str | None, runtime: str, client: str, platform: str | None,
            layers: bool, timeout: float, root: str, node: str | None,
            output: OutputOptions) -> int:
    """Re-walk the pull of IMAGE from this host, step by step, and name the proven cause.

    Read-only: resolves, connects, handshakes and reads from the registry exactly as the runtime
    would, and never writes anything. Exit code 0 when the pull path is healthy, 1 when a problem
    was found or the deadline cut the walk, 2 on usage errors, 3 when pulldoctor itself failed,
    130 on Ctrl-C (stderr says which step it interrupted).

    \b
    Examples:
      pulldoctor diagnose nginx:latest
      pulldoctor diagnose registry.example.com:5000/team/app:1.2 --runtime containerd --json
      pulldoctor diagnose app:1 --runtime containerd --client cri   # as kubelet pulls it
      docker pull x 2>&1 | pulldoctor diagnose x --error -
      pulldoctor diagnose --layers --platform linux/arm64 ghcr.io/org/app:v1
      pulldoctor diagnose nginx --root /host --json --node "$NODE_NAME"   # in a node pod
    """
    from pulldoctor.diagnose import diagnose

    text = _error_text(error)
    progress = None
    if output.fmt == "text" and sys.stderr.isatty():
        from pulldoctor.report.terminal import LiveProgress

        progress = LiveProgress(sys.stderr)
    if progress is not None:
        with progress:
            report = diagnose(image, runtime=runtime, platform=platform, layers=layers,
                              timeout=timeout, error_text=text, root=root, node=node,
                              on_step=progress.on_step, client=client)
    else:
        report = diagnose(image, runtime=runtime, platform=platform, layers=layers,
                          timeout=timeout, error_text=text, root=root, node=node, client=client)
    output.emit(report)
    return exit_code(report)


def exit_code(report: Report) -> int:
    """0 healthy, 1 a problem found, 3 when a probe crashed and nothing could be proven."""
    if report.causes:
        return 1
    if any(s.outcome == Outcome.CRASHED for s in report.steps):
        return 3
    return 0 if report.healthy else 1
