"""How often ``pulldoctor explain`` names the right cause for real pull-error texts.

The corpus (``tests/corpus/*.jsonl``) holds error texts people really pasted into issue threads,
each labelled with the cause the thread's resolution (or the text itself) supports. This module is
shared by the test suite (``tests/explain/test_corpus.py`` asserts floors on its numbers) and by
humans (``python bench/accuracy.py`` prints the table the README quotes), so that both always
measure the same thing the same way.

The per-file rows keep ``holdout.jsonl`` apart: those texts were scored blind before any rule was
tuned on them (the blind number is kept in /work/notes/holdout_blind.md), so the row shows how
well the rules carry over to texts they were not written for, next to the files they were.

Why top-1 *and* top-3: many texts are honestly ambiguous (``dial tcp 1.2.3.4:443: i/o timeout``
may be a firewall or a proxy that is not applied); explain is allowed to rank, and a reader looks
at more than the first line. Top-1 says how often the first answer is right, top-3 says how often
the right answer is on screen at all.

Usage::

    python bench/accuracy.py                 # table per runtime, per code, confusions
    python bench/accuracy.py --misses        # plus every misclassified text
    python bench/accuracy.py --markdown FILE # write the misses as a markdown list to FILE
"""

from __future__ import annotations

import argparse
import json
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

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


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
    )


def load_corpus(directory: Path = CORPUS_DIR) -> list[Entry]:
    """Every line of every ``*.jsonl`` in ``directory``, in file-name order; raises CorpusError."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"{directory}: no *.jsonl corpus files")
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


@dataclass(slots=True)
class Tally:
    """Hits for one group (a runtime, a code, or everything)."""

    n: int = 0
    hit1: int = 0
    hit3: int = 0

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.hit1 += o.hit1
        self.hit3 += o.hit3

    @property
    def top1(self) -> float:
        return self.hit1 / self.n if self.n else 0.0

    @property
    def top3(self) -> float:
        return self.hit3 / self.n if self.n else 0.0


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


def _rows(title: str, groups: dict[str, Tally]) -> list[str]:
    width = max([len(title), *map(len, groups)])
    lines = [f"{title:<{width}}  {'n':>4}  {'top-1':>6}  {'top-3':>6}"]
    for name, t in groups.items():
        lines.append(f"{name:<{width}}  {t.n:>4}  {_pct(t.top1)}  {_pct(t.top3)}")
    return lines


def format_table(result: Result, catalogue_codes: Sequence[str] = ()) -> str:
    """The plain-text report: overall, per runtime, per code (with precision), confusions."""
    t = result.total
    out = [
        f"corpus: {t.n} texts   top-1 {_pct(t.top1)} ({t.hit1})   top-3 {_pct(t.top3)} ({t.hit3})"
        f"   exceptions {len(result.errors)}",
        "",
        *_rows("file", result.by(lambda o: o.entry.file)),
        "",
        *_rows("runtime", result.by(lambda o: o.entry.runtime)),
        "",
        *_rows("source kind", result.by(lambda o: o.entry.confidence)),
        "",
    ]
    per_code = result.by(lambda o: o.entry.label)
    for code in catalogue_codes:
        per_code.setdefault(code, Tally())
    per_code = dict(sorted(per_code.items()))
    predicted = result.predicted()
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
        out += ["", "wrong top-1 answers (expected -> got: count)"]
        out += [f"  {exp} -> {got}: {n}" for (exp, got), n in conf.most_common()]
    return "\n".join(out)


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


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    p.add_argument("--misses", action="store_true", help="also list every misclassified text")
    p.add_argument("--markdown", type=Path, help="write the misses as a markdown list to this file")
    args = p.parse_args(argv)
    try:
        entries = load_corpus(args.corpus_dir)
    except (CorpusError, OSError) as e:
        print(f"accuracy: {e}", file=sys.stderr)
        return 2
    try:
        from pulldoctor.causes import CODES
        from pulldoctor.explain import explain
    except ImportError as e:
        print(f"accuracy: pulldoctor.explain.explain is not available ({e})", file=sys.stderr)
        return 2
    result = evaluate(entries, explain)
    table = format_table(result, CODES)
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
