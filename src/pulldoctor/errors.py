"""pulldoctor's exception tree, documented in one place.

Low-level errors (``OSError``, ``ssl.SSLError``, ``dns.exception.*``, ``httpx.*``) are caught at the
edge of each probe and mapped to an observation or to one of these; none escapes to the CLI.

::

    PulldoctorError            base of everything pulldoctor raises on purpose
    ├── UsageError             bad input from the user (exit code 2)
    │   └── ReferenceError_    an image reference that does not parse
    └── LabError               the lab could not be built or torn down (needs root, a tool missing)
        └── LabToolMissing     a program the lab needs is not installed
    Interrupted                Ctrl-C, with what it interrupted (exit code 130); a KeyboardInterrupt
"""

from __future__ import annotations


class PulldoctorError(Exception):
    """Base of every error pulldoctor raises on purpose."""


class UsageError(PulldoctorError):
    """The user's input is wrong; the message says how."""


class ReferenceError_(UsageError):
    """An image reference that does not parse."""


class LabError(PulldoctorError):
    """The lab could not be built or torn down."""


class LabToolMissing(LabError):
    """A program the lab needs is not installed."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C; the message says what was under way. A ``KeyboardInterrupt``, so code that lets
    Ctrl-C through still does."""
