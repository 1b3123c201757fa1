"""pulldoctor: find out why a container image pull failed, and say so with evidence.

The public API is small and re-exported here; everything else is private to its module::

    from pulldoctor import explain, Report
    report = explain("error pulling image configuration: download failed after attempts=6: ...")
    report.causes[0].code   # 'dns.udp_timeout'

Imports are lazy so that ``pulldoctor --help`` and ``explain`` start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "Cause",
    "Code",
    "Finding",
    "ImageReference",
    "Outcome",
    "PulldoctorError",
    "Report",
    "Step",
    "__version__",
    "diagnose",
    "explain",
    "inspect_host",
    "parse_reference",
    "scan",
]

_LAZY = {
    "CATALOGUE": ("pulldoctor.causes", "CATALOGUE"),
    "Code": ("pulldoctor.causes", "Code"),
    "Cause": ("pulldoctor.model", "Cause"),
    "Finding": ("pulldoctor.model", "Finding"),
    "Outcome": ("pulldoctor.model", "Outcome"),
    "Report": ("pulldoctor.model", "Report"),
    "Step": ("pulldoctor.model", "Step"),
    "ImageReference": ("pulldoctor.reference", "ImageReference"),
    "parse_reference": ("pulldoctor.reference", "parse_reference"),
    "PulldoctorError": ("pulldoctor.errors", "PulldoctorError"),
    "explain": ("pulldoctor.explain", "explain"),
    "scan": ("pulldoctor.explain.scan_files", "scan"),
    "diagnose": ("pulldoctor.diagnose", "diagnose"),
    "inspect_host": ("pulldoctor.host", "inspect_host"),
}

if TYPE_CHECKING:
    from pulldoctor.causes import CATALOGUE, Code
    from pulldoctor.diagnose import diagnose
    from pulldoctor.errors import PulldoctorError
    from pulldoctor.explain import explain
    from pulldoctor.explain.scan_files import scan
    from pulldoctor.host import inspect_host
    from pulldoctor.model import Cause, Finding, Outcome, Report, Step
    from pulldoctor.reference import ImageReference, parse_reference


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'pulldoctor' has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
