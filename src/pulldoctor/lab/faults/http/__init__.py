"""HTTP faults: done on the wire by a fault front before one lab server (``on``).

Why a front and not a patched server: the registry, the token server and the CDN stay real and
healthy; the front (:mod:`pulldoctor.lab.services.faultfront`) only bends the wire where a fault
says (a 429 on manifests, a stall on blobs), so the code path that meets the fault in production
meets it here, and every client prints its own error.

Two kinds, one module per fault in this package:

* *answer* faults (:class:`AnswerFault`) never reach the server; the front replies itself
  (``ratelimit``, ``server_error``, ``denied``);
* *body* faults (:class:`BodyFault`) forward the request, pass the server's status line and
  headers through, then damage the body on its way back (``slow_body``, ``stall``,
  ``reset_mid_body``).

Every HTTP fault says which requests it applies to: ``path`` (a regex searched in the request
path), ``methods`` and ``count`` (only the first N matching requests).
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from dataclasses import dataclass
from typing import Literal

from pulldoctor.errors import LabError
from pulldoctor.lab.faults import Fault

CHUNK = 16384
HttpHost = Literal["registry", "auth", "cdn"]
"""The lab servers a front can stand before: the registry, the token realm, the CDN."""


@dataclass(frozen=True)
class HttpFault(Fault):
    """Base of the HTTP faults: where (``on``) and to which requests it applies."""

    layer = "http"
    on: HttpHost = "registry"
    path: str | None = None
    methods: tuple[str, ...] | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.path is not None:
            try:
                re.compile(self.path)
            except re.error as exc:
                raise LabError(f"{self.name}: path is not a regex: {exc}") from None
        if self.count is not None and self.count < 1:
            raise LabError(f"{self.name}: count must be >= 1")
        if self.methods is not None and any(m != m.upper() for m in self.methods):
            raise LabError(f"{self.name}: methods are upper case (GET, HEAD)")

    def applies_to(self, method: str, path: str) -> bool:
        """Whether a request matches this fault's method and path (``count`` is the front's)."""
        if self.methods and method.upper() not in self.methods:
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP response the front sends instead of asking the server."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def render(self, *, head_only: bool = False) -> bytes:
        """The response bytes; ``head_only`` (for HEAD requests) keeps the headers, drops the body."""
        lines = [f"HTTP/1.1 {self.status} {self.reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        lines += [f"Content-Length: {len(self.body)}", "Connection: close", "", ""]
        return "\r\n".join(lines).encode("latin-1") + (b"" if head_only else self.body)


@dataclass(frozen=True)
class AnswerFault(HttpFault):
    """A fault that answers on the server's behalf."""

    def answer(self, client_ip: str) -> Answer:
        raise NotImplementedError


@dataclass(frozen=True)
class BodyFault(HttpFault):
    """A fault that forwards the request and damages the response body on the way back."""

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        raise NotImplementedError


def registry_errors(code: str, message: str) -> bytes:
    """A registry's JSON error body (distribution's ``{"errors": [...]}``)."""
    import json

    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close the client connection with RST: linger on, timeout 0, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
