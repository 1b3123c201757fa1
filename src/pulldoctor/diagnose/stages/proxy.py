"""Stage: the HTTP CONNECT tunnel through the runtime's proxy (``https://`` targets only)."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.observe import ProxyObservation
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.target import HostTarget
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step
from pulldoctor.probes import tcp as tcpprobe
from pulldoctor.redact import redact_url

CAP_S = 4.0


async def connect_via(t: HostTarget, mss: int | None, timeout: float) -> socket.socket:
    """A connected socket to the target, directly or through an HTTP CONNECT tunnel."""
    pins = t.ew.pins
    if t.proxy is None:
        return await tcpprobe.connect(pins[t.host][0], t.port, timeout, mss)
    p = urlsplit(t.proxy)
    sock = await tcpprobe.connect(pins[p.hostname or ""][0], p.port or 80, timeout, mss)
    loop = asyncio.get_running_loop()
    try:
        from pulldoctor.probes import http as hp  # httpx: only once a proxy is in play

        _bare, cred = hp.proxy_credentials(t.proxy)  # userinfo goes to the proxy, as Go sends it
        auth = f"Proxy-Authorization: {hp.basic_authorization(*cred)}\r\n" if cred else ""
        target = f"{t.host}:{t.port}"
        await loop.sock_sendall(sock, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n"
                                .encode())
        buf = b""
        async with asyncio.timeout(timeout):
            while b"\r\n\r\n" not in buf and len(buf) < 16384:
                chunk = await loop.sock_recv(sock, 4096)
                if not chunk:
                    break
                buf += chunk
        status = buf.split(b"\r\n", 1)[0].decode("latin-1", errors="replace")
        if " 200" not in status:
            raise ConnectionError(f"proxy answered CONNECT with {status or 'nothing'!r}")
    except BaseException:
        sock.close()
        raise
    return sock


async def _run(t: HostTarget) -> Step | None:
    if t.proxy is None or t.scheme != "https":
        return None
    proxy, target = t.proxy, f"{t.host}:{t.port}"

    async def probe(timeout: float) -> ProxyObservation:
        obs = ProxyObservation(redact_url(proxy), target)
        try:
            sock = await connect_via(t, None, timeout)
            sock.close()
        except (OSError, TimeoutError) as exc:
            obs.error = str(exc) or type(exc).__name__
        return obs

    return await t.ew.observe(f"proxy CONNECT {target}", CAP_S, probe, infer.classify_proxy,
                              Waiting("proxy", f"the proxy's answer to CONNECT {target}", target))


STAGE: Stage[HostTarget] = Stage("proxy connect", ("proxy tcp",), _run)
