"""kernel_udp against real drops made inside a scratch netns: a tiny SO_RCVBUF overflowed, datagrams
sent to a closed port, a shrunken ephemeral port range filled with bound sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pulldoctor.host import kernel_udp
from pulldoctor.host.context import HostContext, run_check
from pulldoctor.lab.services.netns import ScratchNetns
from pulldoctor.model import Outcome, Step

pytestmark = pytest.mark.lab


def _overflow_rcvbuf() -> None:
    """Send far more than a 2 KiB receive buffer holds to a socket that never reads."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        rx.bind(("127.0.0.1", 0))
        for _ in range(400):
            tx.sendto(b"x" * 512, rx.getsockname())
    finally:
        rx.close()
        tx.close()


def _send_to_closed_port() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # now nothing listens on `port`
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(5):
            tx.sendto(b"q", ("127.0.0.1", port))
    finally:
        tx.close()


def test_rcvbuf_overflow_during_probe_is_a_kernel_udp_problem(netns: ScratchNetns) -> None:
    def body() -> Step:
        before = kernel_udp.snapshot()
        _overflow_rcvbuf()
        return kernel_udp.check(HostContext(udp_before=before, root=Path("/nonexistent-root")))

    step = netns.call(body)
    assert step.outcome == Outcome.PROBLEM
    codes = [f.code for f in step.findings if f.severity == "error"]
    assert codes == ["host.kernel_udp"]
    assert step.data["delta"]["UdpRcvbufErrors"] > 0
    assert any("UdpRcvbufErrors rose by" in e for e in step.findings[0].evidence)
    assert step.findings[0].fix


def test_closed_port_moves_noports_but_is_not_a_drop(netns: ScratchNetns) -> None:
    def body() -> Step:
        before = kernel_udp.snapshot()
        _send_to_closed_port()
        return kernel_udp.check(HostContext(udp_before=before))

    step = netns.call(body)
    assert step.data["delta"]["UdpNoPorts"] == 5
    assert step.outcome == Outcome.WARNING
    assert not [f for f in step.findings if f.severity == "error"]


def test_quiet_namespace_is_ok(netns: ScratchNetns) -> None:
    step = netns.call(lambda: kernel_udp.check(HostContext(udp_before=kernel_udp.snapshot())))
    assert step.outcome == Outcome.OK, step.findings
    assert step.data["delta"] == {}


def test_exhausted_ephemeral_range(netns: ScratchNetns) -> None:
    r = netns.run(["sysctl", "-w", "net.ipv4.ip_local_port_range=40000 40009"])
    assert r.returncode == 0, r.stderr

    def body() -> Step:
        socks = []
        try:
            for _ in range(10):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", 0))  # the kernel picks from the namespace's tiny range
            return run_check("kernel_udp", kernel_udp.check, HostContext())
        finally:
            for s in socks:
                s.close()

    step = netns.call(body)
    assert step.data["port_range"] == [40000, 40009]
    assert step.data["udp_ephemeral_in_use"] == 10
    titles = [f.title for f in step.findings if f.code == "host.kernel_udp"]
    assert any("exhausted" in t for t in titles)
    assert step.outcome == Outcome.PROBLEM
