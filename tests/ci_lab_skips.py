"""CI strictness for lab tests: in CI, as root, a lab test that skips is a failure.

Why: lab tests skip cleanly on a developer's machine without root or a tool (``dig``, dockerd,
``nft``...). In CI the runner is root and ``.ci/apt-packages.txt`` installs every tool, so a skip
there can only mean an install step is missing, and a skip would hide it (CI was once green only
because ``dig`` happened to be on the machine). With ``CI=true`` and root, every skip of a test
marked ``lab`` (an xfail is not a skip) is turned into a failure that says why it skipped.
``tests/conftest.py`` installs the hook; a module of its own so its test can import it.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from typing import Any

import pytest


def ci_strict(env: Mapping[str, str] | None = None, euid: int | None = None) -> bool:
    """Whether lab skips fail: CI (``CI=true``, as GitHub/GitLab set it) running as root."""
    env = os.environ if env is None else env
    euid = os.geteuid() if euid is None else euid
    return euid == 0 and env.get("CI", "").lower() == "true"


def _reason(longrepr: Any) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None],
                              ) -> Generator[None, Any, None]:
    outcome = yield
    rep = outcome.get_result()
    if (rep.skipped and not hasattr(rep, "wasxfail") and item.get_closest_marker("lab")
            and ci_strict()):
        rep.outcome = "failed"
        rep.longrepr = (f"lab test skipped in CI as root: {_reason(rep.longrepr)}\n"
                        "A tool or capability the lab needs is missing: list its package in "
                        ".ci/apt-packages.txt (a lab test must run in CI, not skip).")
