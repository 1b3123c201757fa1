"""``delay``: a slow (satellite-like) link between the client and the router, both directions.

Why not ``tc qdisc ... netem delay``: this kernel has no ``sch_netem`` (``tc`` answers "Specified
qdisc kind is unknown") and no tc classifiers either, and modules cannot be loaded. So the delay
is a *delay line* in the router: a TUN device plus a small process (this module run with
``python -m``) that reads every packet routed into the device, holds it ``ms`` milliseconds and
writes it back. Policy routing sends into the device what crosses the client link: packets that
came in on ``r-client`` and packets from a server link addressed to the client's subnet; packets
that come back out of the device are routed by the main table, as if they had never left. No
nftables rule is involved, so the fault composes with every nft fault of a scenario.

Constant delay keeps packet order (a FIFO), like netem without jitter. The queue is bounded
(:data:`_QUEUE_LIMIT`, like netem's ``limit 1000``); beyond it packets are dropped.
"""

from __future__ import annotations

import argparse
import collections
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

DEV = "pd-delay"
TABLE = "100"
_QUEUE_LIMIT = 10_000
_CLIENT_NET = "198.18.1.0/24"
_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000


@dataclass(frozen=True)
class Delay(NetFault):
    """Delay every packet crossing the router's client link by ``ms`` ms in each direction."""

    name = "delay"
    ms: int = 250

    def __post_init__(self) -> None:
        if not 1 <= self.ms <= 5000:
            raise LabError("delay ms must be between 1 and 5000")

    def setup(self, lab: Lab) -> None:
        lab.ip("router", "tuntap", "add", "dev", DEV, "mode", "tun")
        proc = lab.spawn("router", [sys.executable, "-m", "pulldoctor.lab.faults.delay",
                                    "--dev", DEV, "--ms", str(self.ms)], log_name="delay")
        _wait_attached(lab, proc.pid)
        # Packets leaving the delay line are routed normally; rp_filter would drop them because
        # the client's address is not routed via the TUN device.
        for conf in ("all", "default", DEV):
            lab.sysctl("router", f"net.ipv4.conf.{conf}.rp_filter", "0")
        lab.ip("router", "link", "set", "dev", DEV, "up")
        lab.ip("router", "route", "add", "default", "dev", DEV, "table", TABLE)
        lab.ip("router", "rule", "add", "pref", "90", "iif", DEV, "lookup", "main")
        lab.ip("router", "rule", "add", "pref", "100", "iif", "r-client", "lookup", TABLE)
        for role in lab.hosts:
            if role not in ("client", "router"):
                lab.ip("router", "rule", "add", "pref", "101", "iif", f"r-{role}",
                       "to", _CLIENT_NET, "lookup", TABLE)


def _wait_attached(lab: Lab, pid: int) -> None:
    """Wait (bounded) until the delay process holds the device: before that it has no carrier."""
    netns = lab.hosts["router"].netns
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        r = subprocess.run(["ip", "-n", netns, "-o", "link", "show", "dev", DEV],
                           capture_output=True, text=True, timeout=10)
        if r.returncode == 0 and "NO-CARRIER" not in r.stdout:
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise LabError(f"delay process {pid} exited; see {lab.log_dir}") from None
        time.sleep(0.02)
    raise LabError(f"delay process did not attach to {DEV} in 10s; see {lab.log_dir}")


def _open_tun(dev: str) -> int:
    """Attach to the (persistent) TUN device ``dev``: raw IP packets, no packet-info header."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", dev.encode(), _IFF_TUN | _IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def _run_delay_line(fd: int, delay_s: float) -> None:
    """Read packets, hold each ``delay_s``, write it back, in order, until SIGTERM."""
    queue: collections.deque[tuple[float, bytes]] = collections.deque()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            try:
                os.write(fd, queue.popleft()[1])
            except OSError:
                pass  # the kernel refused one packet (device going down): a lost packet
        wait = min(queue[0][0] - now, 0.5) if queue else 0.5
        ready, _, _ = select.select([fd], [], [], max(wait, 0.0))
        if not ready:
            continue
        arrived = time.monotonic() + delay_s
        for _ in range(256):  # bounded burst, then service the due packets again
            try:
                pkt = os.read(fd, 65_535)
            except (BlockingIOError, InterruptedError):
                break
            if len(queue) < _QUEUE_LIMIT:
                queue.append((arrived, pkt))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulldoctor.lab.faults.delay",
                                     description="delay line on a TUN device (lab use)")
    parser.add_argument("--dev", required=True, help="persistent TUN device to attach to")
    parser.add_argument("--ms", required=True, type=int, help="delay per packet, milliseconds")
    args = parser.parse_args(argv)
    try:
        fd = _open_tun(args.dev)
    except OSError as exc:
        print(f"error: cannot attach to TUN device {args.dev}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    _run_delay_line(fd, args.ms / 1000.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
