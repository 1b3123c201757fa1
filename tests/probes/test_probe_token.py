"""Bearer-token auth against the lab's real token server and a docker-registry that trusts it.

The registry answers 401 with a ``Bearer realm=`` challenge; the walk asks the realm anonymously,
then with the credentials from config.json (only over TLS), and tells "no/wrong credentials"
(registry.unauthorized) from "authenticated, but this account may not pull" (registry.denied).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from pdt_netns import SERVER_ADDR, NetPair, make_image, push_image

from pulldoctor.diagnose import diagnose_async
from pulldoctor.report.render import render_json

REPO = "team/app"
GOOD = "T0ken-User-Pass"


@pytest.fixture
def token_registry(netpair: NetPair, dns_server: Any, registry: Any,
                   tls_material: dict[str, Path]) -> dict[str, Any]:
    from pulldoctor.lab.services.docker_registry import registry_service
    from pulldoctor.lab.services.token import TokenPolicy, TokenUser, token_service

    dns_server({"*": {"mode": "answer"}})
    # push through an open plain-HTTP registry; the token-protected one serves the same storage
    registry(5000)
    img = make_image(4096)
    netpair.in_client(lambda: push_image(f"http://{SERVER_ADDR}:5000", REPO, "v1", img))
    policy = TokenPolicy(users={"puller": TokenUser(GOOD, ("pull",)),
                                "outsider": TokenUser(GOOD, ("pull",), deny=("team/*",))})
    spec, auth = token_service(netpair.workdir / "token", addr=SERVER_ADDR, port=5001,
                               policy=policy, service="registry.pdt.test", issuer="pdt-issuer",
                               realm_host="registry.pdt.test",
                               cert=tls_material["good_cert"], key=tls_material["good_key"])
    netpair.spawn(spec.argv, "token")
    reg = registry_service(netpair.workdir / "reg-token", addr=SERVER_ADDR, port=5443,
                           storage=netpair.workdir / "store5000",
                           tls_cert=tls_material["good_cert"], tls_key=tls_material["good_key"],
                           token=auth)
    netpair.spawn(reg.argv, "registry-token")
    netpair.wait_tcp(5001)
    netpair.wait_tcp(5443)
    return {"ca": tls_material["ca"]}


def _root(tmp: Path, ca: Path, user: str | None, password: str = GOOD) -> Path:
    root = tmp / (user or "anon")
    (root / "etc/docker/certs.d/registry.pdt.test:5443").mkdir(parents=True)
    (root / "etc/docker/certs.d/registry.pdt.test:5443/ca.crt").write_bytes(ca.read_bytes())
    (root / "etc/resolv.conf").write_text(f"nameserver {SERVER_ADDR}\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    (root / "etc/docker/daemon.json").write_text("{}")
    if user:
        home = root / os.environ.get("HOME", "/root").lstrip("/") / ".docker"
        home.mkdir(parents=True)
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        (home / "config.json").write_text(json.dumps(
            {"auths": {"registry.pdt.test:5443": {"auth": auth}}}))
    return root


def _walk(pair: NetPair, root: Path) -> Any:
    return pair.in_client(lambda: diagnose_async("registry.pdt.test:5443/team/app:v1",
                                                 runtime="docker", root=str(root), timeout=8.0),
                          timeout=20)


@pytest.mark.lab
def test_token_auth_outcomes(netpair: NetPair, token_registry: dict[str, Any],
                             tmp_path: Path) -> None:
    ca = token_registry["ca"]
    anon = _walk(netpair, _root(tmp_path, ca, None))
    assert anon.causes[0].code == "registry.unauthorized"
    assert any("none are configured" in e for e in anon.causes[0].evidence)

    good = _walk(netpair, _root(tmp_path, ca, "puller"))
    assert good.causes == [], json.dumps([s.to_dict() for s in good.steps], indent=1)
    tok = next(s for s in good.steps if s.name.startswith("token ")).to_dict()["data"]
    assert tok["with_credentials"] and tok["token_grants_pull"] is True
    assert tok["anonymous"]["status"] == 401
    text = render_json(good)
    assert GOOD not in text and base64.b64encode(f"puller:{GOOD}".encode()).decode() not in text

    denied = _walk(netpair, _root(tmp_path, ca, "outsider"))
    assert denied.causes[0].code == "registry.denied", \
        json.dumps([s.to_dict() for s in denied.steps], indent=1)
    assert any("does NOT grant" in e for s in denied.steps for e in s.evidence)

    wrong = _walk(netpair, _root(tmp_path / "w", ca, "puller", "nope-wrong"))
    assert wrong.causes[0].code == "registry.unauthorized"
    assert any("rejected the credentials" in e for e in wrong.causes[0].evidence)
    assert "nope-wrong" not in render_json(wrong)
