"""From raw log bytes to pull-failure sightings: the same recognition as ``explain``/``scan``.

The bulk of a log is healthy chatter, so the cost is in *not* looking at it: the trigger prefilter
(:func:`pulldoctor.explain.triggers.candidate_spans`, Hyperscan when installed) finds the few lines
holding a failure word in a whole chunk at once, and only those are decoded and given to
:func:`pulldoctor.explain.explain`. Two more literal searches per chunk catch the lines that name
the image being pulled (dockerd's debug ``fromImage=``, kubelet's ``Pulling image``), because
dockerd's own failure lines usually do not name it, and the lines that say a pull succeeded (a
first Kubernetes ErrImagePull that then succeeds was transient).

Everything here is pure: bytes in, typed values out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from pulldoctor.causes import Code
from pulldoctor.errors import ReferenceError_
from pulldoctor.explain import explain
from pulldoctor.explain.triggers import MAX_LINE, WINDOW, candidate_spans
from pulldoctor.redact import redact
from pulldoctor.reference import parse_reference
from pulldoctor.watch.model import MAX_TEXT, Sighting

_PULL_FAILURE_MARKERS = (
    "Failed to pull image", "failed to pull image", "rror pulling image",
    "failed to pull and unpack", "Error response from daemon: pull",
)
"""Wording that makes a text a pull failure even when explain names no cause for it."""

_MIN_CONFIDENCE = 0.35
"""Below this, explain's candidates are the causes the failing *step* can have, not a reading of
the text (its fallback ranks them at 0.3 and lower): the failure is stored as unrecognised rather
than counted under a guessed cause."""

_ECHO = re.compile(r"Back-off pulling image|^Error: (?:ErrImagePull|ImagePullBackOff)\s*$")
"""kubelet's echoes of a failure already reported (back-off, the bare reason): no new failure,
unless explain finds a cause in them (kubelet >= 1.32 repeats the error text in back-off)."""

_FAILURE_WORDS = re.compile(
    r"rror|[Ff]ail|denied|nauthorized|timeout|timed out|refused|reset|EOF|not found|unknown|"
    r"toomanyrequests|BackOff|no space|invalid|x509|no such host|misbehaving|unreachable|"
    r"no route|exceeded|429|50[0-4]|certificate"
)
"""A trigger word alone ("lookup ", "pinging ") is not a failure: the line must also say so."""

_CONTEXT_WORDS: tuple[bytes, ...] = (b"fromImage=", b"Trying to pull ", b"Pulling image ",
                                    b"PullImage ")
_SUCCESS_WORDS: tuple[bytes, ...] = (b"uccessfully pulled image", b"Pulled image ")
_EXTRA_WORDS = _CONTEXT_WORDS + _SUCCESS_WORDS
_CONTEXT_STR = tuple(w.decode() for w in _CONTEXT_WORDS)
_SUCCESS_STR = tuple(w.decode() for w in _SUCCESS_WORDS)

_CONTEXT_IMAGE = re.compile(
    r"fromImage=(?P<from>[^&\s\"\\]+)(?:&tag=(?P<tag>[^&\s\"\\]+))?"
    r"|Trying to pull (?P<trying>\S+) from "
    r"|(?:Pulling image|PullImage) \\*\"(?P<quoted>[^\"\\]+)\\*\""
)
_SUCCESS_IMAGE = re.compile(r"(?:uccessfully pulled image|Pulled image) \\*\"(?P<img>[^\"\\]+)")

_CONTEXT_TTL_S = 120.0
"""How long a "pulling IMAGE" line names the image of a later failure line without one."""


def canonical_image(image: str | None) -> tuple[str | None, str | None]:
    """(familiar image, registry host) of a reference found in a text; (None, None) if invalid."""
    if not image:
        return None, None
    try:
        ref = parse_reference(image.removeprefix("docker://"))
    except ReferenceError_:
        return None, None
    return ref.familiar, ref.registry


@dataclass(slots=True)
class ImageContext:
    """The image a source was last seen pulling (for failure lines that do not name it)."""

    image: str | None = None
    at: float = 0.0

    def current(self, now: float) -> str | None:
        return self.image if self.image and now - self.at <= _CONTEXT_TTL_S else None

    def dump(self) -> str | None:
        """Saved with the source's position: a restart still knows what was being pulled."""
        return f"{self.at:.3f} {self.image}" if self.image else None

    def load(self, saved: str | None) -> None:
        at, _, image = (saved or "").partition(" ")
        try:
            self.at, self.image = float(at), image or None
        except ValueError:
            self.image = None


@dataclass(frozen=True, slots=True)
class Record:
    """One log record as its source decoded it: the message and what the source knows about it."""

    message: str
    key: str  #: unique within its source (file offset, journal cursor, event uid and count)
    at: float | None = None  #: the record's own time, when it carries one
    origin: str | None = None  #: unit, file, namespace/pod (None: the source's default)
    runtime: str | None = None
    kubernetes: bool | None = None


Decoder = Callable[[bytes, int], "Record | None"]
"""``decode(raw_line, offset)``: the record in one raw line, or None when it does not parse."""

_MAX_RECORD = 8 * 1024 * 1024
"""A record split into windows by the prefilter is re-read whole (for JSON) up to this size."""


def plain_decoder(prefix: str) -> Decoder:
    """Plain-text lines (a log file): the line is the message, keyed by its byte offset."""

    def decode(raw: bytes, offset: int) -> Record:
        return Record(raw.decode("utf-8", errors="replace"), f"{prefix}{offset}")

    return decode


@dataclass(slots=True)
class Recogniser:
    """Recognises failures in one source's records; keeps that source's image context."""

    origin: str = ""
    runtime: str = "auto"
    kubernetes: bool = False
    context: ImageContext = field(default_factory=ImageContext)

    def scan(self, buf: bytes, lo: int = 0, hi: int | None = None, *, base: int = 0,
             decode: Decoder | None = None, whole: bool = False, now: float | None = None,
             ) -> tuple[list[Sighting], list[str], int]:
        """(sightings, images pulled, records that did not parse) in the lines of buf[lo:hi].

        ``base`` is the source offset of ``buf[0]``; ``whole`` re-reads a long line whole
        instead of the prefilter's windows (records that must parse, such as JSON).
        """
        hi = len(buf) if hi is None else hi
        decode = decode or plain_decoder("")
        now = time.time() if now is None else now
        spans: dict[int, int] = {}  # start -> end of each line (or long-line window) to read
        for s, e in candidate_spans(buf, lo, hi):
            if whole:  # a long line comes back as windows: a JSON record must be read whole
                s, e = _line_of(buf, s, lo, hi)
            spans.setdefault(s, e)
        for word in _EXTRA_WORDS:
            i = buf.find(word, lo, hi)
            while i != -1:
                s, e = _line_of(buf, i, lo, hi)
                nxt = e
                if not whole and e - s > MAX_LINE:
                    s, e = max(s, i - WINDOW), min(e, i + WINDOW)
                    nxt = e
                spans.setdefault(s, e)
                i = buf.find(word, nxt, hi)
        sightings: list[Sighting] = []
        pulled: list[str] = []
        errors = 0
        for a in sorted(spans):
            e = spans[a]
            if e - a > _MAX_RECORD:
                errors += 1
                continue
            rec = decode(buf[a:e], base + a)
            if rec is None:
                errors += 1
                continue
            at = rec.at if rec.at is not None else now
            msg = rec.message
            if any(w in msg for w in _CONTEXT_STR):
                self.note_context(msg, at)
            if any(w in msg for w in _SUCCESS_STR):
                img = success_image(msg)
                if img:
                    pulled.append(img)
                    continue
            sg = self.text(rec.message, at=at, key=rec.key, kubernetes=rec.kubernetes,
                           origin=rec.origin, runtime=rec.runtime)
            if sg is not None:
                sightings.append(sg)
        return sightings, pulled, errors

    def note_context(self, text: str, now: float) -> None:
        m = _CONTEXT_IMAGE.search(text)
        if not m:
            return
        if m.group("from"):
            image = unquote(m.group("from"))
            if m.group("tag"):
                image = f"{image}:{unquote(m.group('tag'))}"
        else:
            image = m.group("trying") or m.group("quoted")
        familiar, _ = canonical_image(image)
        if familiar:
            self.context.image, self.context.at = familiar, now

    def text(self, text: str, *, at: float, key: str = "", kubernetes: bool | None = None,
             origin: str | None = None, runtime: str | None = None) -> Sighting | None:
        """A sighting for one record's message, or None when it is not a pull failure."""
        if not _FAILURE_WORDS.search(text):
            return None
        report = explain(text)
        top = report.causes[0] if report.causes else None
        cause = top if top is not None and top.confidence >= _MIN_CONFIDENCE else None
        pull_failure = top is not None or any(m in text for m in _PULL_FAILURE_MARKERS)
        if cause is None and (_ECHO.search(text) or not pull_failure):
            return None
        image, registry = canonical_image(_str(report.facts.get("image")))
        inferred = False
        if image is None:
            image = self.context.current(at)
            inferred = image is not None
            if image is not None:
                registry = canonical_image(image)[1]
        if registry is None:
            registry = _str(report.facts.get("host"))
        return Sighting(
            text=redact(text.strip())[:MAX_TEXT],
            cause=Code(cause.code) if cause else None,
            confidence=cause.confidence if cause else 0.0,
            image=image, registry=registry.lower() if registry else None, at=at,
            origin=origin or self.origin, image_inferred=inferred, key=key,
            kubernetes=(self.kubernetes if kubernetes is None else kubernetes)
            or report.facts.get("runtime") == "kubelet",
            runtime=_runtime_of(runtime or self.runtime, report.facts),
        )


def _line_of(buf: bytes, i: int, lo: int, hi: int) -> tuple[int, int]:
    """(start, end) of the line holding ``buf[i]``, within [lo, hi)."""
    s = buf.rfind(b"\n", lo, i) + 1 or lo
    e = buf.find(b"\n", i, hi)
    return s, hi if e == -1 else e


def success_image(text: str) -> str | None:
    m = _SUCCESS_IMAGE.search(text)
    return canonical_image(m.group("img"))[0] if m else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _runtime_of(default: str, facts: dict[str, object]) -> str:
    """The runtime whose configuration the capture diagnosis should walk with."""
    if default != "auto":
        return default
    rt = facts.get("runtime")
    backend = facts.get("backend")
    if rt == "docker":
        return "docker"
    if rt == "containerd" or backend == "containerd":
        return "containerd"
    if rt in ("cri-o", "podman", "skopeo") or backend in ("cri-o", "containers-image"):
        return "podman"  # containers/image: registries.conf, auth.json, as CRI-O reads them
    return "auto"
