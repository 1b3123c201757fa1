"""``explain``: error text -> facts -> ranked candidate causes, with no I/O at all.

The pipeline is four pure steps, one module each: :mod:`.normalize` peels quoting and log prefixes
and bounds the text, :mod:`.runtimes` names who printed it, :mod:`.facts` underlines what the text
says (step, host, resolver, addresses...), and :mod:`.rules` turns wording into ranked causes. A
failed pull whose wording names no cause gets the candidates its failing step implies, low and
said so (:mod:`.fallback`); a text that is not a pull failure gets no cause and a plain note.
"""

from __future__ import annotations

import sys
import types

from pulldoctor.causes import render_commands
from pulldoctor.explain import rules
from pulldoctor.explain.facts import extract
from pulldoctor.explain.normalize import normalize
from pulldoctor.explain.runtimes import detect
from pulldoctor.model import Cause, Report

__all__ = ["NOTHING_RECOGNISED", "explain"]

NOTHING_RECOGNISED = "nothing in this text was recognised as a pull failure"
_AMBIGUITY_GAP = 0.2
"""Candidates closer than this to the top one are reported as alternatives worth telling apart."""


def explain(text: str) -> Report:
    """Name the most likely root causes of a pull error ``text`` (any runtime, any wrapping)."""
    norm = normalize(text)
    facts = extract(norm)
    origin = detect(norm)
    ranking = rules.ranked(norm)
    values = rules.values_for(facts)
    causes = [Cause.from_catalogue(c.code, c.confidence, c.evidence, values,
                                   render_commands(c.distinguish, values))
              for c in ranking.candidates]
    out: dict[str, object] = {"runtime": origin.runtime}
    if origin.backend:
        out["backend"] = origin.backend
    if origin.docker_store:
        out["docker_store"] = origin.docker_store
    out.update(facts)
    report = Report(command="explain", subject=str(facts.get("image", "")), causes=causes, facts=out,
                    notes=list(ranking.notes))
    if not causes:
        report.facts = {}
        report.notes.append(NOTHING_RECOGNISED)
        return report
    close = [c for c in causes[1:] if causes[0].confidence - c.confidence < _AMBIGUITY_GAP]
    if close and not ranking.inferred:
        report.notes.append(
            "ambiguous: " + ", ".join(c.code for c in [causes[0], *close])
            + " fit this text; the 'distinguish' checks tell them apart"
        )
        for c in [causes[0], *close]:
            if not c.distinguish:
                c.distinguish.append(
                    render_commands((rules.DIAGNOSE,), rules.values_for(facts))[0]
                )
    return report


class _CallableModule(types.ModuleType):
    """``pulldoctor.explain`` is both this package and the function.

    Importing the subpackage sets the attribute ``pulldoctor.explain`` to the module, shadowing the
    lazy re-export of the function; making the module callable keeps ``pulldoctor.explain(text)``
    working whichever happened first.
    """

    def __call__(self, text: str) -> Report:
        return explain(text)


sys.modules[__name__].__class__ = _CallableModule
