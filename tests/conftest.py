"""Suite-wide hooks: in CI, as root, a lab test that skips fails (see :mod:`ci_lab_skips`)."""

from ci_lab_skips import pytest_runtest_makereport

__all__ = ["pytest_runtest_makereport"]
