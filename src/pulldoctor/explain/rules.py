"""The rule engine: run every rule over a text and rank the candidate causes.

The rules themselves are tables, one module per area (listed in ``_TABLES`` below: Go's network,
proxy and TLS wording; the non-Go stacks'; the registry's answers; the core runtimes' own error
returns; cloud registries; the tools, platforms and apps around the runtimes; credential stores;
image content; the host); :class:`.rulebase.Rule` says what one rule is. Each matching rule names
one cause with a confidence and may name alternatives the same words are also consistent with, plus
the check that tells them apart (``distinguish``). Candidates from all matching rules are merged by
cause code (highest confidence wins, evidence is pooled) and ranked.

Confidence is ordinal, not a probability: specific wording (``server misbehaving``) outranks generic
wording (``context deadline exceeded``) that often wraps it. When no rule matches but the text is
clearly a failed pull, :mod:`.fallback` names the causes its failing step can have, low.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from pulldoctor.causes import Code, render_commands
from pulldoctor.errors import ReferenceError_
from pulldoctor.explain import fallback
from pulldoctor.explain import rules_apps as _apps
from pulldoctor.explain import rules_cloud as _cloud
from pulldoctor.explain import rules_content as _content
from pulldoctor.explain import rules_credentials as _credentials
from pulldoctor.explain import rules_cri as _cri
from pulldoctor.explain import rules_host as _host
from pulldoctor.explain import rules_network as _network
from pulldoctor.explain import rules_platforms as _platforms
from pulldoctor.explain import rules_proxy as _proxy
from pulldoctor.explain import rules_registry as _registry
from pulldoctor.explain import rules_stacks as _stacks
from pulldoctor.explain import rules_tls as _tls
from pulldoctor.explain import rules_tools as _tools
from pulldoctor.explain.facts import image_of
from pulldoctor.explain.prefilter import Gated
from pulldoctor.explain.rulebase import DIAGNOSE, Rule
from pulldoctor.model import Cause
from pulldoctor.reference import parse_reference

__all__ = ["DIAGNOSE", "RULES", "Candidate", "Rule", "evaluate", "rank", "ranked", "values_for"]

_TABLES = (_network, _proxy, _tls, _stacks, _registry, _cri, _cloud, _tools, _platforms, _apps,
           _credentials, _content, _host)
"""Every rule table, in the order their rules are evaluated (ties keep that order)."""
RULES: tuple[Rule, ...] = tuple(r for table in _TABLES for r in table.RULES)

_GATES: tuple[Gated, ...] = tuple(Gated(r.pattern, needles=r.needles) for r in RULES)
"""Each rule's pattern behind its literal-word prefilter (same order as RULES)."""


def values_for(facts: Mapping[str, Any]) -> dict[str, str | None]:
    """Placeholders for the catalogue's commands, from the facts of this text."""
    image = facts.get("image")
    host = facts.get("host")
    registry = facts.get("registry") or host
    addr = facts.get("remote_addr")
    return {
        "image": image, "host": host, "resolver": facts.get("resolver"), "registry": registry,
        "address": addr.rsplit(":", 1)[0].strip("[]") if isinstance(addr, str) else None,
        "port": addr.rsplit(":", 1)[1] if isinstance(addr, str) and ":" in addr else None,
        "registry_repo": image,
    }


class Candidate(NamedTuple):
    """One ranked cause before any command is rendered."""

    code: Code
    confidence: float
    evidence: list[str]
    distinguish: tuple[str, ...]


class Ranking(NamedTuple):
    """Every candidate, most likely first, and the notes the deciding rules attach."""

    candidates: list[Candidate]
    notes: tuple[str, ...]
    inferred: bool
    """True when no wording named a cause and the candidates come from the failing step."""


_MIRROR_AUTH = ("grep -n -A5 'mirror' /etc/containers/registries.conf /etc/containers/"
                "registries.conf.d/*   # credentials (pull secrets, auth.json) for the image's "
                "registry are not sent to a mirror on another host")


def _mirror_answered(text: str, best: dict[Code, tuple[float, list[str], tuple[str, ...]]]) -> None:
    """An auth failure from a *mirror* (containers/image names the host it read from): the
    credentials given for the image's own registry are never sent to a mirror on another domain
    (pull-internals.md 4.1), so the mirror configuration is the cause, not the credentials."""
    if not ({Code.REGISTRY_UNAUTHORIZED, Code.REGISTRY_DENIED} & best.keys()):
        return
    m = _registry.MIRROR_HOST.search(text) if "reading manifest" in text else None
    image = image_of(text)
    if m is None or image is None:
        return
    try:
        origin = parse_reference(image.removeprefix("docker://")).registry
        answered = parse_reference(m.group("h") + "/x").registry
    except ReferenceError_:
        return
    if answered == origin:
        return
    best[Code.DAEMON_CONFIG] = (0.87, [m.group(0)], (_MIRROR_AUTH,))


_MINOR_LEVEL = re.compile(r"level=(?:warn(?:ing)?|info|debug)\b|\b(?:WARN|INFO|DEBU)\[\d|"
                          r"\[(?:WARN(?:ING)?|INFO|DEBUG)\]|^(?:WARNING|Warning|warning):? ",
                          re.MULTILINE)
"""logrus/klog-style levels below error: a warning (a fallback that will be retried elsewhere, a v2
endpoint before the v1 one) is not the failure when an error line says something else."""
_MINOR_PENALTY = 0.1


def _on_minor_line(text: str, start: int) -> bool:
    """Is the match at ``start`` on a line logged below error level?"""
    if "level=" not in text and "[" not in text and "arning" not in text and "WARNING" not in text:
        return False
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", start)
    return _MINOR_LEVEL.search(text, lo, start if hi == -1 else hi) is not None


def ranked(text: str) -> Ranking:
    """Every candidate cause for ``text``, most likely first; evidence = the matched substrings.

    Nothing is rendered here, so ``scan`` can rank thousands of lines cheaply.
    """
    if fallback.is_other_failure(text):
        return Ranking([], (), False)
    best: dict[Code, tuple[float, list[str], tuple[str, ...]]] = {}
    notes: dict[Code, str] = {}
    major: set[Code] = set()
    """Codes with evidence on a line that is not a warning/info/debug line."""

    def add(code: Code, conf: float, evidence: list[str], distinguish: tuple[str, ...]) -> None:
        old = best.get(code)
        if old is None:
            best[code] = (conf, evidence, distinguish)
            return
        ev = old[1] + [e for e in evidence if e not in old[1]]
        di = old[2] + tuple(d for d in distinguish if d not in old[2])
        best[code] = (max(old[0], conf), ev, di)

    for rule, gate in zip(RULES, _GATES, strict=True):
        m = gate.search(text)
        if m is None or (rule.unless is not None and rule.unless.search(text)):
            continue
        if rule.requires is not None and rule.requires.search(text) is None:
            continue
        evidence = [m.group(0).strip()[:300]]
        if rule.note and (rule.code not in best or best[rule.code][0] < rule.confidence):
            notes[rule.code] = rule.note
        add(rule.code, rule.confidence, evidence, rule.distinguish)
        for code, conf in rule.also:
            add(code, conf, evidence, rule.distinguish)
        if not _on_minor_line(text, m.start()) or any(
                not _on_minor_line(text, m2.start()) for m2 in rule.pattern.finditer(text, m.end())):
            major.add(rule.code)
            major.update(code for code, _ in rule.also)
    if major and len(major) < len(best):
        for code in best.keys() - major:  # said only by warnings while an error line says more
            conf, ev, di = best[code]
            best[code] = (round(max(0.05, conf - _MINOR_PENALTY), 2), ev, di)
    _mirror_answered(text, best)
    if not best:
        inferred, note = fallback.candidates(text)
        return Ranking([Candidate(*c) for c in inferred], (note,) if note else (), True)
    order = sorted(best.items(), key=lambda kv: -kv[1][0])
    top = order[0][0]
    return Ranking([Candidate(code, conf, ev, di) for code, (conf, ev, di) in order],
                   (notes[top],) if top in notes else (), False)


def rank(text: str) -> list[Candidate]:
    """:func:`ranked`'s candidates alone."""
    return ranked(text).candidates


def evaluate(text: str, facts: Mapping[str, Any]) -> list[Cause]:
    """:func:`rank`, as report causes with their commands filled from ``facts``."""
    values = values_for(facts)
    return [Cause.from_catalogue(c.code, c.confidence, c.evidence, values,
                                 render_commands(c.distinguish, values))
            for c in rank(text)]
