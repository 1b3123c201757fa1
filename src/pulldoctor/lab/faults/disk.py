"""``tiny_disk``: the client's data root is a tmpfs of a few hundred KiB (``no space left on device``).

Runtimes put their data root under :attr:`Lab.data_dir` (``--data-root``, containerd ``root``,
skopeo's destination); mounting a tiny tmpfs there makes the first layer write fail with ENOSPC,
the real error, without filling any real disk. The mount is recorded in the lab's state before it
is made, so teardown (and the reaper) always unmounts it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab


@dataclass(frozen=True)
class TinyDisk(NetFault):
    """Mount a ``size_kb`` KiB tmpfs over the client's data dir."""

    name = "tiny_disk"
    size_kb: int = 256

    def __post_init__(self) -> None:
        if not 16 <= self.size_kb <= 65536:
            raise LabError("tiny_disk size_kb must be between 16 and 65536")

    def setup(self, lab: Lab) -> None:
        target = str(lab.data_dir)
        lab.state.record_mount(target)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size_kb}k,mode=0755",
                            "pd-tiny-disk", target], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            lab.state.forget_mount(target)
            raise LabError(f"tiny_disk: mount failed: {r.stderr.strip()}")
