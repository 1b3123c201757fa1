"""DNS step: ask every configured resolver, over UDP and TCP, for A and AAAA, the way Go would.

Why both transports: Go's resolver only uses TCP after a truncated UDP reply, so a firewall that
drops UDP/53 shows up to the runtime as ``read udp ...: i/o timeout``, while the same resolver still
answers over TCP. Asking both proves the firewall-UDP signature instead of guessing it. UDP is asked
``tries`` times (bounded, in parallel) so loss is measured, not assumed.

The exchange is written here (dnspython builds and parses the messages) because the socket must be
*connected*: only a connected UDP socket reports the ICMP "port unreachable" that Go prints as
``read: connection refused``; dnspython's own helpers use unconnected sockets and would see a
timeout instead. Nothing here ever falls back to the machine's resolver: the servers are passed in.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import struct
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Outcome of one query, as a short stable word (inference matches on these).
ANSWER = "answer"
NXDOMAIN = "nxdomain"
NODATA = "nodata"
SERVFAIL = "servfail"
REFUSED = "refused"  # rcode REFUSED
TIMEOUT = "timeout"
CONN_REFUSED = "conn_refused"  # ICMP port unreachable / TCP RST: nothing listens on :53
UNREACHABLE = "unreachable"  # ENETUNREACH / EHOSTUNREACH on connect
_TRUNCATED = "truncated"
_LOCAL_ERROR = "local_error"  # the kernel refused a socket (ports exhausted, buffers...)
_FILTERED = "filtered"  # EPERM/EACCES on send: this host's own firewall rejects the packet
ERROR = "error"


@dataclass(slots=True)
class DnsQuery:
    """One question asked of one server over one transport."""

    name: str
    server: str
    transport: str  # "udp" | "tcp"
    qtype: str  # "A" | "AAAA"
    status: str
    rcode: str | None = None
    addresses: list[str] = field(default_factory=list)
    latency_s: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "server": self.server, "transport": self.transport,
            "qtype": self.qtype, "status": self.status, "rcode": self.rcode,
            "addresses": list(self.addresses),
            "latency_ms": None if self.latency_s is None else round(self.latency_s * 1000, 1),
            "detail": self.detail,
        }


@dataclass(slots=True)
class DnsResult:
    """Everything learnt about one host name."""

    host: str
    names_tried: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    from_hosts_file: bool = False
    literal: bool = False
    queries: list[DnsQuery] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return bool(self.addresses)


def name_list(host: str, search: list[str], ndots: int) -> list[str]:
    """The names Go's resolver tries, in order (``nameList`` in dnsclient_unix.go)."""
    if host.endswith("."):
        return [host]
    fq = host + "."
    suffixed = [f"{host}.{s.strip('.')}." for s in search if s.strip(".")]
    if host.count(".") >= ndots:
        return [fq, *suffixed]
    return [*suffixed, fq]


def runtime_answer(queries: list[DnsQuery], use_vc: bool = False) -> list[str]:
    """The addresses Go's resolver itself would have obtained from these queries.

    Go asks over UDP and repeats a question over TCP only when the UDP reply was truncated
    (``options use-vc`` makes every question TCP-only). The probe also asks over TCP on its own,
    as evidence; an address only *that* TCP query got is one the runtime never sees, so it must
    never be dialled as if the runtime had it (a UDP-dropped CDN host would look reachable).
    """
    truncated = {(q.name, q.qtype, q.server) for q in queries
                 if q.transport == "udp" and q.status == _TRUNCATED}
    out: list[str] = []
    for q in queries:
        if q.status != ANSWER:
            continue
        if q.transport == "udp" and use_vc:
            continue
        if q.transport == "tcp" and not use_vc and (q.name, q.qtype, q.server) not in truncated:
            continue
        out.extend(a for a in q.addresses if a not in out)
    return out


def hosts_file_lookup(host: str, path: Path) -> list[str]:
    """Addresses for ``host`` in an /etc/hosts file (read first by Go with files,dns)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        parts = line.split("#", 1)[0].split()
        if len(parts) >= 2 and host.lower() in (p.lower() for p in parts[1:]):
            found.append(parts[0])
    return found


def _errno_status(exc: OSError) -> tuple[str, str]:
    code = exc.errno or 0
    name = errno.errorcode.get(code, str(code))
    if code in (errno.ECONNREFUSED,):
        return CONN_REFUSED, name
    if code in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return UNREACHABLE, name
    if code in (errno.EPERM, errno.EACCES):
        return _FILTERED, name
    if code in (errno.EAGAIN, errno.EADDRNOTAVAIL, errno.ENOBUFS, errno.EMFILE, errno.ENFILE):
        return _LOCAL_ERROR, name
    return ERROR, name


def _parse_reply(wire: bytes, query_id: int, qtype: str) -> tuple[str, str, list[str], bool]:
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.rdatatype

    msg = dns.message.from_wire(wire, ignore_trailing=True)
    if msg.id != query_id:
        raise ValueError("reply id does not match")
    rcode = dns.rcode.to_text(msg.rcode())
    truncated = bool(msg.flags & dns.flags.TC)
    want = dns.rdatatype.from_text(qtype)
    addrs = [r.to_text() for rrset in msg.answer if rrset.rdtype == want for r in rrset]
    if msg.rcode() == dns.rcode.NXDOMAIN:
        return NXDOMAIN, rcode, [], truncated
    if msg.rcode() == dns.rcode.SERVFAIL:
        return SERVFAIL, rcode, [], truncated
    if msg.rcode() != dns.rcode.NOERROR:
        return REFUSED if msg.rcode() == dns.rcode.REFUSED else SERVFAIL, rcode, [], truncated
    if addrs:
        return ANSWER, rcode, addrs, truncated
    return (_TRUNCATED if truncated else NODATA), rcode, [], truncated


def _make_query(name: str, qtype: str) -> tuple[bytes, int]:
    import dns.message

    q = dns.message.make_query(name, qtype, use_edns=0, payload=1232)
    return q.to_wire(), q.id


_UDP_AFTER_TCP_MIN_S = 0.5
_UDP_AFTER_TCP_FACTOR = 4.0


@dataclass(slots=True)
class _UdpCutoff:
    """When the UDP queries to one server stop waiting, once that server has answered over TCP.

    Why: a TCP answer costs two round trips (handshake, query) where UDP needs one, and both ask
    the same server the same question at the same moment; a UDP reply still missing long after
    the TCP one arrived is lost, not slow. So once TCP answers in ``t`` seconds, the UDP queries
    to that server get ``max(UDP_AFTER_TCP_MIN_S, UDP_AFTER_TCP_FACTOR * t)`` from the start of
    the round (never more than their own timeout) instead of the full per-query timeout (Go's
    2 s default). Replies that do arrive in time are unaffected, so a healthy or merely lossy
    path reads exactly as before; only the firewall-drops-UDP case ends sooner. Nothing is cut
    when TCP does not answer either (then nothing proves the server is up).
    """

    started: float
    at: float | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def tcp_answered(self, latency_s: float) -> None:
        at = self.started + max(_UDP_AFTER_TCP_MIN_S, _UDP_AFTER_TCP_FACTOR * latency_s)
        self.at = at if self.at is None else min(self.at, at)
        self.event.set()


async def _recv_until(sock: socket.socket, end: float, cut: _UdpCutoff | None) -> bytes:
    """One datagram from ``sock`` before ``end`` (or the cutoff, once set); TimeoutError if none."""
    loop = asyncio.get_running_loop()
    recv = asyncio.ensure_future(loop.sock_recv(sock, 65535))
    try:
        while True:
            stop = end if cut is None or cut.at is None else min(end, cut.at)
            left = stop - time.monotonic()
            if left <= 0:
                raise TimeoutError
            waits: set[asyncio.Future[Any]] = {recv}
            ev: asyncio.Future[Any] | None = None
            if cut is not None and cut.at is None:
                ev = asyncio.ensure_future(cut.event.wait())
                waits.add(ev)
            try:
                done, _ = await asyncio.wait(waits, timeout=left,
                                             return_when=asyncio.FIRST_COMPLETED)
            finally:
                if ev is not None:
                    ev.cancel()
            if recv in done:
                return recv.result()
    finally:
        if not recv.done():
            recv.cancel()


def _sockaddr(server: str, port: int) -> tuple[int, tuple[str, int]]:
    fam = socket.AF_INET6 if ipaddress.ip_address(server).version == 6 else socket.AF_INET
    return fam, (server, port)


async def _exchange_udp(
    name: str, qtype: str, server: str, port: int, timeout: float,
    cut: _UdpCutoff | None = None,
) -> DnsQuery:
    loop = asyncio.get_running_loop()
    wire, qid = _make_query(name, qtype)
    out = DnsQuery(name, server, "udp", qtype, ERROR)
    start = time.monotonic()
    try:
        fam, addr = _sockaddr(server, port)
        sock = socket.socket(fam, socket.SOCK_DGRAM)
    except (OSError, ValueError) as exc:
        out.status, out.detail = (
            _errno_status(exc) if isinstance(exc, OSError) else (ERROR, str(exc)))
        return out
    try:
        sock.setblocking(False)
        sock.connect(addr)
        await loop.sock_sendall(sock, wire)
        end = start + timeout
        while True:  # ignore replies that do not match, as Go does, until the deadline
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError
            data = await _recv_until(sock, end, cut)
            try:
                out.status, out.rcode, out.addresses, _ = _parse_reply(data, qid, qtype)
                break
            except Exception:
                continue
        out.latency_s = time.monotonic() - start
    except TimeoutError:
        waited = time.monotonic() - start
        out.status, out.detail = TIMEOUT, f"no reply within {timeout:.1f}s"
        if waited < timeout - 0.05:
            out.detail = (f"no reply within {waited:.1f}s, while the same server had answered "
                          "over TCP")
    except OSError as exc:
        out.status, out.detail = _errno_status(exc)
        out.latency_s = time.monotonic() - start
    finally:
        sock.close()
    return out


async def _exchange_tcp(
    name: str, qtype: str, server: str, port: int, timeout: float,
    cut: _UdpCutoff | None = None,
) -> DnsQuery:
    wire, qid = _make_query(name, qtype)
    out = DnsQuery(name, server, "tcp", qtype, ERROR)
    start = time.monotonic()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(server, port)
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            data = await reader.readexactly(length)
        out.status, out.rcode, out.addresses, _ = _parse_reply(data, qid, qtype)
        out.latency_s = time.monotonic() - start
        if cut is not None:
            cut.tcp_answered(out.latency_s)
    except TimeoutError:
        out.status, out.detail = TIMEOUT, f"no reply within {timeout:.1f}s"
    except asyncio.IncompleteReadError:
        out.status, out.detail = ERROR, "connection closed before a full reply"
    except OSError as exc:
        out.status, out.detail = _errno_status(exc)
        out.latency_s = time.monotonic() - start
    except Exception as exc:  # a malformed reply is evidence, not a crash
        out.status, out.detail = ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    return out


async def probe_dns(
    host: str,
    nameservers: list[str],
    *,
    search: list[str] | None = None,
    ndots: int = 1,
    timeout: float = 2.0,
    tries: int = 3,
    hosts_file: Path | None = None,
    port: int = 53,
    budget: float | None = None,
) -> DnsResult:
    """Resolve ``host`` against each of ``nameservers`` (never the machine's resolver).

    Every server is asked over UDP (``tries`` times, to measure loss) and over TCP, for A and AAAA,
    all at once; names come from the search list as Go builds it. The walk stops at the first name
    that any server answers with addresses, as Go's does.
    """
    res = DnsResult(host)
    try:
        ipaddress.ip_address(host)
        res.literal, res.addresses = True, [host]
        return res
    except ValueError:
        pass
    if hosts_file is not None:
        found = hosts_file_lookup(host, hosts_file)
        if found:
            res.from_hosts_file, res.addresses = True, found
            return res
    # Go falls back to localhost when resolv.conf names no server.
    servers = nameservers[:3] or ["127.0.0.1", "::1"]
    names = name_list(host, search or [], ndots)
    if budget is not None:  # every name gets its share, so the walk ends inside the step's time
        timeout = max(0.2, min(timeout, budget / len(names)))
    for name in names:
        res.names_tried.append(name)
        jobs: list[Coroutine[Any, Any, DnsQuery]] = []
        for server in servers:
            cut = _UdpCutoff(time.monotonic())
            for qtype in ("A", "AAAA"):
                jobs.extend(_exchange_udp(name, qtype, server, port, timeout, cut)
                            for _ in range(tries))
                jobs.append(_exchange_tcp(name, qtype, server, port, timeout, cut))
        answers = await asyncio.gather(*jobs)
        res.queries.extend(answers)
        addrs: list[str] = []
        for q in answers:
            for a in q.addresses:
                if a not in addrs:
                    addrs.append(a)
        if addrs:
            res.addresses = addrs
            break
    return res
