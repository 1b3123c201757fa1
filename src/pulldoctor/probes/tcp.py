"""TCP step: connect to each address of a host, IPv4 and IPv6 separately, and name the errno.

Why each address on its own: Go dials the addresses of a name in turn (with a 300 ms head start
for the first family), so one dead family is invisible to the runtime when the other works, but is
the whole story when it does not. Keeping every address's outcome lets inference say "IPv6 has no
route, IPv4 works" instead of one merged error.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
from dataclasses import dataclass

OK = "ok"
REFUSED = "refused"
TIMEOUT = "timeout"
UNREACHABLE = "unreachable"
RESET = "reset"
ERROR = "error"


@dataclass(slots=True)
class TcpResult:
    """The outcome of one connect()."""

    address: str
    port: int
    family: str  # "ipv4" | "ipv6"
    status: str
    errno_name: str | None = None
    latency_s: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address, "port": self.port, "family": self.family,
            "status": self.status, "errno": self.errno_name,
            "latency_ms": None if self.latency_s is None else round(self.latency_s * 1000, 1),
            "detail": self.detail,
        }


def _classify_oserror(exc: OSError) -> tuple[str, str]:
    """Map a connect error to (status, errno name), the way the runtimes' messages differ."""
    code = exc.errno or 0
    name = errno.errorcode.get(code, type(exc).__name__)
    if isinstance(exc, ConnectionRefusedError) or code == errno.ECONNREFUSED:
        return REFUSED, name
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return UNREACHABLE, name
    if code == errno.ETIMEDOUT:
        return TIMEOUT, name
    if isinstance(exc, ConnectionResetError):
        return RESET, name
    return ERROR, name


def _family_of(address: str) -> str:
    return "ipv6" if ipaddress.ip_address(address).version == 6 else "ipv4"


def _open_socket(address: str, mss: int | None = None) -> socket.socket:
    """A non-blocking stream socket for ``address``; ``mss`` clamps the advertised segment size."""
    fam = socket.AF_INET6 if _family_of(address) == "ipv6" else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_STREAM)
    sock.setblocking(False)
    if mss is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    return sock


async def connect(address: str, port: int, timeout: float, mss: int | None = None) -> socket.socket:
    """Connect a socket within ``timeout``; the caller owns (and closes) the result."""
    loop = asyncio.get_running_loop()
    sock = _open_socket(address, mss)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (address, port)), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def _probe_tcp(address: str, port: int, timeout: float) -> TcpResult:
    """Connect once to ``address:port`` and report how it ended; never raises for network errors."""
    res = TcpResult(address, port, _family_of(address), ERROR)
    start = time.monotonic()
    try:
        sock = await connect(address, port, timeout)
        sock.close()
        res.status = OK
    except TimeoutError:
        res.status, res.detail = TIMEOUT, f"no SYN-ACK within {timeout:.1f}s"
    except OSError as exc:
        res.status, res.errno_name = _classify_oserror(exc)
        res.detail = exc.strerror or str(exc)
    res.latency_s = time.monotonic() - start
    return res


_RACE_STAGGER_S = (0.0, 0.15, 0.3, 0.45)
"""When extra connects to one address start, if none of the earlier ones has an answer yet."""


async def probe_raced(address: str, port: int, timeout: float,
                      stagger: tuple[float, ...] = _RACE_STAGGER_S) -> TcpResult:
    """Connect to ``address:port`` with up to ``len(stagger)`` staggered sockets; first answer wins.

    Why race: one lost SYN costs a lone socket the kernel's 1 s initial retransmission timeout, so a
    short bound on a single connect would call a lossy link a blackhole. Independent SYNs sent
    0.15 s apart each get their own chance; silence from *all* of them is much stronger evidence
    per second waited than one socket's retransmissions. On a healthy path the
    first connect answers long before the second would start, so nothing extra is sent. Any
    definite answer (OK, refused, unreachable, reset) ends the race; extra sockets are closed.
    """
    start = time.monotonic()

    async def attempt(delay: float) -> TcpResult:
        if delay:
            await asyncio.sleep(delay)
        return await _probe_tcp(address, port, max(0.05, timeout - delay))

    tasks = [asyncio.ensure_future(attempt(d)) for d in stagger if d == 0 or d < timeout]
    res: TcpResult | None = None
    try:
        for fut in asyncio.as_completed(tasks):
            res = await fut
            if res.status != TIMEOUT:
                break
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert res is not None
    res.latency_s = time.monotonic() - start
    if res.status == TIMEOUT:
        res.detail = f"no SYN-ACK within {timeout:.1f}s ({len(tasks)} connects raced)"
    return res


async def probe_all(addresses: list[str], port: int, timeout: float) -> list[TcpResult]:
    """Connect to every address at once (bounded by ``timeout`` each, connects raced)."""
    return list(await asyncio.gather(*(probe_raced(a, port, timeout) for a in addresses)))
