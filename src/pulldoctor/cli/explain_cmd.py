"""``pulldoctor explain``: name the root cause of one pull error text (argument or stdin)."""

from __future__ import annotations

import sys

import click

from pulldoctor.errors import UsageError
from pulldoctor.report.options import OutputOptions, output_options
from pulldoctor.textclean import valid_utf8

_MAX_STDIN = 16 * 1024 * 1024
"""explain reads one error text; whole logs belong to ``pulldoctor scan`` (constant memory)."""


def read_text(args: tuple[str, ...]) -> str:
    """The text to explain: the arguments joined, or stdin for ``-``; a usage error if empty."""
    if args == ("-",):
        data = sys.stdin.buffer.read(_MAX_STDIN + 1)
        if len(data) > _MAX_STDIN:
            raise UsageError("stdin is larger than 16 MiB; use 'pulldoctor scan -' for whole logs")
        text = data.decode("utf-8", errors="replace")
    else:
        text = valid_utf8(" ".join(args))  # undecodable bytes arrive as lone surrogates
    if not text.strip():
        raise UsageError("no error text given: pulldoctor explain 'TEXT' (or - to read stdin)")
    return text


@click.command(name="explain")
@click.argument("text", nargs=-1)
@output_options
def command(text: tuple[str, ...], output: OutputOptions) -> int:
    """Name the most likely root cause of a pull error TEXT, with the evidence.

    Reads no configuration and touches no network: it only reads the text. Exit code 1 when a
    cause was found, 0 when nothing was recognised, 2 on usage errors.

    \b
    Examples:
      pulldoctor explain 'error pulling image configuration: download failed after attempts=6: dial tcp: lookup production.cloudflare.docker.com on 127.0.0.53:53: read udp 127.0.0.1:40000->127.0.0.53:53: i/o timeout'
      kubectl describe pod web-0 | pulldoctor explain -
      pulldoctor explain --json "$(journalctl -u containerd -n 20)"
    """
    from pulldoctor.explain import explain

    report = explain(read_text(text))
    output.emit(report)
    return 1 if report.causes else 0
