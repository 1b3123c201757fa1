"""TLS material for the lab: one trustme CA and the leaf certificates the TLS scenarios need.

Why a real CA and not ``--tls-verify=false``: the TLS causes (unknown authority, wrong name,
expired) only show their true error strings when clients really verify a chain. So every lab run
gets a fresh CA; a *good* cert names the host, a *wrong-name* cert is valid but for another name,
and an *expired* cert has a validity window entirely in the past. The CA file is what a client
trusts (``/etc/docker/certs.d/HOST:PORT/ca.crt``, ``/etc/containers/certs.d/...``); the lab core
places it in the client's files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import trustme


class CertKind(StrEnum):
    """Which certificate the server should present."""

    GOOD = "good"
    WRONG_NAME = "wrong_name"
    EXPIRED = "expired"


#: The name a wrong-name certificate is issued for: inside the lab zone, never any host's real name.
WRONG_NAME = "not-this-host.lab.test"


@dataclass(frozen=True, slots=True)
class _CertFiles:
    """PEM files of one leaf: ``cert`` holds the leaf then the CA chain, ``key`` its private key."""

    cert: Path
    key: Path
    kind: CertKind
    names: tuple[str, ...]


class LabCA:
    """A throw-away CA whose PEM file lives at ``ca_path``; it issues leaves into ``workdir``."""

    def __init__(self, workdir: Path | str) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._ca = trustme.CA(organization_name="pulldoctor lab")
        self.ca_path = self.workdir / "ca.crt"
        self._ca.cert_pem.write_to_path(str(self.ca_path))

    def issue(self, names: list[str] | tuple[str, ...], kind: CertKind | str = CertKind.GOOD,
              *, stem: str | None = None) -> _CertFiles:
        """Write a leaf for ``names`` (host names or IP addresses) of the given kind.

        The wrong-name leaf ignores ``names`` on purpose (it is issued for :data:`WRONG_NAME`), so
        a client that connects to any of ``names`` fails hostname verification. The expired leaf
        names ``names`` correctly but ended a day ago, so only the validity check fails.
        """
        kind = CertKind(kind)
        if not names:
            raise ValueError("a certificate needs at least one name")
        if kind is CertKind.WRONG_NAME:
            idents: tuple[str, ...] = (WRONG_NAME,)
            leaf = self._ca.issue_cert(WRONG_NAME)
        elif kind is CertKind.EXPIRED:
            idents = tuple(names)
            now = dt.datetime.now(dt.UTC)
            leaf = self._ca.issue_cert(*idents, not_before=now - dt.timedelta(days=30),
                                       not_after=now - dt.timedelta(days=1))
        else:
            idents = tuple(names)
            leaf = self._ca.issue_cert(*idents)
        base = stem or f"{_safe(names[0])}-{kind.value}"
        cert_path = self.workdir / f"{base}.crt"
        key_path = self.workdir / f"{base}.key"
        with cert_path.open("wb") as fh:
            for blob in leaf.cert_chain_pems:
                fh.write(blob.bytes())
        leaf.private_key_pem.write_to_path(str(key_path))
        key_path.chmod(0o600)
        return _CertFiles(cert_path, key_path, kind, idents)


def _safe(name: str) -> str:
    """A file-name-safe form of a host name or address."""
    return "".join(c if c.isalnum() or c in ".-" else "_" for c in name) or "host"
