"""The Docker Hub replica: real clients pull ``docker.io/...`` through Hub's names, and nothing
leaves the lab (root).

The replica's scenarios (``hub-*``) are cells of the differential matrix like every other; this
file checks what is particular to the replica: Hub's token flow and CDN redirect as the real
clients walk them, trust given to the client's mount namespace only, and traffic that stays
inside the namespaces (the router's egress counter stays at zero, and it does count a packet
that tries to leave).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pulldoctor.lab import hub

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_ok")]

# Connect from the client to an address outside the lab; print the outcome in one word.
CONNECT = textwrap.dedent("""
    import errno, socket, sys
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((sys.argv[1], 443)); print("ok")
    except socket.timeout: print("timeout")
    except OSError as e: print(errno.errorcode.get(e.errno, e.errno))
""")
TEST_NET = "192.0.2.1"  # RFC 5737 documentation range: never anyone's real address


def test_real_clients_pull_from_the_hub_replica_and_nothing_leaves() -> None:
    from pulldoctor.lab.clients import make_client
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS["hub-healthy"]
    with Lab(prefix="h") as lab:
        sc.build(lab)
        lab_ca = (lab.workdir / "tls/ca.crt").read_text()
        assert lab_ca not in Path(hub.SYSTEM_BUNDLE).read_text(), "the machine trusts the lab CA"
        names = lab.client_exec(["getent", "hosts", hub.REGISTRY_1, hub.AUTH, hub.CDN])
        assert names.returncode == 0, names.stderr
        assert all(line.split()[0].startswith("198.18.") for line in names.stdout.splitlines())
        for name in ("docker", "containerd", "skopeo"):
            client = make_client(name)
            try:
                client.start(lab)
                res = client.pull(sc.image, timeout=60)
            finally:
                client.stop()
            assert res.ok, f"{name}: {res.output_text}"
        token_log = (lab.log_dir / "auth-token.log").read_text()
        assert "GET /token 200" in token_log  # Hub's token flow, anonymous
        assert "GET /docker/registry/v2/blobs/" in (lab.log_dir / "cdn-cdn.log").read_text()
        assert lab.egress_packets() == 0
        r = lab.client_exec([sys.executable, "-c", CONNECT, TEST_NET], timeout=20)
        assert r.stdout.strip() in ("ENETUNREACH", "EHOSTUNREACH", "timeout"), r.stdout
        assert lab.egress_packets() >= 1, "the egress counter must see a packet that tries"


def test_hub_credentials_live_under_index_docker_io_v1() -> None:
    import json

    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    with Lab(prefix="h") as lab:
        SCENARIOS["hub-private-login"].build(lab)
        docker = json.loads((lab.client_files / "home/.docker/config.json").read_text())
        podman = json.loads((lab.client_files / "run/containers/auth.json").read_text())
    assert list(docker["auths"]) == [hub.DOCKER_CONFIG_KEY]
    assert list(podman["auths"]) == [hub.AUTH_JSON_KEY]
