"""The HTML report: self-contained, escaped, and really rendered by headless Chromium.

Chromium loads the file from disk with networking features off; ``--dump-dom`` gives the DOM after
layout (so we check what a reader sees), ``--screenshot`` leaves a PNG in the pytest tmp dir.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import report_samples as samples

from pulldoctor.model import Cause, Finding, Outcome, Report, Step
from pulldoctor.report.html_page import render_html
from pulldoctor.report.markdown import render_markdown

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "chromium is in .ci/apt-packages.txt"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", f"--user-data-dir={tmp / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


@pytest.mark.parametrize("name", sorted(samples.ALL))
def test_page_is_self_contained(name: str) -> None:
    page = render_html(samples.ALL[name]())
    parser = _Collect()
    parser.feed(page)
    assert parser.urls == []
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert "default-src 'none'" in page
    assert not re.search(r"url\(|@import|https?://(?!json-schema)", page.split("<body>")[0])


def test_hostile_text_is_escaped_everywhere() -> None:
    evil = '<script>alert(1)</script> ``` | **x** <img src=x onerror=alert(2)>'
    report = Report(
        command="diagnose", subject=evil,
        causes=[Cause.from_catalogue("net.reset", 0.5, [evil], {"host": evil})],
        steps=[Step(evil, Outcome.PROBLEM, 0.1, evil, [evil], [Finding(evil, evidence=[evil])],
                    data={evil: evil})],
        facts={evil: evil}, notes=[evil])
    page = render_html(report, verbose=True)
    parser = _Collect()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and parser.urls == []
    md = render_markdown(report, verbose=True)
    # inside fences and code spans text is literal; everywhere else no raw HTML may remain
    outside = re.sub(r"(?ms)^( *)(`{3,})[a-z]*\n.*?^\1\2$", "", md)
    outside = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", outside)
    assert not re.search(r"(?<!\\)`", outside)  # every fence and span closed by one longer than the ``` inside
    assert not re.search(r"(?<!\\)<(?!/?sub>)", outside), outside
    assert "**x**" not in outside


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
def test_chromium_renders_verdict_steps_certificate_and_config(tmp_path: Path) -> None:
    report = samples.diagnose_report()
    report.extra["config"] = samples.pull_config().to_dict()
    page = tmp_path / "diagnose.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom.stdout))
    assert "tls.expired" in text and "Certificate expired or not yet valid" in text
    assert "renew the registry certificate" in text  # the fix command
    assert re.search(r'id="verdict"', dom.stdout)
    assert "CN=registry.lab.test" in text and "2026-02-01T00:00:00+00:00" in text  # certificate
    assert "https://mirror.lab.test" in text and "proxy.lab.test:3128" in text  # configuration
    assert text.index("tls.expired") < text.index("Steps") < text.index("Effective configuration")
    for step in ("dns", "tcp", "tls", "ping", "manifest", "mtu"):
        assert f" {step} " in text
    shot = tmp_path / "diagnose.png"
    proc = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000  # a real, non-blank render
