"""Choose a renderer for a report and write it out. Commands call :func:`emit` and nothing else.

(First version: JSON and plain text. The rich terminal view, Markdown and HTML renderers plug in
here, behind the same signature.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from pulldoctor.redact import redact
from pulldoctor.report.model import Report


def render_json(report: Report) -> str:
    return redact(json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str))


def render_text(report: Report, *, verbose: bool = False) -> str:
    lines: list[str] = []
    if report.subject:
        lines.append(f"{report.command}: {report.subject}")
    if not report.causes:
        lines.extend(report.notes or ["No problem found."])
    for i, c in enumerate(report.causes, 1):
        info = c.info
        lines.append(f"{i}. {c.code} ({c.confidence:.0%}): {info.title}")
        lines.append(f"   {info.meaning}")
        lines.extend(f"   evidence: {e}" for e in c.evidence)
        lines.extend(f"   fix: {f}" for f in c.fix)
    if report.facts:
        lines.append("facts:")
        lines.extend(f"  {k}: {v}" for k, v in report.facts.items())
    for s in report.steps:
        lines.append(f"[{s.outcome}] {s.name} ({s.duration_s:.2f}s) {s.summary}")
        if verbose:
            lines.extend(f"    {e}" for e in s.evidence)
    return redact("\n".join(lines) + "\n")


def emit(
    report: Report,
    fmt: str = "text",
    *,
    verbose: bool = False,
    html: Path | None = None,
    out: TextIO | None = None,
) -> None:
    """Render ``report`` as ``fmt`` ("text" | "json" | "markdown") to ``out`` (stdout)."""
    stream = out or sys.stdout
    if fmt == "json":
        stream.write(render_json(report) + "\n")
    else:
        stream.write(render_text(report, verbose=verbose))
    if html is not None:
        html.write_text(render_json(report), encoding="utf-8")
