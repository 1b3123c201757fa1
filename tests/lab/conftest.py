"""Shared fixtures for lab tests: a root/tools guard and a ``lab`` that is always torn down."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

from pulldoctor.lab.topology import lab_unavailable

requires_lab = pytest.mark.skipif(lab_unavailable() is not None,
                                  reason=lab_unavailable() or "lab available")
"""Use on every ``@pytest.mark.lab`` test: skips cleanly when not root or tools are missing."""


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A fresh :class:`~pulldoctor.lab.topology.Lab` (prefix ``t``), closed even if the test fails."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    from pulldoctor.lab.topology import Lab

    built = Lab(prefix="t")
    try:
        yield built
    finally:
        built.close()


PyIn = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def py_in() -> PyIn:
    """``py_in(lab, role, code, *args, timeout=20)``: run a Python snippet in a lab host.

    The client gets its mounts and environment (as every client process does).
    """

    def run(lab: Lab, role: str, code: str, *args: str,
            timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-c", code, *args]
        if role == "client":
            return lab.client_exec(argv, timeout=timeout)
        return lab.exec(role, argv, timeout=timeout)

    return run


@pytest.fixture
def lab_ok() -> None:
    """Skip the test unless lab tests can run (root, ip, nft ...); for tests that build labs."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
