"""``pulldoctor explain`` as a user runs it: a real subprocess, exit codes, formats, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEXT = ("Error response from daemon: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup "
        "registry-1.docker.io on 192.168.65.1:53: read udp 192.168.65.2:45941->192.168.65.1:53: "
        "i/o timeout")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "explain", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def test_cause_found_exits_1_with_text_output() -> None:
    p = run(TEXT)
    assert p.returncode == 1, p.stderr
    assert "dns.udp_timeout" in p.stdout
    assert "Traceback" not in p.stderr


def test_json_output_is_the_report_contract() -> None:
    p = run("--json", TEXT)
    assert p.returncode == 1
    doc = json.loads(p.stdout)
    assert doc["command"] == "explain"
    assert doc["causes"][0]["code"] == "dns.udp_timeout"
    assert doc["facts"]["resolver"] == "192.168.65.1"
    p2 = run("--format", "json", TEXT)
    assert json.loads(p2.stdout)["causes"][0]["code"] == "dns.udp_timeout"


def test_markdown_format_is_accepted() -> None:
    p = run("--format", "markdown", TEXT)
    assert p.returncode == 1
    assert "dns.udp_timeout" in p.stdout


def test_stdin() -> None:
    p = run("-", stdin=TEXT + "\n")
    assert p.returncode == 1
    assert "dns.udp_timeout" in p.stdout


def test_nothing_recognised_exits_0() -> None:
    p = run("--json", "all is well")
    assert p.returncode == 0
    doc = json.loads(p.stdout)
    assert doc["causes"] == []
    assert "nothing in this text was recognised as a pull failure" in doc["notes"]


@pytest.mark.parametrize("args,stdin", [((), None), (("-",), ""), (("   ",), None)])
def test_no_text_is_a_usage_error(args: tuple[str, ...], stdin: str | None) -> None:
    p = run(*args, stdin=stdin)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0, p.stderr  # one line
    assert "Traceback" not in p.stderr


def test_bad_option_is_a_usage_error() -> None:
    p = run("--format", "yaml", TEXT)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr


def test_secrets_never_reach_the_output() -> None:
    text = ('Error response from daemon: Get "https://bob:s3cretPassw0rd@r.example.com/v2/x/manifests/1'
            '?token=tok123456": unauthorized: authentication required')
    for fmt in ("text", "json"):
        p = run("--format", fmt, text)
        assert p.returncode == 1
        assert "s3cretPassw0rd" not in p.stdout + p.stderr
        assert "tok123456" not in p.stdout + p.stderr


def test_html_report_is_written(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    p = run("--html", str(page), TEXT)
    assert p.returncode == 1
    assert page.exists() and "dns.udp_timeout" in page.read_text()
    bad = run("--html", str(tmp_path / "missing" / "r.html"), TEXT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


BAD_UTF8 = b'Failed to pull image "ng\xffinx:1": x509: certificate signed by unknown authority \xfe'


def run_bytes(*args: bytes | str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", "explain", *args],
                          capture_output=True, timeout=60, check=False)


def test_invalid_utf8_argument_gives_valid_json() -> None:
    p = run_bytes("--json", BAD_UTF8)
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout.decode("utf-8"))  # strict: the bytes are UTF-8
    assert doc["causes"][0]["code"] == "tls.unknown_authority"
    assert doc["subject"] == "ng\ufffdinx:1"


def test_invalid_utf8_on_stdin_and_in_every_format() -> None:
    for fmt in ("text", "markdown", "json"):
        p = subprocess.run([sys.executable, "-m", "pulldoctor", "explain", "--format", fmt, "-"],
                           input=BAD_UTF8, capture_output=True, timeout=60, check=False)
        assert p.returncode == 1, (fmt, p.stderr)
        p.stdout.decode("utf-8")


def test_html_with_invalid_utf8_is_written_whole(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    p = run_bytes("--html", str(page), BAD_UTF8)
    assert p.returncode == 1, p.stderr
    body = page.read_bytes().decode("utf-8")
    assert body.startswith("<!DOCTYPE html>") and body.rstrip().endswith("</html>")


def test_html_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # a directory where the page should go: the rename fails
    p = run("--html", str(target), TEXT)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert list(tmp_path.iterdir()) == [target] and list(target.iterdir()) == []
    page = tmp_path / "old.html"
    page.write_text("previous report")
    p2 = run("--html", str(page), TEXT)
    assert p2.returncode == 1 and page.read_text().startswith("<!DOCTYPE html>")
