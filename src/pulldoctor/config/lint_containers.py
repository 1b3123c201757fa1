"""Lint of containers-registries.conf(5) for podman, skopeo, buildah and CRI-O.

containers/image refuses the whole configuration when a ``location`` carries a scheme or when the
v1 and v2 formats are mixed, and then *every* pull fails; an unknown key is silently ignored, which
is how a misspelt ``mirror-by-digest-only`` keeps a mirror unused. Pure functions.
"""

from __future__ import annotations

from typing import Any

from pulldoctor.config.lint_docker import Issue, did_you_mean
from pulldoctor.reference import ImageReference, containers_short_name

TOP_KEYS = frozenset({"unqualified-search-registries", "short-name-mode", "credential-helpers",
                      "additional-layer-store-auth-helper", "registry", "aliases", "registries"})
REGISTRY_KEYS = frozenset({"prefix", "location", "insecure", "blocked", "mirror-by-digest-only",
                           "mirror", "_file"})
MIRROR_KEYS = frozenset({"location", "insecure", "pull-from-mirror"})


def _location(loc: Any, where: str) -> list[Issue]:
    if isinstance(loc, str) and "://" in loc:
        return [Issue("error", f"{where}: location {loc!r} has a URI scheme: containers/image rejects "
                      "the whole configuration", "location", [f"write it as {loc.split('://', 1)[1]!r}"])]
    return []


def lint_registries(top: dict[str, Any], regs: list[dict[str, Any]], ref: ImageReference | None,
                    ) -> list[Issue]:
    """Issues in the merged registries.conf data (pure)."""
    out = [Issue("warning", f"registries.conf: unknown key {k!r}{did_you_mean(k, TOP_KEYS)} (ignored)", k)
           for k in top if k not in TOP_KEYS]
    if "registries" in top and regs:
        out.append(Issue("error", "registries.conf mixes the v1 [registries.*] and v2 [[registry]] "
                         "formats: every pull fails", "registries"))
    for r in regs:
        where = f"{r.get('_file', 'registries.conf')} [[registry]] prefix={r.get('prefix') or r.get('location')!r}"
        out += [Issue("warning", f"{where}: unknown key {k!r}{did_you_mean(k, REGISTRY_KEYS)} (ignored)", k)
                for k in r if k not in REGISTRY_KEYS]
        out += _location(r.get("location"), where)
        for m in r.get("mirror") or []:
            if isinstance(m, dict):
                out += [Issue("warning", f"{where} mirror: unknown key {k!r}{did_you_mean(k, MIRROR_KEYS)} "
                              "(ignored)", k) for k in m if k not in MIRROR_KEYS]
                out += _location(m.get("location"), where + " mirror")
    if ref is not None:
        from pulldoctor.config.containers import find_registry

        match = find_registry(regs, ref)
        if match is not None and match.get("blocked"):
            out.append(Issue("error", f"{ref.registry} is blocked by {match.get('_file')} "
                             f"(prefix {match.get('prefix') or match.get('location')!r})", "blocked",
                             [f"remove blocked = true for that [[registry]] in {match.get('_file')}"]))
        short_name = containers_short_name(ref.original)
        aliases = top.get("aliases") if isinstance(top.get("aliases"), dict) else {}
        # pkg/shortnames Resolve: an alias wins; without one and without search registries it
        # fails whatever short-name-mode says (the mode only governs prompting among candidates).
        if short_name is not None and short_name not in (aliases or {}) \
                and not top.get("unqualified-search-registries"):
            out.append(Issue("warning", f"{ref.original!r} is a short name and no "
                             "unqualified-search-registries are defined: podman cannot resolve it",
                             "unqualified-search-registries",
                             [f"use the fully qualified name docker.io/{ref.repository}:{ref.reference}"]))
    return out
