"""The lab's real servers, each described as data: config files written under a work dir + argv.

Why data and not running objects: the lab core owns processes (it starts every service inside the
right network namespace with ``lab.spawn(role, spec.argv, env=spec.env)`` and records every PID so a
killed run can be reaped). A service module therefore only *writes its files* and returns a
:class:`ServiceSpec`; it never starts anything itself. That keeps each service testable on any
address (127.0.0.x in a scratch namespace, or a lab host's 198.18.x.y address).

Modules: :mod:`.tlsca` (CA and good / wrong-name / expired certs), :mod:`.docker_registry`
(docker-registry 2.8 config), :mod:`.token` (bearer-token server), :mod:`.cdn` (static server behind
the registry's ``redirect`` middleware), :mod:`.faultfront` (the HTTP front that does the lab's
HTTP faults, :mod:`pulldoctor.lab.faults.http`), :mod:`.silent` (accepts, never answers),
:mod:`.proxy` (tinyproxy config) and :mod:`.netns` (scratch namespaces for testing services).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """How to start one service: the lab runs ``argv`` with ``env`` in the host's namespace.

    ``port`` and ``scheme`` say where it answers once started, so callers can wait for the port and
    build URLs (``f"{spec.scheme}://{addr}:{spec.port}"``) without knowing the service's flags.
    """

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    scheme: str = "http"

    def url(self, host: str) -> str:
        """The base URL of this service when reached as ``host`` (a name or an address)."""
        return f"{self.scheme}://{host}:{self.port}"


def module_env() -> dict[str, str]:
    """Env that makes ``python -m pulldoctor...`` importable from a source tree or an install.

    The lab's Python servers run as separate processes inside namespaces; they must import the same
    pulldoctor as the process that wrote their config, wherever that lives.
    """
    src = str(Path(__file__).resolve().parents[3])
    current = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": f"{src}:{current}" if current else src, "PYTHONUNBUFFERED": "1"}


__all__ = ["ServiceSpec", "module_env"]
