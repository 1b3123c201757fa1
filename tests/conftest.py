"""Suite-wide hooks: in CI, as root, a lab test that skips fails (see :mod:`ci_lab_skips`).

Also: a suite started as a background job of a non-interactive shell (``cmd &``, ``nohup ... &``)
inherits SIGINT *ignored*, and every process the tests start would inherit that too, so the tests
that press Ctrl-C on pulldoctor (diagnose, lab run, k8s probe) would test the launcher instead of
the code. Each test process takes SIGINT back to Python's default, which its children then get.
"""

import signal

from ci_lab_skips import pytest_runtest_makereport

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

__all__ = ["pytest_runtest_makereport"]
