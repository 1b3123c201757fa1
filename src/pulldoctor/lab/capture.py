"""Record what the real clients print in every lab scenario: the lab's ground-truth corpus.

Why: the explainer is only as good as the texts it was checked against. Texts from issue threads
are real but their labels are a reader's judgement; a lab capture is a real client's real output
with a *known* cause, because the lab built exactly that fault. Each capture run is one fresh lab
per (scenario, client), so runs are independent and run in parallel threads (they mostly wait on
client timeouts, so more threads than CPUs is fine).

Outputs (re-record with ``sudo pulldoctor lab capture``):

* ``tests/fixtures/lab_capture.json``: every run with argv, return code, full output, error text,
  duration, client versions, and how long the lab took to build;
* ``tests/corpus/lab.jsonl``: one line per failing run of a faulty scenario, in the corpus format
  ``{"text", "runtime", "label", "source", "confidence": "lab"}``. Refreshing replaces only the
  lines of the (scenario, client) pairs just captured, so a partial re-record keeps the rest.

The shaping functions (:func:`fixture_doc`, :func:`corpus_lines`, :func:`merge_corpus`) are pure.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pulldoctor.lab.clients import DEFAULT_PULL_TIMEOUT, ClientResult, make_client
from pulldoctor.redact import redact

SOURCE_PREFIX = "lab capture: pulldoctor lab capture --scenario "


class _ScenarioLike(Protocol):
    """The parts of ``pulldoctor.lab.scenarios.Scenario`` a capture needs."""

    @property
    def name(self) -> str: ...
    @property
    def code(self) -> str | None: ...
    @property
    def clients(self) -> tuple[str, ...]: ...
    @property
    def image(self) -> str: ...

    def build(self, lab: Any) -> None: ...

    def expected(self, client: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class CaptureRun:
    """One (scenario, client) run: the client's result, or why the lab could not run it.

    ``code`` is what the scenario expects of *this* client (``Scenario.expected``): a cause, or
    None when its pull should work."""

    scenario: str
    code: str | None
    client: str
    image: str
    result: ClientResult | None
    lab_error: str | None = None
    lab_build_s: float = 0.0

    @property
    def failed_as_expected(self) -> bool:
        """A faulty scenario whose client really failed (the only runs that feed the corpus)."""
        return self.code is not None and self.result is not None and not self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "code": self.code,
            "client": self.client,
            "image": self.image,
            "lab_build_s": round(self.lab_build_s, 3),
            "lab_error": self.lab_error,
            "result": self.result.to_dict() if self.result else None,
        }


def short_version(version: str) -> str:
    """``Docker version 20.10.24+dfsg1, build x`` -> ``20.10.24+dfsg1`` (first dotted version)."""
    m = re.search(r"\bv?(\d+\.\d+(?:\.\d+)?[^\s,;]*)", version)
    return m.group(1) if m else version.strip() or "unknown"


def source_for(scenario: str, client: str, version: str) -> str:
    """The corpus ``source`` field: the exact re-record command and the client version."""
    return f"{SOURCE_PREFIX}{scenario} ({client} {short_version(version)})"


def run_one(scenario: _ScenarioLike, client_name: str, timeout: float = DEFAULT_PULL_TIMEOUT,
            ) -> CaptureRun:
    """Build a fresh lab for ``scenario``, pull its image with one real client, tear down."""
    from pulldoctor.lab.topology import Lab

    t0 = time.monotonic()
    build_s = 0.0
    try:
        with Lab() as lab:
            scenario.build(lab)
            build_s = time.monotonic() - t0
            client = make_client(client_name)
            try:
                client.start(lab)
                result = client.pull(scenario.image, timeout)
            finally:
                client.stop()
    except Exception as exc:  # one broken lab must not lose the other runs' evidence
        return CaptureRun(scenario.name, scenario.expected(client_name), client_name,
                          scenario.image, None,
                          lab_error=redact(f"{type(exc).__name__}: {exc}"), lab_build_s=build_s)
    return CaptureRun(scenario.name, scenario.expected(client_name), client_name, scenario.image,
                      result,
                      lab_build_s=build_s)


def plan(scenarios: Iterable[_ScenarioLike], clients: Sequence[str] | None,
         ) -> list[tuple[_ScenarioLike, str]]:
    """Every (scenario, client) pair to run: the scenario's clients, filtered by ``clients``."""
    return [(s, c) for s in scenarios for c in s.clients if clients is None or c in clients]


def capture(pairs: Sequence[tuple[_ScenarioLike, str]], *, workers: int = 6,
            timeout: float = DEFAULT_PULL_TIMEOUT,
            on_done: Callable[[CaptureRun], None] | None = None) -> list[CaptureRun]:
    """Run every pair, ``workers`` labs at a time; results in the order of ``pairs``."""
    runs: dict[int, CaptureRun] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="capture")
    try:
        futs = {pool.submit(run_one, s, c, timeout): i for i, (s, c) in enumerate(pairs)}
        for fut in as_completed(futs):
            run = fut.result()
            runs[futs[fut]] = run
            if on_done is not None:
                on_done(run)
    except BaseException:
        # Ctrl-C: start no new lab; the running ones finish their bounded pull and tear down.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [runs[i] for i in range(len(pairs))]


def explained_code(text: str) -> str | None:
    """``explain(text)``'s top cause code, or None (nothing recognised, or no explainer yet)."""
    try:
        from pulldoctor.explain import explain
    except ImportError:
        return None
    report = explain(text)
    return report.causes[0].code if report.causes else None


def fixture_doc(runs: Sequence[CaptureRun], *, command: str, started: datetime,
                wall_s: float) -> dict[str, Any]:
    """The JSON document written to ``tests/fixtures/lab_capture.json``."""
    versions = {r.client: r.result.version for r in runs if r.result and r.result.version}
    return {
        "command": command,
        "captured_at": started.astimezone(UTC).isoformat(timespec="seconds"),
        "wall_s": round(wall_s, 1),
        "versions": dict(sorted(versions.items())),
        "runs": [r.to_dict() for r in runs],
    }


def corpus_lines(runs: Iterable[CaptureRun]) -> list[dict[str, str]]:
    """Corpus lines for every run where a faulty scenario made its real client fail."""
    out = []
    for r in runs:
        if not r.failed_as_expected or r.result is None or not r.result.error_text.strip():
            continue
        out.append({
            "text": r.result.error_text,
            "runtime": r.client,
            "label": r.code or "",
            "source": source_for(r.scenario, r.client, r.result.version),
            "confidence": "lab",
        })
    return out


def _pair_of(line: dict[str, Any]) -> tuple[str, str] | None:
    src = str(line.get("source", ""))
    if not src.startswith(SOURCE_PREFIX):
        return None
    return src[len(SOURCE_PREFIX):].split(" ", 1)[0], str(line.get("runtime", ""))


def merge_corpus(existing: Iterable[dict[str, Any]], new: Iterable[dict[str, str]],
                 refreshed: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Replace the lines of the ``refreshed`` (scenario, client) pairs with ``new``; keep the rest.

    Lines are ordered by scenario then client so a re-record gives a small, readable diff.
    """
    done = set(refreshed)
    kept = [ln for ln in existing if _pair_of(ln) not in done]
    merged = kept + list(new)
    return sorted(merged, key=lambda ln: (_pair_of(ln) or ("", ""), str(ln.get("text", ""))))


def _norm(text: str) -> str:
    return " ".join(text.split())


def unique_texts(lines: Iterable[dict[str, Any]], elsewhere: set[str],
                 key: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """Drop lines whose text (whitespace-normalised) is already in the corpus, or that repeat a
    kept line's message (``key``: the same message up to ports, addresses, names, digests).

    A constant message (docker's ``no matching manifest for linux/amd64 ...``) captured in the lab
    is the same text a user already reported; the corpus counts each text once. The fixture keeps
    every run, so the explain check still covers it.
    """
    key = key or _norm
    seen, seen_keys = set(elsewhere), set()
    out = []
    for ln in lines:
        text = str(ln.get("text", ""))
        if _norm(text) in seen or key(text) in seen_keys:
            continue
        seen.add(_norm(text))
        seen_keys.add(key(text))
        out.append(ln)
    return out


def corpus_key(corpus: Path) -> Callable[[str], str]:
    """The corpus's own near-duplicate key: ``near_duplicate_key`` of the ``bench/accuracy.py``
    in the checkout that holds ``corpus`` (tests/corpus/README.md's rule), else whitespace."""
    import importlib.util

    path = corpus.resolve().parent.parent.parent / "bench" / "accuracy.py"
    spec = importlib.util.spec_from_file_location("_pd_corpus_accuracy", path)
    if not path.is_file() or spec is None or spec.loader is None:
        return _norm
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
        fn = module.near_duplicate_key
    except Exception:  # an older checkout without the rule: whitespace only
        return _norm
    return lambda text: str(fn(text))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def write_outputs(runs: Sequence[CaptureRun], *, fixture: Path, corpus: Path, command: str,
                  started: datetime, wall_s: float, full: bool = False) -> None:
    """Write the fixture and the corpus lines of the pairs that ran.

    ``full`` (every scenario x every client) replaces both files' lab runs, so pairs that left
    the catalogue disappear; otherwise the runs and lines of the other pairs are kept.
    """
    fixture.parent.mkdir(parents=True, exist_ok=True)
    doc = fixture_doc(runs, command=command, started=started, wall_s=wall_s)
    if fixture.exists() and not full:  # keep runs of pairs not re-captured this time
        old = json.loads(fixture.read_text(encoding="utf-8"))
        fresh = {(r.scenario, r.client) for r in runs}
        keep = [r for r in old.get("runs", []) if (r["scenario"], r["client"]) not in fresh]
        if keep:  # a partial re-record: the header stays the full capture's, this run is noted
            refreshed = [*old.get("refreshed", []),
                         {k: doc[k] for k in ("command", "captured_at", "wall_s")}]
            doc.update({k: old[k] for k in ("command", "captured_at", "wall_s") if k in old})
            doc["refreshed"] = refreshed
        doc["runs"] = sorted(keep + doc["runs"], key=lambda r: (r["scenario"], r["client"]))
        doc["versions"] = {**old.get("versions", {}), **doc["versions"]}
    fixture.write_text(redact(json.dumps(doc, indent=1)) + "\n", encoding="utf-8")
    corpus.parent.mkdir(parents=True, exist_ok=True)
    elsewhere = {_norm(str(ln.get("text", ""))) for f in sorted(corpus.parent.glob("*.jsonl"))
                 if f.resolve() != corpus.resolve() for ln in _read_jsonl(f)}
    existing = _read_jsonl(corpus)
    if full:
        existing = [ln for ln in existing if _pair_of(ln) is None]
    merged = merge_corpus(existing, corpus_lines(runs),
                          {(r.scenario, r.client) for r in runs if r.result is not None})
    merged = unique_texts(merged, elsewhere, corpus_key(corpus))
    corpus.write_text("".join(json.dumps(ln) + "\n" for ln in merged), encoding="utf-8")
