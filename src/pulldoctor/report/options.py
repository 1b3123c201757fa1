"""The output options every reporting command shares: ``--format``, ``--json``, ``--html``, ``-v``.

Commands decorate themselves with :func:`output_options` and receive one :class:`OutputOptions`
argument named ``output``; ``output.emit(report)`` then prints through
:func:`pulldoctor.report.render.emit`. One decorator keeps the option names, help texts and the
``--json`` shortcut identical across commands.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from pulldoctor.model import Report

R = TypeVar("R")

_FORMAT_CHOICES = ("text", "json", "markdown")


@dataclass(frozen=True, slots=True)
class OutputOptions:
    """How the user asked for the report: format, optional HTML file, verbosity."""

    fmt: str = "text"
    html: Path | None = None
    verbose: bool = False

    def emit(self, report: Report, out: TextIO | None = None) -> None:
        from pulldoctor.report.render import emit

        emit(report, self.fmt, verbose=self.verbose, html=self.html, out=out)


def output_options(func: Callable[..., R]) -> Callable[..., R]:
    """Add ``--format/--json/--html/--verbose`` and pass them as ``output=OutputOptions(...)``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        fmt = kwargs.pop("output_format")
        as_json = kwargs.pop("output_json")
        if as_json and fmt not in (None, "json"):
            raise click.UsageError(f"--json and --format {fmt} contradict each other; use one.")
        chosen = "json" if as_json else (fmt or "text")
        output = OutputOptions(chosen, kwargs.pop("output_html"), kwargs.pop("output_verbose"))
        return func(*args, output=output, **kwargs)

    decorators = (
        click.option("--format", "output_format", type=click.Choice(_FORMAT_CHOICES),
                     default=None, metavar="text|json|markdown",
                     help="Output format: text (coloured on a terminal), json (see "
                          "`pulldoctor schema`) or markdown (for tickets). Default: text."),
        click.option("--json", "output_json", is_flag=True,
                     help="Shortcut for --format json."),
        click.option("--html", "output_html", metavar="FILE",
                     type=click.Path(dir_okay=False, writable=True, path_type=Path),
                     help="Also write a self-contained HTML report to FILE."),
        click.option("-v", "--verbose", "output_verbose", is_flag=True,
                     help="Show every observation, not only the verdict and the step table."),
    )
    out: Callable[..., R] = wrapper
    for deco in reversed(decorators):
        out = deco(out)
    return out
