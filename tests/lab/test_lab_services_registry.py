"""docker-registry, token server, CDN and TLS material, run for real in a scratch namespace.

Each test starts real servers on 127.0.0.x inside a namespace of its own and talks to them with
httpx (via :func:`run_in_netns`) and skopeo (``ip netns exec``); everything is stopped by PID and
the namespace deleted, even on failure.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pulldoctor.lab import images
from pulldoctor.lab.services.cdn import cdn_service
from pulldoctor.lab.services.docker_registry import registry_service, write_htpasswd
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.lab.services.tlsca import CertKind, LabCA
from pulldoctor.lab.services.token import TokenPolicy, TokenUser, token_service

pytestmark = pytest.mark.lab

REG, TOK, CDN = "127.0.0.2", "127.0.0.3", "127.0.0.4"


@pytest.fixture
def ns(lab_ok: None) -> Iterator[ScratchNetns]:
    with ScratchNetns() as scratch:
        yield scratch


def push(ns: ScratchNetns, base: str, repo: str, image: images.Image | images.Index,
         *, creds: tuple[str, str] | None = None, verify: bool | ssl.SSLContext = True) -> str:
    def go() -> str:
        auth = images.RegistryAuth(*creds) if creds else images.RegistryAuth()
        with httpx.Client(timeout=20, auth=auth, verify=verify) as client:
            return images.push_image(client, base, repo, "latest", image)
    return ns.call(go)


def skopeo(ns: ScratchNetns, *args: str) -> tuple[int, str]:
    res = ns.run(["skopeo", "--command-timeout", "60s", *args], timeout=90)
    return res.returncode, (res.stdout + res.stderr).decode(errors="replace")


def test_plain_http_push_then_inspect_and_index(ns: ScratchNetns, tmp_path: Path) -> None:
    spec = registry_service(tmp_path / "reg", addr=REG, port=5000)
    ns.start(spec, REG, log_dir=tmp_path)
    digest = push(ns, f"http://{REG}:5000", "lab/hello", images.healthy_image())
    push(ns, f"http://{REG}:5000", "lab/multi", images.multiarch_index())
    push(ns, f"http://{REG}:5000", "lab/armonly", images.arm64_only_index())

    rc, out = skopeo(ns, "inspect", "--tls-verify=false", f"docker://{REG}:5000/lab/hello:latest")
    assert rc == 0, out
    assert digest in out and '"Architecture": "amd64"' in out

    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--override-arch", "arm64",
                     f"docker://{REG}:5000/lab/multi:latest")
    assert rc == 0, out
    assert '"Architecture": "arm64"' in out

    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--override-arch", "amd64",
                     f"docker://{REG}:5000/lab/armonly:latest")
    assert rc != 0
    assert "no image found in image index for architecture amd64" in out


def test_tls_good_unknown_ca_wrong_name_expired(ns: ScratchNetns, tmp_path: Path) -> None:
    ca = LabCA(tmp_path / "ca")
    certdir = tmp_path / "certs.d"
    certdir.mkdir()
    (certdir / "ca.crt").write_bytes(ca.ca_path.read_bytes())
    ports = {CertKind.GOOD: 5443, CertKind.WRONG_NAME: 5444, CertKind.EXPIRED: 5445}
    for kind, port in ports.items():
        leaf = ca.issue([REG], kind)
        spec = registry_service(tmp_path / f"reg-{kind}", addr=REG, port=port,
                                tls_cert=leaf.cert, tls_key=leaf.key)
        (tmp_path / kind.value).mkdir()
        ns.start(spec, REG, log_dir=tmp_path / kind.value)
    push(ns, f"https://{REG}:5443", "lab/hello", images.healthy_image(), verify=ssl.create_default_context(cafile=str(ca.ca_path)))

    ref = f"docker://{REG}:5443/lab/hello:latest"
    rc, out = skopeo(ns, "inspect", "--cert-dir", str(certdir), ref)
    assert rc == 0, out
    rc, out = skopeo(ns, "inspect", "--cert-dir", str(tmp_path / "ca" / "nonexistent"), ref)
    assert rc != 0 and "x509: certificate signed by unknown authority" in out
    rc, out = skopeo(ns, "inspect", "--cert-dir", str(certdir),
                     f"docker://{REG}:5444/lab/hello:latest")
    assert rc != 0 and "x509: cannot validate certificate for 127.0.0.2" in out
    rc, out = skopeo(ns, "inspect", "--cert-dir", str(certdir),
                     f"docker://{REG}:5445/lab/hello:latest")
    assert rc != 0 and "x509: certificate has expired or is not yet valid" in out


def test_htpasswd_basic_auth_ok_and_rejected(ns: ScratchNetns, tmp_path: Path) -> None:
    htp = write_htpasswd(tmp_path / "htpasswd", {"bob": "b0b-pass"})
    assert b"b0b-pass" not in htp.read_bytes()
    spec = registry_service(tmp_path / "reg", addr=REG, port=5000, htpasswd=htp)
    ns.start(spec, REG, log_dir=tmp_path)
    push(ns, f"http://{REG}:5000", "lab/hello", images.healthy_image(), creds=("bob", "b0b-pass"))
    ref = f"docker://{REG}:5000/lab/hello:latest"
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--creds", "bob:b0b-pass", ref)
    assert rc == 0, out
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--creds", "bob:nope", ref)
    assert rc != 0 and "unauthorized" in out.lower()
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--no-creds", ref)
    assert rc != 0 and "authentication required" in out


def test_token_auth_redirect_to_cdn_and_corrupt_blob(ns: ScratchNetns, tmp_path: Path) -> None:
    policy = TokenPolicy(users={"alice": TokenUser("al1ce-pw", deny=("secret/*",))})
    tspec, tauth = token_service(tmp_path / "tok", addr=TOK, port=5001, policy=policy)
    storage = tmp_path / "storage"
    rspec = registry_service(tmp_path / "reg", addr=REG, port=5000, storage=storage,
                             token=tauth, redirect_baseurl=f"http://{CDN}:8080/")
    ns.start(tspec, TOK, log_dir=tmp_path)
    ns.start(rspec, REG, log_dir=tmp_path)
    ns.start(cdn_service(root=storage, addr=CDN, port=8080), CDN, log_dir=tmp_path)
    image = images.healthy_image()
    push(ns, f"http://{REG}:5000", "lab/hello", image, creds=("alice", "al1ce-pw"))

    ref = f"docker://{REG}:5000/lab/hello:latest"
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--creds", "alice:al1ce-pw", ref)
    assert rc == 0, out
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--creds", "alice:wrong", ref)
    assert rc != 0 and "invalid username/password" in out
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--creds", "alice:al1ce-pw",
                     f"docker://{REG}:5000/secret/x:latest")
    assert rc != 0 and "requested access to the resource is denied" in out
    rc, out = skopeo(ns, "inspect", "--tls-verify=false", "--no-creds", ref)
    assert rc != 0 and "authentication required" in out  # no anonymous tokens by default
    assert "al1ce-pw" not in (tmp_path / "token.log").read_text()

    # The blob GET is redirected (307) to the CDN host, which serves it from storage.
    def fetch_blob() -> tuple[int, str, bytes]:
        auth = images.RegistryAuth("alice", "al1ce-pw")
        with httpx.Client(timeout=20, auth=auth) as client:
            url = f"http://{REG}:5000/v2/lab/hello/blobs/{image.layers[0].digest}"
            first = client.get(url)
            followed = client.get(url, follow_redirects=True)
            return first.status_code, first.headers.get("location", ""), followed.content
    status, location, body = ns.call(fetch_blob)
    assert status == 307
    assert location.startswith(f"http://{CDN}:8080/docker/registry/v2/blobs/sha256/")
    assert body == image.layers[0].data

    rc, out = skopeo(ns, "copy", "--src-tls-verify=false", "--src-creds", "alice:al1ce-pw",
                     ref, f"dir:{tmp_path / 'copy-ok'}")
    assert rc == 0, out
    cdn_log = (tmp_path / "cdn.log").read_text()
    assert f"GET /docker/registry/v2/blobs/sha256/{image.layers[0].digest[7:9]}/" in cdn_log

    # containerd asks with the OAuth2 POST form first; that token must work on the registry too.
    def oauth_pull() -> tuple[int, str, int]:
        with httpx.Client(timeout=20) as client:
            form = {"grant_type": "password", "username": "alice", "password": "al1ce-pw",
                    "service": tauth.service, "scope": "repository:lab/hello:pull",
                    "client_id": "containerd-client"}
            tok = client.post(f"http://{TOK}:5001/token", data=form)
            bad = client.post(f"http://{TOK}:5001/token", data={**form, "password": "x"})
            man = client.get(f"http://{REG}:5000/v2/lab/hello/manifests/latest",
                             headers={"Authorization": f"Bearer {tok.json()['access_token']}",
                                      "Accept": images.DOCKER_MANIFEST})
            return bad.status_code, man.headers.get("docker-content-digest", ""), man.status_code
    assert ns.call(oauth_pull) == (401, image.manifest.digest, 200)

    images.corrupt_blob(storage, image.layers[0].digest)
    rc, out = skopeo(ns, "copy", "--src-tls-verify=false", "--src-creds", "alice:al1ce-pw",
                     ref, f"dir:{tmp_path / 'copy-bad'}")
    assert rc != 0
    assert f"Digest did not match, expected {image.layers[0].digest}" in out


def test_killed_run_is_reaped_by_the_next_scratch_netns(lab_ok: None, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from pulldoctor.lab.services import module_env

    code = ("import sys, time\n"
            "from pulldoctor.lab.services.netns import ScratchNetns\n"
            "ns = ScratchNetns(prefix='pdkill')\n"
            "p = ns.spawn(['sleep', '300'])\n"
            "print(ns.name, p.pid, flush=True)\n"
            "time.sleep(300)\n")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, **module_env()}, start_new_session=True)
    try:
        assert owner.stdout is not None
        name, pid = owner.stdout.readline().split()
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
    assert Path(f"/run/netns/{name}").exists() and Path(f"/proc/{pid}").exists()
    with ScratchNetns():
        assert not Path(f"/run/netns/{name}").exists()
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status").read_text(errors="replace").lower()
