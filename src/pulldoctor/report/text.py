"""Plain, colourless text: for pipes, logs, CI output, ``NO_COLOR`` and golden tests.

No rich import here: a pipe should not pay for the terminal library, and the layout must be
byte-for-byte stable. The verdict comes first because that is what the reader acts on; the step
table, facts and configuration follow as the supporting record.
"""

from __future__ import annotations

from pulldoctor.model import Report
from pulldoctor.redact import redact
from pulldoctor.report import view
from pulldoctor.report.view import Data


def _item(prefix: str, text: object) -> str:
    """``prefix + text``, continuation lines of a multi-line text indented under the first."""
    return prefix + str(text).replace("\n", "\n" + " " * len(prefix))


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    return _grouped_table(headers, [(None, rows)], indent)


def _grouped_table(headers: tuple[str, ...], groups: list[tuple[str | None, list[tuple[str, ...]]]],
                   indent: str = "  ") -> list[str]:
    """One table, columns aligned across groups; a titled group starts with its title line."""
    groups = [(t, [tuple(" ".join(c.split("\n")) for c in row) for row in rows])
              for t, rows in groups]
    widths = [len(h) for h in headers]
    for _t, rows in groups:
        for row in rows:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    out = [indent + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for title, rows in groups:
        if title:
            out += ["", indent + title]
        out.extend(indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                   for row in rows)
    return out


def _cause_lines(c: Data, *, lead: str) -> list[str]:
    """The full block of one cause: meaning, evidence, fix commands, how to confirm."""
    lines = [f"{lead}{c.get('code')}: {c.get('title')} (confidence {view.percent(c.get('confidence'))})"]
    if c.get("meaning"):
        lines.append(f"  {c['meaning']}")
    for label, items in view.cause_sections(c):
        lines.append(f"  {label}:")
        lines.extend(_item("    $ " if cmd else "    - ", text) for cmd, text in items)
    return lines


def _step_rows(steps: list[Data]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for s in steps:
        summary = str(s.get("summary") or "")
        if s.get("blocked_by") and not summary:
            summary = f"blocked by {s['blocked_by']}"
        outcome = str(s.get("outcome", ""))
        rows.append((view.OUTCOME_MARK.get(outcome, outcome), str(s.get("name", "")),
                     view.duration(s.get("duration_s")), summary))
    return rows


def _observation_lines(s: Data) -> list[str]:
    """Everything one step observed (``--verbose``)."""
    name = " ".join(str(s.get("name", "")).split())
    lines = [f"  {name} ({s.get('outcome')}, {view.duration(s.get('duration_s'))})"]
    lines.extend(_item("    ", e) for e in s.get("evidence") or [])
    lines.extend(_item(f"    {k} = ", v) for k, v in view.flatten(s.get("data") or {}) if s.get("data"))
    return lines


def render_text(report: Report, *, verbose: bool = False) -> str:
    """The whole report as plain text (ends with a newline)."""
    return render_text_data(view.report_data(report), verbose=verbose)


def render_text_data(data: Data, *, verbose: bool = False) -> str:
    if view.is_scan(data):
        return redact("\n".join(_scan_lines(data, verbose)) + "\n")
    lines: list[str] = [view.title_line(data), ""]
    top = view.verdict(data)
    if top is None:
        lines.append("VERDICT: " + view.healthy_text(data))
    else:
        lines.extend(_cause_lines(top, lead="VERDICT: "))
    rest = view.others(data)
    if rest:
        lines += ["", "Other candidates:"]
        for i, c in enumerate(rest, 2):
            lines.append(f"  {i}. {c.get('code')}: {c.get('title')} "
                         f"(confidence {view.percent(c.get('confidence'))})")
            if verbose:
                lines.extend("  " + line for line in _cause_lines(c, lead="   ")[1:])
            lines.extend(f"     tell apart: {d}" for d in (c.get("distinguish") or []) if not verbose)
    steps = view.steps(data)
    if steps:
        lines += ["", "Steps:"]
        lines += _grouped_table(("OUTCOME", "STEP", "TIME", "SUMMARY"),
                                [(t, _step_rows(g)) for t, g in view.step_groups(data)])
    found = view.findings(data)
    if found:
        lines += ["", "Findings:"]
        for step_name, f in found:
            code = f" [{f['code']}]" if f.get("code") else ""
            lines.append(f"  {f.get('severity', 'error')}: {f.get('title')}{code} ({step_name})")
            lines.extend(_item("    - ", e) for e in f.get("evidence") or [])
            lines.extend(_item("    - ", a) for a in f.get("advice") or [])
            lines.extend(_item("    $ ", x) for x in f.get("fix") or [])
    if verbose and steps:
        lines += ["", "Observations:"]
        for s in steps:
            lines.extend(_observation_lines(s))
    if data.get("facts"):
        lines += ["", "Facts:"]
        lines.extend(_item(f"  {k}: ", view.scalar(v)) for k, v in data["facts"].items())
    columns, rows = view.answer_table(data)
    if rows:
        lines += ["", "Endpoints, in the order the runtime tries them:"]
        lines += _table(tuple(c.upper().replace("_", " ") for c in columns),
                        [tuple(r) for r in rows])
    cfg = view.config(data)
    if cfg:
        lines += ["", "Effective configuration:"]
        lines.extend(f"  {k}: {v}" for k, v in view.config_rows(cfg))
    more = view.extra_rows(data) if verbose else []
    if more:
        lines += ["", "More:"]
        lines.extend(_item(f"  {k}: ", v) for k, v in more)
    if data.get("notes"):
        lines += ["", "Notes:"]
        lines.extend(_item("  - ", n) for n in data["notes"])
    if data.get("duration_s"):
        lines += ["", f"Took {view.duration(data['duration_s'])}."]
    return redact("\n".join(lines) + "\n")


def _scan_lines(data: Data, verbose: bool) -> list[str]:
    """scan: the table of groups first, then each group's detail; no verdict over unrelated
    failures (each group is its own finding)."""
    lines: list[str] = [view.title_line(data), ""]
    groups = view.groups(data)
    if not groups:
        lines.append("No pull failure found.")
    else:
        failures = data.get("facts", {}).get("failures", sum(int(g.get("count") or 0) for g in groups))
        lines.append(f"Pull failures: {failures} in {len(groups)} group(s), most frequent first")
        lines += _table(tuple(c.upper().replace("_", " ") for c in view.GROUP_COLUMNS),
                        [view.group_cells(g) for g in groups])
        lines += ["", "Groups:"]
        for i, g in enumerate(groups, 1):
            lines.append("  " + view.group_heading(i, data, g))
            lines.extend(_item(f"     {k}: ", v) for k, v in view.group_facts(g))
            cause = view.cause_of(data, g.get("code")) or {}
            lines.extend(_item("     fix: $ " if cmd else "     fix: ", x)
                         for cmd, x in view.group_fix(data, g))
            if verbose:
                lines.extend(_item("     confirm: $ ", x) for x in cause.get("confirm") or [])
            if verbose and cause.get("meaning"):
                lines.append(_item("     meaning: ", cause["meaning"]))
    if data.get("facts"):
        lines += ["", "Facts:"]
        lines.extend(_item(f"  {k}: ", view.scalar(v)) for k, v in data["facts"].items())
    if data.get("notes"):
        lines += ["", "Notes:"]
        lines.extend(_item("  - ", n) for n in data["notes"])
    return lines
