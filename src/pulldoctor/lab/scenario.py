"""What a lab scenario is: the services it runs, its faults, what each real client should show.

The catalogue of scenarios is :mod:`pulldoctor.lab.scenarios`; one generic builder
(:mod:`pulldoctor.lab.build`) turns any :class:`Scenario` into a running lab.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from pulldoctor.causes import Code
from pulldoctor.lab.build import INSECURE_PORT
from pulldoctor.lab.client_files import REGISTRY
from pulldoctor.lab.faults import Fault

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

__all__ = ["ALL_CLIENTS", "INSECURE_PORT", "SAME", "Client", "ClientExpect", "Scenario",
           "Services"]

Client = Literal["docker", "containerd", "skopeo"]
ALL_CLIENTS: tuple[Client, ...] = ("docker", "containerd", "skopeo")


@dataclass(frozen=True)
class Services:
    """What runs on the server hosts, and what the client is told (all healthy by default)."""

    registry: Literal["up", "off", "silent", "stall"] = "up"
    """``off``: nothing listens; ``silent``: TLS completes, then no answer; ``stall``: TCP is
    accepted and the TLS handshake never gets a reply."""
    tls: Literal["good", "wrong_name", "expired", "plain"] = "good"
    """Which certificate the registry shows (``plain``: no TLS on 443)."""
    trust_ca: bool = True  # the lab CA in the client's certs.d
    cdn_redirect: bool = True
    auth: Literal["none", "htpasswd", "token"] = "none"  # token: a token server on auth.lab.test
    anonymous_pull: bool = False  # the token server grants pull without a login (as Docker Hub)
    client_auth: Literal["none", "good", "wrong"] = "none"  # config.json + auth.json credentials
    proxy: Literal["none", "dead", "auth"] = "none"  # dead: nothing listens; auth: needs creds
    proxy_in: Literal["both", "shell", "daemon"] = "both"
    """Who has the proxy: the shell (every client command), the daemons' systemd units, or both."""
    dns: bool = True  # False: nothing listens on the resolver's port 53
    corrupt_layer: bool = False  # flip a byte of the image's first layer in storage
    broken_config: bool = False  # daemon.json, hosts.toml, registries.conf that do not parse
    proxy_userinfo: bool = False  # the proxy's user:password in HTTPS_PROXY (proxy="auth")
    audit: bool = False  # CDN/token server log header names; issued tokens to workdir/token-issued
    insecure_http: bool = False
    """The registry speaks plain HTTP on :data:`INSECURE_PORT`, and every client lists it as
    insecure (daemon.json ``insecure-registries``, hosts.toml ``server = "http://..."``,
    registries.conf ``insecure = true``); the image must name ``registry.lab.test:5002``."""
    mirror: Literal["none", "down"] = "none"
    """``down``: hosts.toml and registries.conf put a mirror (``mirror.lab.test:8443``, where
    nothing listens) before the registry (for Docker Hub also daemon.json ``registry-mirrors``);
    clients fall back to the registry."""
    hub: bool = False
    """The Docker Hub replica (:mod:`pulldoctor.lab.hub`): the lab's registry, token server and
    CDN answer as registry-1.docker.io, auth.docker.io and production.cloudflare.docker.com,
    trusted through the client's system CA bundle; images are ``docker.io/...``."""
    cred_helper: Literal["none", "missing"] = "none"
    """``missing``: the client's configuration names a credential helper that is not installed
    (as after uninstalling Docker Desktop, or copying its config.json to another machine):
    docker's config.json ``credsStore: "desktop"`` with the empty ``auths`` entry Desktop leaves,
    and registries.conf ``credential-helpers = ["desktop"]`` (containers/image ignores
    ``credsStore``). No ``docker-credential-desktop`` is on the client's PATH."""
    policy: Literal["accept", "reject", "signed"] = "accept"
    """/etc/containers/policy.json's ``docker`` scope ``registry.lab.test/lab`` (the default still
    accepts anything; docker and containerd do not read it): ``reject`` rejects the lab's images;
    ``signed`` requires a GPG signature (``signedBy``, a key file that exists), looked for at the
    ``registries.d`` lookaside ``https://cdn.lab.test/sigstore``, where none was published."""
    login_as: Literal["default", "registry-1.docker.io"] = "default"
    """Under which key the login is stored: ``default`` is where each client looks
    (``https://index.docker.io/v1/`` in docker's config.json for Hub); ``registry-1.docker.io``
    is what ``docker login registry-1.docker.io`` writes, which docker never reads for Hub."""


class _Same(Enum):
    SAME = "same as the scenario"


SAME = _Same.SAME


@dataclass(frozen=True)
class ClientExpect:
    """Where one client departs from its scenario's ``code``, and why (the documented difference).

    ``code``: what this client's pull shows (None: it pulls). ``explain``: the cause ``explain``
    reads from this client's own error text, when that is not ``code`` (the text does not carry
    the cause). Either defaults to the scenario's ``code``.
    """

    why: str
    code: Code | _Same | None = SAME
    explain: Code | _Same | None = SAME

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"why": self.why}
        if self.code is not SAME:
            out["code"] = self.code
        if self.explain is not SAME:
            out["explain"] = self.explain
        return out


@dataclass(frozen=True)
class Scenario:
    """One reproducible pull failure (``code``) or a healthy world (``code`` None)."""

    name: str
    code: Code | None
    summary: str
    image: str = f"{REGISTRY}/lab/hello:latest"
    clients: tuple[Client, ...] = ALL_CLIENTS
    faults: tuple[Fault, ...] = ()
    """What is broken, at any layer: path faults (nft, routes, MTU, disk), HTTP faults done by a
    front before a server, DNS faults done by the lab DNS server (:mod:`pulldoctor.lab.faults`)."""
    services: Services = Services()
    expect: Mapping[str, ClientExpect] = field(default_factory=dict)

    def build(self, lab: Lab) -> None:
        """Apply this scenario to a fresh lab: services, images, client files, then faults."""
        from pulldoctor.lab.build import build

        build(self, lab)

    def expected(self, client: str) -> Code | None:
        """What ``client``'s pull is expected to show: a cause code, or None (it pulls)."""
        e = self.expect.get(client)
        return self.code if e is None or e.code is SAME else e.code

    def explain_expected(self, client: str) -> Code | None:
        """The cause ``explain`` is expected to read from ``client``'s own error text."""
        e = self.expect.get(client)
        return self.expected(client) if e is None or e.explain is SAME else e.explain

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "code": self.code, "summary": self.summary,
                "image": self.image, "clients": list(self.clients),
                "faults": [f.to_dict() for f in self.faults],
                "services": {k: (list(v) if isinstance(v, tuple) else v)
                             for k, v in vars(self.services).items()},
                "expect": {c: {"code": self.expected(c), "explain": self.explain_expected(c),
                               **({"why": self.expect[c].why} if c in self.expect else {})}
                           for c in self.clients}}
