"""The lab's authoritative DNS server for ``lab.test``, with per-name faults as data.

Why our own server: the DNS failures pulldoctor must tell apart differ only in what the server
does on the wire, per transport and per name: a resolver that drops UDP but answers TCP, one that
truncates, one that is slow for one host only (the classic "registry resolves, CDN times out").
Real resolvers cannot be told to misbehave that precisely, so this one takes a JSON file::

    {"zone": "lab.test",
     "records": {"registry.lab.test": "198.18.2.2", ...},
     "modes": {"cdn.lab.test": {"mode": "drop_udp"}, "*": {"mode": "answer"}}}

Modes (per query name, ``*`` is the default): ``answer``, ``nxdomain``, ``servfail``, ``refused``,
``drop_udp`` (no UDP reply, TCP answers), ``truncate_udp`` (UDP reply has TC set and no answer, so
the client retries over TCP, which answers), ``slow`` (answer after ``delay_ms``), ``drop`` (no
reply on either transport). Names in the zone without a record get NXDOMAIN; names outside it get
REFUSED (the server does not recurse, so it never sends a query anywhere).

Run: ``python -m pulldoctor.lab.dnsserver --config FILE --addr 198.18.4.2 [--port 53]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

MODES = ("answer", "nxdomain", "servfail", "refused", "drop_udp", "truncate_udp", "slow", "drop")
MAX_DELAY_MS = 60_000
TCP_IDLE_S = 10.0


@dataclass(frozen=True, slots=True)
class Mode:
    """What the server does for one name."""

    mode: str = "answer"
    delay_ms: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Mode:
        mode = str(data.get("mode", "answer"))
        if mode not in MODES:
            raise ValueError(f"unknown DNS mode '{mode}' (known: {', '.join(MODES)})")
        delay = int(data.get("delay_ms", 0))
        if not 0 <= delay <= MAX_DELAY_MS:
            raise ValueError(f"delay_ms must be between 0 and {MAX_DELAY_MS}")
        return cls(mode, delay)


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    zone: str
    records: Mapping[str, str]
    modes: Mapping[str, Mode]
    ttl: int = 5

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ZoneConfig:
        zone = str(data.get("zone", "lab.test")).lower().rstrip(".")
        records = {str(k).lower().rstrip("."): str(v) for k, v in data.get("records", {}).items()}
        for name, addr in records.items():
            socket.inet_aton(addr)  # raises OSError on a bad address
            if not (name == zone or name.endswith("." + zone)):
                raise ValueError(f"record {name} is outside the zone {zone}")
        modes = {str(k).lower().rstrip("."): Mode.from_dict(v)
                 for k, v in data.get("modes", {}).items()}
        return cls(zone, records, modes, int(data.get("ttl", 5)))

    def mode_for(self, name: str) -> Mode:
        return self.modes.get(name) or self.modes.get("*") or Mode()


def reply_for(config: ZoneConfig, query: DNSRecord, transport: str) -> DNSRecord | None:
    """The reply to ``query`` arriving over ``transport`` ("udp" | "tcp"); None = send nothing.

    Pure (no sleeping, no sockets), so every mode is testable without a network; ``slow`` is
    applied by the caller from :meth:`ZoneConfig.mode_for`.
    """
    name = str(query.q.qname).lower().rstrip(".")
    mode = config.mode_for(name)
    if mode.mode == "drop" or (mode.mode == "drop_udp" and transport == "udp"):
        return None
    reply = query.reply(ra=1, aa=1)
    in_zone = name == config.zone or name.endswith("." + config.zone)
    if not in_zone:
        reply.header.rcode = RCODE.REFUSED
        reply.header.aa = 0
    elif mode.mode == "nxdomain":
        reply.header.rcode = RCODE.NXDOMAIN
    elif mode.mode == "servfail":
        reply.header.rcode = RCODE.SERVFAIL
    elif mode.mode == "refused":
        reply.header.rcode = RCODE.REFUSED
    elif mode.mode == "truncate_udp" and transport == "udp":
        reply.header.tc = 1
    elif name not in config.records:
        reply.header.rcode = RCODE.NXDOMAIN
    elif query.q.qtype in (QTYPE.A, QTYPE.ANY):
        reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(config.records[name]), ttl=config.ttl))
    # any other type for a known name: NOERROR with no answer (NODATA), as real zones do
    return reply


class _Server:
    def __init__(self, config: ZoneConfig, log: Any) -> None:
        self.config = config
        self.log = log
        self.lock = threading.Lock()

    def handle(self, data: bytes, transport: str) -> bytes | None:
        try:
            query = DNSRecord.parse(data)
        except Exception:  # garbage on the wire: real servers ignore it too
            return None
        name = str(query.q.qname).lower().rstrip(".")
        mode = self.config.mode_for(name)
        reply = reply_for(self.config, query, transport)
        if mode.mode == "slow" and reply is not None:
            time.sleep(mode.delay_ms / 1000)
        with self.lock:
            print(f"{transport} {name} {QTYPE.get(query.q.qtype, query.q.qtype)} mode={mode.mode} "
                  f"-> {'no reply' if reply is None else RCODE.get(reply.header.rcode)}"
                  f"{' TC' if reply is not None and reply.header.tc else ''}",
                  file=self.log, flush=True)
        return None if reply is None else bytes(reply.pack())


def serve(config: ZoneConfig, addr: str, port: int = 53, log: Any = sys.stdout) -> None:
    """Serve UDP and TCP on ``addr:port`` until killed."""
    server = _Server(config, log)

    class UDPHandler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data, sock = self.request
            out = server.handle(data, "udp")
            if out is not None:
                sock.sendto(out, self.client_address)

    class TCPHandler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            conn: socket.socket = self.request
            conn.settimeout(TCP_IDLE_S)
            try:
                while True:
                    head = _recv_exact(conn, 2)
                    if head is None:
                        return
                    body = _recv_exact(conn, struct.unpack("!H", head)[0])
                    if body is None:
                        return
                    out = server.handle(body, "tcp")
                    if out is not None:
                        conn.sendall(struct.pack("!H", len(out)) + out)
            except OSError:
                return

    class UDP(socketserver.ThreadingUDPServer):
        daemon_threads = True
        allow_reuse_address = True

    class TCP(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    udp = UDP((addr, port), UDPHandler)
    tcp = TCP((addr, port), TCPHandler)
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    print(f"serving {config.zone} on {addr}:{port} udp+tcp", file=log, flush=True)
    tcp.serve_forever()


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pulldoctor.lab.dnsserver",
                                     description="The lab's fault-injecting DNS server.")
    parser.add_argument("--config", required=True, help="JSON zone + modes file")
    parser.add_argument("--addr", required=True, help="address to listen on")
    parser.add_argument("--port", type=int, default=53)
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as fh:
            config = ZoneConfig.from_dict(json.load(fh))
    except (OSError, ValueError) as exc:
        print(f"dnsserver: error: {args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config, args.addr, args.port)
    except OSError as exc:
        print(f"dnsserver: error: cannot listen on {args.addr}:{args.port}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
