"""``ratelimit``: 429 TOOMANYREQUESTS with Docker Hub's body and ``ratelimit-*`` headers."""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.errors import LabError
from pulldoctor.lab.faults.http import Answer, AnswerFault, registry_errors


@dataclass(frozen=True)
class RateLimit(AnswerFault):
    """429 with ``ratelimit-limit: <limit>;w=<window>``, ``ratelimit-remaining: 0;w=<window>`` and
    ``docker-ratelimit-source``, as Docker Hub sends them (window in seconds).

    ``retry_after`` (seconds) adds a Retry-After header; Docker Hub sends none, but
    containers/image honours it, which keeps its 5 retries short in tests.
    """

    name = "ratelimit"
    limit: int = 100
    window: int = 21600
    retry_after: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.limit < 1 or self.window < 1 or self.retry_after < 0:
            raise LabError("ratelimit: limit and window must be >= 1, retry_after >= 0")

    def answer(self, client_ip: str) -> Answer:
        headers = [("Content-Type", "application/json"),
                   ("ratelimit-limit", f"{self.limit};w={self.window}"),
                   ("ratelimit-remaining", f"0;w={self.window}"),
                   ("docker-ratelimit-source", client_ip)]
        if self.retry_after:
            headers.append(("Retry-After", str(self.retry_after)))
        body = registry_errors("TOOMANYREQUESTS",
                               "You have reached your pull rate limit. You may increase the limit "
                               "by authenticating and upgrading: https://www.docker.com/increase-limits")
        return Answer(429, "Too Many Requests", tuple(headers), body)
