"""The explicit list of host checks, and which of them can explain which pull step or cause.

Registered by hand (not discovered) so the order is stable and a newcomer sees every check here.
``diagnose`` uses :func:`relevant_checks` (by step name) and :func:`checks_for_cause` (by cause
code) to run only what can confirm or rule out what it observed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.host import (
    clock,
    containerd_config,
    containers_config,
    cpu,
    daemon_config,
    disk,
    firewall,
    kernel_udp,
    memory,
    resolver,
    routes_mtu,
)
from pulldoctor.host.context import CheckFn


@dataclass(frozen=True, slots=True)
class Check:
    """One host check: its name, its function, the cause codes it can support, the steps it explains."""

    name: str
    run: CheckFn
    causes: tuple[str, ...]
    steps: tuple[str, ...]  # keywords of diagnose step names this check can explain


CHECKS: tuple[Check, ...] = (
    Check(daemon_config.NAME, daemon_config.check, ("daemon.config", "proxy.error"),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(containerd_config.NAME, containerd_config.check, ("daemon.config",),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(containers_config.NAME, containers_config.check, ("daemon.config",),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(resolver.NAME, resolver.check, ("dns.resolver_unreachable", "dns.udp_timeout"), ("dns",)),
    Check(kernel_udp.NAME, kernel_udp.check, ("host.kernel_udp", "dns.udp_timeout"), ("dns", "udp")),
    Check(firewall.NAME, firewall.check,
          ("dns.udp_timeout", "dns.resolver_unreachable", "net.tcp_timeout", "net.refused"),
          ("dns", "tcp", "connect", "tls", "ping")),
    Check(routes_mtu.NAME, routes_mtu.check, ("net.unreachable", "net.mtu", "dns.resolver_unreachable"),
          ("dns", "tcp", "connect", "tls", "mtu", "blob", "layer")),
    Check(disk.NAME, disk.check, ("host.disk_full",), ("blob", "layer", "download", "unpack", "pull")),
    Check(memory.NAME, memory.check, ("host.memory",), ("blob", "layer", "unpack", "pull")),
    Check(cpu.NAME, cpu.check, (), ("blob", "layer", "unpack", "pull")),
    Check(clock.NAME, clock.check, ("tls.expired",), ("tls", "token", "auth")),
)

BY_NAME = {c.name: c for c in CHECKS}


def relevant_checks(step_name: str) -> list[Check]:
    """Checks that can explain a failure of the diagnose step ``step_name`` (e.g. "dns", "blob")."""
    s = step_name.lower()
    return [c for c in CHECKS if any(k in s for k in c.steps)]


def checks_for_cause(code: str) -> list[Check]:
    """Checks whose findings can confirm cause ``code`` (e.g. "host.disk_full" -> [disk])."""
    return [c for c in CHECKS if code in c.causes]
