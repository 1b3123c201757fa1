"""The fault front's faults as named data: one small class per fault, registered by name.

Why named data: a scenario says *what* goes wrong (``{"fault": "ratelimit", "path":
"/v2/.*/manifests/"}``) and the front in :mod:`.faultfront` does it for real on the wire, so every
client (dockerd, containerd, skopeo) meets the same byte-exact symptom and prints its own error.

Two kinds:

* *answer* faults never reach the registry; the front replies itself (``ratelimit``,
  ``server_error``, ``denied``);
* *body* faults forward the request, pass the registry's status line and headers through, then
  damage the body on its way back (``slow_body``, ``stall``, ``reset_mid_body``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

_CHUNK = 16384


class FaultConfigError(ValueError):
    """A rule names an unknown fault or gives it a bad parameter."""


def _int(params: Mapping[str, Any], key: str, default: int, low: int = 0) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise FaultConfigError(f"parameter {key!r} must be an integer >= {low}, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP response the front sends instead of asking the registry."""

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


class Fault:
    """Base of every fault; ``params`` are validated in ``__init__`` so bad data fails early."""

    name: ClassVar[str] = ""
    KNOWN: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Mapping[str, Any]) -> None:
        unknown = sorted(set(params) - set(self.KNOWN))
        if unknown:
            raise FaultConfigError(f"fault {self.name!r} has no parameter {unknown[0]!r}")


class AnswerFault(Fault):
    """A fault that answers on the registry's behalf."""

    def answer(self, client_ip: str) -> Answer:
        raise NotImplementedError


class BodyFault(Fault):
    """A fault that forwards the request and damages the response body on the way back."""

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        raise NotImplementedError


FAULTS: dict[str, type[Fault]] = {}


def register(cls: type[Fault]) -> type[Fault]:
    """Class decorator: make a fault available under its ``name``."""
    FAULTS[cls.name] = cls
    return cls


def make_fault(name: str, params: Mapping[str, Any]) -> Fault:
    """The fault called ``name`` with ``params``; :class:`FaultConfigError` if either is bad."""
    cls = FAULTS.get(name)
    if cls is None:
        raise FaultConfigError(f"unknown fault {name!r} (known: {', '.join(sorted(FAULTS))})")
    return cls(params)


def _json_errors(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


@register
class RateLimit(AnswerFault):
    """429 TOOMANYREQUESTS with Docker Hub's body and ``ratelimit-*`` headers (w = window, s).

    ``retry_after`` (seconds) adds a Retry-After header; Docker Hub sends none, but
    containers/image honours it, which keeps its 5 retries short in tests.
    """

    name = "ratelimit"
    KNOWN = ("limit", "window", "retry_after")

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.limit = _int(params, "limit", 100, 1)
        self.window = _int(params, "window", 21600, 1)
        self.retry_after = _int(params, "retry_after", 0)

    def answer(self, client_ip: str) -> Answer:
        headers = [("Content-Type", "application/json"),
                   ("ratelimit-limit", f"{self.limit};w={self.window}"),
                   ("ratelimit-remaining", f"0;w={self.window}"),
                   ("docker-ratelimit-source", client_ip)]
        if self.retry_after:
            headers.append(("Retry-After", str(self.retry_after)))
        body = _json_errors("TOOMANYREQUESTS",
                            "You have reached your pull rate limit. You may increase the limit "
                            "by authenticating and upgrading: https://www.docker.com/increase-limits")
        return Answer(429, "Too Many Requests", tuple(headers), body)


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


@register
class ServerError(AnswerFault):
    """A 5xx (default 503) with a body, as a failing registry or its gateway sends."""

    name = "server_error"
    KNOWN = ("status", "body", "content_type")

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.status = _int(params, "status", 503, 500)
        if self.status > 599:
            raise FaultConfigError("server_error status must be 5xx")
        reason = _REASONS.get(self.status, "Server Error")
        self.reason = reason
        self.body = str(params.get("body", f"<html><body><h1>{self.status} {reason}</h1>"
                                            "</body></html>\n")).encode()
        self.content_type = str(params.get("content_type", "text/html"))

    def answer(self, client_ip: str) -> Answer:
        return Answer(self.status, self.reason, (("Content-Type", self.content_type),), self.body)


@register
class Denied(AnswerFault):
    """403 DENIED, what registries send for a repository this account may not read."""

    name = "denied"
    KNOWN = ()

    def answer(self, client_ip: str) -> Answer:
        body = _json_errors("DENIED", "requested access to the resource is denied")
        return Answer(403, "Forbidden", (("Content-Type", "application/json"),), body)


@register
class SlowBody(BodyFault):
    """The body arrives at ``rate`` bytes per second (headers at once)."""

    name = "slow_body"
    KNOWN = ("rate",)

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.rate = _int(params, "rate", 1024, 1)

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        tick = 0.1
        per_tick = max(1, self.rate // 10)
        while True:
            started = time.monotonic()
            data = await src.read(per_tick)
            if not data:
                return
            dst.write(data)
            await dst.drain()
            await asyncio.sleep(max(0.0, tick * len(data) / per_tick - (time.monotonic() - started)))


@register
class Stall(BodyFault):
    """Status and headers, then nothing: the connection stays open for ``seconds`` (bounded)."""

    name = "stall"
    KNOWN = ("seconds",)

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.seconds = _int(params, "seconds", 300, 1)

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.seconds)


@register
class ResetMidBody(BodyFault):
    """Send ``after`` body bytes, then abort with a TCP RST (SO_LINGER 0), not a clean FIN."""

    name = "reset_mid_body"
    KNOWN = ("after",)

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.after = _int(params, "after", 65536)

    async def relay(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        left = self.after
        while left > 0:
            data = await src.read(min(_CHUNK, left))
            if not data:
                break
            dst.write(data)
            left -= len(data)
        await dst.drain()
        reset(dst)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close the client connection with RST: linger on, timeout 0, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
