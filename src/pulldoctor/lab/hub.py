"""The Docker Hub replica: the lab's hosts answering as Docker Hub's, for the client only.

Why: most real pull failures involve Docker Hub's own hosts, and the runtimes treat Hub
specially: ``docker.io`` becomes ``registry-1.docker.io``, its token realm is
``https://auth.docker.io/token`` (service ``registry.docker.io``), blobs are redirected to
``production.cloudflare.docker.com``, ``registry-mirrors`` apply to Hub only, and docker keeps Hub
credentials under ``https://index.docker.io/v1/``. With ``Services(hub=True)`` the lab DNS answers
those names with lab hosts (registry, auth, cdn) whose certificates come from the lab CA, so real
dockerd, ctr and skopeo pull ``docker.io/library/...`` through all of that.

Trust is given only to the client: its mount namespace gets a CA bundle (the machine's bundle plus
the lab CA) bind-mounted over ``/etc/ssl/certs/ca-certificates.crt``, the file Go and OpenSSL read
on Debian, so the machine itself never trusts the lab CA. Nothing leaves the lab: the names resolve
only through the lab DNS, the addresses are the lab's, and the lab's router has no route out
(:meth:`pulldoctor.lab.topology.Lab.egress_packets` counts what tried).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pulldoctor.lab.topology import ADDRESSES

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

REGISTRY_1 = "registry-1.docker.io"
INDEX = "index.docker.io"
AUTH = "auth.docker.io"
CDN = "production.cloudflare.docker.com"
SERVICE = "registry.docker.io"
REALM = f"https://{AUTH}/token"
DOCKER_CONFIG_KEY = "https://index.docker.io/v1/"
"""Where ``docker login`` stores Hub credentials in config.json (not under registry-1.docker.io)."""
AUTH_JSON_KEY = "docker.io"
"""Where ``podman login docker.io`` stores them in auth.json."""
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def records() -> Mapping[str, str]:
    """The Hub names the lab DNS answers, with the lab host that plays each."""
    return {REGISTRY_1: ADDRESSES["registry"], INDEX: ADDRESSES["registry"],
            AUTH: ADDRESSES["auth"], CDN: ADDRESSES["cdn"]}


def trust_lab_ca_in_client(lab: Lab, ca_pem: str) -> Path:
    """Bind-mount (machine's bundle + lab CA) over the client's system CA bundle.

    Only the client's mount namespace sees it; a machine without a bundle gets the lab CA alone.
    """
    try:
        system = Path(SYSTEM_BUNDLE).read_text(encoding="utf-8")
    except OSError:
        system = ""
    bundle = lab.client_files / "etc/ssl/ca-certificates.crt"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_text(system.rstrip("\n") + ("\n" if system else "") + ca_pem, encoding="utf-8")
    lab.client_extra_mounts.append((str(bundle), SYSTEM_BUNDLE))
    return bundle
