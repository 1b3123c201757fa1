"""The explicit list of host checks, and which of them can explain which pull step or cause.

Registered by hand (not discovered) so the order is stable and a newcomer sees every check here.
``diagnose`` uses :func:`relevant_checks` (by step name) and :func:`checks_for_cause` (by cause
code) to run only what can confirm or rule out what it observed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pulldoctor.causes import Code
from pulldoctor.host import (
    clock,
    containerd_config,
    containers_config,
    cpu,
    credential_helpers,
    daemon_config,
    disk,
    firewall,
    kernel_udp,
    memory,
    resolver,
    routes_mtu,
    signature_policy,
)
from pulldoctor.host.context import CheckFn


@dataclass(frozen=True, slots=True)
class Check:
    """One host check: its name, its function, the cause codes it can support, the steps it
    explains, and the ``HostContext`` fields only a diagnose walk can fill (``uses``): diagnose
    runs the checks without them beside the walk and these after it, with what it learnt.
    ``in_diagnose`` False: diagnose proves the same with a step and classifier of its own (which
    know what the walk saw), so the check is ``host``'s only."""

    name: str
    run: CheckFn
    causes: tuple[Code, ...]
    steps: tuple[str, ...]  # keywords of diagnose step names this check can explain
    uses: tuple[str, ...] = ()  # registry_addresses, registry_date, udp_before, needed_bytes
    in_diagnose: bool = True


CHECKS: tuple[Check, ...] = (
    Check(daemon_config.NAME, daemon_config.check, (Code.DAEMON_CONFIG, Code.PROXY_ERROR),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(containerd_config.NAME, containerd_config.check, (Code.DAEMON_CONFIG,),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(containers_config.NAME, containers_config.check, (Code.DAEMON_CONFIG,),
          ("config", "registry", "ping", "tls", "auth", "token", "manifest")),
    Check(credential_helpers.NAME, credential_helpers.check, (Code.REGISTRY_CREDENTIAL_HELPER,),
          ("config", "token", "auth"), in_diagnose=False),
    Check(signature_policy.NAME, signature_policy.check,
          (Code.IMAGE_POLICY_REJECTED, Code.DAEMON_CONFIG), ("config", "manifest", "policy"),
          in_diagnose=False),
    Check(resolver.NAME, resolver.check, (Code.DNS_RESOLVER_UNREACHABLE, Code.DNS_UDP_TIMEOUT), ("dns",)),
    Check(kernel_udp.NAME, kernel_udp.check, (Code.HOST_KERNEL_UDP, Code.DNS_UDP_TIMEOUT), ("dns", "udp"),
          uses=("udp_before",)),
    Check(firewall.NAME, firewall.check,
          (Code.DNS_UDP_TIMEOUT, Code.DNS_RESOLVER_UNREACHABLE, Code.NET_TCP_TIMEOUT, Code.NET_REFUSED),
          ("dns", "tcp", "connect", "tls", "ping"), uses=("registry_addresses",)),
    Check(routes_mtu.NAME, routes_mtu.check, (Code.NET_UNREACHABLE, Code.NET_MTU, Code.DNS_RESOLVER_UNREACHABLE),
          ("dns", "tcp", "connect", "tls", "mtu", "blob", "layer"), uses=("registry_addresses",)),
    Check(disk.NAME, disk.check, (Code.HOST_DISK_FULL,), ("blob", "layer", "download", "unpack", "pull"),
          uses=("needed_bytes",)),
    Check(memory.NAME, memory.check, (Code.HOST_MEMORY,), ("blob", "layer", "unpack", "pull")),
    Check(cpu.NAME, cpu.check, (), ("blob", "layer", "unpack", "pull")),
    Check(clock.NAME, clock.check, (Code.TLS_EXPIRED,), ("tls", "token", "auth"),
          uses=("registry_date",)),
)

BY_NAME = {c.name: c for c in CHECKS}


def relevant_checks(step_name: str) -> list[Check]:
    """Checks that can explain a failure of the diagnose step ``step_name`` (e.g. "dns", "blob")."""
    s = step_name.lower()
    return [c for c in CHECKS if any(k in s for k in c.steps)]


def checks_for_cause(code: Code | str) -> list[Check]:
    """Checks whose findings can confirm cause ``code`` (e.g. Code.HOST_DISK_FULL -> [disk])."""
    return [c for c in CHECKS if code in c.causes]
