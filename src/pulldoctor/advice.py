"""Fill the catalogue's fix and confirm items for one report: which runtime, what evidence, what
values (the text itself is all in :mod:`pulldoctor.causes`).

Why derived values: a command must run as printed. A plain-HTTP registry on port 5002 is
``curl http://127.0.0.1:5002/v2/`` (the real scheme and port, not ``https://HOST/v2/``);
``skopeo list-tags`` takes a repository, never a tag; Docker Hub's login is plain ``docker login``
(its credentials live under ``https://index.docker.io/v1/``). So the values a report knows (image,
host, port, scheme...) are completed here into the forms the commands need.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from pulldoctor.causes import Advice
from pulldoctor.errors import ReferenceError_
from pulldoctor.reference import parse_reference

HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
RUNTIME_LABEL = {"docker": "docker", "containerd": "containerd", "podman": "podman/CRI-O"}


@dataclass(slots=True)
class _Rendered:
    """One cause's items for one report: commands to run, and sentences to read."""

    fix: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)


def _default_port(scheme: str) -> str:
    return "80" if scheme == "http" else "443"


def complete_values(values: Mapping[str, str | None]) -> dict[str, str]:
    """The report's values plus what the commands derive from them (pure)."""
    v = {k: str(x) for k, x in values.items() if x}
    ref = None
    for key in ("image", "registry_repo"):
        if key in v:
            try:
                ref = parse_reference(v[key])
                break
            except ReferenceError_:
                continue
    if ref is not None:
        v.setdefault("registry", ref.registry)
        v["registry_repo"] = f"{ref.registry}/{ref.repository}"  # a repository, never a tag
        v.setdefault("repository", ref.repository)
        v.setdefault("reference", ref.reference)
        v.setdefault("host", ref.host)
        if ref.port:
            v.setdefault("port", str(ref.port))
    scheme = v.setdefault("scheme", "https")
    if "base_url" not in v and "host" in v:
        port = v.get("port")
        hostport = f"[{v['host']}]" if ":" in v["host"] else v["host"]
        if port and port != _default_port(scheme):
            hostport += f":{port}"
        v["base_url"] = f"{scheme}://{hostport}"
    if "base_url" in v and "repository" in v and "reference" in v:
        v["manifest_url"] = f"{v['base_url']}/v2/{v['repository']}/manifests/{v['reference']}"
    if "registry" in v:
        hub = v["registry"] in HUB_HOSTS
        v["docker_login"] = "docker login" if hub else f"docker login {v['registry']}"
    v["skopeo_flags"] = "--tls-verify=false " if scheme == "http" else ""
    if scheme == "http":  # curl's TLS options (the endpoint's CA, or -k) mean nothing there
        v["curl_tls"] = ""
    v.setdefault("curl_tls", "")
    return v


class _Missing(dict[str, str]):
    """Format values that remember which placeholders a report could not fill."""

    def __init__(self, known: Mapping[str, str]) -> None:
        super().__init__(known)
        self.missing: set[str] = set()

    def __missing__(self, key: str) -> str:
        self.missing.add(key)
        return key.upper()


def _fill(text: str, values: Mapping[str, str]) -> tuple[str, set[str]]:
    known = _Missing(values)
    return string.Formatter().vformat(text, (), known), known.missing


def _placeholders() -> frozenset[str]:
    from pulldoctor.causes import CATALOGUE

    fmt = string.Formatter()
    return frozenset(name.upper() for ci in CATALOGUE.values() for a in (*ci.confirm, *ci.fix)
                     for _lit, name, _spec, _conv in fmt.parse(a.text) if name)


_PLACEHOLDER_WORDS = _placeholders()
"""The words an unfilled placeholder leaves in a rendered command (``ADDRESS``, ``IFACE``...)."""


def incomplete(command: str) -> bool:
    """True when a rendered catalogue command still has a placeholder word for the reader."""
    import re

    return any(w in _PLACEHOLDER_WORDS for w in re.findall(r"\b[A-Z][A-Z_]+\b", command))


def render(confirm: tuple[Advice, ...], fix: tuple[Advice, ...], values: Mapping[str, str | None],
           *, runtime: str | None = None, context: frozenset[str] = frozenset(),
           complete: bool = False) -> _Rendered:
    """The items that apply, filled.

    ``runtime``: only its items and the general ones (None: every runtime's, each labelled).
    ``context``: what the report says (``"mtu"`` ruled out, ``"walked"``, ``"client-env"``): items
    ``unless`` one of these are left out, items ``when`` none of these are. ``complete``: leave out commands with a placeholder the report could not
    fill (a diagnosis prints only commands that run as they are; an explanation of a pasted text
    shows ``IMAGE``-style words for the reader to replace).
    """
    vals = complete_values(values)
    out = _Rendered()
    for items, commands, prose in ((confirm, out.confirm, None), (fix, out.fix, out.advice)):
        for a in items:
            if runtime is not None and a.runtimes and runtime not in a.runtimes:
                continue
            if set(a.unless) & context or (a.when and not set(a.when) & context):
                continue
            text, missing = _fill(a.text, vals)
            if a.command and missing and complete:
                continue
            label = "/".join(RUNTIME_LABEL.get(r, r) for r in a.runtimes)
            if a.command:
                if runtime is None and a.runtimes:
                    text += f" ({label})" if "#" in text else f"   # {label}"
                commands.append(text)
            elif prose is not None:
                prose.append(f"{label}: {text}" if runtime is None and a.runtimes else text)
    return out
