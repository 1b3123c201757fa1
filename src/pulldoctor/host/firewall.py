"""Firewall rules that drop or reject what a pull needs: DNS (udp/tcp 53), the registry's port, its
addresses. Read from ``nft -j list ruleset`` and ``iptables-save`` / ``ip6tables-save``.

"i/o timeout" is what a DROP rule looks like from the client, so naming the exact rule (table, chain,
handle, comment) is the difference between "the network is flaky" and a one-line fix. Only rules
whose verdict is drop/reject and whose match we can evaluate are named; everything is read-only.
Listing rules needs CAP_NET_ADMIN; without it the check says so instead of guessing.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
from dataclasses import dataclass
from typing import Any

from pulldoctor.causes import Code
from pulldoctor.host.context import HostContext, outcome_of
from pulldoctor.model import Finding, Outcome, Step

NAME = "firewall"


@dataclass(frozen=True, slots=True)
class Target:
    """One flow a pull needs: protocol, destination port, and the addresses (empty: any)."""

    proto: str
    port: int
    addrs: tuple[str, ...]
    what: str  # "DNS to the resolver", "HTTPS to the registry"
    code_drop: Code
    code_reject: Code


def _ports(right: Any) -> set[int] | None:
    """An nft JSON right-hand side as a port set (None: not a port expression we understand)."""
    if isinstance(right, int):
        return {right}
    if isinstance(right, dict) and "set" in right:
        out: set[int] = set()
        for x in right["set"]:
            p = _ports(x)
            if p is None:
                return None
            out |= p
        return out
    if isinstance(right, dict) and "range" in right:
        a, b = right["range"]
        return set(range(int(a), int(b) + 1))
    return None


def _nets(right: Any) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    try:
        if isinstance(right, str):
            return [ipaddress.ip_network(right, strict=False)]
        if isinstance(right, dict) and "prefix" in right:
            return [ipaddress.ip_network(f"{right['prefix']['addr']}/{right['prefix']['len']}", strict=False)]
        if isinstance(right, dict) and "set" in right:
            out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
            for x in right["set"]:
                n = _nets(x)
                if n is None:
                    return None
                out += n
            return out
    except (ValueError, KeyError, TypeError):
        return None
    return None


@dataclass(slots=True)
class _RuleMatch:
    """What one rule matches, as far as pulldoctor can evaluate it."""

    proto: str | None = None
    dports: set[int] | None = None
    daddrs: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None
    unknown: bool = False  # a condition we cannot evaluate (interface, state, marks...)

    def hits(self, t: Target) -> bool:
        if self.proto and self.proto != t.proto:
            return False
        if self.dports is not None and t.port not in self.dports:
            return False
        if self.daddrs is not None:
            if not t.addrs:
                return False
            ips = [ipaddress.ip_address(a.split("%")[0]) for a in t.addrs]
            if not any(ip in n for ip in ips for n in self.daddrs):
                return False
        return self.proto is not None or self.daddrs is not None


def nft_rule_match(expr: list[dict[str, Any]]) -> tuple[_RuleMatch, str | None]:
    """(match, verdict) of one nft JSON rule's expressions (pure)."""
    m = _RuleMatch()
    verdict: str | None = None
    for e in expr:
        if "drop" in e or "reject" in e:
            verdict = "drop" if "drop" in e else "reject"
        elif "accept" in e:
            verdict = "accept"
        elif "match" in e:
            mt = e["match"]
            left, right, op = mt.get("left", {}), mt.get("right"), mt.get("op", "==")
            if op not in ("==", "in"):
                m.unknown = True
                continue
            payload = left.get("payload") if isinstance(left, dict) else None
            meta = left.get("meta") if isinstance(left, dict) else None
            if payload and payload.get("field") == "dport":
                m.proto = payload.get("protocol")
                m.dports = _ports(right)
                m.unknown |= m.dports is None
            elif payload and payload.get("field") == "daddr":
                m.daddrs = _nets(right)
                m.unknown |= m.daddrs is None
            elif meta and meta.get("key") == "l4proto" and isinstance(right, str):
                m.proto = right
            else:
                m.unknown = True
        elif any(k in e for k in ("counter", "log", "comment")):
            continue
        else:
            m.unknown = True
    return m, verdict


def _parse_nft(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rules, chains) from ``nft -j list ruleset`` output (pure)."""
    rules, chains = [], []
    for item in doc.get("nftables", []):
        if "rule" in item:
            rules.append(item["rule"])
        elif "chain" in item:
            chains.append(item["chain"])
    return rules, chains


def iptables_rule_match(args: list[str]) -> tuple[_RuleMatch, str | None]:
    """(match, verdict) of one ``-A CHAIN ...`` line's arguments (pure)."""
    m = _RuleMatch()
    verdict: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else ""
        if a == "!":  # a negated match ("! --dport 53"): not something this rule drops
            m.unknown = True
            return m, None
        if a in ("-p", "--protocol"):
            m.proto, i = nxt.lower(), i + 2
        elif a in ("--dport", "--destination-port"):
            lo, _, hi = nxt.partition(":")
            m.dports, i = set(range(int(lo), int(hi or lo) + 1)), i + 2
        elif a in ("--dports", "--destination-ports"):
            ports: set[int] = set()
            for part in nxt.split(","):
                lo, _, hi = part.partition(":")
                ports |= set(range(int(lo), int(hi or lo) + 1))
            m.dports, i = ports, i + 2
        elif a in ("-d", "--destination"):
            m.daddrs = _nets(nxt) if "," not in nxt else [ipaddress.ip_network(x, strict=False) for x in nxt.split(",")]
            i += 2
        elif a in ("-j", "--jump"):
            verdict = {"DROP": "drop", "REJECT": "reject", "ACCEPT": "accept"}.get(nxt)
            i += 2
        elif a == "-m" or a.startswith("--reject-with") or a == "--comment":
            i += 2
        elif a.startswith("-"):
            m.unknown = True
            i += 2 if nxt and not nxt.startswith("-") else 1
        else:
            i += 1
    return m, verdict


def _targets_for(ctx: HostContext) -> list[Target]:
    cfg = ctx.pull_config()
    targets: list[Target] = []
    resolvers = tuple(cfg.resolver.nameservers + cfg.resolver.stub_upstreams) if cfg else ()
    targets.append(Target("udp", 53, resolvers, "DNS over UDP to the resolver", Code.DNS_UDP_TIMEOUT,
                          Code.DNS_RESOLVER_UNREACHABLE))
    targets.append(Target("tcp", 53, resolvers, "DNS over TCP to the resolver", Code.DNS_UDP_TIMEOUT,
                          Code.DNS_RESOLVER_UNREACHABLE))
    ports = {443}
    for ep in cfg.endpoints if cfg else []:
        hp = ep.host.rsplit(":", 1)
        if len(hp) == 2 and hp[1].isdigit():
            ports.add(int(hp[1]))
    for p in sorted(ports):
        targets.append(Target("tcp", p, tuple(ctx.registry_addresses), f"TCP {p} to the registry",
                              Code.NET_TCP_TIMEOUT, Code.NET_REFUSED))
    return targets


def _finding(t: Target, verdict: str, where: str, fix: str) -> Finding:
    return Finding(f"firewall rule {verdict}s {t.what}", "error",
                   t.code_drop if verdict == "drop" else t.code_reject,
                   [f"{where} {verdict}s {t.proto}/{t.port}"
                    + (f" to {', '.join(t.addrs)}" if t.addrs else "")], [fix])


_XT_TABLES = ("filter", "nat", "mangle", "raw", "security")


def _iptables_is_nft(ctx: HostContext) -> bool:
    """iptables-nft writes into nft tables ip/ip6 filter...; those rules are named via iptables-save."""
    rc, out, _ = ctx.run(["iptables-save", "-V"])
    return rc == 0 and "nf_tables" in out


def _nft(ctx: HostContext, targets: list[Target], findings: list[Finding], ev: list[str]) -> bool:
    skip_xt = _iptables_is_nft(ctx)
    rc, out, err = ctx.run(["nft", "-j", "list", "ruleset"])
    if rc != 0:
        ev.append("nft: " + (err.strip().splitlines() or ["failed"])[0]
                  + (" (needs root / CAP_NET_ADMIN)" if "ermission" in err or "not permitted" in err else ""))
        return False
    rules, chains = _parse_nft(json.loads(out or "{}"))
    ev.append(f"nft: {len(rules)} rules in {len(chains)} chains")
    for c in chains:
        if c.get("hook") == "output" and c.get("policy") == "drop":
            findings.append(Finding(f"nft chain {c['family']} {c['table']} {c['name']} drops all output "
                                    "not accepted explicitly", "warning", None,
                                    [f"chain {c['name']} hook output policy drop"],
                                    [f"nft list chain {c['family']} {c['table']} {c['name']}"]))
    for r in rules:
        if skip_xt and r.get("family") in ("ip", "ip6") and r.get("table") in _XT_TABLES:
            continue  # an iptables-nft rule: reported below with its iptables delete command
        m, verdict = nft_rule_match(r.get("expr", []))
        if verdict not in ("drop", "reject"):
            continue
        where = (f"nft rule {r['family']} {r['table']} {r['chain']} handle {r['handle']}"
                 + (f" ({r['comment']!r})" if r.get("comment") else "") + (" [has other conditions]" if m.unknown else ""))
        for t in targets:
            if m.hits(t):
                findings.append(_finding(t, verdict, where,
                                         f"nft delete rule {r['family']} {r['table']} {r['chain']} handle {r['handle']}"))
    return True


def _iptables(ctx: HostContext, targets: list[Target], findings: list[Finding], ev: list[str]) -> None:
    for tool in ("iptables-save", "ip6tables-save"):
        rc, out, err = ctx.run([tool])
        if rc != 0:
            ev.append(f"{tool}: " + (err.strip().splitlines() or ["failed"])[0])
            continue
        table = "filter"
        n = 0
        for line in out.splitlines():
            if line.startswith("*"):
                table = line[1:].strip()
            if line.startswith(":OUTPUT DROP") or line.startswith(":OUTPUT REJECT"):
                findings.append(Finding(f"{tool} -t {table}: the OUTPUT policy drops everything not "
                                        "accepted explicitly", "warning", None, [line],
                                        [f"{tool.replace('-save', '')} -t {table} -S OUTPUT"]))
            if not line.startswith("-A "):
                continue
            n += 1
            args = shlex.split(line)
            m, verdict = iptables_rule_match(args[2:])
            if verdict not in ("drop", "reject"):
                continue
            for t in targets:
                if m.hits(t):
                    cmd = tool.replace("-save", "")
                    findings.append(_finding(t, verdict, f"{tool} -t {table}: {line}",
                                             f"{cmd} -t {table} -D {line[3:]}"))
        ev.append(f"{tool}: {n} rules")


def check(ctx: HostContext) -> Step:
    targets = _targets_for(ctx)
    findings: list[Finding] = []
    ev: list[str] = []
    nft_ok = _nft(ctx, targets, findings, ev)
    _iptables(ctx, targets, findings, ev)
    if not nft_ok and not any(e.endswith(" rules") for e in ev):
        return Step(NAME, Outcome.SKIPPED, summary="firewall rules could not be listed (run as root)",
                    evidence=ev)
    seen: set[tuple[str, str]] = set()
    unique = []
    for f in findings:
        key = (f.title, f.evidence[0] if f.evidence else "")
        if key not in seen:
            seen.add(key)
            unique.append(f)
    summary = unique[0].title if unique else "no rule drops DNS or the registry's port"
    return Step(NAME, outcome_of(unique), summary=summary, evidence=ev, findings=unique,
                data={"targets": [f"{t.proto}/{t.port}" for t in targets]})
