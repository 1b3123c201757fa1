"""Free space and free inodes where the runtime writes layers and where it stages downloads.

"no space left on device" during a pull is often about the *temp* dir, or about inodes while
``df -h`` shows plenty of bytes, or about a data-root moved to another mount. So both bytes and
inodes are read with ``statvfs`` at the runtime's configured data root and at its temp dirs; a path
that does not exist yet is measured at its nearest existing parent (what the runtime would fill).
"""

from __future__ import annotations

import os
from pathlib import Path

from pulldoctor.causes import Code
from pulldoctor.config.files import under
from pulldoctor.host import runtime_procs
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "disk"
DATA_ROOTS = {"docker": "/var/lib/docker", "containerd": "/var/lib/containerd",
              "podman": "/var/lib/containers/storage"}
_TMP_DIRS = {"docker": ["{data}/tmp"], "containerd": ["{data}/tmpmounts"], "podman": ["/var/tmp"]}
_MIN_FREE_FRACTION = 0.02
_MIN_FREE_INODE_FRACTION = 0.02
_TOO_LITTLE = 64 << 20  # less than this cannot hold the layers of nearly any image


def _existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def measure(path: Path) -> dict[str, int | str]:
    """statvfs at ``path`` (or its nearest existing parent): bytes and inodes, free to non-root."""
    at = _existing(path)
    st = os.statvfs(at)
    return {"path": str(path), "measured_at": str(at), "total_bytes": st.f_blocks * st.f_frsize,
            "free_bytes": st.f_bavail * st.f_frsize, "total_inodes": st.f_files,
            "free_inodes": st.f_favail}


def judge(m: dict[str, int | str], min_free_bytes: int, why: str,
          needed_bytes: int | None = None) -> list[Finding]:
    """Findings for one measurement (pure)."""
    out: list[Finding] = []
    total, free = int(m["total_bytes"]), int(m["free_bytes"])
    ti, fi = int(m["total_inodes"]), int(m["free_inodes"])
    path = m["path"]
    at = m["measured_at"]
    fix = [f"df -h {at}; df -i {at}",
           "docker system prune   # or: crictl rmi --prune / podman system prune; or grow the file system"]
    ev = f"{_human(free)} free of {_human(total)} at {at}"
    if needed_bytes is not None and free < needed_bytes:
        out.append(Finding(f"{why} {path} has less free space than the image needs", "error",
                           Code.HOST_DISK_FULL, [ev, f"the image's layers need about {_human(needed_bytes)}"],
                           fix))
    elif total and (free < _TOO_LITTLE or free <= total * _MIN_FREE_FRACTION
                    or (free < min_free_bytes and free < total * 0.5)):
        out.append(Finding(f"{why} {path} is almost out of space", "error", Code.HOST_DISK_FULL, [ev], fix))
    elif total and total < min_free_bytes:
        out.append(Finding(f"{why} {path} is a small file system ({_human(total)} in all)", "warning",
                           Code.HOST_DISK_FULL, [ev], fix))
    if ti and fi <= ti * _MIN_FREE_INODE_FRACTION:
        out.append(Finding(f"{why} {path} is out of inodes", "error", Code.HOST_DISK_FULL,
                           [f"{fi} inodes free of {ti} at {at}"], fix))
    return out


def check(ctx: HostContext) -> Step:
    cfg = ctx.pull_config()
    runtime = cfg.runtime if cfg else "docker"
    data_root = str((cfg.settings.get("data_root") if cfg else None) or DATA_ROOTS[runtime])
    evidence: list[str] = []
    # (label, path, is it under ctx.root): flags of running daemons are live paths, not under root
    targets: list[tuple[str, str, bool]] = []
    if ctx.data_roots is not None:
        targets += [("data root", d, False) for d in ctx.data_roots]
    else:
        targets.append(("data root", data_root, True))
        for p in runtime_procs.find(ctx.proc):
            d = runtime_procs.data_root(p)
            if d:
                evidence.append(f"{p.comm} (pid {p.pid}) stores images in {d} (its command line)")
                targets.append(("data root", d, False))
    tmps = ctx.tmp_dirs if ctx.tmp_dirs is not None else [
        t.format(data=data_root) for t in _TMP_DIRS[runtime]] + [ctx.env.get("TMPDIR") or "/tmp"]
    targets += [("temp dir", t, True) for t in tmps]
    findings: list[Finding] = []
    measured: list[dict[str, int | str]] = []
    seen: set[str] = set()
    for why, path, rooted in targets:
        full = under(ctx.root, path) if rooted else Path(path)
        try:
            m = measure(full)
        except OSError as exc:
            evidence.append(f"{path}: cannot statvfs: {exc.strerror}")
            continue
        key = str(m["measured_at"])
        if key in seen:
            continue
        seen.add(key)
        m["path"] = path
        measured.append(m)
        evidence.append(f"{why} {path}: {_human(int(m['free_bytes']))} free of "
                        f"{_human(int(m['total_bytes']))}, {m['free_inodes']} of {m['total_inodes']} "
                        f"inodes free (at {key})")
        findings += judge(m, ctx.min_free_bytes, why, ctx.needed_bytes)
    if not measured:
        return Step(NAME, Outcome.SKIPPED, summary="no data root could be measured", evidence=evidence)
    summary = findings[0].title if findings else f"enough space at {len(measured)} location(s)"
    return Step(NAME, outcome_of(findings), summary=summary, evidence=evidence, findings=findings,
                data={"runtime": runtime, "locations": measured})
