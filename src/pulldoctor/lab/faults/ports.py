"""``port_range``: a tiny ephemeral port range in the client, optionally with every port held.

``net.ipv4.ip_local_port_range`` is per network namespace. With ``hog=True`` a helper process in
the client binds every UDP port of the range, so the next unbound UDP socket cannot get a port:
``connect()`` of a DNS query fails with EAGAIN (``resource temporarily unavailable``), the
"kernel UDP limits" failure of busy hosts, reproduced without exhausting anything real.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import NetFault

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

MAX_PORTS = 64

# Binds every UDP port in [low, high] and waits to be stopped by PID (bounded at one day).
_HOG = ("import socket,sys,time\n"
        "socks=[]\n"
        "for p in range(int(sys.argv[1]),int(sys.argv[2])+1):\n"
        "  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('0.0.0.0',p)); socks.append(s)\n"
        "print('holding',len(socks),'udp ports',flush=True)\n"
        "time.sleep(86400)\n")


@dataclass(frozen=True)
class PortRange(NetFault):
    """Set the client's ephemeral range to ``low``-``high``; ``hog`` holds every UDP port in it."""

    name = "port_range"
    low: int = 40000
    high: int = 40001
    hog: bool = True

    def __post_init__(self) -> None:
        if not 1024 <= self.low <= self.high <= 65535 or self.high - self.low + 1 > MAX_PORTS:
            raise LabError(f"port_range needs 1024 <= low <= high <= 65535, at most {MAX_PORTS} ports")

    def setup(self, lab: Lab) -> None:
        lab.sysctl("client", "net.ipv4.ip_local_port_range", f"{self.low} {self.high}")
        if self.hog:
            proc = lab.spawn("client", [sys.executable, "-c", _HOG, str(self.low), str(self.high)],
                             log_name="port-hog")
            # Wait (bounded) until the hog holds its ports, so the scenario is deterministic.
            for _ in range(100):
                r = lab.exec("client", ["ss", "-Hlun", f"sport >= :{self.low} and sport <= :{self.high}"],
                             timeout=5)
                if len(r.stdout.splitlines()) >= self.high - self.low + 1:
                    return
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
            raise LabError(f"port_range: the port hog did not bind its ports; see {lab.log_dir}")
