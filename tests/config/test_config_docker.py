"""discover() for dockerd against real files in a temp root, and a real credential helper program."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from pulldoctor.config.credentials import run_helper
from pulldoctor.config.effective import answer_table, discover
from pulldoctor.config.model import HelperStatus
from pulldoctor.errors import UsageError
from pulldoctor.model import Report
from pulldoctor.report.render import render_json


def write(root: Path, path: str, text: str) -> Path:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def helper(bin_dir: Path, name: str, body: str) -> None:
    """A real docker-credential-NAME executable speaking the helper protocol."""
    p = bin_dir / f"docker-credential-{name}"
    p.write_text("#!/bin/sh\n" + body)
    p.chmod(p.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bin").mkdir()
    return {"HOME": "/home/u", "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}


def test_hub_mirrors_in_order_then_hub(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, "/etc/docker/daemon.json", json.dumps({
        "registry-mirrors": ["https://mirror.corp:5000/", "http://m2.corp"],
        "insecure-registries": ["m2.corp"]}))
    write(tmp_path, "/etc/docker/certs.d/mirror.corp:5000/ca.crt", "x")
    cfg = discover("nginx", "docker", tmp_path, env)
    assert [e.url for e in cfg.endpoints] == ["https://mirror.corp:5000", "http://m2.corp",
                                               "https://registry-1.docker.io"]
    assert cfg.endpoints[0].is_mirror and cfg.endpoints[0].ca_files == [
        "/etc/docker/certs.d/mirror.corp:5000/ca.crt"]
    assert cfg.endpoints[1].insecure and not cfg.endpoints[2].is_mirror
    # mirrors are for Docker Hub only
    other = discover("quay.io/a/b:1", "docker", tmp_path, env)
    assert [e.url for e in other.endpoints] == ["https://quay.io"]


def test_insecure_exact_host_port_cidr_and_loopback(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, "/etc/docker/daemon.json", json.dumps(
        {"insecure-registries": ["reg.corp:5000", "198.18.0.0/15"]}))
    a = discover("reg.corp:5000/app", "docker", tmp_path, env)
    assert [e.url for e in a.endpoints] == ["https://reg.corp:5000", "http://reg.corp:5000"]
    assert a.endpoints[0].skip_verify
    b = discover("reg.corp/app", "docker", tmp_path, env)  # port differs: not insecure
    assert [e.url for e in b.endpoints] == ["https://reg.corp"]
    c = discover("198.19.1.1:443/app", "docker", tmp_path, env)
    assert c.endpoints[-1].url == "http://198.19.1.1:443"
    d = discover("127.0.0.1:5000/app", "docker", tmp_path, env)
    assert d.endpoints[0].insecure


def test_certs_d_only_for_secure_hosts(tmp_path: Path, env: dict[str, str]) -> None:
    for f in ("ca.crt", "client.cert", "client.key"):
        write(tmp_path, f"/etc/docker/certs.d/reg.corp:5000/{f}", "x")
    cfg = discover("reg.corp:5000/app", "docker", tmp_path, env)
    ep = cfg.endpoints[0]
    assert ep.ca_files == ["/etc/docker/certs.d/reg.corp:5000/ca.crt"]
    assert ep.client_certs == ["/etc/docker/certs.d/reg.corp:5000/client.cert"]


def test_dropin_proxy_applies_with_no_proxy(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, "/etc/systemd/system/docker.service.d/http-proxy.conf",
          '[Service]\nEnvironment="HTTPS_PROXY=http://bob:s3cretpw@proxy.corp:3128" "NO_PROXY=.corp,localhost"\n')
    hub = discover("nginx", "docker", tmp_path, env)
    assert hub.endpoints[0].proxy == "http://bob:s3cretpw@proxy.corp:3128"
    assert "s3cretpw" not in json.dumps(hub.to_dict()) + json.dumps(answer_table(hub))
    assert "systemd drop-in" in hub.proxy.source
    internal = discover("reg.corp/app", "docker", tmp_path, env)
    assert internal.endpoints[0].proxy is None


def test_daemon_json_proxies_win(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, "/etc/docker/daemon.json", json.dumps({"proxies": {"https-proxy": "http://p1:1"}}))
    write(tmp_path, "/etc/systemd/system/docker.service.d/p.conf", "Environment=HTTPS_PROXY=http://p2:2\n")
    assert discover("nginx", "docker", tmp_path, env).endpoints[0].proxy == "http://p1:1"


def test_credential_helper_is_run_and_secret_never_shown(tmp_path: Path, env: dict[str, str]) -> None:
    seen = tmp_path / "seen"
    helper(tmp_path / "bin", "pdtest",
           f'read server; echo "$server" > {seen}\n'
           'printf \'{"ServerURL":"%s","Username":"alice","Secret":"hunter2-very-secret"}\' "$server"\n')
    write(tmp_path, "/home/u/.docker/config.json", json.dumps({"credsStore": "pdtest"}))
    cfg = discover("nginx", "docker", tmp_path, env, run_helpers=True)
    assert seen.read_text().strip() == "https://index.docker.io/v1/"
    cred = cfg.credentials[0]
    assert cred.username == "alice" and cred.password == "hunter2-very-secret"
    assert cfg.endpoints[-1].credential_source and "credsStore" in cfg.endpoints[-1].credential_source
    out = render_json(Report(command="host", extra={"config": cfg.to_dict(),
                                                    "answer_table": answer_table(cfg)}))
    assert "hunter2-very-secret" not in out and '"has_secret": true' in out


def test_cred_helpers_per_host_and_failing_helper(tmp_path: Path, env: dict[str, str]) -> None:
    helper(tmp_path / "bin", "empty", 'echo "credentials not found in native keychain"; exit 1\n')
    helper(tmp_path / "bin", "broken", 'echo "pass not initialized: exit status 1" >&2; exit 1\n')
    write(tmp_path, "/home/u/.docker/config.json", json.dumps(
        {"credHelpers": {"reg.corp": "empty", "other.corp": "broken"}}))
    cfg = discover("reg.corp/app", "docker", tmp_path, env, run_helpers=True)
    assert cfg.credentials[0].error is None  # "not found" is an anonymous pull, not an error
    assert [h.status for h in cfg.helpers] == [HelperStatus.NO_CREDENTIALS]
    other = discover("other.corp/app", "docker", tmp_path, env, run_helpers=True)
    assert other.helpers[0].status == HelperStatus.FAILED and other.helpers[0].exit_code == 1
    assert other.helpers[0].stderr == "pass not initialized: exit status 1"
    assert "error:" in (other.endpoints[0].credential_source or "")


def test_helper_missing_and_hanging(tmp_path: Path, env: dict[str, str]) -> None:
    err = run_helper("nope", "x", env)[2]
    assert err and err.startswith("docker-credential-nope asked for x: is not on PATH")
    helper(tmp_path / "bin", "slow", "sleep 30\n")
    user, secret, err = run_helper("slow", "x", env, timeout_s=0.5)
    assert (user, secret) == (None, None) and err and "did not answer" in err


def test_auths_entry_decoded_but_not_exposed(tmp_path: Path, env: dict[str, str]) -> None:
    auth = base64.b64encode(b"carol:pa55word-xyz").decode()
    write(tmp_path, "/home/u/.docker/config.json",
          json.dumps({"auths": {"https://reg.corp:5000/v1/": {"auth": auth}}}))
    cfg = discover("reg.corp:5000/app", "docker", tmp_path, env)
    assert cfg.credentials[0].username == "carol"
    text = json.dumps(cfg.to_dict())
    assert "pa55word-xyz" not in text and auth not in text


def test_bad_files_are_problems_not_exceptions(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path, "/etc/docker/daemon.json", "{ not json")
    write(tmp_path, "/home/u/.docker/config.json", "[1,")
    cfg = discover("nginx", "docker", tmp_path, env)
    assert any("daemon.json: not valid JSON" in p for p in cfg.problems)
    assert any("config.json: not valid JSON" in p for p in cfg.problems)
    assert [e.url for e in cfg.endpoints] == ["https://registry-1.docker.io"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_says_needs_root(tmp_path: Path, env: dict[str, str]) -> None:
    p = write(tmp_path, "/etc/docker/daemon.json", "{}")
    p.chmod(0)
    assert any("permission denied" in x for x in discover("nginx", "docker", tmp_path, env).problems)


def test_bad_input_is_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        discover("nginx", "rkt", tmp_path, {})
    with pytest.raises(UsageError):
        discover("UPPER/Case", "docker", tmp_path, {})


def test_auto_detection(tmp_path: Path) -> None:
    assert discover("nginx", "auto", tmp_path, {}).runtime == "docker"  # nothing: the default
    write(tmp_path, "/etc/containers/registries.conf", "")
    assert discover("nginx", "auto", tmp_path, {}).runtime == "podman"
    write(tmp_path, "/etc/containerd/config.toml", "version = 2\n")
    assert discover("nginx", "auto", tmp_path, {}).runtime == "containerd"
