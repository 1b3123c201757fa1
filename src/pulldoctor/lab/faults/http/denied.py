"""``denied``: 403 DENIED, what registries send for a repository this account may not read."""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.lab.faults.http import Answer, AnswerFault, registry_errors


@dataclass(frozen=True)
class Denied(AnswerFault):
    """403 with the registry error code DENIED."""

    name = "denied"

    def answer(self, client_ip: str) -> Answer:
        body = registry_errors("DENIED", "requested access to the resource is denied")
        return Answer(403, "Forbidden", (("Content-Type", "application/json"),), body)
