"""Choose a renderer for a report and write it out. Commands call :func:`emit` and nothing else.

One report, several renderers: plain text (pipes, ``NO_COLOR``), the rich terminal view (a TTY),
JSON (the contract, checked against ``schema.json``), Markdown (tickets) and a self-contained HTML
file. Each renderer starts from the same redacted data (:func:`view.report_data`) and redacts its
final text again. Renderer modules are imported only when their format is asked for.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from pulldoctor.errors import UsageError
from pulldoctor.model import Report
from pulldoctor.redact import redact
from pulldoctor.textclean import valid_utf8

FORMATS = ("text", "json", "markdown")
"""Values of ``--format``; ``md`` is accepted as an alias of ``markdown``."""


def render_json(report: Report) -> str:
    """The JSON contract, redacted, stable key order (as ``to_dict`` builds it)."""
    from pulldoctor.report.view import report_data

    text = valid_utf8(json.dumps(report_data(report), indent=2, sort_keys=False, default=str,
                                 ensure_ascii=False))
    again = redact(text)
    if again != text:
        try:
            json.loads(again)
        except ValueError:  # a shape pattern straddled two strings: keep the per-string result
            return text
    return again


def render_text(report: Report, *, verbose: bool = False) -> str:
    """Plain colourless text (see :mod:`pulldoctor.report.text`)."""
    from pulldoctor.report.text import render_text as _render

    return _render(report, verbose=verbose)


def render(report: Report, fmt: str = "text", *, verbose: bool = False,
           colour: bool = False, width: int = 100) -> str:
    """``report`` as a string in ``fmt``; ``colour`` picks the rich view for "text"."""
    fmt = "markdown" if fmt == "md" else fmt
    if fmt == "json":
        return render_json(report) + "\n"
    if fmt == "markdown":
        from pulldoctor.report.markdown import render_markdown

        return render_markdown(report, verbose=verbose)
    if fmt == "text":
        if colour:
            from pulldoctor.report.terminal import render_rich
            from pulldoctor.report.view import report_data

            return render_rich(report_data(report), verbose=verbose, width=width, colour=True)
        return render_text(report, verbose=verbose)
    raise UsageError(f"unknown output format {fmt!r} (choose from: {', '.join(FORMATS)})")


def _write_html(report: Report, path: Path, *, verbose: bool = False) -> None:
    """Write the self-contained HTML page atomically (a temporary file in the same directory,
    renamed over ``path``): a failure never leaves an empty or partial page. A path that cannot be
    written is a usage error."""
    import os
    import tempfile

    from pulldoctor.report.html_page import render_html

    data = valid_utf8(render_html(report, verbose=verbose)).encode("utf-8")
    target = Path(path)
    shown = valid_utf8(str(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write HTML report to {shown}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write HTML report to {shown}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(
    report: Report,
    fmt: str = "text",
    *,
    verbose: bool = False,
    html: Path | None = None,
    out: TextIO | None = None,
) -> None:
    """Render ``report`` as ``fmt`` ("text" | "json" | "markdown") to ``out`` (stdout).

    "text" is the rich, coloured view on a terminal and plain text elsewhere or with ``NO_COLOR``.
    With ``html``, the HTML page is written to that file as well (before anything is printed, so a
    bad path fails fast and cleanly).
    """
    if fmt not in (*FORMATS, "md"):
        raise UsageError(f"unknown output format {fmt!r} (choose from: {', '.join(FORMATS)})")
    if html is not None:
        _write_html(report, Path(html), verbose=verbose)
    stream = out or sys.stdout
    colour = False
    width = 100
    if fmt == "text":
        from pulldoctor.report.terminal import colour_wanted, terminal_width

        colour = colour_wanted(stream)
        width = terminal_width(stream) if colour else 100
    stream.write(valid_utf8(render(report, fmt, verbose=verbose, colour=colour, width=width)))
    stream.flush()


def emit_data(
    data: dict[str, object],
    fmt: str = "text",
    *,
    verbose: bool = False,
    html: Path | None = None,
    out: TextIO | None = None,
) -> None:
    """Like :func:`emit`, for a report already in its JSON form (a stored one: ``history show``).

    The data is redacted again first, as every renderer's input is.
    """
    import json

    from pulldoctor.redact import redact_obj

    fmt = "markdown" if fmt == "md" else fmt
    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r} (choose from: {', '.join(FORMATS)})")
    clean = redact_obj(data)
    if html is not None:
        from pulldoctor.report.html_page import render_html_data

        try:
            Path(html).write_text(render_html_data(clean, verbose=verbose), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write HTML report to {html}: {exc.strerror or exc}") from None
    stream = out or sys.stdout
    if fmt == "json":
        text = json.dumps(clean, indent=2, ensure_ascii=False, default=str) + "\n"
        again = redact(text)
        try:
            json.loads(again)
            text = again
        except ValueError:  # a shape straddled two strings: keep the per-string result
            pass
    elif fmt == "markdown":
        from pulldoctor.report.markdown import render_markdown_data

        text = redact(render_markdown_data(clean, verbose=verbose))
    else:
        from pulldoctor.report.terminal import colour_wanted, render_rich, terminal_width

        if colour_wanted(stream):
            text = render_rich(clean, verbose=verbose, width=terminal_width(stream), colour=True)
        else:
            from pulldoctor.report.text import render_text_data

            text = render_text_data(clean, verbose=verbose)
        text = redact(text)
    stream.write(text)
    stream.flush()
