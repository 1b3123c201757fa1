"""The CI hook (tests/ci_lab_skips.py, installed by tests/conftest.py): as root with CI=true,
a skipped lab test fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ci_lab_skips import ci_strict

HERE = Path(__file__).resolve().parent

SAMPLE = '''
import pytest

@pytest.mark.lab
def test_lab_needs_a_tool():
    pytest.skip("dig is not installed")

@pytest.mark.lab
@pytest.mark.skipif(True, reason="the lab needs nft")
def test_lab_skipif():
    pass

@pytest.mark.lab
@pytest.mark.xfail(strict=True, reason="a known defect")
def test_lab_known_defect():
    assert False

def test_pure_skip():
    pytest.skip("not a lab test")

@pytest.mark.lab
def test_lab_passes():
    pass
'''


def test_only_ci_as_root_is_strict() -> None:
    assert ci_strict({"CI": "true"}, 0)
    assert ci_strict({"CI": "True"}, 0)
    assert not ci_strict({"CI": "true"}, 1000)
    assert not ci_strict({}, 0)
    assert not ci_strict({"CI": "false"}, 0)


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    for name in ("conftest.py", "ci_lab_skips.py"):  # the real hook, as the suite installs it
        (tmp_path / name).write_text((HERE / name).read_text())
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "-c", os.devnull, "--rootdir", str(tmp_path),
                           "-o", "markers=lab: a lab test", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="the hook is strict for root only")
def test_a_skipped_lab_test_fails_in_ci_as_root(tmp_path: Path) -> None:
    r = _run(tmp_path, "true")
    out = r.stdout
    assert r.returncode == 1, out
    assert "FAILED test_sample.py::test_lab_needs_a_tool" in out
    assert "ERROR test_sample.py::test_lab_skipif" in out  # skipped at setup: a setup error
    assert "lab test skipped in CI as root: dig is not installed" in out
    assert "XFAIL test_sample.py::test_lab_known_defect" in out
    assert "SKIPPED" in out and "not a lab test" in out
    assert "PASSED test_sample.py::test_lab_passes" in out
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error" in out


def test_outside_ci_a_lab_test_may_skip(tmp_path: Path) -> None:
    r = _run(tmp_path, None)
    assert r.returncode == 0, r.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in r.stdout
