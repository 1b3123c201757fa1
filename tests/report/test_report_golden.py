"""Whole outputs of every renderer, compared to golden files at a fixed width.

Rendering is deterministic (no clock, no terminal size), so any change to a layout shows up here as
a diff to review. Re-record after an intended change with::

    PULLDOCTOR_RECORD_GOLDEN=1 /work/venv/bin/pytest tests/report/test_report_golden.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import report_samples as samples

from pulldoctor import __version__
from pulldoctor.model import Report
from pulldoctor.report.html_page import render_html
from pulldoctor.report.render import render
from pulldoctor.report.terminal import render_rich
from pulldoctor.report.view import report_data

GOLDEN = Path(__file__).parent / "golden"
RECORD = bool(os.environ.get("PULLDOCTOR_RECORD_GOLDEN"))

RENDERERS: dict[str, tuple[str, Callable[[Report], str]]] = {
    "text": ("txt", lambda r: render(r, "text")),
    "text-verbose": ("txt", lambda r: render(r, "text", verbose=True)),
    "rich": ("txt", lambda r: render_rich(report_data(r), width=100, colour=False)),
    "rich-colour": ("ansi", lambda r: render_rich(report_data(r), width=100, colour=True)),
    "markdown": ("md", lambda r: render(r, "markdown")),
    "markdown-verbose": ("md", lambda r: render(r, "markdown", verbose=True)),
    "json": ("json", lambda r: render(r, "json")),
    "html": ("html", lambda r: render_html(r)),
}


def _normalise(text: str) -> str:
    """Version strings change with every release; the layout is what is under test."""
    return text.replace(__version__, "VERSION")


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
@pytest.mark.parametrize("sample", sorted(samples.ALL))
def test_output_matches_golden(sample: str, renderer: str) -> None:
    ext, fn = RENDERERS[renderer]
    got = _normalise(fn(samples.ALL[sample]()))
    path = GOLDEN / f"{sample}.{renderer}.{ext}"
    if RECORD:
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with PULLDOCTOR_RECORD_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8")


def test_rendering_is_repeatable() -> None:
    """Same report object, same output: no hidden state between renders (registries, caches)."""
    for make in samples.ALL.values():
        report = make()
        for _, fn in RENDERERS.values():
            assert fn(report) == fn(report)
