"""What the lab's small Python HTTP servers share: a bounded threading server, optional TLS, and
an access log on stderr that never prints credentials.

Why not one framework: the servers must start in milliseconds inside a namespace with only the
standard library and ``cryptography``; a tiny common base keeps cdn.py and token.py about their
own behaviour.
"""

from __future__ import annotations

import argparse
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class LabHTTPServer(ThreadingHTTPServer):
    """Threading server with daemon threads, address reuse and IPv6 when the address needs it."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        super().__init__((addr, port), handler)


class QuietHandler(BaseHTTPRequestHandler):
    """Logs one line per request to stderr: method, path without query, status. No header values.

    With ``log_header_names`` (``--log-header-names``) the line also lists the *names* of the
    request headers and the ``Authorization`` scheme (``Basic``/``Bearer``, never the credential):
    what the lab's secrets tests read to prove where credentials were, and were not, sent.
    """

    protocol_version = "HTTP/1.1"
    server_version = "pulldoctor-lab"
    sys_version = ""
    timeout = 60  # a stalled client cannot hold a thread forever
    # Headers and body go out as separate writes; with Nagle the second waits for the client's
    # delayed ACK (~40 ms per request). TCP_NODELAY sends each write at once.
    disable_nagle_algorithm = True
    log_header_names: bool = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        extra = ""
        if self.log_header_names:
            names = ",".join(sorted({k.lower() for k in self.headers}))
            scheme = (self.headers.get("Authorization") or "").split(" ", 1)[0] or "-"
            extra = f" headers={names} authz={scheme}"
        sys.stderr.write(f"{self.address_string()} {self.command} {path} {code}{extra}\n")

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write((format % args) + "\n")


def add_listen_args(parser: argparse.ArgumentParser) -> None:
    """The flags every lab server takes: where to listen and optional TLS files."""
    parser.add_argument("--addr", required=True, help="address to listen on")
    parser.add_argument("--port", required=True, type=int, help="TCP port")
    parser.add_argument("--cert", type=Path, help="PEM certificate chain (enables TLS)")
    parser.add_argument("--key", type=Path, help="PEM private key for --cert")
    parser.add_argument("--log-header-names", action="store_true",
                        help="log request header names and the Authorization scheme (no values)")


def serve(server: LabHTTPServer, cert: Path | None, key: Path | None) -> None:
    """Wrap in TLS if asked, then serve until SIGTERM/SIGINT (the lab stops us by PID)."""
    if (cert is None) != (key is None):
        raise SystemExit("error: --cert and --key go together")
    if cert is not None and key is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def open_server(addr: str, port: int, handler: type[BaseHTTPRequestHandler]) -> LabHTTPServer:
    """Bind, turning the usual failures into one-line errors instead of tracebacks."""
    try:
        return LabHTTPServer(addr, port, handler)
    except OSError as exc:
        raise SystemExit(f"error: cannot listen on {addr}:{port}: {exc.strerror or exc}") from None
