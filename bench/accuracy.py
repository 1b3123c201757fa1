"""How often ``pulldoctor explain`` names the right cause for real pull-error texts.

The corpus (``tests/corpus/*.jsonl``) holds error texts people really pasted into issue threads,
each labelled with the cause the thread's resolution (or the text itself) supports, plus captures
of real clients in the lab and texts instantiated from the runtimes' format strings. This module is
shared by the test suite (``tests/explain/test_corpus.py`` asserts floors on its numbers) and by
humans (``python bench/accuracy.py`` prints the table the README quotes), so that both always
measure the same thing the same way.

Sources are reported apart, because they mean different things (tests/corpus/README.md):

* **blind batches, as recorded**: each batch's score with the rules of its freeze commit, read
  from ``blind_scores.json`` (never recomputed; pooled, it is the headline);
* **thread texts (all)**: every text from a public thread, blind batches included once tuned on,
  scored with today's rules;
* **own-lab texts** (``lab.jsonl``) and **format-string texts** (``source_formats.jsonl``), which
  the rules were written against and which say little about texts nobody tuned on.

Why top-1 *and* top-3: many texts are honestly ambiguous (``dial tcp 1.2.3.4:443: i/o timeout``
may be a firewall or a proxy that is not applied); explain is allowed to rank, and a reader looks
at more than the first line. Top-1 says how often the first answer is right, top-3 says how often
the right answer is on screen at all.

Usage::

    python bench/accuracy.py                 # per source, per runtime, per code, confusions
    python bench/accuracy.py --misses        # plus every misclassified text
    python bench/accuracy.py --markdown FILE # write the misses as a markdown list to FILE
    python bench/accuracy.py --blind tests/corpus/blind-b6.jsonl   # protocol step 3: score a
                                             # new batch once, print the record to keep
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / "tests" / "corpus"
OUT_DIR = ROOT / "bench" / "out"

RUNTIMES = ("docker", "containerd", "kubelet", "cri-o", "podman", "skopeo", "buildkit", "other")
CONFIDENCES = ("thread", "text-only", "format-string", "lab")
REQUIRED = ("text", "runtime", "label", "source", "confidence")
OPTIONAL = ("why", "label_original", "family")
THREAD_KINDS = ("thread", "text-only")
LAB_FILE = "lab.jsonl"
FORMAT_FILE = "source_formats.jsonl"
SCORES_FILE = "blind_scores.json"
NONE = "(none)"
"""What a prediction is called when explain recognised nothing (an empty ``causes`` list)."""


class CorpusError(ValueError):
    """A corpus line that does not follow the format; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One labelled text, with where it came from so a miss can be traced to its line."""

    text: str
    runtime: str
    label: str
    source: str
    confidence: str
    file: str
    line: int
    why: str | None = None
    label_original: str | None = None
    family: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def kind(self) -> str:
        """Which source row the text counts in: thread, lab or format-string."""
        if self.file == LAB_FILE or self.confidence == "lab":
            return "lab"
        if self.file == FORMAT_FILE or self.confidence == "format-string":
            return "format-string"
        return "thread"


def _entry(raw: Any, file: str, line: int) -> Entry:
    where = f"{file}:{line}"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a line must be a JSON object")
    missing = [k for k in REQUIRED if not isinstance(raw.get(k), str) or not raw[k].strip()]
    if missing:
        raise CorpusError(f"{where}: missing or empty field(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise CorpusError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if raw["runtime"] not in RUNTIMES:
        raise CorpusError(
            f"{where}: runtime {raw['runtime']!r} is not one of {', '.join(RUNTIMES)}"
        )
    if raw["confidence"] not in CONFIDENCES:
        raise CorpusError(
            f"{where}: confidence {raw['confidence']!r} is not one of {', '.join(CONFIDENCES)}"
        )
    for k in OPTIONAL:
        if k in raw and not (isinstance(raw[k], str) and raw[k].strip()):
            raise CorpusError(f"{where}: {k} must be a non-empty string when present")
    if "label_original" in raw and "why" not in raw:
        raise CorpusError(f"{where}: a corrected label (label_original) needs a 'why'")
    return Entry(
        text=raw["text"],
        runtime=raw["runtime"],
        label=raw["label"],
        source=raw["source"],
        confidence=raw["confidence"],
        file=file,
        line=line,
        why=raw.get("why"),
        label_original=raw.get("label_original"),
        family=raw.get("family"),
    )


def load_corpus(directory: Path = CORPUS_DIR) -> list[Entry]:
    """Every line of every ``*.jsonl`` in ``directory``, in file-name order; raises CorpusError."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"{directory}: no *.jsonl corpus files")
    return load_files(files)


def load_files(files: Iterable[Path]) -> list[Entry]:
    """Every line of the given corpus files; raises CorpusError."""
    entries: list[Entry] = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as e:
                    raise CorpusError(f"{path.name}:{n}: not JSON ({e.msg})") from None
                entries.append(_entry(raw, path.name, n))
    return entries


@dataclass(slots=True)
class Outcome:
    """What explain said about one entry: ranked codes, or the exception it raised."""

    entry: Entry
    codes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def top1(self) -> str:
        return self.codes[0] if self.codes else NONE

    @property
    def hit1(self) -> bool:
        return self.error is None and self.top1 == self.entry.label

    @property
    def hit3(self) -> bool:
        return self.error is None and self.entry.label in self.codes[:3]

    @property
    def no_cause(self) -> bool:
        return self.error is None and not self.codes


@dataclass(slots=True)
class Tally:
    """Hits for one group (a runtime, a code, or everything)."""

    n: int = 0
    hit1: int = 0
    hit3: int = 0
    none: int = 0

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.hit1 += o.hit1
        self.hit3 += o.hit3
        self.none += o.no_cause

    @property
    def top1(self) -> float:
        return self.hit1 / self.n if self.n else 0.0

    @property
    def top3(self) -> float:
        return self.hit3 / self.n if self.n else 0.0

    @property
    def no_cause(self) -> float:
        return self.none / self.n if self.n else 0.0


@dataclass(slots=True)
class Result:
    """The whole evaluation; every number in the table is computed from ``outcomes``."""

    outcomes: list[Outcome]

    @property
    def total(self) -> Tally:
        t = Tally()
        for o in self.outcomes:
            t.add(o)
        return t

    def by(self, key: Callable[[Outcome], str]) -> dict[str, Tally]:
        groups: dict[str, Tally] = defaultdict(Tally)
        for o in self.outcomes:
            groups[key(o)].add(o)
        return dict(sorted(groups.items()))

    def of(self, kind: str) -> Result:
        """Only the outcomes of one source kind (thread, lab, format-string)."""
        return Result([o for o in self.outcomes if o.entry.kind == kind])

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.hit1]

    def predicted(self) -> Counter[str]:
        return Counter(o.top1 for o in self.outcomes if o.error is None)

    def confusion(self) -> Counter[tuple[str, str]]:
        """(expected, got) for every wrong top-1 answer; exceptions count as got='(error)'."""
        return Counter((o.entry.label, "(error)" if o.error else o.top1) for o in self.misses)


def _codes_of(report: Any) -> list[str]:
    causes = getattr(report, "causes", None)
    if not isinstance(causes, list):
        raise TypeError(
            f"explain returned {type(report).__name__}, not a Report with a causes list"
        )
    return [str(c.code) for c in causes]


def evaluate(entries: Iterable[Entry], explain: Callable[[str], Any]) -> Result:
    """Run ``explain`` on every text; an exception is recorded, never propagated."""
    outcomes: list[Outcome] = []
    for e in entries:
        try:
            outcomes.append(Outcome(e, _codes_of(explain(e.text))))
        except Exception as exc:  # the harness reports every failure, so catch them all
            outcomes.append(Outcome(e, error=f"{type(exc).__name__}: {exc}"))
    return Result(outcomes)


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def _rows(title: str, groups: dict[str, Tally], none: bool = False) -> list[str]:
    width = max([len(title), *map(len, groups)])
    extra = f"  {'no cause':>8}" if none else ""
    lines = [f"{title:<{width}}  {'n':>4}  {'top-1':>6}  {'top-3':>6}{extra}"]
    for name, t in groups.items():
        tail = f"  {_pct(t.no_cause):>8}" if none else ""
        lines.append(f"{name:<{width}}  {t.n:>4}  {_pct(t.top1)}  {_pct(t.top3)}{tail}")
    return lines


# -- blind batches, as recorded ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlindBatch:
    """One batch's recorded blind score (``blind_scores.json``; never recomputed)."""

    batch: str
    n: int
    frozen: str
    top1: float | None
    top3: float | None
    no_cause: float | None
    what: str


def load_blind_scores(path: Path = CORPUS_DIR / SCORES_FILE) -> list[BlindBatch]:
    """The recorded blind scores, in the order they were recorded."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for b in data["batches"]:
        def frac(key: str, b: dict[str, Any] = b) -> float | None:
            v = b.get(key)
            return None if v is None else float(v) / 100
        out.append(BlindBatch(str(b["batch"]), int(b["n"]), str(b["frozen"]), frac("top1_pct"),
                              frac("top3_pct"), frac("no_cause_pct"), str(b.get("what", ""))))
    return out


def pooled(batches: Sequence[BlindBatch], attr: str) -> tuple[float, int] | None:
    """Hits over texts for ``attr`` (top1/top3/no_cause), over the batches that recorded it."""
    have = [(getattr(b, attr), b.n) for b in batches if getattr(b, attr) is not None]
    if not have:
        return None
    n = sum(k for _, k in have)
    return sum(round(v * k) for v, k in have) / n, n


def format_blind(batches: Sequence[BlindBatch]) -> list[str]:
    """The blind history and the pooled headline."""
    def cell(v: float | None) -> str:
        return "     -" if v is None else _pct(v)
    lines = ["blind batches, as recorded (blind_scores.json; each scored once with the rules of "
             "its freeze commit)",
             f"{'batch':<6}  {'frozen':<10}  {'n':>4}  {'top-1':>6}  {'top-3':>6}  {'no cause':>8}"]
    for b in batches:
        lines.append(f"{b.batch:<6}  {b.frozen:<10}  {b.n:>4}  {cell(b.top1)}  {cell(b.top3)}  "
                     f"{cell(b.no_cause):>8}")
    parts = []
    for attr, name in (("top1", "top-1"), ("top3", "top-3"), ("no_cause", "no cause")):
        p = pooled(batches, attr)
        if p:
            parts.append(f"{name} {_pct(p[0]).strip()} of {p[1]}")
    lines.append("pooled (the headline): " + ", ".join(parts))
    return lines


# -- the tables ---------------------------------------------------------------------------------


def format_sources(result: Result) -> list[str]:
    """One row per source kind, then per file: what the README's per-source table shows."""
    kinds = {"thread texts (all, today's rules)": result.of("thread").total,
             "own-lab texts": result.of("lab").total,
             "format-string texts": result.of("format-string").total}
    lines = _rows("source", kinds, none=True)
    established = Result([o for o in result.of("thread").outcomes
                          if o.entry.confidence == "thread"]).total
    lines.append(f"  of the thread texts, cause established by the thread: n={established.n}  "
                 f"top-1 {_pct(established.top1).strip()}  top-3 {_pct(established.top3).strip()}")
    return lines


def format_table(result: Result, catalogue_codes: Sequence[str] = (),
                 blind: Sequence[BlindBatch] = ()) -> str:
    """The plain-text report: blind history, per source, per file, per runtime and per code (of
    the thread texts), confusions."""
    t = result.total
    threads = result.of("thread")
    out = [
        f"corpus: {t.n} texts   top-1 {_pct(t.top1)} ({t.hit1})   top-3 {_pct(t.top3)} ({t.hit3})"
        f"   no cause {t.none}   exceptions {len(result.errors)}",
        "",
    ]
    if blind:
        out += [*format_blind(blind), ""]
    out += [
        *format_sources(result),
        "",
        *_rows("file (blind-* now tuned on)", result.by(lambda o: o.entry.file), none=True),
        "",
        "thread texts (all), today's rules:",
        *_rows("runtime", threads.by(lambda o: o.entry.runtime), none=True),
        "",
    ]
    families = Result([o for o in threads.outcomes if o.entry.family]).by(
        lambda o: o.entry.family or "")
    if families:
        out += [*_rows("family (blind-b5)", families, none=True), ""]
    per_code = threads.by(lambda o: o.entry.label)
    for code in catalogue_codes:
        per_code.setdefault(code, Tally())
    per_code = dict(sorted(per_code.items()))
    predicted = threads.predicted()
    width = max(len("code"), *map(len, per_code))
    out.append(
        f"{'code':<{width}}  {'n':>4}  {'top-1':>6}  {'top-3':>6}  {'said':>4}  {'precision':>9}"
    )
    for code, tally in per_code.items():
        said = predicted.get(code, 0)
        hits = tally.hit1
        prec = _pct(hits / said) if said else "    -"
        out.append(
            f"{code:<{width}}  {tally.n:>4}  {_pct(tally.top1)}  {_pct(tally.top3)}  {said:>4}  {prec:>9}"
        )
    conf = result.confusion()
    if conf:
        out += ["", "wrong top-1 answers, all sources (expected -> got: count)"]
        out += [f"  {exp} -> {got}: {n}" for (exp, got), n in conf.most_common()]
    return "\n".join(out)


# -- near-duplicates ----------------------------------------------------------------------------

_URL = re.compile(r"(https?://[^/\s\"'\\]+)(/[^\s\"'\\]*)?")
_URL_KINDS = (("v2manifest", r"^/v2/.+/manifests/"), ("v2blob", r"^/v2/.+/blobs/"),
              ("v2tags", r"^/v2/.+/tags/"), ("v2ping", r"^/v2/?$"), ("v1ping", r"^/v1/_ping"),
              ("v1repo", r"^/v1/repositories/"), ("token", r"token"), ("blob", r"/blobs/|registry-v2/"))


def _url_kind(m: re.Match[str]) -> str:
    path = (m.group(2) or "").rstrip(".,:;)")
    return "URL" + next((k for k, rx in _URL_KINDS if re.search(rx, path)), "other") + " "


def _address_class(m: re.Match[str]) -> str:
    a = m.group(0).strip("[]")
    if a.startswith(("127.", "::1")):
        return "Aloopback"
    if a.startswith("0.0.0.0"):
        return "Aunspecified"
    if re.match(r"10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|f[cd]|fe80", a):
        return "Aprivate"
    return "Apublic"


_PER_OCCURRENCE: tuple[tuple[str, Any], ...] = (
    (r"\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?", "T"), (r'time="[^"]*"', "time=T"),
    (r"\b[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d", "T"), (r"\b\d\d:\d\d:\d\d(?:\.\d+)?", "T"),
    (r"sha256[:=][0-9a-f]{6,}", "D"), (r"\b[0-9a-f]{12,}\b", "D"),
    (r"\[[0-9a-fA-F:.%]+\](?::\d+)?", _address_class),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?", _address_class),
    (r"lookup \S+", "lookup H"), (r"docker://\S+", "docker://I"),
    (r'"[\w./:@<>-]+"', '"I"'), (r"'[\w./:@<>-]+'", "'I'"),
    (r"\b[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:/[\w.-]+)*(?::[\w.-]+)?(?=[\s:,\"')]|$)", "N"),
    (r"\b[a-z0-9_-]+/[a-z0-9._-]+(?::[\w.-]+)?\b", "I"), (r":\d{2,5}\b", ":P"),
)
_PLATFORM = re.compile(r"\b(?:linux|windows|darwin|freebsd|unknown)/[\w/.-]+")


def near_duplicate_key(text: str) -> str:
    """``text`` with what varies between two pastes of one message blanked: ports, addresses (to
    their class: loopback, private, public), digests and ids, timestamps, image and host names.
    The URL's path kind (ping, manifest, blob, token) and platforms are kept: they change meaning.
    """
    from pulldoctor.explain.normalize import normalize

    t = _PLATFORM.sub(lambda m: "plat_" + re.sub(r"\W", "_", m.group(0)), normalize(text))
    t = _URL.sub(_url_kind, t)
    for rx, repl in _PER_OCCURRENCE:
        t = re.sub(rx, repl, t)
    return re.sub(r"\s+", " ", t).strip().lower().rstrip(".` ")


def near_duplicates(entries: Sequence[Entry]) -> list[tuple[Entry, Entry]]:
    """(later, earlier) pairs of the same message. Lab captures are compared only with each other:
    they are the lab's own record (re-written by ``lab capture``), counted in their own row."""
    seen: dict[tuple[bool, str], Entry] = {}
    out = []
    for e in entries:
        k = (e.kind == "lab", near_duplicate_key(e.text))
        if k in seen:
            out.append((e, seen[k]))
        else:
            seen[k] = e
    return out


def _excerpt(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_misses(result: Result, markdown: bool = False) -> str:
    """Every text whose top-1 answer is wrong: where, expected, got (top-3), an excerpt."""
    lines: list[str] = []
    for o in sorted(result.misses, key=lambda o: (o.entry.label, o.entry.where)):
        got = o.error or ", ".join(o.codes[:3]) or NONE
        if markdown:
            excerpt = _excerpt(o.entry.text).replace("`", "'")
            lines.append(
                f"- `{o.entry.where}` expected **{o.entry.label}**, got `{got}` ({o.entry.runtime}, "
                f"{o.entry.confidence}) — `{excerpt}`"
            )
        else:
            lines.append(
                f"{o.entry.where}  expected {o.entry.label}  got {got}\n    {_excerpt(o.entry.text)}"
            )
    return "\n".join(lines)


def write_outputs(result: Result, table: str, directory: Path = OUT_DIR) -> Path:
    """Write the table and the misses under bench/out/ (atomically: parallel test workers)."""
    import os
    import tempfile

    directory.mkdir(parents=True, exist_ok=True)
    for name, body in (
        ("corpus_accuracy.txt", table + "\n"),
        ("corpus_misses.md", format_misses(result, markdown=True) + "\n"),
    ):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, directory / name)
    return directory / "corpus_accuracy.txt"


def _git_head() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


_RESTS_ON = {"thread": "cause established by the thread", "text-only": "cause in the text"}
"""What a blind label rests on, by its confidence: the split ``--blind`` prints."""


def blind_record(path: Path, result: Result) -> dict[str, Any]:
    """What protocol step 3 records for a newly frozen batch (copy it into blind_scores.json)."""
    import datetime

    t = result.total
    commit = _git_head()
    return {"batch": path.stem.removeprefix("blind-"), "file": path.name,
            "frozen": datetime.date.today().isoformat(), "freeze_commit": commit,
            "scored_with": commit, "n": t.n, "top1": t.hit1, "top3": t.hit3, "no_cause": t.none,
            "top1_pct": round(100 * t.top1, 1), "top3_pct": round(100 * t.top3, 1),
            "no_cause_pct": round(100 * t.no_cause, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    p.add_argument("--misses", action="store_true", help="also list every misclassified text")
    p.add_argument("--markdown", type=Path, help="write the misses as a markdown list to this file")
    p.add_argument("--blind", type=Path, metavar="FILE",
                   help="score only this new batch (protocol step 3) and print its record")
    args = p.parse_args(argv)
    try:
        entries = load_files([args.blind]) if args.blind else load_corpus(args.corpus_dir)
        blind = [] if args.blind else load_blind_scores(args.corpus_dir / SCORES_FILE)
    except (CorpusError, OSError, ValueError, KeyError) as e:
        print(f"accuracy: {e}", file=sys.stderr)
        return 2
    try:
        from pulldoctor.causes import CODES
        from pulldoctor.explain import explain
    except ImportError as e:
        print(f"accuracy: pulldoctor.explain.explain is not available ({e})", file=sys.stderr)
        return 2
    result = evaluate(entries, explain)
    if args.blind:
        t = result.total
        table = (f"{args.blind.name}: n={t.n}  top-1 {_pct(t.top1).strip()} ({t.hit1})  "
                 f"top-3 {_pct(t.top3).strip()} ({t.hit3})  no cause {_pct(t.no_cause).strip()} "
                 f"({t.none})\n"
                 + "".join(f"  {kind}: n={k.n}  top-1 {_pct(k.top1).strip()} ({k.hit1})  top-3 "
                           f"{_pct(k.top3).strip()} ({k.hit3})\n"
                           for kind, k in result.by(
                               lambda o: _RESTS_ON.get(o.entry.confidence, o.entry.confidence)
                           ).items())
                 + "record (append to blind_scores.json, in a commit of its own):\n"
                 + json.dumps(blind_record(args.blind, result), indent=2))
    else:
        table = format_table(result, CODES, blind)
    try:
        print(table)
        if args.misses:
            print("\nmisclassified texts\n" + format_misses(result))
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; not an error worth a traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.markdown:
        args.markdown.write_text(format_misses(result, markdown=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
