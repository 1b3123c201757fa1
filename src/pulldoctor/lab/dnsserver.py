"""The lab's authoritative DNS server for ``lab.test``, with per-name faults as data.

Why our own server: real resolvers cannot be told to misbehave per name and per transport (drop
UDP but answer TCP, truncate, be slow for one host only), which is what the DNS causes pulldoctor
must tell apart look like on the wire. The faults are the lab's typed DNS faults
(:mod:`pulldoctor.lab.faults.dns`, one module each); this server builds the healthy reply and hands
it to the fault for the query name. It takes a JSON file::

    {"zone": "lab.test",
     "records": {"registry.lab.test": "198.18.2.2", ...},
     "faults": [{"name": "dns_drop_udp", "host": "cdn.lab.test"}]}

Names in the zone without a record get NXDOMAIN; names outside it get REFUSED (the server does
not recurse, so it never sends a query anywhere). A fault for ``"*"`` applies to every name that
has no fault of its own.

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

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import fault_from_dict
from pulldoctor.lab.faults.dns import DnsFault, Transport

_TCP_IDLE_S = 10.0


@dataclass(frozen=True, slots=True)
class ZoneConfig:
    zone: str
    records: Mapping[str, str]
    faults: Mapping[str, DnsFault]
    ttl: int = 5

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ZoneConfig:
        """The config from its JSON form; ValueError (or LabError) names what is wrong."""
        zone = str(data.get("zone", "lab.test")).lower().rstrip(".")
        records = {str(k).lower().rstrip("."): str(v) for k, v in data.get("records", {}).items()}
        for addr in records.values():
            socket.inet_aton(addr)  # raises OSError on a bad address
        faults: dict[str, DnsFault] = {}
        for raw in data.get("faults", []):
            fault = fault_from_dict(raw, layer="dns")
            assert isinstance(fault, DnsFault)
            if fault.host in faults:
                raise ValueError(f"two DNS faults for {fault.host}")
            faults[fault.host] = fault
        return cls(zone, records, faults, int(data.get("ttl", 5)))

    def fault_for(self, name: str) -> DnsFault | None:
        return self.faults.get(name) or self.faults.get("*")


def reply_for(config: ZoneConfig, query: DNSRecord, transport: Transport) -> DNSRecord | None:
    """The reply to ``query`` arriving over ``transport``; None = send nothing.

    Pure (no sleeping, no sockets), so every fault is testable without a network; a fault's
    delay is applied by the caller (:meth:`DnsFault.delay_s`).
    """
    name = str(query.q.qname).lower().rstrip(".")
    reply = query.reply(ra=1, aa=1)
    in_zone = name == config.zone or name.endswith("." + config.zone)
    if not in_zone and name not in config.records:
        reply.header.rcode = RCODE.REFUSED
        reply.header.aa = 0
    elif name not in config.records:
        reply.header.rcode = RCODE.NXDOMAIN
    elif query.q.qtype in (QTYPE.A, QTYPE.ANY):
        reply.add_answer(RR(query.q.qname, QTYPE.A, rdata=A(config.records[name]), ttl=config.ttl))
    # any other type for a known name: NOERROR with no answer (NODATA), as real zones do
    fault = config.fault_for(name)
    return reply if fault is None else fault.reply(reply, transport)


class _Server:
    def __init__(self, config: ZoneConfig, log: Any) -> None:
        self.config = config
        self.log = log
        self.lock = threading.Lock()

    def handle(self, data: bytes, transport: Transport) -> bytes | None:
        try:
            query = DNSRecord.parse(data)
        except Exception:  # garbage on the wire: real servers ignore it too
            return None
        name = str(query.q.qname).lower().rstrip(".")
        fault = self.config.fault_for(name)
        reply = reply_for(self.config, query, transport)
        if fault is not None and reply is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        with self.lock:
            print(f"{transport} {name} {QTYPE.get(query.q.qtype, query.q.qtype)} "
                  f"fault={fault.name if fault else '-'} "
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
            conn.settimeout(_TCP_IDLE_S)
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
    except (OSError, ValueError, LabError) as exc:
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
