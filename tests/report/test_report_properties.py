"""Any report the model can hold renders in every format: no crash, valid JSON, no secret.

Hypothesis builds reports from the real model classes with arbitrary text (control characters,
markup characters, backticks, huge strings) in every field, one registered secret planted in a
random place, and checks each renderer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulldoctor import redact as R
from pulldoctor.causes import CODES
from pulldoctor.model import Cause, Finding, Outcome, Report, Step
from pulldoctor.report.html_page import render_html
from pulldoctor.report.render import render
from pulldoctor.report.schema import load_schema
from pulldoctor.report.terminal import render_rich
from pulldoctor.report.view import report_data

SECRET = "Zq7-planted-s3cret-Xw"
VALIDATOR = jsonschema.Draft202012Validator(load_schema())

texts = st.text(max_size=80) | st.sampled_from(["", "[bold]x[/]", "```", "<b>|</b>", "\x1b[31m"])
plain = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_data = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(plain, inner, max_size=3), max_leaves=8)


@st.composite
def reports(draw: st.DrawFn) -> Report:
    command = draw(st.sampled_from(["explain", "scan", "diagnose", "host"]))
    causes = [Cause.from_catalogue(draw(st.sampled_from(CODES)), draw(st.floats(0, 1)),
                                   draw(st.lists(texts, max_size=3)),
                                   {"host": draw(texts), "image": draw(texts)},
                                   draw(st.lists(texts, max_size=2)))
              for _ in range(draw(st.integers(0, 3)))]
    steps = [Step(draw(plain.filter(bool)), draw(st.sampled_from(list(Outcome))),
                  draw(st.floats(0, 100)), draw(texts), draw(st.lists(texts, max_size=2)),
                  [Finding(draw(plain.filter(bool)), draw(st.sampled_from(["error", "warning", "info"])),
                           draw(st.none() | st.sampled_from(CODES)), draw(st.lists(texts, max_size=2)))
                   for _ in range(draw(st.integers(0, 2)))],
                  draw(st.dictionaries(plain, json_data, max_size=3)),
                  draw(st.none() | plain))
             for _ in range(draw(st.integers(0, 4)))] if command in ("diagnose", "host") else []
    extra: dict[str, Any] = {}
    if command == "scan":
        extra["groups"] = [{"code": draw(st.sampled_from(CODES)), "count": draw(st.integers(1, 10**6)),
                            "image": draw(st.none() | texts), "first_seen": draw(st.integers(0, 99)),
                            "last_seen": draw(texts), "example": draw(texts)}
                           for _ in range(draw(st.integers(0, 3)))]
    report = Report(command=command, subject=draw(texts), causes=causes,
                    facts=draw(st.dictionaries(plain, json_data, max_size=4)), steps=steps,
                    notes=draw(st.lists(texts, max_size=2)), extra=extra)
    # plant the secret in one free-text place
    where = draw(st.sampled_from(["subject", "note", "fact", "evidence", "data"]))
    if where == "subject":
        report.subject += " " + SECRET
    elif where == "note":
        report.notes.append(f"typed {SECRET}")
    elif where == "fact":
        report.facts["said"] = {"nested": [SECRET]}
    elif where == "evidence" and causes:
        causes[0].evidence.append(f"... {SECRET} ...")
    elif steps:
        steps[0].data["deep"] = {"x": [{"y": SECRET}]}
    else:
        report.notes.append(SECRET)
    return report


@pytest.fixture(autouse=True)
def _secret() -> Iterator[None]:
    R.register_secret(SECRET)
    yield
    R.forget_secrets()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports(), verbose=st.booleans())
def test_every_format_renders_any_report(report: Report, verbose: bool) -> None:
    R.register_secret(SECRET)
    outputs = {
        "text": render(report, "text", verbose=verbose),
        "markdown": render(report, "markdown", verbose=verbose),
        "json": render(report, "json"),
        "html": render_html(report, verbose=verbose),
        "rich": render_rich(report_data(report), verbose=verbose, width=60, colour=True),
    }
    doc = json.loads(outputs["json"])
    assert [e.message for e in VALIDATOR.iter_errors(doc)] == []
    for fmt, out in outputs.items():
        assert SECRET not in out, fmt
        assert out.endswith("\n"), fmt
