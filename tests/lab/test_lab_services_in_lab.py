"""The services inside a real Lab: names from the lab DNS, TLS by name, the CDN on its own host,
token auth on the auth host, and real clients (skopeo, dockerd) pulling through all of it.
"""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Callable

import httpx
import pytest

from pulldoctor.lab import images
from pulldoctor.lab.clients import ContainerdClient, DockerClient
from pulldoctor.lab.services.cdn import cdn_service
from pulldoctor.lab.services.docker_registry import registry_service
from pulldoctor.lab.services.netns import run_in_netns
from pulldoctor.lab.services.tlsca import CertKind, LabCA
from pulldoctor.lab.services.token import TokenPolicy, TokenUser, token_service
from pulldoctor.lab.topology import Lab

pytestmark = pytest.mark.lab


def _trust(lab: Lab, ca: LabCA, hostport: str) -> None:
    for base in ("etc/docker/certs.d", "etc/containers/certs.d"):
        d = lab.client_files / base / hostport
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(ca.ca_path, d / "ca.crt")


def _push(lab: Lab, base: str, repo: str, image: images.Image | images.Index, ca: LabCA,
          creds: tuple[str, str] | None = None) -> str:
    def go() -> str:
        ctx = ssl.create_default_context(cafile=str(ca.ca_path))
        auth = images.RegistryAuth(*creds) if creds else images.RegistryAuth()
        with httpx.Client(timeout=30, verify=ctx, auth=auth) as client:
            return images.push_image(client, base, repo, "latest", image)
    return run_in_netns(lab.hosts["registry"].netns, go)


def test_docker_pulls_by_name_over_tls_with_tls_cdn_redirect(lab: Lab) -> None:
    lab.start_dns()
    reg, cdn = lab.hosts["registry"], lab.hosts["cdn"]
    ca = LabCA(lab.workdir / "ca")
    good = ca.issue(["registry.lab.test", reg.addr], CertKind.GOOD)
    wrong = ca.issue(["registry.lab.test"], CertKind.WRONG_NAME)
    storage = lab.workdir / "storage"
    spec = registry_service(lab.workdir / "reg", addr=reg.addr, port=5000, storage=storage,
                            tls_cert=good.cert, tls_key=good.key,
                            redirect_baseurl="https://cdn.lab.test:8443/")
    lab.wait_tcp("registry", 5000, proc=lab.spawn("registry", spec.argv, env=spec.env,
                                                  log_name="registry"))
    bad = registry_service(lab.workdir / "reg-wrong", addr=reg.addr, port=5443, storage=storage,
                           tls_cert=wrong.cert, tls_key=wrong.key)
    lab.wait_tcp("registry", 5443, proc=lab.spawn("registry", bad.argv, env=bad.env,
                                                  log_name="registry-wrong"))
    cdn_leaf = ca.issue(["cdn.lab.test"])
    cspec = cdn_service(root=storage, addr=cdn.addr, port=8443, cert=cdn_leaf.cert,
                        key=cdn_leaf.key)
    lab.wait_tcp("cdn", 8443, proc=lab.spawn("cdn", cspec.argv, env=cspec.env, log_name="cdn"))
    _trust(lab, ca, "registry.lab.test:5000")
    _trust(lab, ca, "registry.lab.test:5443")

    healthy, big = images.healthy_image(), images.big_image(3)
    _push(lab, f"https://{reg.addr}:5000", "lab/hello", healthy, ca)
    _push(lab, f"https://{reg.addr}:5000", "lab/big", big, ca)
    _push(lab, f"https://{reg.addr}:5000", "lab/armonly", images.arm64_only_index(), ca)
    multi = images.multiarch_index()
    _push(lab, f"https://{reg.addr}:5000", "lab/multi", multi, ca)

    docker = DockerClient()
    docker.start(lab)
    try:
        ok = docker.pull("registry.lab.test:5000/lab/hello:latest", timeout=120)
        assert ok.ok, ok.output_text
        assert healthy.manifest.digest in ok.output_text

        both = docker.pull("registry.lab.test:5000/lab/multi:latest", timeout=120)
        assert both.ok, both.output_text
        assert multi.manifest.digest in both.output_text  # the index digest, amd64 chosen

        arm = docker.pull("registry.lab.test:5000/lab/armonly:latest", timeout=120)
        assert not arm.ok
        assert "no matching manifest for linux/amd64" in arm.output_text

        wrong_name = docker.pull("registry.lab.test:5443/lab/hello:latest", timeout=120)
        assert not wrong_name.ok
        assert "x509: certificate is valid for not-this-host.lab.test, not registry.lab.test" \
            in wrong_name.output_text

        images.corrupt_blob(storage, big.layers[0].digest)
        corrupt = docker.pull("registry.lab.test:5000/lab/big:latest", timeout=180)
        assert not corrupt.ok
        assert f"filesystem layer verification failed for digest {big.layers[0].digest}" \
            in corrupt.output_text
    finally:
        docker.stop()
    cdn_log = (lab.log_dir / "cdn.log").read_text()
    assert f"/{healthy.layers[0].digest[7:]}/data 200" in cdn_log


def test_token_auth_by_name_with_skopeo_and_containerd(lab: Lab) -> None:
    lab.start_dns()
    reg, auth = lab.hosts["registry"], lab.hosts["auth"]
    ca = LabCA(lab.workdir / "ca")
    leaf = ca.issue(["registry.lab.test", reg.addr])
    auth_leaf = ca.issue(["auth.lab.test", auth.addr])
    policy = TokenPolicy(users={"alice": TokenUser("al1ce-pw", ("pull",), deny=("private/*",)),
                                "pusher": TokenUser("pusher-pw")},
                         anonymous_pull=True, anonymous_deny=("lab/members-only",))
    tspec, tauth = token_service(lab.workdir / "tok", addr=auth.addr, port=443, policy=policy,
                                 realm_host="auth.lab.test", cert=auth_leaf.cert,
                                 key=auth_leaf.key)
    lab.wait_tcp("auth", 443, proc=lab.spawn("auth", tspec.argv, env=tspec.env,
                                             log_name="token"))
    rspec = registry_service(lab.workdir / "reg", addr=reg.addr, port=5000,
                             tls_cert=leaf.cert, tls_key=leaf.key, token=tauth)
    lab.wait_tcp("registry", 5000, proc=lab.spawn("registry", rspec.argv, env=rspec.env,
                                                  log_name="registry"))
    _trust(lab, ca, "registry.lab.test:5000")
    # The realm names auth.lab.test, which only the client resolves (through the lab DNS); the
    # push from the registry host must not use the machine's resolver, so it asks by address.
    hello = images.healthy_image()

    def push() -> str:
        ctx = ssl.create_default_context(cafile=str(ca.ca_path))
        with httpx.Client(timeout=30, verify=ctx,
                          auth=images.RegistryAuth("pusher", "pusher-pw")) as client:
            client.event_hooks["request"] = [_realm_by_addr(auth.addr)]
            for repo in ("lab/hello", "lab/members-only", "private/x"):
                images.push_image(client, f"https://{reg.addr}:5000", repo, "latest", hello)
            return "ok"
    assert run_in_netns(reg.netns, push) == "ok"

    def skopeo(*args: str) -> tuple[int, str]:
        cp = lab.client_exec(["skopeo", "--command-timeout", "60s", "inspect", *args],
                             timeout=90)
        return cp.returncode, cp.stdout + cp.stderr

    ref = "docker://registry.lab.test:5000/{}:latest"
    rc, out = skopeo("--creds", "alice:al1ce-pw", ref.format("lab/hello"))
    assert rc == 0, out
    rc, out = skopeo("--no-creds", ref.format("lab/hello"))
    assert rc == 0, out  # anonymous pull allowed
    rc, out = skopeo("--no-creds", ref.format("lab/members-only"))
    assert rc != 0 and "requested access to the resource is denied" in out
    rc, out = skopeo("--creds", "alice:al1ce-pw", ref.format("lab/members-only"))
    assert rc == 0, out
    rc, out = skopeo("--creds", "alice:al1ce-pw", ref.format("private/x"))
    assert rc != 0 and "requested access to the resource is denied" in out
    rc, out = skopeo("--creds", "alice:bad", ref.format("lab/hello"))
    assert rc != 0 and "invalid username/password" in out
    assert "al1ce-pw" not in (lab.log_dir / "token.log").read_text()

    # containerd's resolver asks with the OAuth2 POST form first (then GET): both must work.
    ctd = ContainerdClient()
    ctd.start(lab)
    try:
        def ctr(ref: str, user: str | None) -> tuple[int, str]:
            argv = ctd.pull_argv(ref)
            if user:
                argv[-1:-1] = ["--user", user]
            cp = lab.client_exec(argv, timeout=120)
            return cp.returncode, cp.stdout + cp.stderr
        rc, out = ctr("registry.lab.test:5000/lab/members-only:latest", "alice:al1ce-pw")
        assert rc == 0, out
        rc, out = ctr("registry.lab.test:5000/lab/members-only:latest", None)
        assert rc != 0
        assert "pull access denied, repository does not exist or may require authorization: " \
            "server message: insufficient_scope" in out
    finally:
        ctd.stop()
    token_log = (lab.log_dir / "token.log").read_text()
    assert "POST /token 200" in token_log


def _realm_by_addr(addr: str) -> Callable[[httpx.Request], None]:
    """Rewrite requests to auth.lab.test to its address (the registry host has no lab DNS)."""
    def hook(request: httpx.Request) -> None:
        if request.url.host == "auth.lab.test":
            request.headers["Host"] = "auth.lab.test"
            request.url = request.url.copy_with(host=addr)
    return hook
