"""A real containerd started in a scratch netns is found by its command line (its ``root`` from the
config file it names), measured by the disk check and read by the cpu check; from another network
namespace it is not seen at all."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from pulldoctor.host import cpu, disk, runtime_procs
from pulldoctor.host.context import HostContext
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.model import Outcome, Step

pytestmark = pytest.mark.lab


def test_containerd_in_this_netns_is_found(netns: ScratchNetns, tmp_path: Path) -> None:
    if shutil.which("containerd") is None:
        pytest.skip("containerd not installed")
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'version = 2\nroot = "{tmp_path}/root"\nstate = "{tmp_path}/state"\n'
                   f'[grpc]\n  address = "{tmp_path}/c.sock"\n')
    proc = netns.spawn(["containerd", "--config", str(cfg)], log=tmp_path / "containerd.log")
    for _ in range(200):  # bounded wait (at most ~10 s) for the socket
        if (tmp_path / "c.sock").exists() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, (tmp_path / "containerd.log").read_text()[-2000:]

    found = netns.call(lambda: runtime_procs.find(Path("/proc")))
    assert [(p.comm, p.pid) for p in found] == [("containerd", proc.pid)]
    assert runtime_procs.data_root(found[0]) == f"{tmp_path}/root"
    outside = runtime_procs.find(Path("/proc"))
    assert proc.pid not in [p.pid for p in outside]

    ctx = HostContext(root=Path("/nonexistent"), runtime="containerd", env={}, tmp_dirs=[])
    step: Step = netns.call(lambda: disk.check(ctx))
    assert any(f"containerd (pid {proc.pid}) stores images in {tmp_path}/root" in e for e in step.evidence)
    assert str(tmp_path / "root") in [loc["path"] for loc in step.data["locations"]]  # type: ignore[union-attr]
    cstep: Step = netns.call(lambda: cpu.check(HostContext(env={})))
    assert cstep.outcome != Outcome.CRASHED
    assert "containerd" in cstep.data or any("containerd" in e for e in cstep.evidence)


def test_flag_parsing() -> None:
    p = runtime_procs.RuntimeProc("dockerd", 1, ("dockerd", "-g", "/a", "--data-root=/b"))
    assert runtime_procs.data_root(p) == "/b"
    assert runtime_procs.flag(("x", "--root", "/r"), "--root") == "/r"
    assert runtime_procs.data_root(runtime_procs.RuntimeProc("podman", 2, ("podman",))) is None
