"""``--file PATH``: follow a log file the way ``tail -F`` does, through rotation, without loss.

The position is ``dev:inode:offset:n:crc`` of the end of the last whole line handed to the
writer, with a fingerprint (CRC-32 of the file's first ``n`` <= 256 bytes) because a deleted
file's inode number is soon reused by the next file. On restart the file is found again by its
inode and fingerprint: still at PATH (resume at the offset), renamed by
logrotate to a sibling such as ``PATH.1`` (finish that one, then read PATH from its start), or gone
(read PATH from its start and say so). While running, a new inode at PATH means the file was
rotated: the old one is read to its end first. A file shorter than the offset was truncated in
place (``copytruncate``): reading starts again at 0; lines written between logrotate's copy and
its truncate are lost, which no reader can avoid.

Bounded memory whatever the input: a partial line longer than :data:`MAX_CARRY` (a 10 MB line,
binary junk with no newline) is looked at in windows around its trigger words and dropped.
Polling (not inotify, which the standard library lacks) costs one ``stat`` and one ``read`` per
file every :data:`POLL_S`, so an idle watcher sleeps.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pulldoctor.watch.model import Batch, SourceKind
from pulldoctor.watch.recognise import plain_decoder
from pulldoctor.watch.sources import Source

CHUNK = 1024 * 1024
_BATCH_BYTES = 4 * CHUNK
"""Read up to this much before handing a batch over (fewer, larger transactions when behind)."""
MAX_CARRY = 1024 * 1024
POLL_S = 0.25


_FINGERPRINT = 256


@dataclass(frozen=True, slots=True)
class _Position:
    dev: int
    ino: int
    offset: int
    fp_len: int = 0
    fp_crc: int = 0

    def __str__(self) -> str:
        return f"{self.dev}:{self.ino}:{self.offset}:{self.fp_len}:{self.fp_crc}"

    def matches(self, path: Path) -> bool:
        """``path`` is this file: same inode and the same first bytes."""
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                head = f.read(self.fp_len)
        except OSError:
            return False
        return ((st.st_dev, st.st_ino) == (self.dev, self.ino) and len(head) == self.fp_len
                and zlib.crc32(head) == self.fp_crc)


def _parse_position(position: str | None) -> _Position | None:
    if not position:
        return None
    try:
        return _Position(*(int(x) for x in position.split(":")))
    except (ValueError, TypeError):
        return None


def fingerprint(fd: int) -> tuple[int, int]:
    head = os.pread(fd, _FINGERPRINT, 0)
    return len(head), zlib.crc32(head)


def _find_inode(path: Path, saved: _Position) -> Path | None:
    """A sibling of ``path`` (``path.1``, ``path-20261205``...) that is the file (dev, ino)."""
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return None
    for entry in entries:
        if not entry.name.startswith(path.name) or entry.name == path.name:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (saved.dev, saved.ino) and saved.matches(Path(entry.path)):
            return Path(entry.path)
    return None


class FileSource(Source):
    kind = SourceKind.FILE

    def __init__(self, path: Path, out: queue.Queue[Batch], stop: threading.Event,
                 position: str | None = None, *, from_start: bool = False,
                 poll_s: float = POLL_S) -> None:
        super().__init__(f"file:{path}", out, stop, position)
        self.path = path
        self.from_start = from_start
        self.poll_s = poll_s
        self.recogniser.origin = str(path)
        self._f: BinaryIO | None = None
        self._dev = self._ino = 0
        self._offset = 0  # source offset of the next byte to read
        self._carry = b""
        self._then_path = False  # reading a rotated file found at start-up; PATH comes next
        self._gone = False

    # ------------------------------------------------------------------ opening
    def _open(self, path: Path, offset: int) -> bool:
        try:
            f = open(path, "rb", buffering=0)  # noqa: SIM115 - kept open while following
        except OSError as exc:
            if not self._gone:
                self.note(f"{self.path}: cannot open: {exc.strerror or exc}", up=False)
                self._gone = True
            return False
        st = os.fstat(f.fileno())
        if offset > st.st_size:
            offset = 0
        f.seek(offset)
        self._close()
        self._f, self._dev, self._ino, self._offset, self._carry = f, st.st_dev, st.st_ino, offset, b""
        return True

    def _close(self) -> None:
        if self._f is not None:
            try:
                self._f.close()
            except OSError:
                pass
            self._f = None

    def _start(self) -> bool:
        saved = _parse_position(self.position)
        try:
            st = os.stat(self.path)
        except OSError:
            st = None
        if saved is not None:
            off = saved.offset
            if st is not None and saved.matches(self.path):
                if st.st_size < off:
                    self.note(f"{self.path} is shorter than where we stopped (truncated): "
                              "reading it from its start", up=True)
                    off = 0
                return self._open(self.path, off)
            rotated = _find_inode(self.path, saved)
            if rotated is not None and self._open(rotated, off):
                self._then_path = True
                self.note(f"{self.path} was rotated while we were stopped: finishing {rotated.name}"
                          " first", up=True)
                return True
            if st is not None:
                self.note(f"{self.path} was replaced while we were stopped and the old file is "
                          "gone: reading the new one from its start", up=True)
                return self._open(self.path, 0)
            return False
        if st is None:
            return False
        return self._open(self.path, 0 if self.from_start else st.st_size)

    # ------------------------------------------------------------------ following
    def follow(self) -> None:
        if not self._start():
            if not self._gone:
                self.note(f"{self.path} does not exist (yet): waiting for it", up=False)
                self._gone = True
            while not self.stop.wait(self.poll_s):
                if self.path.exists():
                    self.position = None
                    if self._open(self.path, 0):
                        break
            else:
                return
        if self._gone:
            self._gone = False
            self.note(f"{self.path} is back: following it", up=True)
        try:
            while not self.stop.is_set():
                if self._read_available():
                    continue  # more may be waiting: read again before sleeping
                self._check_rotation()
                self.stop.wait(self.poll_s)
        finally:
            self._close()

    def _read_available(self) -> bool:
        """Read what is there (up to BATCH_BYTES) and emit it; True if anything was read."""
        assert self._f is not None
        parts: list[bytes] = []
        size = 0
        while size < _BATCH_BYTES:
            try:
                data = self._f.read(CHUNK)
            except OSError as exc:
                self.note(f"{self.path}: read failed: {exc.strerror or exc}", up=False)
                return False
            if not data:
                break
            parts.append(data)
            size += len(data)
        if not parts:
            return False
        self._process(b"".join(parts))
        return True

    def _process(self, data: bytes) -> None:
        base = self._offset - len(self._carry)
        buf = self._carry + data if self._carry else data
        self._offset += len(data)
        cut = buf.rfind(b"\n") + 1
        lines = data.count(b"\n")
        drop = len(buf) - cut > MAX_CARRY
        end = len(buf) if drop else cut  # a partial line too long to keep is looked at now
        sightings, pulled, errors = self.recogniser.scan(
            buf, 0, end, base=base, decode=plain_decoder(f"{self._dev}:{self._ino}:"))
        self._carry = b"" if drop else buf[cut:]
        position = self._position(base + end)
        self.position = position
        try:
            lag = max(0.0, time.time() - os.stat(self.path).st_mtime) if self._f else None
        except OSError:
            lag = None
        self.emit(Batch(self.id, self.kind, sightings=sightings, pulled=pulled, lines=lines,
                        parse_errors=errors, position=position, lag_s=lag))

    def _position(self, offset: int) -> str:
        n, crc = fingerprint(self._f.fileno()) if self._f is not None else (0, 0)
        return str(_Position(self._dev, self._ino, offset, n, crc))

    def _flush_carry(self) -> None:
        """The last line of a file that is being left, even without its newline."""
        if self._carry:
            self._process(b"\n")
            self._offset -= 1  # the newline was ours, not the file's

    def _check_rotation(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError:
            if not self._gone:
                self._gone = True
                self.note(f"{self.path} disappeared: reading the rest of the open file, and "
                          "following the path when it comes back", up=False)
            return
        if (st.st_dev, st.st_ino) != (self._dev, self._ino):
            while self._read_available():  # what the writer added before it switched files
                pass
            self._flush_carry()
            rotated = not self._then_path
            self._then_path = False
            if self._open(self.path, 0):
                if rotated or self._gone:
                    self.note(f"{self.path} was {'rotated' if rotated else 'recreated'}: "
                              "following the new file from its start", up=True)
                self._gone = False
                self.position = self._position(0)
                self.emit(Batch(self.id, self.kind, position=self.position))
            return
        if self._gone:
            self._gone = False
            self.note(f"{self.path} is back: following it", up=True)
        if st.st_size < self._offset:
            self.note(f"{self.path} was truncated: reading it from its start", up=True)
            assert self._f is not None
            self._f.seek(0)
            self._offset, self._carry = 0, b""
            self.position = self._position(0)
            self.emit(Batch(self.id, self.kind, position=self.position))
