"""Which credential helpers each runtime asks for a registry, and how asking went: real
``docker-credential-*`` scripts on a temp PATH, config files in a temp root (or under a temp HOME)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pulldoctor.config.credentials import (
    HUB_KEY,
    ask_helper,
    containers_credential,
    docker_credential,
    hub_key_mistakes,
)
from pulldoctor.config.effective import discover
from pulldoctor.config.model import HelperStatus
from pulldoctor.redact import redact

SECRET = "planted-helper-secret-7f3a9c"


def write(root: Path, path: str, text: str) -> Path:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def helper(bin_dir: Path, name: str, body: str, executable: bool = True) -> Path:
    """A real docker-credential-NAME program; ``$1`` is the action, the server comes on stdin."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    p = bin_dir / f"docker-credential-{name}"
    p.write_text("#!/bin/sh\n" + body)
    if executable:
        p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return p


def recorder(bin_dir: Path, name: str, log: Path, answer: str = "") -> None:
    """A helper that appends what it was asked (action and server) to ``log``."""
    helper(bin_dir, name, f'read -r server; echo "$1 $server" >> {log}\n' + (
        answer or 'echo "credentials not found in native keychain"; exit 1\n'))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bin").mkdir()
    return {"HOME": "/home/u", "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
            "XDG_RUNTIME_DIR": "/run/user/1000"}


def test_docker_asks_hub_helpers_by_the_v1_key(tmp_path: Path, env: dict[str, str]) -> None:
    log = tmp_path / "asked"
    recorder(tmp_path / "bin", "pdhub", log)
    write(tmp_path, "/home/u/.docker/config.json", json.dumps({"credHelpers": {HUB_KEY: "pdhub"}}))
    cfg = discover("nginx", "docker", tmp_path, env, run_helpers=True)
    assert log.read_text() == f"get {HUB_KEY}\n"
    assert [(h.helper, h.status, h.exit_code) for h in cfg.helpers] == [
        ("pdhub", HelperStatus.NO_CREDENTIALS, 1)]
    # "docker.io" is what people write, and what docker never reads for Hub
    log.unlink()
    write(tmp_path, "/home/u/.docker/config.json", json.dumps({"credHelpers": {"docker.io": "pdhub"}}))
    cfg = discover("nginx", "docker", tmp_path, env, run_helpers=True)
    assert cfg.helpers == [] and not log.exists()
    assert hub_key_mistakes(tmp_path, "/home/u/.docker/config.json") == ["docker.io"]


def test_an_empty_cred_helpers_entry_wins_over_creds_store(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    write(tmp_path, "/home/u/.docker/config.json",
          json.dumps({"credsStore": "pdgone", "credHelpers": {"reg.corp": ""}}))
    assert docker_credential(tmp_path, "reg.corp", env)[3] == []
    checks = docker_credential(tmp_path, "other.corp", env)[3]
    assert [(c.source.rsplit(" ", 1)[1], c.status) for c in checks] == [
        ("credsStore", HelperStatus.MISSING)]
    assert checks[0].describe().endswith("asked for other.corp: is not on PATH")


def test_a_file_without_the_x_bit_is_skipped_as_go_does(tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    helper(tmp_path / "bin", "pdnox", "exit 0\n", executable=False)
    ans = ask_helper("pdnox", "reg.corp", "test", env)
    assert ans.check.status == HelperStatus.NOT_EXECUTABLE
    assert ans.check.program == f"{tmp_path / 'bin'}/docker-credential-pdnox"
    later = tmp_path / "later"
    helper(later, "pdnox", 'echo "credentials not found in native keychain"; exit 1\n')
    env2 = {**env, "PATH": f"{tmp_path / 'bin'}:{later}"}
    assert ask_helper("pdnox", "reg.corp", "test", env2).check.program == \
        f"{later}/docker-credential-pdnox"


@pytest.mark.parametrize("body,status,note", [
    ('echo "not json"\n', HelperStatus.BAD_OUTPUT, None),
    ('echo "no credentials server URL"; exit 1\n', HelperStatus.FAILED,
     "it says: no credentials server URL"),
    ('echo "gpg: decryption failed: No secret key" >&2; exit 2\n', HelperStatus.FAILED, None),
    ('echo \'{"ServerURL":"x","Username":"","Secret":""}\'\n', HelperStatus.NO_CREDENTIALS, None),
])
def test_answers_are_named_not_kept(tmp_path: Path, env: dict[str, str], body: str,
                                    status: HelperStatus, note: str | None) -> None:
    helper(tmp_path / "bin", "pdx", body)
    c = ask_helper("pdx", "reg.corp", "test", env).check
    assert (c.status, c.note) == (status, note)
    if c.exit_code == 2:
        assert c.stderr == "gpg: decryption failed: No secret key"


def test_a_hanging_helper_is_bounded(tmp_path: Path, env: dict[str, str]) -> None:
    helper(tmp_path / "bin", "pdslow", "sleep 30\n")
    c = ask_helper("pdslow", "reg.corp", "test", env, timeout_s=0.3).check
    assert c.status == HelperStatus.TIMED_OUT and c.status.broken


def test_the_secret_stays_out_of_the_check(tmp_path: Path, env: dict[str, str]) -> None:
    helper(tmp_path / "bin", "pdsecret",
           f'echo "debug: returning {SECRET}" >&2\n'
           f'printf \'{{"ServerURL":"x","Username":"bob","Secret":"{SECRET}"}}\'\n')
    ans = ask_helper("pdsecret", "reg.corp", "test", env)
    assert ans.check.status == HelperStatus.ANSWERED and ans.secret == SECRET
    shown = json.dumps(ans.check.to_dict()) + ans.check.describe()
    assert SECRET not in shown and "debug: returning ***" in shown
    assert SECRET not in redact(f"anything {SECRET}")  # registered at once


def test_containers_image_asks_registries_conf_helpers_in_order(tmp_path: Path,
                                                                env: dict[str, str]) -> None:
    log = tmp_path / "asked"
    recorder(tmp_path / "bin", "pdok", log,
             f'printf \'{{"Username":"u","Secret":"{SECRET}"}}\'\n')
    write(tmp_path, "/etc/containers/registries.conf",
          'credential-helpers = ["pdgone", "pdok"]\n')
    cfg = discover("reg.corp/team/app", "podman", tmp_path, env, run_helpers=True)
    assert [(h.helper, h.status) for h in cfg.helpers] == [
        ("pdgone", HelperStatus.MISSING), ("pdok", HelperStatus.ANSWERED)]
    assert log.read_text() == "get reg.corp\n"  # the registry, never Docker's v1 key
    assert cfg.credentials[0].error is None and cfg.credentials[0].password == SECRET
    # only the missing one: the pull's error
    cred, _f, _p, checks = containers_credential(tmp_path, "reg.corp", "team/app", env,
                                                 ["pdgone"])
    assert cred is not None and cred.error and "pdgone" in cred.error
    assert [c.status for c in checks] == [HelperStatus.MISSING]


def test_containers_image_ignores_creds_store_but_reads_cred_helpers(tmp_path: Path,
                                                                    env: dict[str, str]) -> None:
    log = tmp_path / "asked"
    recorder(tmp_path / "bin", "pdctr", log)
    write(tmp_path, "/home/u/.docker/config.json", json.dumps({"credsStore": "pdgone"}))
    assert discover("reg.corp/app", "podman", tmp_path, env, run_helpers=True).helpers == []
    write(tmp_path, "/run/user/1000/containers/auth.json",
          json.dumps({"credHelpers": {"docker.io": "pdctr"}}))
    cfg = discover("nginx", "podman", tmp_path, env, run_helpers=True)
    assert log.read_text() == "get docker.io\n"
    assert [(h.status, h.source) for h in cfg.helpers] == [
        (HelperStatus.NO_CREDENTIALS, "/run/user/1000/containers/auth.json credHelpers['docker.io']")]


def test_under_a_node_root_helpers_are_found_but_never_run(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    node = tmp_path / "node"
    ran = tmp_path / "ran"
    helper(node / "usr/bin", "pdnode", f"touch {ran}\n")
    write(node, "/home/u/.docker/config.json", json.dumps({"credsStore": "pdnode"}))
    cfg = discover("reg.corp/app", "docker", node, env)  # --root: the node's, not run
    c = cfg.helpers[0]
    assert (c.status, c.program, c.search_path) == (
        HelperStatus.NOT_RUN, "/usr/bin/docker-credential-pdnode",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    assert not ran.exists() and "cannot be known from here" in (c.note or "")
    write(node, "/home/u/.docker/config.json", json.dumps({"credsStore": "pdelsewhere"}))
    c = discover("reg.corp/app", "docker", node, env).helpers[0]
    assert c.status == HelperStatus.MISSING and "PATH is not known" in (c.note or "")


def test_the_deadline_bounds_the_helpers(tmp_path: Path, env: dict[str, str]) -> None:
    """A helper that answers after 2 s is in time for its own 5 s bound, not for a deadline."""
    import time

    helper(tmp_path / "bin", "pdslow",
           'sleep 2; echo "credentials not found in native keychain"; exit 1\n')
    write(tmp_path, "/home/u/.docker/config.json", json.dumps({"credsStore": "pdslow"}))
    cfg = discover("reg.corp/app", "docker", tmp_path, env, run_helpers=True,
                   deadline=time.monotonic() + 0.6)
    assert cfg.helpers[0].status == HelperStatus.TIMED_OUT
    assert "did not answer" in (cfg.endpoints[0].credential_source or "")


def test_the_user_registries_conf_replaces_the_system_one(tmp_path: Path,
                                                          env: dict[str, str]) -> None:
    """As skopeo 1.9.3 was seen to do: ~/.config/containers/registries.conf's credential-helpers
    apply and /etc's do not (CONTAINERS_REGISTRIES_CONF is podman's, not that skopeo's)."""
    write(tmp_path, "/etc/containers/registries.conf", 'credential-helpers = ["pdsystem"]\n')
    cfg = discover("reg.corp/app", "podman", tmp_path, env, run_helpers=True)
    assert [h.helper for h in cfg.helpers] == ["pdsystem"]
    write(tmp_path, "/home/u/.config/containers/registries.conf", 'credential-helpers = ["pduser"]\n')
    write(tmp_path, "/home/u/.config/containers/registries.conf.d/50-x.conf",
          'credential-helpers = ["pddropin"]\n')
    cfg = discover("reg.corp/app", "podman", tmp_path, env, run_helpers=True)
    assert [h.helper for h in cfg.helpers] == ["pddropin"]  # a later file's top-level key wins
    assert cfg.sources[:2] == ["/home/u/.config/containers/registries.conf",
                               "/home/u/.config/containers/registries.conf.d/50-x.conf"]
