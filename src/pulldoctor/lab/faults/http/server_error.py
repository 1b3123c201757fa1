"""``server_error``: a 5xx (default 503) with a body, as a failing server or its gateway sends."""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.http import Answer, AnswerFault

_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


@dataclass(frozen=True)
class ServerError(AnswerFault):
    """Answer ``status`` (5xx) with ``body`` (default: a gateway's HTML page)."""

    name = "server_error"
    status: int = 503
    body: str | None = None
    content_type: str = "text/html"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 500 <= self.status <= 599:
            raise LabError("server_error status must be 5xx")

    def answer(self, client_ip: str) -> Answer:
        reason = _REASONS.get(self.status, "Server Error")
        body = (self.body if self.body is not None
                else f"<html><body><h1>{self.status} {reason}</h1></body></html>\n")
        return Answer(self.status, reason, (("Content-Type", self.content_type),), body.encode())
