"""Faults as named data, toxiproxy-style: a name plus attributes, composable, applied for real.

Why data and not functions: a scenario is a list of faults, and the same list must be printable
(``pulldoctor lab list --json``), comparable in tests and applied by one generic builder. Each
fault class (one module each) says what it does in two parts:

* :meth:`Fault.rules` -- nftables rules for a host's chain; :func:`apply_faults` merges the rules of
  every fault into one ``inet pulldoctor`` table per host and loads it with one ``nft -f``, so
  faults compose (a drop plus random loss is just two rules);
* :meth:`Fault.setup` -- everything that is not a firewall rule (an MTU, a sysctl, a tmpfs, a
  helper process), done through the :class:`~pulldoctor.lab.topology.Lab` so it is torn down
  with it.

Hosts are named by role (``"registry"``, ``"dns"`` ...); addresses come from the topology.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pulldoctor.errors import LabError

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

CHAINS: Mapping[str, str] = {
    # chain name -> nft base-chain declaration (filter hooks; priority 0)
    "forward": "type filter hook forward priority 0; policy accept;",
    "input": "type filter hook input priority 0; policy accept;",
    "output": "type filter hook output priority 0; policy accept;",
}


@dataclass(frozen=True, slots=True)
class Rule:
    """One nftables rule for ``chain`` of ``role``'s netns."""

    role: str
    chain: str
    text: str


@dataclass(frozen=True)
class Fault:
    """Base of every fault: a name (class attribute) plus dataclass fields as attributes."""

    name: ClassVar[str] = ""

    def rules(self, lab: Lab) -> list[Rule]:
        return []

    def setup(self, lab: Lab) -> None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **dataclasses.asdict(self)}

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(self).items())
        return f"{self.name}({attrs})"



@dataclass(frozen=True)
class AfterBytesFault(Fault):
    """Base of the faults that strike once a connection to ``to``:``port`` carried ``after_bytes``
    from the server (``reset_after``, ``stall_after``): nft can only count a connection's bytes
    with conntrack accounting on in the router, which ``setup`` switches on."""

    to: str = "registry"
    port: int | None = None
    after_bytes: int = 20_000

    def setup(self, lab: Lab) -> None:
        lab.sysctl("router", "net.netfilter.nf_conntrack_acct", "1")

def render_ruleset(rules: Iterable[Rule]) -> dict[str, str]:
    """One ``nft -f`` text per role holding all its rules (pure: testable without a lab)."""
    by_role: dict[str, dict[str, list[str]]] = {}
    for r in rules:
        if r.chain not in CHAINS:
            raise LabError(f"unknown nft chain '{r.chain}'")
        by_role.setdefault(r.role, {}).setdefault(r.chain, []).append(r.text)
    out = {}
    for role, chains in by_role.items():
        # 'add table' + 'delete table' makes the load idempotent: the table is replaced whole.
        lines = ["add table inet pulldoctor", "delete table inet pulldoctor",
                 "table inet pulldoctor {"]
        for chain, texts in chains.items():
            lines.append(f"  chain {chain} {{")
            lines.append(f"    {CHAINS[chain]}")
            lines.extend(f"    {t}" for t in texts)
            lines.append("  }")
        lines.append("}")
        out[role] = "\n".join(lines) + "\n"
    return out


def apply_faults(lab: Lab, faults: Iterable[Fault]) -> None:
    """Apply every fault: side effects first, then one nft table per host."""
    faults = list(faults)
    for f in faults:
        f.setup(lab)
    rules = [r for f in faults for r in f.rules(lab)]
    for role, text in render_ruleset(rules).items():
        lab.nft(role, text)


def fault_classes() -> dict[str, type[Fault]]:
    """Every fault class by name (imported here so the name -> class map is explicit)."""
    from pulldoctor.lab.faults.datadrop import DataDrop
    from pulldoctor.lab.faults.delay import Delay
    from pulldoctor.lab.faults.disk import TinyDisk
    from pulldoctor.lab.faults.drop import Drop
    from pulldoctor.lab.faults.loss import Loss
    from pulldoctor.lab.faults.mtu import MtuBlackhole
    from pulldoctor.lab.faults.ports import PortRange
    from pulldoctor.lab.faults.reject import Reject
    from pulldoctor.lab.faults.reset import ResetAfter
    from pulldoctor.lab.faults.route import NoRoute
    from pulldoctor.lab.faults.stall import StallAfter

    classes: list[type[Fault]] = [Drop, Reject, Loss, MtuBlackhole, StallAfter, ResetAfter,
                                  DataDrop, NoRoute, PortRange, TinyDisk, Delay]
    return {c.name: c for c in classes}


def fault_from_dict(data: Mapping[str, Any]) -> Fault:
    """Build a fault from ``{"name": ..., **attributes}``; a clear error for bad input."""
    classes = fault_classes()
    name = data.get("name")
    if name not in classes:
        raise LabError(f"unknown fault '{name}' (known: {', '.join(sorted(classes))})")
    attrs = {k: v for k, v in data.items() if k != "name"}
    try:
        return classes[name](**attrs)
    except TypeError as exc:
        raise LabError(f"fault '{name}': {exc}") from None
