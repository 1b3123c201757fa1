"""TLS step: handshake as the runtime would, then explain a failure with the certificate itself.

Why two handshakes on failure: a verifying handshake gives the exact reason OpenSSL (and Go, by the
same rules) rejects the chain, but then no certificate is available; a second, non-verifying
handshake fetches the leaf so the report can show subject, SANs, issuer and validity next to the
reason. A server that answers a ClientHello with plain HTTP is proven by a plain ``GET /v2/`` on a
fresh connection rather than guessed from OpenSSL's "wrong version number".
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
UNKNOWN_AUTHORITY = "unknown_authority"
HOSTNAME_MISMATCH = "hostname_mismatch"
EXPIRED = "expired"
_NOT_YET_VALID = "not_yet_valid"
HTTP_RESPONSE = "http_response"  # a plain-HTTP server answered the ClientHello
HANDSHAKE_TIMEOUT = "handshake_timeout"
RESET = "reset"
_CA_ERROR = "ca_error"  # a configured CA file cannot be read: the runtime fails the same way
ERROR = "error"

_UNKNOWN_CA_CODES = {2, 18, 19, 20, 21, 27}
_VERIFY_STATUS = {10: EXPIRED, 9: _NOT_YET_VALID, 62: HOSTNAME_MISMATCH, 64: HOSTNAME_MISMATCH}

_Connector = Callable[[], Awaitable[socket.socket]]
"""Returns a connected socket (direct, MSS-clamped or through a proxy tunnel)."""


@dataclass(slots=True)
class TlsResult:
    """The outcome of the handshake with everything the certificate says."""

    host: str
    status: str
    verify_code: int | None = None
    detail: str = ""
    version: str | None = None
    cipher: str | None = None
    latency_s: float | None = None
    cert: dict[str, Any] = field(default_factory=dict)
    verified_with: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "host": self.host, "status": self.status, "verify_code": self.verify_code,
            "detail": self.detail, "version": self.version, "cipher": self.cipher,
            "latency_ms": None if self.latency_s is None else round(self.latency_s * 1000, 1),
            "cert": self.cert, "verified_with": list(self.verified_with),
        }


def _new_context(ca_files: list[str], verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for ca in ca_files:
        ctx.load_verify_locations(cafile=ca)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}
_BUILDING: dict[tuple[object, ...], threading.Lock] = {}
_CONTEXTS_LOCK = threading.Lock()


def _files_key(ca_files: list[str]) -> tuple[tuple[str, int, int, int], ...] | None:
    """Each CA file's identity and version; None when one cannot be stat'ed (then no caching, so
    the load itself raises the error the caller reports)."""
    out = []
    for ca in ca_files:
        try:
            st = os.stat(ca)
        except OSError:
            return None
        out.append((ca, st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


def client_context(ca_files: list[str], *, verify: bool = True, purpose: str = "http"
                   ) -> ssl.SSLContext:
    """System trust plus the endpoint's own CA files, as certs.d / hosts.toml ``ca`` add them.

    Why cached: loading the system trust store (``set_default_verify_paths``) costs ~50 ms each
    time, and a healthy walk needs a context for every TLS step and HTTP client: rebuilding it was
    the largest single cost of a healthy diagnose. A context is reused only for the same CA files
    (same inode, mtime and size) and the same ``verify``; ``purpose`` keeps the handshake probe's
    contexts apart from the HTTP clients' (httpcore sets ALPN on the context it is given, and the
    probe must keep sending the same ClientHello as before). Failed loads are never cached.
    """
    files = _files_key(ca_files)
    if files is None:
        return _new_context(ca_files, verify)
    key = (purpose, verify, files)
    with _CONTEXTS_LOCK:
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:  # a prewarm already under way is waited for, not repeated
        ctx = _CONTEXTS.get(key)
        if ctx is None:
            ctx = _CONTEXTS[key] = _new_context(ca_files, verify)
    return ctx


def prewarm_contexts(ca_files: list[str], *, verify: bool = True) -> None:
    """Build the contexts a walk will need (call from a worker thread: the load releases the GIL,
    so it runs truly beside the first DNS and TCP steps)."""
    try:
        client_context(ca_files, purpose="probe")
        client_context(ca_files, purpose="http", verify=verify)
    except (OSError, ssl.SSLError):  # the TLS step itself loads it again and reports why
        pass


def _describe_certificate(der: bytes) -> dict[str, Any]:
    """Subject, SANs, issuer and validity of a DER certificate (for the report, not for trust)."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    now = _dt.datetime.now(_dt.UTC)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "san": names,
        "not_before": nb.isoformat(),
        "not_after": na.isoformat(),
        "valid_now": nb <= now <= na,
        "self_signed": cert.subject == cert.issuer,
        "serial": format(cert.serial_number, "x"),
    }


def _describe_verified(peer: dict[str, Any]) -> dict[str, Any]:
    """The same fields from ssl's own dict of a *verified* certificate (no extra import needed)."""

    def name(rdns: Any) -> str:
        return ",".join(f"{k}={v}" for rdn in rdns or () for k, v in rdn)

    def when(text: Any) -> str | None:
        if not text:
            return None
        return _dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(str(text)), _dt.UTC).isoformat()

    return {
        "subject": name(peer.get("subject")), "issuer": name(peer.get("issuer")),
        "san": [str(v) for _k, v in peer.get("subjectAltName") or ()],
        "not_before": when(peer.get("notBefore")), "not_after": when(peer.get("notAfter")),
        "valid_now": True, "self_signed": peer.get("subject") == peer.get("issuer"),
        "serial": str(peer.get("serialNumber", "")).lower(),
    }


def _classify_ssl_error(exc: ssl.SSLError) -> str:
    """Map an OpenSSL error to a status word."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        if code in _VERIFY_STATUS:
            return _VERIFY_STATUS[code]
        if code in _UNKNOWN_CA_CODES:
            return UNKNOWN_AUTHORITY
        return ERROR
    reason = (exc.reason or str(exc)).upper()
    if any(k in reason for k in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
                                 "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL")):
        return HTTP_RESPONSE
    return ERROR


async def _handshake(
    connector: _Connector, host: str, ctx: ssl.SSLContext, timeout: float
) -> tuple[ssl.SSLObject | None, asyncio.StreamWriter]:
    sock = await connector()
    reader, writer = await asyncio.open_connection(
        sock=sock, ssl=ctx, server_hostname=host, ssl_handshake_timeout=timeout
    )
    del reader
    return writer.get_extra_info("ssl_object"), writer


async def _speaks_plain_http(connector: _Connector, host: str, timeout: float) -> bool:
    """True when a plain request on a fresh connection gets an HTTP status line back."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            sock = await connector()
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(f"GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.read(16)
        return head.startswith(b"HTTP/")
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()


async def probe_tls(
    connector: _Connector, host: str, ca_files: list[str], timeout: float
) -> TlsResult:
    """Handshake with ``host`` over ``connector``; never raises for network or TLS errors."""
    res = TlsResult(host, ERROR, verified_with=["system CAs", *ca_files])
    start = time.monotonic()
    try:
        ctx = client_context(ca_files, purpose="probe")
    except (OSError, ssl.SSLError) as exc:
        res.status, res.detail = _CA_ERROR, f"cannot load CA file: {exc}"
        return res
    writer: asyncio.StreamWriter | None = None
    try:
        sslobj, writer = await asyncio.wait_for(_handshake(connector, host, ctx, timeout), timeout)
        res.status = OK
        if sslobj is not None:
            res.version, res.cipher = sslobj.version(), (sslobj.cipher() or ("",))[0]
            res.cert = _describe_verified(sslobj.getpeercert() or {})
    except TimeoutError:
        res.status, res.detail = HANDSHAKE_TIMEOUT, f"handshake not done within {timeout:.1f}s"
    except ssl.SSLCertVerificationError as exc:
        res.status, res.verify_code = _classify_ssl_error(exc), exc.verify_code
        res.detail = exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        res.status, res.detail = _classify_ssl_error(exc), f"{exc.reason or exc}"
    except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError) as exc:
        res.status, res.detail = RESET, f"{type(exc).__name__}: connection closed in handshake"
    except OSError as exc:
        res.status, res.detail = ERROR, f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    res.latency_s = time.monotonic() - start
    left = max(0.5, timeout - res.latency_s)
    if res.status in (UNKNOWN_AUTHORITY, HOSTNAME_MISMATCH, EXPIRED, _NOT_YET_VALID, ERROR) \
            and res.verify_code is not None:
        res.cert = await _fetch_unverified_cert(connector, host, left)
    elif res.status in (HTTP_RESPONSE, RESET, ERROR) and await _speaks_plain_http(
            connector, host, left):
        res.status = HTTP_RESPONSE
        res.detail += "; a plain GET /v2/ got an HTTP status line back"
    return res


async def _fetch_unverified_cert(connector: _Connector, host: str, timeout: float) -> dict[str, Any]:
    writer: asyncio.StreamWriter | None = None
    try:
        sslobj, writer = await asyncio.wait_for(
            _handshake(connector, host, client_context([], verify=False, purpose="probe"), timeout),
            timeout)
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        return _describe_certificate(der) if der else {}
    except (OSError, TimeoutError, ssl.SSLError, ValueError):
        return {}
    finally:
        if writer is not None:
            writer.close()
