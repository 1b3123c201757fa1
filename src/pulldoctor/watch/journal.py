"""``--journal``: follow ``journalctl -f -o json`` for the container runtime and kubelet units.

Why a ``journalctl`` child and not libsystemd: it is on every systemd host, needs no binding, and
its JSON output is a stable interface. Each output line is one entry; pulldoctor reads
``MESSAGE`` (a string, or an array of bytes when the message is not UTF-8), ``__CURSOR`` (the
position), ``__REALTIME_TIMESTAMP`` (microseconds), ``_SYSTEMD_UNIT`` and ``SYSLOG_IDENTIFIER``.
``--all`` keeps journalctl from printing long fields as ``null``.

The parsing is pure (:func:`parse_entry`, :func:`cursor_of`); only lines holding a trigger word
are decoded as JSON, and the cursor is taken from the last line of each batch, so healthy
traffic costs a prefilter pass and one small regex per batch. A restart resumes with
``--after-cursor``; a cursor the journal no longer has (vacuumed) falls back to the time the
cursor names (its ``t=`` field), so the gap is read rather than skipped.
"""

from __future__ import annotations

import json
import os
import queue
import re
import selectors
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

from pulldoctor.watch.model import Batch, SourceKind
from pulldoctor.watch.recognise import Decoder, Record
from pulldoctor.watch.sources import Source

UNITS: tuple[str, ...] = ("docker.service", "containerd.service", "crio.service",
                          "kubelet.service")
"""The units followed by default: every runtime that pulls, and kubelet, which reports it."""

_UNIT_RUNTIME = {"docker.service": "docker", "containerd.service": "containerd",
                "crio.service": "podman", "kubelet.service": "auto"}
"""Whose configuration a capture diagnosis walks with, by the unit that logged the failure."""

CHUNK = 1024 * 1024
_CURSOR = re.compile(rb'"__CURSOR"\s*:\s*"([^"]+)"')
_REALTIME = re.compile(rb'"__REALTIME_TIMESTAMP"\s*:\s*"(\d+)"')
_CURSOR_TIME = re.compile(r"(?:^|;)t=([0-9a-f]+)")


class JournalFormatError(ValueError):
    """A line of journalctl output that is not a JSON journal entry."""


@dataclass(frozen=True, slots=True)
class Entry:
    """The fields of one journal entry that ``watch`` uses."""

    cursor: str
    realtime: float | None
    unit: str
    identifier: str
    message: str


def _field_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if value and all(isinstance(v, int) and 0 <= v < 256 for v in value):
            return bytes(value).decode("utf-8", errors="replace")  # a non-UTF-8 message
        # a field given several times is printed as a list of its values
        return "\n".join(_field_text(v) for v in value)
    return ""


def parse_entry(line: bytes | str) -> Entry:
    """One line of ``journalctl -o json``; :class:`JournalFormatError` when it is not one."""
    try:
        doc = json.loads(line)
    except ValueError as exc:
        raise JournalFormatError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("__CURSOR"), str):
        raise JournalFormatError("not a journal entry (no __CURSOR)")
    rt = doc.get("__REALTIME_TIMESTAMP")
    realtime = int(rt) / 1e6 if isinstance(rt, str) and rt.isdigit() else None
    return Entry(
        cursor=doc["__CURSOR"], realtime=realtime,
        unit=_field_text(doc.get("_SYSTEMD_UNIT") or doc.get("UNIT")),
        identifier=_field_text(doc.get("SYSLOG_IDENTIFIER")),
        message=_field_text(doc.get("MESSAGE")),
    )


def cursor_of(line: bytes) -> tuple[str | None, float | None]:
    """(cursor, realtime) of one output line without decoding the whole JSON object."""
    c = _CURSOR.search(line)
    t = _REALTIME.search(line)
    return (c.group(1).decode("ascii", "replace") if c else None,
            int(t.group(1)) / 1e6 if t else None)


def cursor_time(cursor: str) -> float | None:
    """The wall-clock time a cursor names (``t=`` is hex microseconds), for the fallback."""
    m = _CURSOR_TIME.search(cursor)
    return int(m.group(1), 16) / 1e6 if m else None


def journalctl_argv(units: tuple[str, ...], *, cursor: str | None, since: float | None = None,
                    directory: str | None = None, binary: str = "journalctl") -> list[str]:
    argv = [binary, "--follow", "--output=json", "--all", "--no-pager", "--quiet"]
    if directory:
        argv.append(f"--directory={directory}")
    for u in units:
        argv.append(f"--unit={u}")
    if cursor and since is None:
        argv.append(f"--after-cursor={cursor}")
    elif since is not None:
        argv.append(f"--since=@{since:.6f}")
    else:
        argv.append("--lines=0")  # only what is logged from now on
    return argv


def journal_decoder(kube_units: frozenset[str] = frozenset({"kubelet.service"})) -> Decoder:
    """The decoder the recogniser uses for journalctl lines."""

    def decode(raw: bytes, _offset: int) -> Record | None:
        try:
            e = parse_entry(raw)
        except JournalFormatError:
            return None
        origin = e.unit or e.identifier
        return Record(e.message, e.cursor, at=e.realtime, origin=origin,
                      runtime=_UNIT_RUNTIME.get(e.unit), kubernetes=e.unit in kube_units)

    return decode


class JournalSource(Source):
    kind = SourceKind.JOURNAL

    def __init__(self, out: queue.Queue[Batch], stop: threading.Event, position: str | None,
                 *, units: tuple[str, ...] = UNITS, directory: str | None = None) -> None:
        super().__init__("journal", out, stop, position)
        self.units = units
        self.directory = directory
        self.recogniser.origin = "journal"
        self._decode = journal_decoder()
        self._since: float | None = None

    def follow(self) -> None:
        binary = shutil.which("journalctl")
        if binary is None:
            self.note("journalctl is not installed: the journal cannot be followed", up=False)
            self.stop.wait(60)
            return
        argv = journalctl_argv(self.units, cursor=self.position, since=self._since,
                               directory=self.directory, binary=binary)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        assert proc.stdout is not None and proc.stderr is not None
        err = bytearray()
        try:
            self.note(f"journal: following {', '.join(self.units)}", up=True)
            self._pump(proc, err)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        if self.stop.is_set():
            return
        message = bytes(err).decode("utf-8", "replace").strip().splitlines()
        last = message[-1] if message else f"exit code {proc.returncode}"
        if self.position and "cursor" in last.lower() and self._since is None:
            self._since = cursor_time(self.position)  # the cursor is gone: resume by time
        self.note(f"journal: journalctl stopped ({last}); restarting", up=False)

    def _pump(self, proc: subprocess.Popen[bytes], err: bytearray) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        sel = selectors.DefaultSelector()
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        sel.register(out_fd, selectors.EVENT_READ)
        sel.register(err_fd, selectors.EVENT_READ)
        carry = b""
        try:
            while not self.stop.is_set():
                ready = sel.select(timeout=0.5)
                if not ready:
                    if proc.poll() is not None:
                        return
                    continue
                for key, _ in ready:
                    data = os.read(key.fd, CHUNK)
                    if key.fd == err_fd:
                        if not data:
                            sel.unregister(err_fd)
                        elif len(err) < 64 * 1024:
                            err.extend(data)
                        continue
                    if not data:
                        return  # journalctl exited
                    carry = self._process(carry + data if carry else data)
        finally:
            sel.close()

    def _process(self, buf: bytes) -> bytes:
        cut = buf.rfind(b"\n") + 1
        if cut == 0:
            return buf if len(buf) < 64 * 1024 * 1024 else b""
        sightings, pulled, errors = self.recogniser.scan(buf, 0, cut, decode=self._decode,
                                                         whole=True)
        last_start = buf.rfind(b"\n", 0, cut - 1) + 1
        cursor, realtime = cursor_of(buf[last_start:cut])
        if cursor is None:
            errors += 1
        else:
            self.position = cursor
            self._since = None
        lag = max(0.0, time.time() - realtime) if realtime else None
        self.emit(Batch(self.id, self.kind, sightings=sightings, pulled=pulled,
                        lines=buf.count(b"\n", 0, cut), parse_errors=errors,
                        position=cursor, lag_s=lag))
        return buf[cut:]
