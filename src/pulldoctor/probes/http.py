"""HTTP plumbing for the registry probes: pinned addresses, typed failures, bounded streaming.

Why pin addresses: the DNS step already resolved each host against the *runtime's* resolvers; letting
httpx call getaddrinfo would ask the machine's resolver instead, and could silently reach a different
address than the one the TCP/TLS steps proved. So every connection goes to an address the walk
resolved, and a host the walk has not resolved yet (a redirect target) cannot be reached by accident:
the engine must probe it first. Why a per-read timeout: a path-MTU blackhole or a stalled front
delivers the first bytes and then nothing; only a bound on each read turns that into evidence.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpcore
import httpx

from pulldoctor.redact import redact_url, register_secret

CHUNK = 64 * 1024


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects host names only to the addresses the walk resolved for them."""

    def __init__(self, pins: Mapping[str, list[str]], mss: int | None = None) -> None:
        self._pins = pins
        self._mss = mss
        self._inner = httpcore.AnyIOBackend()

    async def _connect_clamped(self, addr: str, port: int, timeout: float | None
                               ) -> httpcore.AsyncNetworkStream:
        """Connect with TCP_MAXSEG set *before* the SYN (socket options given to httpcore are
        applied after connect, too late to change the MSS the server is told)."""
        import anyio.abc
        from httpcore._backends.anyio import AnyIOStream

        from pulldoctor.probes.tcp import connect

        try:
            sock = await connect(addr, port, timeout or 10.0, self._mss)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        stream = await anyio.abc.SocketStream.from_socket(sock)
        return AnyIOStream(stream)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addrs = self._pins.get(host.strip("[]"))
        if not addrs:  # a bug in the walk (every host is reached first), never a network fault
            raise httpcore.ConnectError(f"{host} was not reached by this endpoint's walk")
        last: Exception | None = None
        for addr in addrs:
            try:
                if self._mss is not None:
                    return await self._connect_clamped(addr, port, timeout)
                return await self._inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def proxy_credentials(proxy: str) -> tuple[str, tuple[str, str] | None]:
    """Split a proxy URL's userinfo off: (URL without it, (user, password) or None).

    Why: Go's transport (docker, containerd) and containers/image send a proxy URL's userinfo as
    ``Proxy-Authorization: Basic`` on CONNECT, so a proxy that needs credentials works for them;
    the walk must do the same, or it blames a proxy the runtime passes. The password is registered
    with :mod:`pulldoctor.redact` at once, and goes only to the proxy.
    """
    parts = urlsplit(proxy)
    if parts.username is None:
        return proxy, None
    user, password = unquote(parts.username), unquote(parts.password or "")
    register_secret(password, username=user)
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return bare, (user, password)


def basic_authorization(user: str, password: str) -> str:
    """The ``Basic`` header value Go builds for userinfo (``user:password``, base64)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def make_client(
    pins: Mapping[str, list[str]],
    *,
    ssl_context: ssl.SSLContext,
    proxy: str | None = None,
    mss: int | None = None,
) -> httpx.AsyncClient:
    """An httpx client that never resolves names itself, follows no redirect, reads no env."""
    opts = [(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)] if mss else None
    transport = httpx.AsyncHTTPTransport(verify=ssl_context)
    backend = _PinnedBackend(pins, mss)
    # httpx builds its pool without a network backend parameter; build the same pool with ours.
    pool: httpcore.AsyncConnectionPool
    if proxy:
        proxy_url, proxy_auth = proxy_credentials(proxy)
        pool = httpcore.AsyncHTTPProxy(
            proxy_url=proxy_url, proxy_auth=proxy_auth, ssl_context=ssl_context,
            network_backend=backend,
            socket_options=opts, max_connections=8)
    else:
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=backend, socket_options=opts,
            max_connections=8)
    transport._pool = pool
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False,
        headers={"User-Agent": "pulldoctor (diagnose; read-only)"})


@dataclass(slots=True)
class HttpFailure:
    """A transport-level failure, named only from what was observed.

    ``kind`` is one of: connect_timeout, read_timeout, stall, refused (ECONNREFUSED seen),
    unreachable (ENETUNREACH/EHOSTUNREACH seen), connect_error (the connect failed and no errno
    says why), reset, proxy, tls, error. ``errno`` is the errno name when one was observed.
    """

    kind: str
    detail: str
    url: str
    errno: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "detail": self.detail, "url": self.url, "errno": self.errno}


def _observed_errno(exc: BaseException) -> int | None:
    """The errno of the OSError somewhere in ``exc``'s cause chain (httpx wraps httpcore, which
    wraps the socket's own error), or None when no layer recorded one."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno:
            return cur.errno
        cur = cur.__cause__ or cur.__context__
    return None


def classify_exception(exc: BaseException, url: str) -> HttpFailure:
    """Map an httpx/httpcore exception to an :class:`HttpFailure` with a redacted URL.

    A connect error is named by its errno only (ECONNREFUSED is a refusal, never "no route"); an
    error that carries none stays ``connect_error``, which inference does not guess a cause from.
    """
    import errno as errnos

    text = f"{type(exc).__name__}: {exc}"
    safe = redact_url(url)
    code = _observed_errno(exc)
    name = errnos.errorcode.get(code) if code else None
    if isinstance(exc, httpx.ProxyError):
        return HttpFailure("proxy", text, safe, name)
    if isinstance(exc, httpx.ConnectTimeout):
        return HttpFailure("connect_timeout", text, safe, name)
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout | TimeoutError):
        return HttpFailure("read_timeout", text, safe, name)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | ConnectionResetError):
        return HttpFailure("reset", text, safe, name)
    if isinstance(exc, httpx.ConnectError | httpcore.ConnectError | OSError):
        if code == errnos.ECONNREFUSED:
            return HttpFailure("refused", text, safe, name)
        if code in (errnos.ENETUNREACH, errnos.EHOSTUNREACH):
            return HttpFailure("unreachable", text, safe, name)
        if code == errnos.ETIMEDOUT:
            return HttpFailure("connect_timeout", text, safe, name)
        low = text.lower()
        if code is None and ("ssl" in low or "certificate" in low or "tls" in low):
            return HttpFailure("tls", text, safe, name)
        return HttpFailure("connect_error", text, safe, name)
    return HttpFailure("error", text, safe, name)


@dataclass(slots=True)
class Fetched:
    """One response: status, headers, and either the body or its streamed digest."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    size: int = 0
    sha256: str = ""
    seconds: float = 0.0
    failure: HttpFailure | None = None
    first_byte_s: float | None = None

    @property
    def throughput_mbps(self) -> float | None:
        if not self.seconds or not self.size:
            return None
        return round(self.size * 8 / self.seconds / 1e6, 2)

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url, "status": self.status, "size": self.size,
            "sha256": self.sha256 or None, "seconds": round(self.seconds, 3),
            "throughput_mbps": self.throughput_mbps,
            "failure": self.failure.to_dict() if self.failure else None,
        }


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    read_timeout: float | None = None,
    keep_body: int = 4 * 1024 * 1024,
) -> Fetched:
    """One request, body hashed as it streams (memory stays flat), each read bounded.

    The body is kept only up to ``keep_body`` bytes (manifests, configs, error documents); past
    that only the digest and size remain. Never raises for network errors: the failure is recorded
    with how far the transfer got, which is what separates a stall from a refusal.
    """
    out = Fetched(redact_url(url), 0, {})
    start = time.monotonic()
    per_read = read_timeout if read_timeout is not None else timeout
    to = httpx.Timeout(timeout, read=per_read)
    digest = hashlib.sha256()
    kept = bytearray()
    try:
        req = client.build_request(method, url, headers=dict(headers or {}), timeout=to)
        resp = await client.send(req, stream=True)
        try:
            out.status = resp.status_code
            out.headers = {k.lower(): v for k, v in resp.headers.items()}
            out.first_byte_s = time.monotonic() - start
            if method != "HEAD":
                async for chunk in resp.aiter_raw(CHUNK):
                    digest.update(chunk)
                    out.size += len(chunk)
                    if len(kept) < keep_body:
                        kept.extend(chunk[: keep_body - len(kept)])
                    if time.monotonic() - start > timeout:
                        raise httpx.ReadTimeout("transfer exceeded its step timeout")
        finally:
            await resp.aclose()
    except (httpx.HTTPError, httpcore.ConnectError, OSError, TimeoutError) as exc:
        out.failure = classify_exception(exc, url)
        if out.failure.kind == "read_timeout" and out.status:
            out.failure.kind = "stall"
            out.failure.detail += f" (after {out.size} body bytes)"
    out.seconds = time.monotonic() - start
    out.body = bytes(kept)
    out.sha256 = "sha256:" + digest.hexdigest() if method != "HEAD" else ""
    return out


@dataclass(slots=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` challenge."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_www_authenticate(value: str) -> list[Challenge]:
    """Parse challenges the way distribution's client does (quoted params, several schemes)."""
    import re

    out: list[Challenge] = []
    token_re = re.compile(r'\s*([A-Za-z][\w-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*,?')
    pos = 0
    while pos < len(value):
        m = re.compile(r"\s*([A-Za-z][\w-]*)(?:\s+|$)").match(value, pos)
        if not m:
            break
        ch = Challenge(m.group(1).lower())
        pos = m.end()
        while pos < len(value):
            pm = token_re.match(value, pos)
            if not pm:
                break
            nxt = value[pm.end():].lstrip()
            key, raw = pm.group(1).lower(), pm.group(2)
            val = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
            ch.params[key] = val
            pos = pm.end()
            if nxt and re.match(r"[A-Za-z][\w-]*\s+[A-Za-z][\w-]*\s*=", nxt):
                break  # a new scheme starts
        out.append(ch)
    return out
