"""Fixtures for the watch tests: a lab that is always torn down (as in tests/lab)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@pytest.fixture
def lab() -> Iterator[Lab]:
    """A fresh lab (prefix ``w``), closed even if the test fails; skipped unless root."""
    if os.geteuid() != 0:
        pytest.skip("lab tests need root")
    missing = [t for t in ("ip", "nft", "nsenter", "unshare", "mount") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"lab tests need {', '.join(missing)}")  # as root (CI), missing is an error
    from pulldoctor.lab.topology import Lab

    built = Lab(prefix="w")
    try:
        yield built
    finally:
        built.close()
