"""Pure parts of the lab services: configs, tokens, HTTP head handling, images. No sockets."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from pulldoctor.errors import LabError
from pulldoctor.lab import images
from pulldoctor.lab.faults import fault_classes
from pulldoctor.lab.faults.http.ratelimit import RateLimit
from pulldoctor.lab.faults.http.stall import Stall
from pulldoctor.lab.services.cdn import parse_range, resolve_under
from pulldoctor.lab.services.docker_registry import TokenAuth, registry_config
from pulldoctor.lab.services.faultfront import (
    close_response_head,
    forward_head,
    load_faults,
    parse_request_head,
)
from pulldoctor.lab.services.proxy import tinyproxy_config
from pulldoctor.lab.services.tlsca import WRONG_NAME, CertKind, LabCA
from pulldoctor.lab.services.token import (
    check_password,
    grant,
    hash_password,
    make_jwt,
    parse_scope,
    write_signing_material,
)


def test_registry_config_knobs(tmp_path: Path) -> None:
    tok = TokenAuth("https://auth.lab.test/token", "registry.lab.test", "auth.lab.test",
                    tmp_path / "bundle.crt")
    cfg = registry_config(storage=tmp_path, addr="198.18.2.2", port=5000, token=tok,
                          tls_cert=tmp_path / "c", tls_key=tmp_path / "k",
                          redirect_baseurl="http://cdn.lab.test:8080/")
    assert cfg["http"]["addr"] == "198.18.2.2:5000"  # type: ignore[index]
    assert cfg["http"]["tls"] == {"certificate": str(tmp_path / "c"),  # type: ignore[index]
                                  "key": str(tmp_path / "k")}
    assert cfg["auth"]["token"]["rootcertbundle"] == str(tmp_path / "bundle.crt")  # type: ignore[index]
    assert cfg["middleware"] == {"storage": [{"name": "redirect",
                                              "options": {"baseurl": "http://cdn.lab.test:8080/"}}]}
    assert cfg["health"] == {"storagedriver": {"enabled": False}}
    plain = registry_config(storage=tmp_path, addr="::1", port=5000)
    assert plain["http"]["addr"] == "[::1]:5000"  # type: ignore[index]
    assert "auth" not in plain and "middleware" not in plain
    with pytest.raises(ValueError):
        registry_config(storage=tmp_path, addr="a", port=1, htpasswd=tmp_path, token=tok)
    with pytest.raises(ValueError):
        registry_config(storage=tmp_path, addr="a", port=1, tls_cert=tmp_path)


def test_tinyproxy_config_restricts_everything(tmp_path: Path) -> None:
    text = tinyproxy_config(addr="198.18.5.2", port=3128, workdir=tmp_path,
                            connect_ports=(5000, 443, 5000), basic_auth=("u", "p"))
    lines = text.splitlines()
    assert "FilterDefaultDeny Yes" in lines and "Listen 198.18.5.2" in lines
    assert [ln for ln in lines if ln.startswith("ConnectPort")] == ["ConnectPort 443",
                                                                   "ConnectPort 5000"]
    assert "Allow 198.18.0.0/15" in lines and "BasicAuth u p" in lines
    with pytest.raises(ValueError):
        tinyproxy_config(addr="a", port=1, workdir=tmp_path, connect_ports=())
    with pytest.raises(ValueError):
        tinyproxy_config(addr="a", port=1, workdir=tmp_path, connect_ports=(1,),
                         basic_auth=("u", "has space"))


def test_scopes_and_grants() -> None:
    assert parse_scope("repository:lab/hello:pull,push") == ("repository", "lab/hello",
                                                             ("pull", "push"))
    assert parse_scope("garbage") is None
    cfg = {"anonymous_pull": True, "anonymous_deny": ["lab/private"],
           "users": {"a": {"actions": ["pull"], "deny": ["secret/*"]}}}
    assert grant(cfg, "a", ["repository:lab/x:pull,push"]) == [
        {"type": "repository", "name": "lab/x", "actions": ["pull"]}]
    assert grant(cfg, "a", ["repository:secret/db:pull"])[0]["actions"] == []
    assert grant(cfg, None, ["repository:lab/private:pull"])[0]["actions"] == []
    assert grant(cfg, None, ["repository:lab/ok:pull,push"])[0]["actions"] == ["pull"]
    assert grant({**cfg, "anonymous_pull": False}, None, ["repository:lab/ok:pull"]) == []
    assert grant(cfg, "a", ["registry:catalog:*"]) == []


def test_password_hash_never_holds_the_password() -> None:
    stored = hash_password("hunter2")
    assert "hunter2" not in json.dumps(stored)
    assert check_password(stored, "hunter2") and not check_password(stored, "hunter3")


def test_jwt_signature_verifies_with_the_x5c_certificate(tmp_path: Path) -> None:
    key_path, cert_path = write_signing_material(tmp_path, "auth.lab.test")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    key = load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    from cryptography.hazmat.primitives.serialization import Encoding
    token = make_jwt(key, cert.public_bytes(Encoding.DER), {"iss": "auth.lab.test", "access": []})
    head_b64, claims_b64, sig_b64 = token.split(".")

    def unb64(s: str) -> bytes:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    header = json.loads(unb64(head_b64))
    assert header["alg"] == "ES256"
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    assert leaf == cert
    sig = unb64(sig_b64)
    assert len(sig) == 64  # JOSE r||s, not DER
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    pub = leaf.public_key()
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64(claims_b64))["iss"] == "auth.lab.test"


def test_request_head_roundtrip() -> None:
    raw = (b"GET /v2/lab/x/blobs/sha256:ab?x=1 HTTP/1.1\r\nHost: reg:5000\r\n"
           b"Connection: keep-alive\r\nAccept: */*\r\n\r\n")
    head = parse_request_head(raw)
    assert head.method == "GET" and head.path == "/v2/lab/x/blobs/sha256:ab"
    assert head.header("host") == "reg:5000"
    fwd = forward_head(head).decode()
    assert "keep-alive" not in fwd and fwd.endswith("Connection: close\r\n\r\n")
    assert fwd.startswith("GET /v2/lab/x/blobs/sha256:ab?x=1 HTTP/1.1\r\nHost: reg:5000\r\n")
    with pytest.raises(ValueError):
        parse_request_head(b"NONSENSE\r\n\r\n")
    resp = close_response_head(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nX: y\r\n\r\n")
    assert resp == b"HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\n\r\n"


def test_http_faults_are_validated_data() -> None:
    http = {n for n, c in fault_classes().items() if c.layer == "http"}
    assert http == {"ratelimit", "server_error", "slow_body", "stall", "reset_mid_body", "denied"}
    live = load_faults([Stall(seconds=5, path="/blobs/", methods=("GET",), count=1).to_dict()])
    assert live[0].matches("GET", "/v2/a/blobs/sha256:1")
    assert not live[0].matches("HEAD", "/v2/a/blobs/sha256:1")
    assert not live[0].matches("GET", "/v2/a/manifests/latest")
    for bad in ([{"name": "nope"}], [{"name": "stall", "seconds": -1}],
                [{"name": "slow_body", "speed": 3}], [{"name": "ratelimit", "path": "("}],
                [{"name": "ratelimit", "on": "elsewhere"}], [{"name": "drop"}], [{}]):
        with pytest.raises(LabError):
            load_faults(bad)
    answer = RateLimit(retry_after=2)
    wire = answer.answer("198.18.1.2").render()
    assert wire.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
    assert b"docker-ratelimit-source: 198.18.1.2\r\n" in wire and b"Retry-After: 2\r\n" in wire
    head = answer.answer("198.18.1.2").render(head_only=True)
    assert head.endswith(b"\r\n\r\n") and b"TOOMANYREQUESTS" not in head
    assert b"Content-Length: %d\r\n" % (len(wire) - len(head)) in head


def test_cdn_paths_stay_under_root(tmp_path: Path) -> None:
    (tmp_path / "root/docker").mkdir(parents=True)
    (tmp_path / "root/docker/data").write_bytes(b"x")
    (tmp_path / "secret").write_text("no")
    root = tmp_path / "root"
    assert resolve_under(root, "/docker/data?x=1") == (root / "docker/data").resolve()
    assert resolve_under(root, "/../secret") is None
    assert resolve_under(root, "/docker") is None
    assert resolve_under(root, "/") is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=200-", 100) is None
    assert parse_range("bytes=0-1,4-5", 100) is None


def test_images_are_real_and_deterministic() -> None:
    img = images.healthy_image()
    assert img.manifest.digest == images.healthy_image().manifest.digest
    manifest = json.loads(img.manifest.data)
    config = json.loads(img.config.data)
    assert manifest["config"]["digest"] == img.config.digest
    assert manifest["layers"][0]["size"] == len(img.layers[0].data)
    tar_bytes = gzip.decompress(img.layers[0].data)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        assert "hello" in tar.getnames()
    big = images.big_image(2)
    assert big.layers[0].size > 2 * 1024 * 1024  # noise does not compress
    idx = json.loads(images.multiarch_index().manifest.data)
    assert [(m["platform"]["architecture"]) for m in idx["manifests"]] == ["amd64", "arm64"]
    only = json.loads(images.arm64_only_index().manifest.data)
    assert [m["platform"]["architecture"] for m in only["manifests"]] == ["arm64"]


def test_corrupt_blob_keeps_size_changes_digest(tmp_path: Path) -> None:
    blob = images.healthy_image().layers[0]
    path = images.blob_path(tmp_path, blob.digest)
    path.parent.mkdir(parents=True)
    path.write_bytes(blob.data)
    images.corrupt_blob(tmp_path, blob.digest)
    data = path.read_bytes()
    assert len(data) == blob.size and images.sha256_digest(data) != blob.digest
    with pytest.raises(ValueError):
        images.blob_path(tmp_path, "md5:abc")


def test_lab_ca_issues_three_kinds(tmp_path: Path) -> None:
    ca = LabCA(tmp_path)
    now = dt.datetime.now(dt.UTC)
    good = ca.issue(["registry.lab.test", "198.18.2.2"])
    wrong = ca.issue(["registry.lab.test"], CertKind.WRONG_NAME)
    expired = ca.issue(["registry.lab.test"], CertKind.EXPIRED)

    def leaf(path: Path) -> x509.Certificate:
        return x509.load_pem_x509_certificates(path.read_bytes())[0]

    def names(cert: x509.Certificate) -> list[str]:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [str(n.value) for n in san]
    assert names(leaf(good.cert)) == ["registry.lab.test", "198.18.2.2"]
    assert names(leaf(wrong.cert)) == [WRONG_NAME]
    assert leaf(expired.cert).not_valid_after_utc < now < leaf(good.cert).not_valid_after_utc
    ca_cert = x509.load_pem_x509_certificate(ca.ca_path.read_bytes())
    assert leaf(good.cert).issuer == ca_cert.subject
    assert good.key.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("module,args,needle", [
    ("cdn", ["--root", "/nonexistent/x", "--addr", "127.0.0.1", "--port", "1"],
     "is not a directory"),
    ("cdn", ["--root", "/", "--addr", "127.0.0.1", "--port", "1", "--cert", "/x"],
     "--cert and --key go together"),
    ("token", ["--config", "/nonexistent/t.json", "--addr", "127.0.0.1", "--port", "1"],
     "cannot load token config"),
    ("faultfront", ["--config", "/nonexistent/f.json", "--addr", "127.0.0.1", "--port", "1"],
     "error: faultfront:"),
    ("cdn", ["--root", "/", "--addr", "127.0.0.1", "--port", "notaport"], "invalid int value"),
])
def test_service_clis_fail_in_one_line(module: str, args: list[str], needle: str) -> None:
    import subprocess
    import sys

    from pulldoctor.lab.services import module_env

    res = subprocess.run([sys.executable, "-m", f"pulldoctor.lab.services.{module}", *args],
                         capture_output=True, text=True, timeout=30,
                         env={**module_env(), "PATH": "/usr/bin:/bin"})
    assert res.returncode != 0
    assert needle in res.stderr
    assert "Traceback" not in res.stderr


def test_faultfront_rejects_bad_faults_before_starting(tmp_path: Path) -> None:
    from pulldoctor.lab.faults.http.server_error import ServerError
    from pulldoctor.lab.services.faultfront import faultfront_service

    with pytest.raises(LabError, match="server_error status must be 5xx"):
        faultfront_service(tmp_path, addr="127.0.0.1", port=1, upstream="http://127.0.0.2:5000",
                           faults=[ServerError(status=200)])
    with pytest.raises(LabError, match="upstream"):
        faultfront_service(tmp_path, addr="127.0.0.1", port=1, upstream="ftp://x", faults=[])
    assert not (tmp_path / "faultfront.json").exists()
