"""The fault front and tinyproxy, run for real: each fault's exact symptom on the wire.

The registry behind the front is a real docker-registry holding a real multi-MB image; the
client side is httpx inside the same scratch namespace, and skopeo for one end-to-end failure.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pulldoctor.lab import images
from pulldoctor.lab.faults.http import HttpFault
from pulldoctor.lab.faults.http.denied import Denied
from pulldoctor.lab.faults.http.ratelimit import RateLimit
from pulldoctor.lab.faults.http.reset_mid_body import ResetMidBody
from pulldoctor.lab.faults.http.server_error import ServerError
from pulldoctor.lab.faults.http.slow_body import SlowBody
from pulldoctor.lab.faults.http.stall import Stall
from pulldoctor.lab.services.docker_registry import registry_service
from pulldoctor.lab.services.faultfront import faultfront_service
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.lab.services.proxy import ALLOWED_DESTINATIONS, proxy_service
from pulldoctor.lab.services.tlsca import LabCA

pytestmark = pytest.mark.lab

REG, FRONT, PROXY = "127.0.0.2", "127.0.0.6", "127.0.0.5"
BIG = images.big_image(4)
LAYER = BIG.layers[0]


@pytest.fixture
def ns(lab_ok: None, tmp_path: Path) -> Iterator[ScratchNetns]:
    with ScratchNetns() as scratch:
        spec = registry_service(tmp_path / "reg", addr=REG, port=5000)
        scratch.start(spec, REG, log_dir=tmp_path)

        def push() -> str:
            with httpx.Client(timeout=30, auth=images.RegistryAuth()) as client:
                return images.push_image(client, f"http://{REG}:5000", "lab/big", "latest", BIG)
        scratch.call(push)
        yield scratch


def front(ns: ScratchNetns, tmp_path: Path, faults: list[HttpFault], port: int = 8000,
          **tls: Path) -> str:
    spec = faultfront_service(tmp_path / f"ff{port}", addr=FRONT, port=port,
                              upstream=f"http://{REG}:5000", faults=faults, **tls)
    (tmp_path / f"ff{port}").mkdir(exist_ok=True)
    ns.start(spec, FRONT, log_dir=tmp_path / f"ff{port}")
    return f"{spec.scheme}://{FRONT}:{port}"


MANIFEST = "/v2/lab/big/manifests/latest"
BLOB = f"/v2/lab/big/blobs/{LAYER.digest}"


def test_ratelimit_only_on_manifest_gets(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [RateLimit(limit=100, window=21600, path=r"/manifests/",
                                          methods=("GET",))])

    def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        with httpx.Client(timeout=10) as c:
            accept = {"Accept": images.DOCKER_MANIFEST}
            return (c.get(base + MANIFEST), c.head(base + MANIFEST, headers=accept),
                    c.get(base + "/v2/"))
    limited, head, ping = ns.call(go)
    assert limited.status_code == 429
    assert limited.headers["ratelimit-limit"] == "100;w=21600"
    assert limited.headers["ratelimit-remaining"] == "0;w=21600"
    assert limited.headers["docker-ratelimit-source"] == "127.0.0.1"
    assert limited.json()["errors"][0]["code"] == "TOOMANYREQUESTS"
    assert head.status_code == 200 and head.headers["docker-content-digest"] == BIG.manifest.digest
    assert ping.status_code == 200


def test_ratelimit_seen_by_skopeo(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [RateLimit(retry_after=1, path=r"/manifests/")])
    res = ns.run(["skopeo", "--command-timeout", "60s", "inspect", "--tls-verify=false",
                  f"docker://{base.split('://')[1]}/lab/big:latest"], timeout=90)
    out = (res.stdout + res.stderr).decode()
    assert res.returncode != 0
    assert "toomanyrequests" in out.lower()


def test_server_error_with_body_and_count(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [ServerError(status=502, body="upstream gone", path=r"^/v2/$",
                                            count=2)])

    def go() -> list[tuple[int, str]]:
        with httpx.Client(timeout=10) as c:
            return [(r.status_code, r.text) for r in (c.get(base + "/v2/") for _ in range(3))]
    assert ns.call(go) == [(502, "upstream gone"), (502, "upstream gone"), (200, "{}")]


def test_denied_is_403_DENIED(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [Denied(path=r"/manifests/")])
    resp = ns.call(lambda: httpx.get(base + MANIFEST, timeout=10))
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["code"] == "DENIED"


def test_reset_mid_body_after_exact_bytes(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [ResetMidBody(after=100_000, path=r"/blobs/")])

    def go() -> tuple[int, int, bytes, BaseException | None]:
        got = bytearray()
        with httpx.Client(timeout=10) as c, c.stream("GET", base + BLOB) as r:
            try:
                for chunk in r.iter_raw():
                    got += chunk
            except httpx.ReadError as exc:
                return r.status_code, int(r.headers["content-length"]), bytes(got), exc
        return r.status_code, int(r.headers["content-length"]), bytes(got), None
    status, length, body, error = ns.call(go)
    assert status == 200 and length == LAYER.size
    assert body == LAYER.data[:100_000]
    assert error is not None and "Connection reset by peer" in str(error)
    # Manifests are not affected by a blob-only rule.
    assert ns.call(lambda: httpx.get(base + MANIFEST, timeout=10)).status_code == 200

    res = ns.run(["skopeo", "--command-timeout", "60s", "copy", "--src-tls-verify=false",
                  f"docker://{base.split('://')[1]}/lab/big:latest", f"dir:{tmp_path / 'out'}"],
                 timeout=90)
    assert res.returncode != 0
    assert "connection reset by peer" in (res.stdout + res.stderr).decode()


def test_stall_sends_headers_then_nothing(ns: ScratchNetns, tmp_path: Path) -> None:
    base = front(ns, tmp_path, [Stall(seconds=60, path=r"/blobs/")])

    def go() -> tuple[int, str, int, BaseException | None]:
        got = 0
        timeout = httpx.Timeout(10, read=1.0)
        with httpx.Client(timeout=timeout) as c, c.stream("GET", base + BLOB) as r:
            try:
                for chunk in r.iter_raw():
                    got += len(chunk)
            except httpx.ReadTimeout as exc:
                return r.status_code, r.headers["content-length"], got, exc
        return r.status_code, r.headers["content-length"], got, None
    status, length, got, error = ns.call(go)
    assert status == 200 and length == str(LAYER.size)
    assert got == 0
    assert isinstance(error, httpx.ReadTimeout)


def test_slow_body_is_throttled_but_intact(ns: ScratchNetns, tmp_path: Path) -> None:
    rate = 20_000
    base = front(ns, tmp_path, [SlowBody(rate=rate, path=r"/blobs/")])
    want = 3 * rate

    def go() -> tuple[bytes, float]:
        got = bytearray()
        started = time.monotonic()
        with httpx.Client(timeout=10) as c, c.stream("GET", base + BLOB) as r:
            for chunk in r.iter_raw():
                got += chunk
                if len(got) >= want:
                    break
        return bytes(got), time.monotonic() - started
    body, elapsed = ns.call(go)
    assert body == LAYER.data[:len(body)]
    # A lower bound only: the throttle makes faster delivery impossible, whatever the machine.
    assert elapsed >= (want / rate) * 0.5


def test_front_with_tls(ns: ScratchNetns, tmp_path: Path) -> None:
    ca = LabCA(tmp_path / "ca")
    leaf = ca.issue([FRONT])
    base = front(ns, tmp_path, [ServerError(path=r"/manifests/"),
                                ResetMidBody(after=5000, path=r"/blobs/")],
                 port=8443, cert=leaf.cert, key=leaf.key)
    ctx = ssl.create_default_context(cafile=str(ca.ca_path))

    def go() -> tuple[int, int]:
        with httpx.Client(timeout=10, verify=ctx) as c:
            return c.get(base + "/v2/").status_code, c.get(base + MANIFEST).status_code
    assert ns.call(go) == (200, 503)
    # The RST also goes out under TLS. (Python's ssl + OpenSSL 3 report a reset as an EOF, so
    # ask curl, which names it as the runtimes do.) skopeo meets the 503 on the manifest.
    res = ns.run(["curl", "-sS", "-o", "/dev/null", "--cacert", str(ca.ca_path), base + BLOB],
                 timeout=60)
    assert res.returncode == 56 and b"Connection reset by peer" in res.stderr
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "ca.crt").write_bytes(ca.ca_path.read_bytes())
    res = ns.run(["skopeo", "--command-timeout", "60s", "copy", "--src-cert-dir", str(certs),
                  f"docker://{FRONT}:8443/lab/big:latest", f"dir:{tmp_path / 'out'}"], timeout=90)
    assert res.returncode != 0
    assert b"received unexpected HTTP status: 503 Service Unavailable" in res.stderr


def test_tinyproxy_open_auth_and_filter(ns: ScratchNetns, tmp_path: Path) -> None:
    dests = (*ALLOWED_DESTINATIONS, r"^127\.0\.0\.2$")
    ns.start(proxy_service(tmp_path / "open", addr=PROXY, port=3128, destinations=dests,
                           connect_ports=(5000,)), PROXY, log_dir=tmp_path / "open")
    ns.start(proxy_service(tmp_path / "auth", addr=PROXY, port=3129, destinations=dests,
                           basic_auth=("pxuser", "pxpass")), PROXY, log_dir=tmp_path / "auth")
    conf = (tmp_path / "auth" / "tinyproxy.conf")
    assert conf.stat().st_mode & 0o077 == 0

    def go() -> dict[str, int]:
        out = {}
        with httpx.Client(timeout=10, proxy=f"http://{PROXY}:3128") as c:
            out["open"] = c.get(f"http://{REG}:5000/v2/").status_code
            out["filtered"] = c.get(f"http://{FRONT}:9/v2/").status_code
        with httpx.Client(timeout=10, proxy=f"http://{PROXY}:3129") as c:
            out["no_creds"] = c.get(f"http://{REG}:5000/v2/").status_code
        with httpx.Client(timeout=10, proxy=f"http://pxuser:pxpass@{PROXY}:3129") as c:
            out["creds"] = c.get(f"http://{REG}:5000/v2/").status_code
        return out
    assert ns.call(go) == {"open": 200, "filtered": 403, "no_creds": 407, "creds": 200}


def test_tinyproxy_connect_only_to_allowed_ports_and_hosts(ns: ScratchNetns,
                                                           tmp_path: Path) -> None:
    ca = LabCA(tmp_path / "ca")
    leaf = ca.issue([REG])
    ns.start(registry_service(tmp_path / "tlsreg", addr=REG, port=5443, tls_cert=leaf.cert,
                              tls_key=leaf.key, storage=tmp_path / "tlsreg" / "storage"),
             REG, log_dir=tmp_path / "tlsreg")
    ns.start(registry_service(tmp_path / "other", addr=FRONT, port=5443, tls_cert=leaf.cert,
                              tls_key=leaf.key), FRONT, log_dir=tmp_path / "other")
    dests = (*ALLOWED_DESTINATIONS, r"^127\.0\.0\.2$")
    ns.start(proxy_service(tmp_path / "px", addr=PROXY, port=3128, destinations=dests,
                           connect_ports=(5443,)), PROXY, log_dir=tmp_path / "px")
    ctx = ssl.create_default_context(cafile=str(ca.ca_path))

    def attempt(url: str) -> str:
        try:
            with httpx.Client(timeout=10, verify=ctx, proxy=f"http://{PROXY}:3128") as c:
                return str(c.get(url).status_code)
        except httpx.ProxyError as exc:
            return f"proxy: {exc}"

    def go() -> list[str]:
        return [attempt(f"https://{REG}:5443/v2/"), attempt(f"https://{REG}:5000/v2/"),
                attempt(f"https://{FRONT}:5443/v2/")]
    ok, bad_port, bad_host = ns.call(go)
    assert ok == "200"
    assert bad_port.startswith("proxy: 403")
    assert bad_host.startswith("proxy: 403")


def test_front_config_is_data(tmp_path: Path) -> None:
    spec = faultfront_service(tmp_path, addr=FRONT, port=8000, upstream=f"http://{REG}:5000",
                              faults=[SlowBody(rate=10, path="/blobs/")])
    cfg = json.loads((tmp_path / "faultfront.json").read_text())
    assert cfg["faults"][0] == {"name": "slow_body", "layer": "http", "on": "registry",
                                "rate": 10, "path": "/blobs/", "methods": None, "count": None}
    assert spec.argv[1:3] == ["-m", "pulldoctor.lab.services.faultfront"]
