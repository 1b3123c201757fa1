"""One fault family, toxiproxy-style: a fault is named, typed data, one module per fault.

Why data and not functions: a scenario is a tuple of faults, and the same tuple must be printable
(``pulldoctor lab list --json``), comparable in tests, sent to a server process as JSON and
applied by one generic builder. Every fault is a frozen dataclass with a unique ``name`` and a
``layer`` saying who carries it out:

* ``net`` (:class:`NetFault`, the modules directly in this package): nftables rules for a host's
  chain (:meth:`NetFault.rules`; :func:`apply_faults` merges every fault's rules into one ``inet
  pulldoctor`` table per host, so faults compose) plus whatever is not a rule
  (:meth:`NetFault.setup`: an MTU, a sysctl, a tmpfs, a helper process, through the
  :class:`~pulldoctor.lab.topology.Lab` so it is torn down with it);
* ``http`` (:class:`~pulldoctor.lab.faults.http.HttpFault`, in :mod:`.http`): done on the wire by
  a fault front (:mod:`pulldoctor.lab.services.faultfront`) before the lab server it names
  (``on``: the registry, the token realm or the CDN);
* ``dns`` (:class:`~pulldoctor.lab.faults.dns.DnsFault`, in :mod:`.dns`): done by the lab DNS
  server (:mod:`pulldoctor.lab.dnsserver`) for the query name it names (``host``).

Adding a fault is one module: a class with a new ``name`` registers itself when its module is
imported, and :func:`fault_classes` imports every module of this package. Field types are the
contract (``Literal`` for choices); ranges a type cannot say are checked in ``__post_init__``, so a
bad fault fails when it is written, not when a lab is built.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pulldoctor.errors import LabError

if TYPE_CHECKING:
    from pulldoctor.lab.topology import Lab

_Layer = Literal["net", "http", "dns"]
Role = Literal["registry", "cdn", "dns", "proxy", "auth"]
"""A lab server host, by role (addresses come from the topology)."""

_CLASSES: dict[str, type[Fault]] = {}

CHAINS: Mapping[str, str] = {
    # chain name -> nft base-chain declaration (filter hooks; priority 0)
    "forward": "type filter hook forward priority 0; policy accept;",
    "input": "type filter hook input priority 0; policy accept;",
    "output": "type filter hook output priority 0; policy accept;",
}


@dataclass(frozen=True)
class Fault:
    """Base of every fault: a ``name`` and a ``layer`` (class attributes) plus typed fields."""

    name: ClassVar[str] = ""
    layer: ClassVar[_Layer]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            other = _CLASSES.get(cls.name)
            if other is not None and other.__qualname__ != cls.__qualname__:
                raise TypeError(f"two faults are named {cls.name!r}: {other} and {cls}")
            _CLASSES[cls.name] = cls

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "layer": self.layer}
        for k, v in dataclasses.asdict(self).items():
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    def describe(self) -> str:
        attrs = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(self).items())
        return f"{self.name}({attrs})"


@dataclass(frozen=True)
class NftRule:
    """One nftables rule for ``chain`` of ``role``'s netns (the lab's path faults)."""

    role: str
    chain: str
    text: str


@dataclass(frozen=True)
class NetFault(Fault):
    """A fault of the path or of a host: nft rules and/or a setup step on the lab's hosts."""

    layer = "net"

    def rules(self, lab: Lab) -> list[NftRule]:
        return []

    def setup(self, lab: Lab) -> None:
        return None


@dataclass(frozen=True)
class AfterBytesFault(NetFault):
    """Base of the faults that strike once a connection to ``to``:``port`` carried ``after_bytes``
    from the server (``reset_after``, ``stall_after``): nft can only count a connection's bytes
    with conntrack accounting on in the router, which ``setup`` switches on."""

    to: Role = "registry"
    port: int | None = None
    after_bytes: int = 20_000

    def __post_init__(self) -> None:
        if self.after_bytes < 0:
            raise LabError(f"{self.name} after_bytes must be >= 0")

    def setup(self, lab: Lab) -> None:
        lab.sysctl("router", "net.netfilter.nf_conntrack_acct", "1")


def render_ruleset(rules: Iterable[NftRule]) -> dict[str, str]:
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
    """Apply the ``net`` faults: side effects first, then one nft table per host.

    HTTP and DNS faults are not applied here: the builder gives them to the fault fronts and
    the DNS server it starts.
    """
    net = [f for f in faults if isinstance(f, NetFault)]
    for f in net:
        f.setup(lab)
    rules = [r for f in net for r in f.rules(lab)]
    for role, text in render_ruleset(rules).items():
        lab.nft(role, text)


def fault_classes() -> dict[str, type[Fault]]:
    """Every fault class by name: each module of this package (and its subpackages) imported."""
    for mod in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if not mod.name.rsplit(".", 1)[1].startswith("_"):
            importlib.import_module(mod.name)
    return dict(sorted(_CLASSES.items()))


def fault_from_dict(data: Mapping[str, Any], layer: _Layer | None = None) -> Fault:
    """Build a fault from ``{"name": ..., **fields}`` (the JSON edge); a clear error for bad input.

    Lists become tuples and ``Literal`` fields are checked, so a fault read back from JSON is
    equal to the one written; ``layer`` insists on one layer (a server only runs its own kind).
    """
    classes = fault_classes()
    name = data.get("name")
    if name not in classes:
        raise LabError(f"unknown fault '{name}' (known: {', '.join(classes)})")
    cls = classes[name]
    if layer is not None and cls.layer != layer:
        raise LabError(f"fault '{name}' is a {cls.layer} fault, not a {layer} fault")
    attrs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
             if k not in ("name", "layer")}
    hints = typing.get_type_hints(cls)
    for key, value in attrs.items():
        allowed = _literal_values(hints.get(key))
        if allowed is not None and value not in allowed:
            raise LabError(f"fault '{name}': {key} must be one of "
                           f"{', '.join(map(repr, allowed))}, not {value!r}")
    try:
        return cls(**attrs)
    except TypeError as exc:
        raise LabError(f"fault '{name}': {exc}") from None


def _literal_values(hint: Any) -> tuple[Any, ...] | None:
    """The values a ``Literal[...]`` (or ``Literal[...] | None``) hint allows; None otherwise."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(hint):
            if arg is type(None):
                found.append(None)
            elif typing.get_origin(arg) is Literal:
                found += typing.get_args(arg)
            else:
                return None
        return tuple(found)
    return None
