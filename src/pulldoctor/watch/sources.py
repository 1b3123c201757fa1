"""What every source shares: a thread that reads, recognises and hands batches to the writer.

Each source runs in its own thread and puts :class:`~pulldoctor.watch.model.Batch` values on one
bounded queue; the writer (the only thread that touches the database) takes them. A full queue
blocks the source, which is the back-pressure: a watcher whose database is stuck stops reading
instead of growing without bound. A source never raises out of its thread: a failure becomes
``up=False`` and a one-line note, and the source tries again with a growing delay.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod

from pulldoctor.watch.model import Batch, SourceKind
from pulldoctor.watch.recognise import Recogniser

RETRY_MIN_S = 1.0
_RETRY_MAX_S = 30.0


class Source(ABC):
    """One followed source. Subclasses implement :meth:`follow` (one attempt)."""

    kind: SourceKind

    def __init__(self, source_id: str, out: queue.Queue[Batch], stop: threading.Event,
                 position: str | None = None) -> None:
        self.id = source_id
        self.out = out
        self.stop = stop
        self.position = position  #: where the writer last committed (or None: start fresh)
        self.recogniser = Recogniser()
        self.thread = threading.Thread(target=self._run, name=f"pulldoctor-{source_id}",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def emit(self, batch: Batch) -> bool:
        """Hand a batch to the writer; blocks while the queue is full. False once stopping."""
        if batch.position is not None:
            batch.context = self.recogniser.context.dump()
        while not self.stop.is_set():
            try:
                self.out.put(batch, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def note(self, text: str, *, up: bool) -> None:
        self.emit(Batch(self.id, self.kind, up=up, note=text))

    def _run(self) -> None:
        delay = RETRY_MIN_S
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.follow()
            except Exception as exc:  # a source must never kill the watcher
                self.note(f"{self.id}: {type(exc).__name__}: {exc}; retrying", up=False)
            if self.stop.is_set():
                return
            if time.monotonic() - started > 60:
                delay = RETRY_MIN_S  # it ran fine for a while: the next failure starts over
            self.stop.wait(delay)
            delay = min(_RETRY_MAX_S, delay * 2)

    @abstractmethod
    def follow(self) -> None:
        """Read until stopped or until the source fails (then return or raise: it is retried)."""
