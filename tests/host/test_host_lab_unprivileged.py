"""As an unprivileged user (a forked child that dropped to nobody): checks say what needs root
instead of guessing or crashing. Needs root to drop privileges, hence lab."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pulldoctor.host import inspect_host

pytestmark = pytest.mark.lab


def _as_nobody(root: Path) -> dict[str, object]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop to nobody, inspect, send JSON back, exit without cleanup handlers
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            rep = inspect_host("nginx", "docker", root=root, env={"PATH": "/usr/sbin:/usr/bin:/bin"},
                               only=["daemon_config", "firewall"])
            os.write(w, json.dumps(rep.to_dict()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(b"".join(chunks))  # type: ignore[no-any-return]


def test_unreadable_files_and_rules_are_named(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to drop privileges")
    (tmp_path / "etc/docker").mkdir(parents=True)
    dj = tmp_path / "etc/docker/daemon.json"
    dj.write_text("{}")
    dj.chmod(0o600)
    tmp_path.chmod(0o755)
    doc = _as_nobody(tmp_path)
    steps = {s["name"]: s for s in doc["steps"]}  # type: ignore[union-attr,index]
    assert steps["daemon_config"]["outcome"] == "skipped"
    assert "permission denied" in steps["daemon_config"]["summary"]
    assert steps["firewall"]["outcome"] == "skipped"
    assert "run as root" in steps["firewall"]["summary"]
    assert any("not running as root" in n for n in doc["notes"])  # type: ignore[union-attr]
