"""Registry API pieces: ping, challenge, token, manifest, platform choice, blobs, errors.

The request shapes copy the runtimes (see docs/pull-internals.md): an unauthenticated ``GET /v2/``
ping, a Bearer token from the challenge's realm with ``scope=repository:NAME:pull``, a manifest GET
with the runtime's own ``Accept`` list, the platform chosen from an index, blobs by digest. Each
helper here is either pure (parsing, choosing, verifying) or one bounded request through
:func:`pulldoctor.probes.http.fetch`; the order and the fallbacks live in the engine.
"""

from __future__ import annotations

import base64
import json
import platform as _platform
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

_MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_MT_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
_MT_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

_INDEX_TYPES = (_MT_DOCKER_LIST, MT_OCI_INDEX)
_MANIFEST_TYPES = (_MT_DOCKER_MANIFEST, _MT_OCI_MANIFEST)

ACCEPT: dict[str, tuple[str, ...]] = {
    "docker": (_MT_DOCKER_MANIFEST, _MT_DOCKER_LIST, _MT_OCI_MANIFEST, MT_OCI_INDEX),
    "containerd": (_MT_DOCKER_MANIFEST, _MT_DOCKER_LIST, _MT_OCI_MANIFEST, MT_OCI_INDEX, "*/*"),
    "podman": (_MT_OCI_MANIFEST, _MT_DOCKER_MANIFEST, _MT_SCHEMA1_SIGNED, _MT_SCHEMA1,
               _MT_DOCKER_LIST, MT_OCI_INDEX),
}


def accept_header(runtime: str) -> str:
    """The ``Accept`` value the runtime sends for manifests."""
    return ", ".join(ACCEPT.get(runtime, ACCEPT["docker"]))


@dataclass(slots=True)
class RegistryError:
    """A non-2xx registry answer, typed: status, error codes, redacted URL."""

    status: int
    codes: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    url: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "codes": list(self.codes),
                "messages": list(self.messages), "url": self.url}

    def __str__(self) -> str:
        parts = [f"{c.lower().replace('_', ' ')}: {m}" for c, m in zip(self.codes, self.messages,
                                                                       strict=False)]
        return f"HTTP {self.status}" + (f" ({'; '.join(parts)})" if parts else "")


def parse_registry_errors(status: int, body: bytes, url: str) -> RegistryError:
    """Read a distribution error body (``{"errors":[{code,message,detail}]}``) if there is one."""
    err = RegistryError(status, url=url)
    try:
        doc = json.loads(body.decode("utf-8", errors="replace")) if body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
        for e in doc["errors"]:
            if isinstance(e, dict):
                err.codes.append(str(e.get("code", "UNKNOWN")))
                err.messages.append(str(e.get("message", ""))[:300])
    return err


def token_url(realm: str, service: str | None, repository: str) -> str:
    """``GET <realm>?service=..&scope=repository:NAME:pull`` as the distribution client builds it."""
    q: list[tuple[str, str]] = []
    if service:
        q.append(("service", service))
    q.append(("scope", f"repository:{repository}:pull"))
    sep = "&" if "?" in realm else "?"
    return realm + sep + urlencode(q)


def read_token(body: bytes) -> str | None:
    """``token`` or ``access_token`` from a token response."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    tok = doc.get("token") or doc.get("access_token")
    return tok if isinstance(tok, str) and tok else None


def token_access(token: str) -> list[dict[str, Any]] | None:
    """The ``access`` claim of a JWT token (what it grants), or None if it is not a JWT.

    Only the claims are read, for evidence ("the token grants no pull on NAME"); the token itself
    is never shown.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        pad = "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + pad))
    except ValueError:
        return None
    access = claims.get("access") if isinstance(claims, dict) else None
    return access if isinstance(access, list) else []


def grants_pull(access: list[dict[str, Any]], repository: str) -> bool:
    return any(a.get("type") == "repository" and a.get("name") == repository
               and "pull" in (a.get("actions") or []) for a in access if isinstance(a, dict))


def rate_limit(headers: dict[str, str]) -> dict[str, str]:
    """Docker Hub style ``ratelimit-*`` headers, if present."""
    return {k: v for k, v in headers.items()
            if k in ("ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source",
                     "retry-after")}


def host_platform() -> str:
    """This host's OS/arch in OCI terms."""
    m = _platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
            "armv7l": "arm/v7", "armv6l": "arm/v6", "ppc64le": "ppc64le", "s390x": "s390x",
            "riscv64": "riscv64", "i686": "386", "i386": "386"}.get(m, m)
    return f"linux/{arch}"


def _platform_tuple(spec: str) -> tuple[str, str, str]:
    parts = spec.split("/")
    os_, arch = parts[0], parts[1] if len(parts) > 1 else ""
    variant = parts[2] if len(parts) > 2 else ""
    if arch == "arm64" and variant == "v8":
        variant = ""
    return os_, arch, variant


def choose_platform(index: dict[str, Any], want: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The index entry matching ``want`` (OS/ARCH[/VARIANT]) and the platforms on offer."""
    w_os, w_arch, w_var = _platform_tuple(want)
    offered: list[str] = []
    chosen: dict[str, Any] | None = None
    for m in index.get("manifests") or []:
        if not isinstance(m, dict):
            continue
        p = m.get("platform") or {}
        os_, arch = str(p.get("os", "")), str(p.get("architecture", ""))
        var = str(p.get("variant", "") or "")
        if os_ == "unknown" or arch == "unknown":
            continue  # attestation manifests
        offered.append("/".join(x for x in (os_, arch, var) if x))
        if chosen is None and os_ == w_os and arch == w_arch and (
                not w_var or var in (w_var, "") or (w_arch == "arm64" and var == "v8")):
            chosen = m
    return chosen, offered


@dataclass(slots=True)
class ManifestInfo:
    """What a fetched manifest says."""

    media_type: str
    is_index: bool = False
    config: dict[str, Any] | None = None
    layers: list[dict[str, Any]] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=dict)
    unsupported: str | None = None


def read_manifest(body: bytes, content_type: str) -> ManifestInfo:
    """Classify a manifest body; schema 1 and unknown types are marked unsupported."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ManifestInfo(content_type, unsupported="manifest is not JSON")
    if not isinstance(doc, dict):
        return ManifestInfo(content_type, unsupported="manifest is not a JSON object")
    mt = str(doc.get("mediaType") or content_type.split(";")[0].strip())
    if doc.get("schemaVersion") == 1 or mt in (_MT_SCHEMA1, _MT_SCHEMA1_SIGNED):
        return ManifestInfo(mt, doc=doc, unsupported="Docker schema 1 manifest")
    if mt in _INDEX_TYPES or (not mt and "manifests" in doc):
        return ManifestInfo(mt or MT_OCI_INDEX, is_index=True, doc=doc)
    if mt in _MANIFEST_TYPES or (not mt and "config" in doc):
        cfg = doc.get("config") if isinstance(doc.get("config"), dict) else None
        layers = [x for x in doc.get("layers") or [] if isinstance(x, dict)]
        return ManifestInfo(mt or _MT_OCI_MANIFEST, config=cfg, layers=layers, doc=doc)
    return ManifestInfo(mt, doc=doc, unsupported=f"unknown manifest media type {mt!r}")


def blob_url(base: str, repository: str, digest: str) -> str:
    return f"{base}/{repository}/blobs/{digest}"


def manifest_url(base: str, repository: str, reference: str) -> str:
    return f"{base}/{repository}/manifests/{reference}"


def resolve_location(current: str, location: str) -> str:
    """Absolute redirect target (Location may be relative)."""
    from urllib.parse import urljoin

    return urljoin(current, location)


def same_origin(a: str, b: str) -> bool:
    """Credentials may follow only to the same scheme://host:port."""
    sa, sb = urlsplit(a), urlsplit(b)
    return (sa.scheme, sa.hostname, sa.port) == (sb.scheme, sb.hostname, sb.port)
