"""Fixtures for host-check tests: a scratch netns (deleted even on failure) and a temp root."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from pulldoctor.lab.services.netns import ScratchNetns


def netns_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [t for t in ("ip", "nft", "iptables-save", "mount") if shutil.which(t) is None]
    return f"needs {', '.join(missing)}" if missing else None


@pytest.fixture
def netns() -> Iterator[ScratchNetns]:
    """A uniquely named namespace with only ``lo`` up; processes stopped by PID, then deleted."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    ns = ScratchNetns(prefix="pdhost")
    try:
        yield ns
    finally:
        ns.close()
