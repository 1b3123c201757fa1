"""A server that accepts connections and never answers: the "it connects, then nothing" faults.

Two stages at which a real server (an overloaded one, a broken load balancer) can go silent:

* ``--stage handshake``: TCP is accepted, the client's TLS ClientHello is read, and no ServerHello
  ever comes (clients: ``net/http: TLS handshake timeout``);
* ``--stage request`` (needs ``--cert``/``--key``): TLS completes, the HTTP request is read, and no
  response ever comes (clients: ``Client.Timeout exceeded while awaiting headers``, or a hang).

Each connection is held at most :data:`_HOLD_S` seconds, then closed, so nothing outlives a lab by
much even if its stop were lost; the lab stops the process by PID anyway.

Run: ``python -m pulldoctor.lab.services.silent --addr A --port P --stage handshake|request
[--cert C --key K]``.
"""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Literal

from pulldoctor.lab.services import ServiceSpec, module_env

_HOLD_S = 300.0
Stage = Literal["handshake", "request"]


def silent_service(*, addr: str, port: int, stage: Stage, cert: Path | None = None,
                   key: Path | None = None) -> ServiceSpec:
    """How to start a server that goes silent at ``stage`` (``request`` needs cert and key)."""
    if stage == "request" and (cert is None or key is None):
        raise ValueError("a server silent after TLS needs a certificate and key")
    argv = [sys.executable, "-m", "pulldoctor.lab.services.silent", "--addr", addr,
            "--port", str(port), "--stage", stage]
    if stage == "request" and cert is not None and key is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    return ServiceSpec(name=f"silent-{stage}", argv=argv, env=module_env(), port=port,
                       scheme="https" if stage == "request" else "tcp")


def _hold(conn: socket.socket, ctx: ssl.SSLContext | None) -> None:
    try:
        conn.settimeout(_HOLD_S)
        if ctx is not None:
            conn = ctx.wrap_socket(conn, server_side=True)
        conn.recv(65536)  # the ClientHello (handshake stage) or the request (request stage)
        time.sleep(_HOLD_S)
    except OSError:
        pass
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulldoctor.lab.services.silent",
                                     description="accept connections, never answer (lab use)")
    parser.add_argument("--addr", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--stage", required=True, choices=["handshake", "request"])
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    args = parser.parse_args(argv)
    ctx = None
    if args.stage == "request":
        if not (args.cert and args.key):
            print("error: --stage request needs --cert and --key", file=sys.stderr)
            return 2
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(args.cert), str(args.key))
    try:
        srv = socket.create_server((args.addr, args.port), reuse_port=True)
    except OSError as exc:
        print(f"error: cannot listen on {args.addr}:{args.port}: {exc}", file=sys.stderr)
        return 2
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_hold, args=(conn, ctx), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
