"""The whole walk (``diagnose``) against real servers in a namespace pair, one fault at a time.

The client's configuration comes from a temp root with real files (resolv.conf naming the test DNS
server, daemon.json, certs.d), read by the real config discovery; probes run inside the client
namespace. Each test asserts the top cause and that the walk ended within its deadline.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pdt_netns import SERVER_ADDR, NetPair, make_image, push_image

from pulldoctor.diagnose import diagnose_async
from pulldoctor.model import Outcome, Report

REPO = "team/app"


def make_root(tmp: Path, *, ca: Path | None = None, port: int = 5443,
              insecure: bool = False) -> Path:
    root = tmp / "root"
    (root / "etc/docker").mkdir(parents=True)
    (root / "etc/resolv.conf").write_text(f"nameserver {SERVER_ADDR}\noptions timeout:1\n")
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    cfg: dict[str, Any] = {}
    if insecure:
        cfg["insecure-registries"] = [f"registry.pdt.test:{port}"]
    (root / "etc/docker/daemon.json").write_text(json.dumps(cfg))
    if ca is not None:
        d = root / f"etc/docker/certs.d/registry.pdt.test:{port}"
        d.mkdir(parents=True)
        (d / "ca.crt").write_bytes(ca.read_bytes())
    return root


def walk(pair: NetPair, image: str, root: Path, timeout: float = 8.0,
         **kw: Any) -> tuple[Report, float]:
    start = time.monotonic()
    rep = pair.in_client(lambda: diagnose_async(image, runtime="docker", root=str(root),
                                                timeout=timeout, **kw), timeout=timeout + 10)
    return rep, time.monotonic() - start


def top(rep: Report) -> str | None:
    return rep.causes[0].code if rep.causes else None


@pytest.fixture
def tls_registry(netpair: NetPair, registry: Any, dns_server: Any,
                 tls_material: dict[str, Path]) -> dict[str, Any]:
    dns_server({"*": {"mode": "answer"}})
    port = registry(5443, tls_material["good_cert"], tls_material["good_key"])
    import ssl

    ctx = ssl.create_default_context(cafile=str(tls_material["ca"]))
    img = make_image(64 * 1024)
    netpair.in_client(lambda: push_image(f"https://{SERVER_ADDR}:{port}", REPO, "v1", img,
                                         verify=ctx))
    netpair.in_client(lambda: push_image(f"https://{SERVER_ADDR}:{port}", REPO, "armonly",
                                         make_image(1024, "arm64"), verify=ctx,
                                         index_arch="arm64"))
    return {"port": port, "image": img, "ca": tls_material["ca"]}


@pytest.mark.lab
def test_healthy_then_not_found_then_platform(netpair: NetPair, tls_registry: dict[str, Any],
                                              tmp_path: Path) -> None:
    root = make_root(tmp_path, ca=tls_registry["ca"])
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1", root)
    assert rep.causes == [] and rep.healthy, json.dumps([s.to_dict() for s in rep.steps], indent=1)
    names = [s.name for s in rep.steps]
    assert names[:4] == ["config", "dns registry.pdt.test", "tcp registry.pdt.test:5443",
                         "tls registry.pdt.test:5443"]
    assert any(n.startswith("config blob") for n in names)
    assert any(n.startswith("layer 1/1") and "digest verified" in " ".join(s.evidence)
               for s in rep.steps for n in [s.name])

    text = ("error pulling image configuration: download failed after attempts=6: dial tcp: lookup "
            "cdn.pdt.test on 198.19.0.2:53: read udp 198.19.0.1:4000->198.19.0.2:53: i/o timeout")
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1", root, error_text=text)
    assert rep.causes == [] and any("points to dns.udp_timeout" in n for n in rep.notes)

    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:nope", root)
    assert top(rep) == "registry.not_found"
    assert [s.outcome for s in rep.steps if s.name == "layers"] == [Outcome.BLOCKED]

    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:armonly", root, platform="linux/amd64")
    assert top(rep) == "image.platform_mismatch"
    assert "linux/arm64" in rep.causes[0].evidence[0]
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:armonly", root, platform="linux/arm64")
    assert rep.causes == []


@pytest.mark.lab
def test_corrupt_blob_in_storage(netpair: NetPair, tls_registry: dict[str, Any],
                                 tmp_path: Path) -> None:
    layer = tls_registry["image"]["layer"].split(":", 1)[1]
    data = netpair.workdir / f"store5443/docker/registry/v2/blobs/sha256/{layer[:2]}/{layer}/data"
    raw = bytearray(data.read_bytes())
    raw[100] ^= 0xFF  # same size, different content
    data.write_bytes(bytes(raw))
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1", make_root(tmp_path,
                                                                         ca=tls_registry["ca"]))
    assert top(rep) == "image.corrupt"
    assert "hashes to" in " ".join(rep.causes[0].evidence)


@pytest.mark.lab
def test_unknown_authority_without_certs_d(netpair: NetPair, tls_registry: dict[str, Any],
                                           tmp_path: Path) -> None:
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1", make_root(tmp_path))
    assert top(rep) == "tls.unknown_authority"
    assert all(s.outcome == Outcome.BLOCKED for s in rep.steps if s.name.startswith("registry"))


@pytest.mark.lab
@pytest.mark.parametrize("fault,code", [
    ("udp_dns", "dns.udp_timeout"),
    ("tcp_drop", "net.tcp_timeout"),
    ("mtu", "net.mtu"),
])
def test_path_faults_end_within_deadline(netpair: NetPair, tls_registry: dict[str, Any],
                                         tmp_path: Path, fault: str, code: str) -> None:
    if fault == "udp_dns":
        netpair.nft(netpair.server, "input", "udp dport 53 drop")
    elif fault == "tcp_drop":
        netpair.nft(netpair.server, "input", "tcp dport 5443 drop")
    else:
        netpair.nft(netpair.client, "input", "ip length > 700 drop")
    rep, took = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1",
                     make_root(tmp_path, ca=tls_registry["ca"]), timeout=10.0)
    assert top(rep) == code, [s.to_dict() for s in rep.steps]
    # the deadline contract (the faults make real clients hang for minutes); slack for a loaded box
    assert rep.duration_s <= 10.5 and took < 14.0


@pytest.mark.lab
def test_plain_http_registry(netpair: NetPair, registry: Any, dns_server: Any,
                             tmp_path: Path) -> None:
    dns_server({"*": {"mode": "answer"}})
    port = registry(5000)
    img = make_image(300 * 1024)
    netpair.in_client(lambda: push_image(f"http://{SERVER_ADDR}:{port}", REPO, "v1", img))
    image = f"registry.pdt.test:{port}/{REPO}:v1"
    rep, _ = walk(netpair, image, make_root(tmp_path, port=port))
    assert top(rep) == "tls.http_response_to_https"
    rep, _ = walk(netpair, image, make_root(tmp_path / "i", port=port, insecure=True), layers=True)
    assert rep.causes == [], [s.to_dict() for s in rep.steps]
    layer = next(s for s in rep.steps if s.name.startswith("layer 1/1"))
    data = layer.to_dict()["data"]
    assert data["size"] > 300 * 1024 and data["sha256"] == img["layer"]
    assert data["throughput_mbps"] and "Mbit/s" in layer.evidence[-1]
    assert data["authorization_sent"] is False  # no credentials configured at all
    # MTU blackhole on plain HTTP: small replies pass, the 300 KiB layer stalls.
    netpair.nft(netpair.client, "input", "ip length > 700 drop")
    rep, took = walk(netpair, image, make_root(tmp_path / "m", port=port, insecure=True),
                     timeout=10.0)
    assert top(rep) == "net.mtu", json.dumps([s.to_dict() for s in rep.steps], indent=1)
    # the deadline contract (the faults make real clients hang for minutes); slack for a loaded box
    assert rep.duration_s <= 10.5 and took < 14.0


@pytest.mark.lab
def test_credentials_used_only_where_allowed_and_never_shown(
        netpair: NetPair, registry: Any, dns_server: Any, tls_material: dict[str, Path],
        tmp_path: Path) -> None:
    import base64
    import os
    import ssl
    import subprocess

    from pulldoctor.report.render import render_json

    secret = "s3cr3t-Pa55word"
    ht = tmp_path / "htpasswd"
    out = subprocess.run(["htpasswd", "-Bbn", "puller", secret], capture_output=True, text=True,
                         check=True)
    ht.write_text(out.stdout)
    dns_server({"*": {"mode": "answer"}})
    port = registry(5443, tls_material["good_cert"], tls_material["good_key"], htpasswd=ht)
    ctx = ssl.create_default_context(cafile=str(tls_material["ca"]))
    img = make_image(2048)

    netpair.in_client(lambda: push_image(f"https://{SERVER_ADDR}:{port}", REPO, "v1", img,
                                         verify=ctx, auth=("puller", secret)))

    image = f"registry.pdt.test:{port}/{REPO}:v1"
    root = make_root(tmp_path / "anon", ca=tls_material["ca"])
    rep, _ = walk(netpair, image, root)
    assert top(rep) == "registry.unauthorized"

    root = make_root(tmp_path / "creds", ca=tls_material["ca"])
    home = root / os.environ.get("HOME", "/root").lstrip("/") / ".docker"
    home.mkdir(parents=True)
    auth = base64.b64encode(f"puller:{secret}".encode()).decode()
    (home / "config.json").write_text(json.dumps({"auths": {f"registry.pdt.test:{port}":
                                                             {"auth": auth}}}))
    rep, _ = walk(netpair, image, root)
    assert rep.causes == [], json.dumps([s.to_dict() for s in rep.steps], indent=1)
    text = render_json(rep)
    assert secret not in text and auth not in text
    # the registry's own origin got the credentials; nothing else did
    assert any(s.to_dict()["data"].get("authorization_sent") for s in rep.steps
               if s.name.startswith("layer"))

    (home / "config.json").write_text(json.dumps({"auths": {f"registry.pdt.test:{port}": {
        "auth": base64.b64encode(b"puller:wrong-password").decode()}}}))
    rep, _ = walk(netpair, image, root)
    assert top(rep) == "registry.unauthorized"
    assert "wrong-password" not in render_json(rep)


@pytest.mark.lab
def test_cli_exit_codes_and_json(netpair: NetPair, tls_registry: dict[str, Any],
                                 tmp_path: Path) -> None:
    import sys

    root = make_root(tmp_path, ca=tls_registry["ca"])
    base = [sys.executable, "-m", "pulldoctor", "diagnose", "--root", str(root), "--runtime",
            "docker", "--timeout", "8"]
    ok = netpair.exec_client([*base, f"registry.pdt.test:5443/{REPO}:v1", "--json"])
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["causes"] == []
    bad = netpair.exec_client([*base, f"registry.pdt.test:5443/{REPO}:gone", "--json",
                               "--error", "manifest unknown: manifest unknown"])
    assert bad.returncode == 1, bad.stderr
    doc = json.loads(bad.stdout)
    assert doc["causes"][0]["code"] == "registry.not_found"
    assert "error_text" in doc["facts"]
    text = netpair.exec_client([*base, f"registry.pdt.test:5443/{REPO}:gone"])
    assert text.returncode == 1 and "registry.not_found" in text.stdout


@pytest.mark.lab
def test_docker_hub_mirror_first_then_fallback(netpair: NetPair, tls_registry: dict[str, Any],
                                               tmp_path: Path) -> None:
    """A working mirror serves a Hub image; a dead one is a warning and Hub's own error counts."""
    root = make_root(tmp_path, ca=tls_registry["ca"])
    (root / "etc/docker/daemon.json").write_text(json.dumps(
        {"registry-mirrors": ["https://registry.pdt.test:5443"]}))
    rep, _ = walk(netpair, f"docker.io/{REPO}:v1", root)
    assert rep.causes == [], json.dumps([s.to_dict() for s in rep.steps], indent=1)
    assert not any("docker.io" in s.name for s in rep.steps)  # never went past the mirror

    dead = make_root(tmp_path / "dead", ca=tls_registry["ca"], port=5999)
    (dead / "etc/docker/daemon.json").write_text(json.dumps(
        {"registry-mirrors": ["https://registry.pdt.test:5999"]}))
    rep, _ = walk(netpair, f"docker.io/{REPO}:v1", dead)
    mirror_tcp = next(s for s in rep.steps if s.name == "tcp registry.pdt.test:5999")
    assert mirror_tcp.outcome == Outcome.WARNING  # the runtime fell back past it
    # the test DNS server refuses names outside its zone: Hub's own host fails next
    assert top(rep) == "dns.servfail"
    assert "registry-1.docker.io" in " ".join(rep.causes[0].evidence)


@pytest.mark.lab
def test_a_short_deadline_still_names_the_cause(netpair: NetPair, tls_registry: dict[str, Any],
                                                tmp_path: Path) -> None:
    """--timeout 2 against a TCP blackhole: every step shrinks to fit, the verdict still comes."""
    netpair.nft(netpair.server, "input", "tcp dport 5443 drop")
    rep, _ = walk(netpair, f"registry.pdt.test:5443/{REPO}:v1",
                  make_root(tmp_path, ca=tls_registry["ca"]), timeout=2.0)
    assert top(rep) == "net.tcp_timeout"
    assert rep.duration_s <= 2.5
