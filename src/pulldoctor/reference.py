"""Image references, normalised exactly as the runtimes normalise them.

The rules follow distribution/reference (``normalize.go``, ``regexp.go``), which dockerd, containerd
and containers/image all share: the first path component is a registry host only if it contains a
``.`` or ``:``, is ``localhost``, or has an upper-case letter; otherwise the registry is
``docker.io`` and a one-component name gets ``library/``; the tag defaults to ``latest`` unless a
digest is given. ``docker.io`` is served from ``registry-1.docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pulldoctor.errors import ReferenceError_

_DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_COMPONENT_RE = re.compile(rf"^{_COMPONENT}$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"^(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
)
_MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A fully normalised image reference."""

    registry: str  # as written in references: "docker.io", "localhost:5000", "[::1]:5000"
    repository: str  # "library/nginx"
    tag: str | None
    digest: str | None
    original: str

    @property
    def api_host(self) -> str:
        """The host:port the registry API is served from (``registry-1.docker.io`` for Hub)."""
        return DOCKER_HUB_API if self.registry == _DOCKER_HUB else self.registry

    @property
    def host(self) -> str:
        """The API host name without port or brackets."""
        h = self.api_host
        if h.startswith("["):
            return h[1 : h.index("]")]
        return h.rsplit(":", 1)[0] if ":" in h else h

    @property
    def port(self) -> int | None:
        h = self.api_host
        tail = h.rsplit("]", 1)[-1] if h.startswith("[") else h
        if ":" in tail:
            return int(tail.rsplit(":", 1)[1])
        return None

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == _DOCKER_HUB

    @property
    def reference(self) -> str:
        """The tag or digest the manifest is fetched by (digest wins, as runtimes do)."""
        return self.digest or self.tag or "latest"

    @property
    def familiar(self) -> str:
        """The short form people type (``nginx:latest``)."""
        name = self.repository
        if self.is_docker_hub and name.startswith("library/"):
            name = name[len("library/") :]
        if not self.is_docker_hub:
            name = f"{self.registry}/{name}"
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        s = f"{self.registry}/{self.repository}"
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s


def _split_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (
        not any(ch in first for ch in ".:") and first != "localhost" and first.lower() == first
    ):
        domain, rest = _DOCKER_HUB, name
    else:
        domain, rest = first, name[i + 1 :]
    if domain == "index.docker.io":
        domain = _DOCKER_HUB
    if domain == _DOCKER_HUB and "/" not in rest:
        rest = "library/" + rest
    return domain, rest


def containers_short_name(text: str) -> str | None:
    """The short name containers/image would look up for ``text``, or None when it is fully qualified.

    Models ``parseUnnormalizedShortName`` in containers/image ``pkg/shortnames``: the reference is
    split *without* normalisation, and it is fully qualified only when its first path component
    names a registry host, i.e. contains a ``.`` or a ``:`` (a port, an IPv6 literal) or is exactly
    ``localhost``. Everything else (``nginx``, ``nginx:1.25``, ``library/nginx``, ``localhost:5000``
    -- the name ``localhost`` with tag ``5000`` -- and, in the code as written, ``nginx@sha256:...``)
    is a short name, which podman, buildah and CRI-O resolve through aliases and
    ``unqualified-search-registries``. The short name returned is what aliases are keyed by: the
    name as typed, without tag or digest. Pure; ``text`` is assumed to parse (see
    :func:`parse_reference`). Upper case in the first component does not make a host here
    (docker's normalisation differs), and containers/image does not parse IPv6 literals at all:
    both only matter after this question.
    """
    name = text.strip().split("@", 1)[0]
    slash = name.find("/")
    if slash >= 0:
        first = name[:slash]
        if first == "localhost" or any(ch in first for ch in ".:"):
            return None
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def parse_reference(text: str) -> ImageReference:
    """Parse and normalise ``text``; raise :class:`ReferenceError_` with the runtime's wording."""
    original = text
    s = text.strip()
    if not s:
        raise ReferenceError_("invalid reference format: empty image reference")
    if "://" in s:
        raise ReferenceError_(
            f"invalid reference format: {original!r} has a scheme; write it without "
            "http:// or https://"
        )
    digest: str | None = None
    if "@" in s:
        s, digest = s.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise ReferenceError_(f"invalid reference format: bad digest {digest!r}")
        algo, _, hexpart = digest.partition(":")
        if algo == "sha256" and not re.fullmatch(r"[a-f0-9]{64}", hexpart):
            raise ReferenceError_(
                f"invalid reference format: sha256 digest must be 64 hex characters: {digest!r}"
            )
    tag: str | None = None
    last_slash = s.rfind("/")
    colon = s.rfind(":")
    if colon > last_slash:
        s, tag = s[:colon], s[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ReferenceError_(f"invalid reference format: bad tag {tag!r}")
    domain, path = _split_domain(s)
    if domain != _DOCKER_HUB and not _DOMAIN_RE.match(domain):
        raise ReferenceError_(f"invalid reference format: bad registry host {domain!r}")
    port = domain.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in domain.rsplit("]", 1)[-1] else ""
    if port and not 1 <= int(port) <= 65535:
        # distribution's grammar takes any digits; no runtime can dial them (Go: "invalid port")
        raise ReferenceError_(f"invalid reference format: port {port} of {domain!r} is not "
                              "between 1 and 65535")
    if not path:
        raise ReferenceError_("invalid reference format: empty repository name")
    for comp in path.split("/"):
        if not _COMPONENT_RE.match(comp):
            if comp.lower() != comp and _COMPONENT_RE.match(comp.lower()):
                raise ReferenceError_(
                    "invalid reference format: repository name must be lowercase"
                )
            raise ReferenceError_(
                f"invalid reference format: bad repository name component {comp!r}"
            )
    if len(path) > _MAX_NAME:
        raise ReferenceError_("invalid reference format: repository name too long")
    if tag is None and digest is None:
        tag = "latest"
    return ImageReference(domain, path, tag, digest, original)
