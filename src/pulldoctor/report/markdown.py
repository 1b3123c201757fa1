"""Markdown for tickets and issue comments (GitHub / GitLab flavoured).

Evidence and commands go into fenced code blocks so a reader can copy them exactly; the fence is
made longer than any backtick run in the content, so a hostile or odd error text cannot break out of
it. Table cells escape ``|`` and newlines. Everything else is escaped so that ``*``, ``_`` and ``<``
in error texts stay literal.
"""

from __future__ import annotations

import re

from pulldoctor.model import Report
from pulldoctor.redact import redact
from pulldoctor.report import view
from pulldoctor.report.view import Data

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def esc(text: object) -> str:
    """Inline text with Markdown syntax characters made literal."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def code(text: object) -> str:
    """Inline code span that survives backticks in ``text``."""
    s = str(text).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def block(lines: list[str], lang: str = "text") -> list[str]:
    """A fenced code block longer than any backtick run inside."""
    body = "\n".join(lines)
    longest = max((len(m) for m in re.findall(r"`{3,}", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", *lines, fence]


def cell(text: object) -> str:
    return esc(text).replace("\r", " ") or " "


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def _cause(c: Data, heading: str) -> list[str]:
    lines = [f"{heading} {code(c.get('code'))}: {esc(c.get('title'))} "
             f"(confidence {view.percent(c.get('confidence'))})", ""]
    if c.get("meaning"):
        lines += [esc(c["meaning"]), ""]
    for label, items in view.cause_sections(c):
        lines += [f"**{esc(label)}**", ""]
        if label in ("Evidence", "Tell apart"):
            lines += [*block([t for _cmd, t in items]), ""]
            continue
        prose = [t for cmd, t in items if not cmd]
        commands = [t for cmd, t in items if cmd]
        if prose:  # sentences stay sentences: never in a shell block
            lines += [*(f"- {esc(t)}" for t in prose), ""]
        if commands:
            lines += [*block(commands, "sh"), ""]
    return lines


def render_markdown(report: Report, *, verbose: bool = False) -> str:
    return render_markdown_data(view.report_data(report), verbose=verbose)


def _scan(data: Data, verbose: bool) -> list[str]:
    """scan: the table of groups first, then one section per group; no single verdict."""
    groups = view.groups(data)
    if not groups:
        return ["**No pull failure found.**", ""]
    lines = [f"### Pull failures ({len(groups)} groups, most frequent first)", "", *_table(
        [c.replace("_", " ").title() for c in view.GROUP_COLUMNS],
        [[code(v) if c == "code" else cell(v)
          for c, v in zip(view.GROUP_COLUMNS, view.group_cells(g), strict=True)] for g in groups]), ""]
    lines += ["### Groups", ""]
    for i, g in enumerate(groups, 1):
        lines += [f"#### {esc(view.group_heading(i, data, g))}", ""]
        lines += [f"- **{esc(k)}**: " + (code(v) if k == "sample" else esc(v))
                  for k, v in view.group_facts(g)]
        lines.append("")
        cause = view.cause_of(data, g.get("code")) or {}
        fix_items = view.group_fix(data, g)
        prose = [x for cmd, x in fix_items if not cmd]
        fix = [x for cmd, x in fix_items if cmd]
        confirm = [str(x) for x in cause.get("confirm") or []] if verbose else []
        if prose or fix:
            lines += ["**Fix**", "", *(f"- {esc(x)}" for x in prose), *([""] if prose else [])]
            lines += [*block(fix, "sh"), ""] if fix else []
        if confirm:
            lines += ["**Confirm**", "", *block(confirm, "sh"), ""]
    return lines


def render_markdown_data(data: Data, *, verbose: bool = False) -> str:
    subject = view.subject(data)
    lines = [f"## pulldoctor {esc(data.get('command', ''))}" + (f": {code(subject)}" if subject else ""), ""]
    if view.is_scan(data):
        lines += _scan(data, verbose)
        if data.get("facts"):
            lines += ["### Facts", "", *_table(["Fact", "Value"], [
                [cell(k), cell(view.scalar(v))] for k, v in data["facts"].items()]), ""]
        if data.get("notes"):
            lines += ["### Notes", "", *(f"- {esc(n)}" for n in data["notes"]), ""]
        lines.append(f"<sub>pulldoctor {esc(data.get('pulldoctor_version', ''))}, "
                     f"report schema {esc(data.get('schema_version', ''))}</sub>")
        return redact("\n".join(lines) + "\n")
    top = view.verdict(data)
    if top is None:
        lines += [f"**Verdict:** {esc(view.healthy_text(data))}", ""]
    else:
        lines += _cause(top, "**Verdict:**")
    rest = view.others(data)
    if rest:
        lines += ["### Other candidates", ""]
        if verbose:
            for c in rest:
                lines += _cause(c, "-")
        else:
            lines += _table(["#", "Code", "Confidence", "Title", "Tell apart"], [
                [str(i), code(c.get("code")), view.percent(c.get("confidence")), cell(c.get("title")),
                 cell("; ".join(str(d) for d in c.get("distinguish") or []))]
                for i, c in enumerate(rest, 2)])
            lines.append("")
    steps = view.steps(data)
    if steps:
        lines += ["### Steps", ""]
        for title, group in view.step_groups(data):
            rows = []
            for s in group:
                summary = s.get("summary") or (f"blocked by {s['blocked_by']}"
                                               if s.get("blocked_by") else "")
                outcome = str(s.get("outcome", ""))
                rows.append([cell(view.OUTCOME_MARK.get(outcome, outcome)), code(s.get("name")),
                             view.duration(s.get("duration_s")), cell(summary)])
            if title:
                lines += [f"#### {esc(title)}", ""]
            lines += [*_table(["Outcome", "Step", "Time", "Summary"], rows), ""]
    found = view.findings(data)
    if found:
        lines += ["### Findings", ""]
        for step_name, f in found:
            tag = f" ({code(f['code'])})" if f.get("code") else ""
            lines.append(f"- **{esc(f.get('severity', 'error'))}**: {esc(f.get('title'))}{tag}, "
                         f"step {code(step_name)}")
            ev = [str(e) for e in f.get("evidence") or []]
            fix = [str(x) for x in f.get("fix") or []]
            if ev:
                lines += ["", *("  " + x for x in block(ev))]
            if f.get("advice"):
                lines += ["", *(f"  - {esc(a)}" for a in f["advice"])]
            if fix:
                lines += ["", *("  " + x for x in block(fix, "sh"))]
        lines.append("")
    if verbose and steps:
        lines += ["### Observations", ""]
        for s in steps:
            obs = [str(e) for e in s.get("evidence") or []]
            obs += [f"{k} = {v}" for k, v in view.flatten(s.get("data") or {})] if s.get("data") else []
            if obs:
                lines += [f"**{esc(s.get('name'))}**", "", *block(obs), ""]
    if data.get("facts"):
        lines += ["### Facts", "", *_table(["Fact", "Value"], [
            [cell(k), cell(view.scalar(v))] for k, v in data["facts"].items()]), ""]
    columns, rows = view.answer_table(data)
    if rows:
        lines += ["### Endpoints, in the order the runtime tries them", "", *_table(
            [cell(c.replace("_", " ")) for c in columns],
            [[cell(v) for v in r] for r in rows]), ""]
    cfg = view.config(data)
    if cfg:
        lines += ["### Effective configuration", "", *_table(["Setting", "Value"], [
            [cell(k), cell(v)] for k, v in view.config_rows(cfg)]), ""]
    more = view.extra_rows(data) if verbose else []
    if more:
        lines += ["### More", "", *_table(["Key", "Value"], [[cell(k), cell(v)] for k, v in more]), ""]
    if data.get("notes"):
        lines += ["### Notes", "", *(f"- {esc(n)}" for n in data["notes"]), ""]
    lines.append(f"<sub>pulldoctor {esc(data.get('pulldoctor_version', ''))}, "
                 f"report schema {esc(data.get('schema_version', ''))}</sub>")
    return redact("\n".join(lines) + "\n")
