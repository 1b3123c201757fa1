"""`host`'s credential-helper and signature-policy checks: real helper scripts on a temp PATH and
files under a temp HOME (this machine's root, read-only), or a node's tree under a temp root."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pulldoctor.causes import Code
from pulldoctor.host import inspect_host
from pulldoctor.model import Outcome, Step

ONLY = ["credential_helpers", "signature_policy"]


def write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    (h / ".config/containers/registries.d").mkdir(parents=True)  # never the machine's
    write(h / ".config/containers/policy.json",
          json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    return h


def env_for(tmp_path: Path, home: Path, **extra: str) -> dict[str, str]:
    conf = write(tmp_path / "registries.conf", extra.pop("conf", "") or "")
    return {"HOME": str(home), "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
            "XDG_RUNTIME_DIR": str(tmp_path / "run"), "CONTAINERS_REGISTRIES_CONF": str(conf),
            **extra}


def steps(image: str, runtime: str, env: dict[str, str], root: str | Path = "/",
          ) -> tuple[dict[str, Step], list[Code]]:
    rep = inspect_host(image, runtime, root=root, env=env, only=ONLY)
    return {s.name: s for s in rep.steps}, [c.code for c in rep.causes]


def test_docker_creds_store_missing(tmp_path: Path, home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credsStore": "desktop-pdtest"}))
    got, causes = steps("registry.lab.test/lab/hello", "docker", env_for(tmp_path, home))
    s = got["credential_helpers"]
    assert s.outcome == Outcome.PROBLEM and causes == [Code.REGISTRY_CREDENTIAL_HELPER]
    assert "docker pull ignores it" in s.summary
    assert s.data["helpers"][0]["status"] == "missing"  # type: ignore[index]
    assert got["signature_policy"].outcome == Outcome.OK
    assert "docker does not enforce policy.json" in got["signature_policy"].summary


def test_a_helper_without_credentials_is_fine(tmp_path: Path, home: Path) -> None:
    write(tmp_path / "bin/docker-credential-pdempty",
          '#!/bin/sh\necho "credentials not found in native keychain"; exit 1\n', 0o755)
    write(home / ".docker/config.json", json.dumps({"credHelpers": {"registry.lab.test": "pdempty"}}))
    got, causes = steps("registry.lab.test/lab/hello", "docker", env_for(tmp_path, home))
    assert got["credential_helpers"].outcome == Outcome.OK and causes == []
    assert "fine for a public image" in got["credential_helpers"].findings[0].title


def test_docker_hub_cred_helpers_key_that_docker_never_reads(tmp_path: Path, home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credHelpers": {"docker.io": "gcloud"}}))
    got, _ = steps("busybox", "docker", env_for(tmp_path, home))
    s = got["credential_helpers"]
    assert s.outcome == Outcome.WARNING
    assert "'docker.io', which docker never uses for Docker Hub" in s.summary


def test_podman_registries_conf_helper_missing(tmp_path: Path, home: Path) -> None:
    env = env_for(tmp_path, home, conf='credential-helpers = ["nonexistent-pd"]\n')
    got, causes = steps("registry.lab.test/lab/hello", "podman", env)
    s = got["credential_helpers"]
    assert s.outcome == Outcome.PROBLEM and Code.REGISTRY_CREDENTIAL_HELPER in causes
    assert "before any network step" in s.summary
    assert s.findings[0].advice[0].startswith("remove 'nonexistent-pd' from credential-helpers")


def test_containerd_asks_no_helper(tmp_path: Path, home: Path) -> None:
    write(home / ".docker/config.json", json.dumps({"credsStore": "desktop-pdtest"}))
    got, causes = steps("registry.lab.test/lab/hello", "containerd", env_for(tmp_path, home))
    assert got["credential_helpers"].outcome == Outcome.OK and causes == []


def test_podman_reject_policy_and_docker_is_not_blamed(tmp_path: Path, home: Path) -> None:
    write(home / ".config/containers/policy.json", json.dumps({
        "default": [{"type": "insecureAcceptAnything"}],
        "transports": {"docker": {"registry.lab.test/lab": [{"type": "reject"}]}}}))
    got, causes = steps("registry.lab.test/lab/hello", "podman", env_for(tmp_path, home))
    s = got["signature_policy"]
    assert s.outcome == Outcome.PROBLEM and causes == [Code.IMAGE_POLICY_REJECTED]
    assert 'scope docker "registry.lab.test/lab" rejects' in s.summary
    assert s.data["enforced"] is True
    other, _ = steps("registry.lab.test/other/x", "podman", env_for(tmp_path, home))
    assert other["signature_policy"].outcome == Outcome.OK
    got, causes = steps("registry.lab.test/lab/hello", "docker", env_for(tmp_path, home))
    s = got["signature_policy"]
    assert s.outcome == Outcome.OK and causes == []
    assert s.findings[0].severity == "info" and "docker does not enforce" in s.findings[0].title


def test_podman_policy_that_does_not_load(tmp_path: Path, home: Path) -> None:
    write(home / ".config/containers/policy.json", '{"default": [], }')
    got, causes = steps("registry.lab.test/lab/hello", "podman", env_for(tmp_path, home))
    assert got["signature_policy"].outcome == Outcome.PROBLEM
    assert causes == [Code.DAEMON_CONFIG]
    assert "refuses every pull: invalid policy in" in got["signature_policy"].summary


def test_podman_signed_by_with_a_missing_key_and_no_signature(tmp_path: Path, home: Path) -> None:
    key = tmp_path / "pki/lab.gpg"
    write(home / ".config/containers/policy.json", json.dumps({"default": [
        {"type": "signedBy", "keyType": "GPGKeys", "keyPath": str(key)}]}))
    write(home / ".config/containers/registries.d/lab.yaml",
          f"default-docker:\n  lookaside: file://{tmp_path}/sigs\n")
    got, causes = steps("registry.lab.test/lab/hello", "podman", env_for(tmp_path, home))
    titles = [f.title for f in got["signature_policy"].findings]
    assert causes == [Code.IMAGE_POLICY_REJECTED]
    assert any(f"names the key file {key}, which does not exist" in t for t in titles)
    assert any("holds none for any digest of this repository" in t for t in titles)
    write(key, "key")
    write(tmp_path / f"sigs/lab/hello@sha256={'1' * 64}/signature-1", "sig")
    got, causes = steps("registry.lab.test/lab/hello", "podman", env_for(tmp_path, home))
    assert causes == [] and got["signature_policy"].outcome == Outcome.OK


def test_on_a_node_root_helpers_are_looked_for_not_run(tmp_path: Path) -> None:
    node = tmp_path / "node"
    ran = tmp_path / "ran"
    write(node / "usr/local/bin/docker-credential-pdnode", f"#!/bin/sh\ntouch {ran}\n", 0o755)
    write(node / "root/.docker/config.json", json.dumps({"credsStore": "pdnode"}))
    got, causes = steps("registry.lab.test/lab/hello", "docker", {"HOME": "/root"}, node)
    s = got["credential_helpers"]
    assert s.outcome == Outcome.OK and causes == [] and not ran.exists()
    assert "cannot be known from here" in s.findings[0].title
    write(node / "root/.docker/config.json", json.dumps({"credsStore": "pdgone"}))
    got, causes = steps("registry.lab.test/lab/hello", "docker", {"HOME": "/root"}, node)
    assert got["credential_helpers"].outcome == Outcome.WARNING  # the node's PATH is assumed
    assert "PATH is not known" in got["credential_helpers"].evidence[0]


def test_helpers_are_executable_checks(tmp_path: Path, home: Path) -> None:
    p = write(tmp_path / "bin/docker-credential-pdnox", "#!/bin/sh\nexit 0\n")
    assert not p.stat().st_mode & stat.S_IXUSR
    write(home / ".docker/config.json", json.dumps({"credsStore": "pdnox"}))
    got, causes = steps("registry.lab.test/lab/hello", "docker", env_for(tmp_path, home))
    assert got["credential_helpers"].data["helpers"][0]["status"] == "not_executable"  # type: ignore[index]
    assert causes == [Code.REGISTRY_CREDENTIAL_HELPER]
