"""daemon_config agrees with the real dockerd: the config it calls an error, dockerd refuses.

dockerd is started inside a scratch netns with every path in a temp dir and no containerd; it exits
while loading the configuration, before it touches the network or cgroups. Bounded by a timeout and stopped by PID.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pulldoctor.host import daemon_config
from pulldoctor.host.context import HostContext
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.reference import parse_reference

pytestmark = pytest.mark.lab


def _unmount_under(path: Path) -> None:
    """dockerd bind-mounts its data root onto itself and, when it dies early, leaves that mount."""
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        points = [line.split()[4] for line in fh]
    for mp in sorted((m for m in points if m.startswith(str(path) + "/")), key=len, reverse=True):
        subprocess.run(["umount", mp], capture_output=True, timeout=10, check=False)


def _dockerd_refuses(netns: ScratchNetns, cfg_file: Path, work: Path) -> str:
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd not installed")
    try:
        return _run_dockerd(netns, cfg_file, work)
    finally:
        _unmount_under(work)


def _run_dockerd(netns: ScratchNetns, cfg_file: Path, work: Path) -> str:
    try:
        # --containerd at a socket that does not exist: dockerd then starts no containerd of its own
        # and reaches its configuration checks at once (they run before it dials containerd).
        r = netns.run(["dockerd", "--containerd", str(work / "none.sock"), "--config-file", str(cfg_file), "--data-root", str(work / "data"),
                       "--exec-root", str(work / "exec"), "--pidfile", str(work / "pid"),
                       "-H", f"unix://{work / 'd.sock'}", "--iptables=false", "--bridge=none"],
                      timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("dockerd accepted the configuration and kept running")
    assert r.returncode != 0
    return (r.stdout + r.stderr).decode(errors="replace")


@pytest.mark.parametrize(("daemon_json", "dockerd_says", "lint_says"), [
    ({"registry-mirrors": ["mirror.corp:5000"]}, "invalid mirror", "has no scheme"),
    ({"registry-mirrorz": ["https://m.corp"]}, "don't match any configuration option",
     "did you mean 'registry-mirrors'"),
])
def test_lint_error_means_dockerd_refuses(netns: ScratchNetns, tmp_path: Path, daemon_json: dict[str, object],
                                          dockerd_says: str, lint_says: str) -> None:
    root = tmp_path / "root"
    (root / "etc/docker").mkdir(parents=True)
    cfg_file = root / "etc/docker/daemon.json"
    cfg_file.write_text(json.dumps(daemon_json))
    out = _dockerd_refuses(netns, cfg_file, tmp_path)
    assert dockerd_says in out
    step = daemon_config.check(HostContext(root=root, image=parse_reference("nginx"), runtime="docker",
                                           env={}))
    errors = [f for f in step.findings if f.severity == "error"]
    assert errors and errors[0].code == "daemon.config" and lint_says in errors[0].title
