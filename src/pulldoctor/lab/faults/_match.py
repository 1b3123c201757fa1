"""Shared rule fragments: how a fault names "traffic to this server" in nft syntax."""

from __future__ import annotations

from typing import Literal

from pulldoctor.errors import LabError
from pulldoctor.lab.topology import ADDRESSES

Proto = Literal["tcp", "udp"]


def server_addr(role: str) -> str:
    """The fixed address of a lab host, or a clear error for an unknown role."""
    try:
        return ADDRESSES[role]
    except KeyError:
        raise LabError(f"unknown lab host '{role}' (known: {', '.join(ADDRESSES)})") from None


def to_server(role: str, proto: Proto | None = None, port: int | None = None) -> str:
    """Match packets going to ``role`` (optionally one protocol and destination port)."""
    parts = [f"ip daddr {server_addr(role)}"]
    if proto is not None:
        parts.append(f"{proto} dport {port}" if port is not None else f"meta l4proto {proto}")
    elif port is not None:
        raise LabError("a port needs a protocol")
    return " ".join(parts)


def from_server(role: str, proto: Proto, port: int | None = None) -> str:
    """Match packets coming back from ``role`` (its replies)."""
    sport = f"{proto} sport {port}" if port is not None else f"meta l4proto {proto}"
    return f"ip saddr {server_addr(role)} {sport}"
