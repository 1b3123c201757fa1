"""disk against real tmpfs file systems mounted as the runtime's data root: filled with bytes,
filled with inodes, too small for any image, and smaller than what the image needs."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulldoctor.host import disk, inspect_host
from pulldoctor.host.context import HostContext
from pulldoctor.model import Outcome
from pulldoctor.reference import parse_reference

pytestmark = pytest.mark.lab
Mount = Callable[[str], Path]


@pytest.fixture
def tmpfs_root(tmp_path: Path) -> Iterator[Mount]:
    """``mount(options)``: a tmpfs at <tmp_path>/data, the data root daemon.json points to."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    (tmp_path / "etc/docker").mkdir(parents=True)
    (tmp_path / "etc/docker/daemon.json").write_text(json.dumps({"data-root": "/data"}))
    mnt = tmp_path / "data"
    mnt.mkdir()
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "pd-host-test", str(mnt)],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            pytest.skip(f"cannot mount tmpfs here: {r.stderr.strip()}")
        mounted.append(mnt)
        return mnt

    try:
        yield mount
    finally:
        for m in mounted:
            subprocess.run(["umount", str(m)], capture_output=True, timeout=10)


def _ctx(root: Path, **kw: object) -> HostContext:
    return HostContext(root=root, image=parse_reference("busybox"), runtime="docker", env={},
                       tmp_dirs=[], min_free_bytes=16 << 20, **kw)  # type: ignore[arg-type]


def _fill_bytes(d: Path) -> None:
    fd = os.open(d / "blob", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for _ in range(1000):  # bounded: 1000 x 1 MiB is more than any tmpfs used here
            os.write(fd, b"\0" * (1 << 20))
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_filling_the_data_root_turns_ok_into_disk_full(tmpfs_root: Mount, tmp_path: Path) -> None:
    mnt = tmpfs_root("size=80m")
    assert disk.check(_ctx(tmp_path)).outcome == Outcome.OK
    _fill_bytes(mnt)
    step = disk.check(_ctx(tmp_path))
    assert step.outcome == Outcome.PROBLEM
    assert step.findings[0].code == "host.disk_full" and "/data" in step.findings[0].title
    assert step.data["locations"][0]["measured_at"] == str(mnt)


def test_out_of_inodes_with_bytes_free(tmpfs_root: Mount, tmp_path: Path) -> None:
    mnt = tmpfs_root("size=80m,nr_inodes=32")
    for i in range(1000):
        try:
            (mnt / f"f{i}").touch()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            break
    step = disk.check(_ctx(tmp_path))
    assert [f.title for f in step.findings] == ["data root /data is out of inodes"]


def test_tiny_empty_fs_and_image_size(tmpfs_root: Mount, tmp_path: Path) -> None:
    tmpfs_root("size=256k")  # the lab's host-disk-full shape: empty, but far too small
    step = disk.check(_ctx(tmp_path))
    assert step.outcome == Outcome.PROBLEM and "almost out of space" in step.findings[0].title
    need = disk.check(_ctx(tmp_path, needed_bytes=4 << 20))
    assert "less free space than the image needs" in need.findings[0].title
    assert any("4.0 MiB" in e for e in need.findings[0].evidence)


def test_explicit_data_roots_and_inspect_host(tmpfs_root: Mount, tmp_path: Path) -> None:
    mnt = tmpfs_root("size=256k")
    step = disk.check(HostContext(root=Path("/nonexistent"), env={}, tmp_dirs=[], data_roots=[str(mnt)]))
    assert step.findings[0].code == "host.disk_full"
    report = inspect_host("busybox", "docker", root=tmp_path, env={}, only=["disk", "daemon_config"])
    assert report.causes[0].code == "host.disk_full"
    assert not report.healthy
