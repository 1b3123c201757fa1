"""Shell completion, the shared output options, and emit's handling of bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import report_samples as samples
from click.testing import CliRunner

from pulldoctor.cli import main
from pulldoctor.errors import UsageError
from pulldoctor.report.options import OutputOptions, output_options
from pulldoctor.report.render import emit

VENV_BIN = Path(sys.executable).parent


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pulldoctor", *argv], capture_output=True,
                          text=True, timeout=60, check=False, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("shell,marker", [("bash", "complete -o nosort -F _pulldoctor_completion"),
                                          ("zsh", "#compdef pulldoctor"),
                                          ("fish", "complete --no-files --command pulldoctor")])
def test_completion_prints_click_script(shell: str, marker: str) -> None:
    proc = _run("completion", shell)
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout
    assert f"_PULLDOCTOR_COMPLETE={shell}_complete" in proc.stdout


def test_completion_rejects_unknown_shell() -> None:
    proc = _run("completion", "tcsh")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "tcsh" in proc.stderr


def test_completion_answers_through_main() -> None:
    """The callback the scripts make: click answers it in main() before any command runs."""
    proc = _run(env={"_PULLDOCTOR_COMPLETE": "bash_complete", "COMP_WORDS": "pulldoctor sch",
                     "COMP_CWORD": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "plain,schema" in proc.stdout.splitlines()
    proc = _run(env={"_PULLDOCTOR_COMPLETE": "bash_complete", "COMP_WORDS": "pulldoctor completion ",
                     "COMP_CWORD": "2"})
    assert proc.stdout.splitlines() == ["plain,bash", "plain,zsh", "plain,fish"]


def test_bash_really_completes(tmp_path: Path) -> None:
    """Source the script in a real bash and call the completion function as bash would."""
    script = tmp_path / "pulldoctor.bash"
    script.write_text(_run("completion", "bash").stdout)
    assert (VENV_BIN / "pulldoctor").exists()
    prog = (f'source {script}; COMP_WORDS=(pulldoctor completion f); COMP_CWORD=2; '
            f'_pulldoctor_completion pulldoctor; printf "%s\\n" "${{COMPREPLY[@]}}"')
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["fish"]


@click.command()
@output_options
def _probe_cmd(output: OutputOptions) -> None:
    output.emit(samples.diagnose_report())


def test_output_options_choose_the_renderer(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(_probe_cmd, ["--json"])
    assert r.exit_code == 0 and json.loads(r.output)["command"] == "diagnose"
    r = runner.invoke(_probe_cmd, ["--format", "markdown"])
    assert r.output.startswith("## pulldoctor diagnose")
    r = runner.invoke(_probe_cmd, [])
    assert r.output.startswith("pulldoctor diagnose: ") and "\x1b[" not in r.output
    r = runner.invoke(_probe_cmd, ["-v"])
    assert "Observations:" in r.output
    html = tmp_path / "r.html"
    r = runner.invoke(_probe_cmd, ["--html", str(html)])
    assert r.exit_code == 0 and "<!DOCTYPE html>" in html.read_text()
    r = runner.invoke(_probe_cmd, ["--json", "--format", "markdown"])
    assert r.exit_code == 2 and "contradict" in r.output
    r = runner.invoke(_probe_cmd, ["--format", "yaml"])
    assert r.exit_code == 2
    r = runner.invoke(_probe_cmd, ["--help"])
    for opt in ("--format", "--json", "--html FILE", "--verbose"):
        assert opt in r.output


def test_emit_rejects_unknown_format_cleanly() -> None:
    with pytest.raises(UsageError, match="unknown output format 'yaml'"):
        emit(samples.explain_report(), "yaml", out=io.StringIO())


def test_emit_unwritable_html_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "r.html"
    out = io.StringIO()
    with pytest.raises(UsageError, match="cannot write HTML report"):
        emit(samples.explain_report(), html=target, out=out)
    assert out.getvalue() == ""  # fails before printing half a report


def test_main_maps_emit_errors_to_exit_2(tmp_path: Path) -> None:
    """Through the real CLI: a bad --html path is one clear line and exit 2, no traceback."""
    import importlib.util

    if importlib.util.find_spec("pulldoctor.cli.explain_cmd") is None:
        pytest.skip("explain command not written yet")
    proc = _run("explain", "--html", str(tmp_path / "missing" / "x.html"), "manifest unknown")
    if "no such option" in proc.stderr.lower():
        pytest.skip("explain has no --html option yet (reported to the lead)")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_no_color_and_pipes_get_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = FakeTTY()
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    emit(samples.diagnose_report(), out=tty)
    assert "\x1b[" in tty.getvalue() and "Root cause" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTTY()
    emit(samples.diagnose_report(), out=tty)
    assert "\x1b[" not in tty.getvalue() and tty.getvalue().startswith("pulldoctor diagnose:")
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    tty = FakeTTY()
    emit(samples.diagnose_report(), out=tty)
    assert "\x1b[" not in tty.getvalue()


def test_main_help_lists_my_commands() -> None:
    assert main(["schema", "--help"]) == 0
    assert main(["completion", "--help"]) == 0


def test_cli_never_loads_trio() -> None:
    """The CLI keeps httpcore and dnspython from importing trio (0.1 s of start-up, never used)."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("trio") is None:
        pytest.skip("trio is not installed here: nothing would load it")
    code = ("import sys; from pulldoctor.cli import main; main(['explain', 'x']);"
            "import httpx, httpcore, dns.asyncquery; print(sys.modules.get('trio'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "None", out.stderr
