"""``pulldoctor diagnose`` on bad input: one clear line, exit 2, no traceback, no network."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "diagnose", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args,fragment", [
    (("UPPER/Case:tag",), "invalid reference format"),
    (("https://registry.example/x",), "has a scheme"),
    (("x:y", "--timeout", "0"), "--timeout"),
    (("x:y", "--runtime", "rkt"), "--runtime"),
    (("x:y", "--platform", "amd64"), "--platform must be OS/ARCH"),
    (("x:y", "--platform", "linux/"), "--platform must be OS/ARCH"),  # issue 9, defect 6
    (("x:y", "--platform", "/amd64"), "--platform must be OS/ARCH"),
    (("localhost:99999/x",), "port 99999"),  # was an internal error (exit 3)
    (("localhost:0/x",), "port 0"),  # was accepted
    (("x:y", "--root", "/nonexistent/pd-root"), "is not a directory"),
    ((), "Missing argument"),
])
def test_usage_errors(args: tuple[str, ...], fragment: str) -> None:
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert fragment in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stdout == ""


def test_host_rejects_the_same_references() -> None:
    """``host localhost:99999/x`` said "No problem found" (issue 9, defect 6)."""
    r = subprocess.run([sys.executable, "-m", "pulldoctor", "host", "localhost:99999/x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "port 99999" in r.stderr and r.stdout == ""


def test_help_lists_the_options() -> None:
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--error", "--runtime", "--platform", "--layers", "--timeout", "--json"):
        assert opt in r.stdout
    assert "130 on Ctrl-C" in r.stdout


def test_exit_code_mapping() -> None:
    from pulldoctor.cli.diagnose_cmd import exit_code
    from pulldoctor.model import Cause, Outcome, Report, Step

    ok = Report("diagnose", steps=[Step("dns x", Outcome.OK)])
    assert exit_code(ok) == 0
    crashed = Report("diagnose", steps=[Step("dns x", Outcome.CRASHED)])
    assert exit_code(crashed) == 3
    found = Report("diagnose", causes=[Cause.from_catalogue("net.refused", 0.9, [])],
                   steps=[Step("tcp x", Outcome.PROBLEM), Step("y", Outcome.CRASHED)])
    assert exit_code(found) == 1
    warn = Report("diagnose", steps=[Step("tcp x", Outcome.WARNING)])
    assert exit_code(warn) == 0
