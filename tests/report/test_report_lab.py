"""Real reports from real runs: ``diagnose`` and ``host`` as the client of a lab scenario.

Each command's JSON must satisfy the shipped schema, and the HTML it writes must show the verdict,
the certificate (for the TLS scenario) and the effective configuration in a real Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pulldoctor.report.schema import load_schema

pytestmark = pytest.mark.lab

CHROMIUM = shutil.which("chromium")


def _lab_unavailable() -> str | None:
    import os

    if os.geteuid() != 0:
        return "lab tests need root"
    missing = [t for t in ("ip", "nft", "nsenter", "unshare", "mount") if shutil.which(t) is None]
    return f"lab tests need {', '.join(missing)}" if missing else None


def _dom_text(html: Path, tmp: Path) -> str:
    assert CHROMIUM
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp / 'profile'}", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", proc.stdout))


@pytest.mark.parametrize("scenario,command", [
    ("healthy", "diagnose"), ("tls-expired", "diagnose"), ("registry-unauthorized", "diagnose"),
    ("daemon-config-broken", "host"), ("healthy", "host"),
])
def test_real_reports_validate_and_render(scenario: str, command: str, tmp_path: Path) -> None:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS[scenario]
    html = tmp_path / "report.html"
    base = [sys.executable, "-m", "pulldoctor", command, sc.image]
    if command == "diagnose":
        base += ["--timeout", "15"]
    lab = Lab(prefix="r")
    try:
        sc.build(lab)
        as_json = lab.client_exec([*base, "--json", "--html", str(html)], timeout=90)
        as_md = lab.client_exec([*base, "--format", "markdown"], timeout=90)
    finally:
        lab.close()
    assert as_json.returncode in (0, 1), as_json.stderr[-2000:]
    doc = json.loads(as_json.stdout)
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in jsonschema.Draft202012Validator(load_schema()).iter_errors(doc)]
    assert errors == []
    assert doc["command"] == command and doc["steps"]
    top = doc["causes"][0]["code"] if doc["causes"] else None
    assert as_md.returncode == as_json.returncode, as_md.stderr[-2000:]
    assert as_md.stdout.startswith(f"## pulldoctor {command}")
    if top:
        assert f"`{top}`" in as_md.stdout
    if CHROMIUM is None:
        return
    text = _dom_text(html, tmp_path)
    assert (top or "No problem found") in text
    if scenario == "tls-expired" and top == "tls.expired":
        assert "Certificate" in text and "not_after" in text and "registry.lab.test" in text
