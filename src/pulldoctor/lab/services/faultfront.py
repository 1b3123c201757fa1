"""A toxiproxy-style HTTP(S) front before a lab server (registry, token realm, CDN) that does
the lab's HTTP faults on the wire.

Why a front and not a patched server: the server stays real and healthy; the front only bends the
wire where a fault says (a 429 on manifests, a stall on blobs), so the same client code path that
meets the fault in production meets it here. The faults are the lab's typed HTTP faults
(:mod:`pulldoctor.lab.faults.http`, one module each), written to a JSON file as data; the first
fault whose ``path``/``methods`` match a request (and whose ``count`` is not used up) applies.

Each client connection carries one request: the front forwards it with ``Connection: close`` and
tells the client the same, so response framing never has to be re-parsed and a damaged body cannot
desynchronise a kept-alive connection. Go and Python clients simply open a new connection.

Run: ``python -m pulldoctor.lab.services.faultfront --config FRONT.json --addr A --port P
[--cert C --key K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import fault_from_dict
from pulldoctor.lab.faults.http import Answer, AnswerFault, BodyFault, HttpFault
from pulldoctor.lab.services import ServiceSpec, module_env

_HEAD_LIMIT = 65536
_BODY_LIMIT = 64 * 1024 * 1024
_IO_TIMEOUT = 30.0
_RELAY_BOUND = 900.0  # no relay outlives this, whatever the fault says


@dataclass(slots=True)
class _LiveRule:
    """A fault with the number of requests it may still strike (``count``; None: unlimited)."""

    fault: HttpFault
    left: int | None

    def matches(self, method: str, path: str) -> bool:
        if self.left is not None and self.left <= 0:
            return False
        return self.fault.applies_to(method, path)


def load_faults(raw: list[dict[str, Any]]) -> list[_LiveRule]:
    """The front's faults from their JSON form; :class:`LabError` names the first bad one."""
    live = []
    for i, item in enumerate(raw):
        try:
            fault = fault_from_dict(item, layer="http")
        except LabError as exc:
            raise LabError(f"fault {i}: {exc}") from None
        assert isinstance(fault, HttpFault)
        live.append(_LiveRule(fault, fault.count))
    return live


@dataclass(frozen=True, slots=True)
class _RequestHead:
    """The parts of a request head the front needs; ``raw_headers`` keeps order and case."""

    method: str
    target: str
    version: str
    raw_headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.raw_headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path if "://" in self.target else self.target.split("?")[0]


def parse_request_head(data: bytes) -> _RequestHead:
    """Parse ``METHOD target HTTP/1.x`` and headers (pure); ValueError when malformed."""
    text = data.decode("latin-1").rstrip("\r\n")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError(f"bad request line {lines[0][:80]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"bad header line {line[:80]!r}")
        headers.append((name, value.strip()))
    return _RequestHead(parts[0], parts[1], parts[2], tuple(headers))


def forward_head(head: _RequestHead) -> bytes:
    """The request head sent upstream: same request, hop-by-hop headers replaced by close."""
    hop = {"connection", "keep-alive", "proxy-connection", "te", "upgrade"}
    lines = [f"{head.method} {head.target} HTTP/1.1"]
    lines += [f"{k}: {v}" for k, v in head.raw_headers if k.lower() not in hop]
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def close_response_head(data: bytes) -> bytes:
    """The upstream response head with ``Connection: close`` (pure)."""
    lines = data.decode("latin-1").rstrip("\r\n").split("\r\n")
    kept = [ln for ln in lines if not ln.lower().startswith(("connection:", "keep-alive:"))]
    return "\r\n".join([*kept, "Connection: close", "", ""]).encode("latin-1")


class _Front:
    """The running front: rules, upstream address, and one handler per client connection."""

    def __init__(self, upstream: str, rules: list[_LiveRule],
                 upstream_ca: str | None = None) -> None:
        url = urlsplit(upstream)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise LabError(f"upstream must be http(s)://host:port, got {upstream!r}")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.tls: ssl.SSLContext | None = None
        if url.scheme == "https":
            self.tls = ssl.create_default_context(cafile=upstream_ca)
        self.rules = rules

    def pick(self, head: _RequestHead) -> HttpFault | None:
        for live in self.rules:
            if live.matches(head.method, head.path):
                if live.left is not None:
                    live.left -= 1
                return live.fault
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(self._exchange(reader, writer), _RELAY_BOUND)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ssl.SSLError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 2)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
        try:
            head = parse_request_head(raw)
        except ValueError:
            writer.write(Answer(400, "Bad Request", (), b"bad request\n").render())
            await writer.drain()
            return
        if head.header("transfer-encoding"):
            writer.write(Answer(501, "Not Implemented", (), b"chunked bodies unsupported\n")
                         .render())
            await writer.drain()
            return
        length = int(head.header("content-length") or 0)
        if length < 0 or length > _BODY_LIMIT:
            raise ValueError("body too large")
        body = await asyncio.wait_for(reader.readexactly(length), _IO_TIMEOUT) if length else b""
        fault = self.pick(head)
        peer = writer.get_extra_info("peername")
        client_ip = str(peer[0]) if peer else "0.0.0.0"
        line = f"{client_ip} {head.method} {head.path} -> {fault.name if fault else 'pass'}\n"
        sys.stderr.write(line)
        if isinstance(fault, AnswerFault):
            writer.write(fault.answer(client_ip).render(head_only=head.method == "HEAD"))
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.tls,
                                    server_hostname=self.host if self.tls else None),
            _IO_TIMEOUT)
        try:
            up_writer.write(forward_head(head) + body)
            await up_writer.drain()
            resp_head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
            writer.write(close_response_head(resp_head))
            await writer.drain()
            if isinstance(fault, BodyFault):
                await fault.relay(up_reader, writer)
            else:
                await _pipe(up_reader, writer)
        finally:
            up_writer.close()


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    while data := await asyncio.wait_for(src.read(65536), _IO_TIMEOUT):
        dst.write(data)
        await dst.drain()


def faultfront_service(workdir: Path, *, addr: str, port: int, upstream: str,
                       faults: Sequence[HttpFault], cert: Path | None = None,
                       key: Path | None = None, upstream_ca: Path | None = None) -> ServiceSpec:
    """Write ``workdir/faultfront.json`` (the faults as data) and return how to start the front.

    ``upstream`` is the server's URL as the front reaches it (``http://198.18.x.y:5000``).
    """
    _Front(upstream, [])  # a bad upstream fails here, not in a background process
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = {"upstream": upstream, "upstream_ca": str(upstream_ca) if upstream_ca else None,
           "faults": [f.to_dict() for f in faults]}
    path = workdir / "faultfront.json"
    path.write_text(json.dumps(cfg, indent=2) + "\n")
    argv = [sys.executable, "-m", "pulldoctor.lab.services.faultfront", "--config", str(path),
            "--addr", addr, "--port", str(port)]
    if cert is not None and key is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    return ServiceSpec(name="faultfront", argv=argv, env=module_env(), port=port,
                       scheme="https" if cert is not None else "http")


async def _serve(front: _Front, addr: str, port: int, tls: ssl.SSLContext | None) -> None:
    server = await asyncio.start_server(front.handle, addr, port, ssl=tls, limit=_HEAD_LIMIT,
                                        reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulldoctor.lab.services.faultfront",
                                     description="HTTP front that injects named faults")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--addr", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    args = parser.parse_args(argv)
    try:
        cfg = json.loads(args.config.read_text())
        front = _Front(cfg["upstream"], load_faults(cfg.get("faults") or []),
                      cfg.get("upstream_ca"))
        tls = None
        if args.cert or args.key:
            if not (args.cert and args.key):
                raise LabError("--cert and --key go together")
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(str(args.cert), str(args.key))
        asyncio.run(_serve(front, args.addr, args.port, tls))
    except (OSError, ValueError, KeyError, ssl.SSLError, LabError) as exc:
        print(f"error: faultfront: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
