"""The terminal view (rich): a coloured report, and the live progress of ``diagnose``.

rich is imported inside the functions, never at module level: ``pulldoctor explain`` piped into a
file must not pay rich's import time. Every piece of report text goes into ``rich.text.Text``
(never markup), because error texts contain brackets that rich would read as styles.

The report is rendered to a string first and redacted again before it is written, so even text a
layout adds cannot leak a secret.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from pulldoctor.model import Step
from pulldoctor.redact import redact
from pulldoctor.report import view
from pulldoctor.report.view import Data

if TYPE_CHECKING:
    from rich.console import RenderableType

_OUTCOME_STYLE = {
    "ok": "green", "problem": "bold red", "warning": "yellow", "skipped": "dim",
    "blocked": "dim", "timeout": "bold red", "crashed": "bold magenta",
}


def _is_terminal(stream: TextIO) -> bool:
    """True for an interactive terminal (not a pipe, a file, or ``TERM=dumb``)."""
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):
        return False


def colour_wanted(stream: TextIO) -> bool:
    """Colour only on a terminal and only when ``NO_COLOR`` is unset (https://no-color.org)."""
    return not os.environ.get("NO_COLOR") and _is_terminal(stream)


def _cause_block(c: Data) -> list[RenderableType]:
    from rich.text import Text

    head = Text()
    head.append(str(c.get("code")), style="bold red")
    head.append(f"  {c.get('title')}", style="bold")
    head.append(f"  (confidence {view.percent(c.get('confidence'))})", style="dim")
    parts: list[RenderableType] = [head]
    if c.get("meaning"):
        parts.append(Text(str(c["meaning"])))
    styles = {"Evidence": "yellow", "Fix": "bold cyan", "Confirm": "cyan"}
    for label, items in view.cause_sections(c):
        parts.append(Text(f"{label}:", style="bold"))
        style = styles.get(label.split(" ", 1)[0], "")
        for cmd, item in items:
            line = Text("  $ " if cmd else "  • ")
            line.append(item, style=style if cmd or label == "Evidence" else "")
            parts.append(line)
    return parts


def _step_table(steps: list[Data], *, title: str | None = "Steps") -> Any:
    """The step table (also the body of the live view)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", expand=False, show_edge=False)
    table.add_column("Outcome", no_wrap=True)
    table.add_column("Step", no_wrap=True)
    table.add_column("Time", justify="right", no_wrap=True)
    table.add_column("Summary", overflow="fold")
    for s in steps:
        outcome = str(s.get("outcome", ""))
        summary = str(s.get("summary") or "")
        if s.get("blocked_by") and not summary:
            summary = f"blocked by {s['blocked_by']}"
        table.add_row(Text(view.OUTCOME_MARK.get(outcome, outcome),
                           style=_OUTCOME_STYLE.get(outcome, "")),
                      Text(str(s.get("name", ""))), Text(view.duration(s.get("duration_s"))),
                      Text(summary))
    return table


def _kv_table(rows: list[tuple[str, str]], title: str) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_header=False, show_edge=False, box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for k, v in rows:
        table.add_row(Text(k), Text(v))
    return table


def _scan(data: Data, verbose: bool) -> list[RenderableType]:
    """scan: the table of groups first, then each group's detail; no single verdict."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    groups = view.groups(data)
    if not groups:
        out.append(Panel(Text("No pull failure found.", style="bold green"), border_style="green"))
    else:
        t = Table(title=f"Pull failures ({len(groups)} groups, most frequent first)",
                  title_justify="left", show_edge=False)
        columns = [c for c in view.GROUP_COLUMNS if c != "sample"]  # the panel shows it whole
        for col in columns:
            t.add_column(col.replace("_", " ").title(), overflow="fold")
        for g in groups:
            cells = dict(zip(view.GROUP_COLUMNS, view.group_cells(g), strict=True))
            t.add_row(*(Text(cells[c]) for c in columns))
        out.append(t)
        for i, g in enumerate(groups, 1):
            cause = view.cause_of(data, g.get("code")) or {}
            body = [Text(f"{k}: {v}") for k, v in view.group_facts(g)]
            body += [Text(f"fix: $ {x}", style="green") if cmd else Text(f"fix: {x}")
                     for cmd, x in view.group_fix(data, g)]
            if verbose:
                body += [Text(f"confirm: $ {x}") for x in cause.get("confirm") or []]
            out.append(Panel(Group(*body), title=view.group_heading(i, data, g),
                             title_align="left", border_style="dim" if g.get("inferred") else "red"))
    if data.get("facts"):
        out.append(_kv_table([(str(k), view.scalar(v)) for k, v in data["facts"].items()], "Facts"))
    if data.get("notes"):
        out.append(Group(*(Text(f"• {n}", style="italic") for n in data["notes"])))
    return out


def _renderables(data: Data, *, verbose: bool = False) -> list[RenderableType]:
    """The report as rich renderables, in the same order as the plain text."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = [Text(view.title_line(data), style="bold")]
    if view.is_scan(data):
        return out + _scan(data, verbose)
    top = view.verdict(data)
    if top is None:
        out.append(Panel(Text(view.healthy_text(data), style="bold green"), title="Verdict",
                         title_align="left", border_style="green"))
    else:
        out.append(Panel(Group(*_cause_block(top)), title="Root cause", title_align="left",
                         border_style="red"))
    rest = view.others(data)
    if rest:
        t = Table(title="Other candidates", title_justify="left", show_edge=False)
        for col in ("#", "Code", "Confidence", "Title"):
            t.add_column(col)
        for i, c in enumerate(rest, 2):
            t.add_row(str(i), Text(str(c.get("code"))), view.percent(c.get("confidence")),
                      Text(str(c.get("title"))))
        out.append(t)
        if verbose:
            out.extend(Panel(Group(*_cause_block(c)), border_style="dim") for c in rest)
    steps = view.steps(data)
    if steps:
        runs = view.step_groups(data)
        if len(runs) == 1 and runs[0][0] is None:
            out.append(_step_table(steps))
        else:
            out.append(Text("Steps", style="italic"))
            out.extend(_step_table(run, title=title) for title, run in runs)
    for step_name, f in view.findings(data):
        body = [Text(f"{f.get('severity', 'error')}: {f.get('title')} ({step_name})", style="bold")]
        body += [Text(f"  • {e}", style="yellow") for e in f.get("evidence") or []]
        body += [Text(f"  • {a}") for a in f.get("advice") or []]
        body += [Text(f"  $ {x}", style="bold cyan") for x in f.get("fix") or []]
        out.append(Group(*body))
    if verbose and steps:
        for s in steps:
            rows = [("evidence", str(e)) for e in s.get("evidence") or []]
            rows += list(view.flatten(s.get("data") or {})) if s.get("data") else []
            if rows:
                out.append(_kv_table(rows, f"Observations: {s.get('name')}"))
    if data.get("facts"):
        out.append(_kv_table([(str(k), view.scalar(v)) for k, v in data["facts"].items()], "Facts"))
    columns, table_rows = view.answer_table(data)
    if table_rows:
        t = Table(title="Endpoints, in the order the runtime tries them", title_justify="left",
                  show_edge=False)
        for col in columns:
            t.add_column(col.replace("_", " "), overflow="fold")
        for r in table_rows:
            t.add_row(*(Text(c) for c in r))
        out.append(t)
    cfg = view.config(data)
    if cfg:
        out.append(_kv_table(view.config_rows(cfg), "Effective configuration"))
    more = view.extra_rows(data) if verbose else []
    if more:
        out.append(_kv_table(more, "More"))
    if data.get("notes"):
        out.append(Group(*(Text(f"• {n}", style="italic") for n in data["notes"])))
    if data.get("duration_s"):
        out.append(Text(f"Took {view.duration(data['duration_s'])}.", style="dim"))
    return out


def render_rich(data: Data, *, verbose: bool = False, width: int | None = None,
                colour: bool = True) -> str:
    """Render to a string (ANSI styled when ``colour``), redacted once more before returning."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width or 100, force_terminal=colour, no_color=not colour,
                      color_system="standard" if colour else None, highlight=False,
                      emoji=False, legacy_windows=False)
    for r in _renderables(data, verbose=verbose):
        console.print(r)
        console.print()
    return redact(buf.getvalue().rstrip("\n") + "\n")


def terminal_width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 100


class LiveProgress:
    """Shows ``diagnose`` steps as they run and finish; the diagnose engine calls it.

    On a terminal: a spinner per running step and the step table growing as steps finish
    (transient: it disappears when done, and the final report prints the verdict first). Elsewhere
    (a pipe, a CI log): one plain line per finished step. Callbacks may come from any thread.
    """

    def __init__(self, out: TextIO | None = None, *, live: bool | None = None,
                 title: str = "Diagnosing") -> None:
        self.out: TextIO = out if out is not None else sys.stderr
        self.live = _is_terminal(self.out) if live is None else live
        self.title = title
        self.running: list[str] = []
        self.done: list[Data] = []
        self._lock = threading.Lock()
        self._live: Any = None
        self._spinners: dict[str, Any] = {}

    def __enter__(self) -> LiveProgress:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        if not self.live or self._live is not None:
            return
        from rich.console import Console
        from rich.live import Live

        console = Console(file=self.out, force_terminal=True, highlight=False, emoji=False,
                          no_color=bool(os.environ.get("NO_COLOR")))
        self._live = Live(self, console=console, transient=True, refresh_per_second=10,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.start()

    def stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def on_start(self, name: str) -> None:
        with self._lock:
            if name not in self.running:
                self.running.append(name)
        if self._live is not None:
            self._live.refresh()

    def on_step(self, step: Step) -> None:
        data = view.step_data(step)
        with self._lock:
            if step.name in self.running:
                self.running.remove(step.name)
            self.done.append(data)
        if self._live is not None:
            self._live.refresh()
        elif self.out is not None:
            outcome = str(data.get("outcome"))
            line = (f"pulldoctor: {view.OUTCOME_MARK.get(outcome, outcome):<8} {data.get('name')}"
                    f" ({view.duration(data.get('duration_s'))}) {data.get('summary') or ''}")
            self.out.write(redact(line.rstrip()) + "\n")
            self.out.flush()

    def __rich__(self) -> RenderableType:
        """What the live display shows now: finished steps, then a spinner per running step."""
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.text import Text

        with self._lock:
            done = list(self.done)
            running = list(self.running)
        title = self._spinners.get("")
        if title is None:  # a spinner even when the engine never calls on_start
            title = self._spinners[""] = Spinner("dots", text=Text(self.title + "…", style="bold"))
        parts: list[RenderableType] = [title]
        if done:
            parts.append(_step_table(done, title=None))
        for name in running:
            spinner = self._spinners.get(name)
            if spinner is None:
                spinner = self._spinners[name] = Spinner("dots", text=Text(name))
            parts.append(spinner)
        return Group(*parts)



