"""The values that travel through ``watch``: what a source read, and what the watcher keeps.

A source (journal, file, Kubernetes events) reads records and hands the writer one
:class:`Batch` at a time: the pull failures it recognised in those records (:class:`Sighting`),
the images it saw pulled successfully, and the *position* to resume from once the batch is
stored. The writer stores the sightings and the position in one transaction, which is what makes
a ``kill -9`` lose nothing (see :mod:`pulldoctor.watch.store`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pulldoctor.causes import Code

UNRECOGNISED = "unrecognised"
"""The ``cause`` of a pull failure explain could not attribute (a constant, never a free text)."""

MAX_TEXT = 4096
"""Characters of a failure's text kept in the history (redacted); the rest is cut."""


class SourceKind(StrEnum):
    """Where a failure was read: the bounded ``source`` label of the metrics."""

    JOURNAL = "journal"
    FILE = "file"
    K8S = "k8s"


class DiagnosisState(StrEnum):
    """Where a failure is in the capture pipeline (stored, so a restart can pick it up)."""

    WAITING = "waiting"  #: a first Kubernetes ErrImagePull: probed after the back-off
    QUEUED = "queued"  #: due, waiting for a free slot or a rate-limit token
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"  #: see ``skip_reason``
    TRANSIENT = "transient"  #: the image was pulled after all before the back-off ended


class SkipReason(StrEnum):
    """Why a failure was not diagnosed (the bounded ``reason`` label)."""

    DISABLED = "disabled"  #: --diagnose off
    DUPLICATE = "duplicate"  #: the same (image, cause) was diagnosed recently
    NO_IMAGE = "no_image"  #: the text names no image (and no preceding line did)
    BUDGET = "budget"  #: the hourly budget is spent
    QUEUE_FULL = "queue_full"
    STALE = "stale"  #: found pending at start-up, too old to probe now


class Outcome(StrEnum):
    """How a capture diagnosis ended, compared with the cause read from the failure text."""

    CONFIRMED = "confirmed"  #: diagnose proved the same cause
    OTHER_CAUSE = "other_cause"  #: diagnose proved a different cause
    NOT_REPRODUCED = "not_reproduced"  #: the pull path works now (transient, or elsewhere)
    INCONCLUSIVE = "inconclusive"  #: steps crashed or timed out and nothing was proven
    ERROR = "error"  #: diagnose could not run (reported in the stored note)


@dataclass(slots=True)
class Sighting:
    """One record that reads as a pull failure, as a source recognised it."""

    text: str  #: the message, already redacted and cut to MAX_TEXT
    cause: Code | None
    confidence: float
    image: str | None  #: familiar form, when the text (or a preceding line) names one
    registry: str | None  #: registry host (or the failing host when no image is known)
    at: float  #: when it happened (the record's own time when it has one), Unix seconds
    origin: str = ""  #: unit, file, or namespace/pod
    key: str = ""  #: unique within its source: a re-read record is recognised as already stored
    image_inferred: bool = False  #: image taken from a preceding "pulling" line
    kubernetes: bool = False  #: from kubelet or the API: wait for the back-off before probing
    runtime: str = "auto"  #: whose configuration diagnose should walk with

    @property
    def cause_label(self) -> str:
        return str(self.cause) if self.cause else UNRECOGNISED

    @property
    def subject(self) -> str:
        """What a failure is about, for folding repeats and deduplicating captures."""
        return self.image or self.registry or "-"


@dataclass(slots=True)
class Batch:
    """What one source read since its previous batch, and where to resume after it."""

    source_id: str
    kind: SourceKind
    sightings: list[Sighting] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)  #: images seen pulled successfully
    lines: int = 0
    parse_errors: int = 0
    position: str | None = None  #: None: nothing new to resume from
    context: str | None = None  #: the image context to resume with (see ImageContext.dump)
    lag_s: float | None = None  #: delay between the newest record's own time and now
    up: bool = True
    note: str | None = None  #: a condition worth one line on stderr (rotated, gone, back)
