"""The public API is what ``pulldoctor.__all__`` names, and every one of those names resolves.

Like httpx's ``test_exported_members``: a name added to the package's surface is a decision,
made here, not an accident of an import.
"""

from __future__ import annotations

import pulldoctor

EXPECTED = {
    "CATALOGUE", "Cause", "Code", "Finding", "ImageReference", "Outcome", "PulldoctorError",
    "Report", "Step", "__version__", "diagnose", "explain", "inspect_host", "parse_reference",
    "scan",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(pulldoctor.__all__) == EXPECTED
    assert pulldoctor.__all__ == sorted(pulldoctor.__all__)


def test_every_exported_name_resolves() -> None:
    for name in pulldoctor.__all__:
        assert getattr(pulldoctor, name) is not None, name


def test_model_lives_outside_the_renderers() -> None:
    """Domain types come from ``pulldoctor.model``; ``report`` only renders them."""
    from pulldoctor import model

    assert pulldoctor.Report is model.Report and pulldoctor.Step is model.Step
