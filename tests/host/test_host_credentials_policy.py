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

ONLY = ["credential_helpers"]


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
