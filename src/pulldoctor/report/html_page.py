"""One self-contained HTML file: something to attach to a ticket and open anywhere, offline.

Inline CSS only, no scripts, no fonts, no images; a Content-Security-Policy forbids loading anything
else, so a report opened from a mail attachment cannot call out. Every text is HTML-escaped. The
steps are a timeline whose bars are proportional to each step's duration; certificate details come
from the steps' observations and the effective configuration from ``extra.config``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from pulldoctor.model import Report
from pulldoctor.redact import redact
from pulldoctor.report import view
from pulldoctor.report.view import Data

_CSS = """
:root{--fg:#1d2330;--muted:#5b6474;--bad:#b42318;--ok:#067647;--warn:#b54708;--line:#d0d5dd;
--bg:#fff;--code:#f2f4f7}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:20px;margin:0 0 16px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line)}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);padding:8px 10px;border-radius:6px;white-space:pre-wrap;word-break:break-all;margin:4px 0}
.verdict{border:2px solid var(--bad);border-radius:10px;padding:14px 18px;background:#fef3f2}
.verdict.healthy{border-color:var(--ok);background:#ecfdf3}
.verdict .code{font-weight:700;color:var(--bad)}.verdict.healthy .code{color:var(--ok)}
.conf{color:var(--muted)}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:4px 8px;
text-align:left;vertical-align:top}th{color:var(--muted);font-weight:600}
table.kv th{width:1%;white-space:nowrap;padding-right:24px}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{display:grid;grid-template-columns:100px 150px 80px 1fr;gap:8px;padding:6px 0;
border-bottom:1px solid var(--line);align-items:start}
.bar{height:8px;border-radius:4px;background:var(--line);margin-top:6px}
.bar span{display:block;height:8px;border-radius:4px;background:#667085}
.o-ok{color:var(--ok)}.o-problem,.o-timeout,.o-crashed{color:var(--bad);font-weight:700}
.o-warning{color:var(--warn)}.o-skipped,.o-blocked{color:var(--muted)}
details{margin:4px 0}summary{cursor:pointer;color:var(--muted)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _pre(lines: list[str]) -> str:
    return "<pre>" + _e("\n".join(lines)) + "</pre>" if lines else ""


def _cause(c: Data, *, top: bool) -> str:
    parts = [f'<div class="verdict"><div><span class="code">{_e(c.get("code"))}</span> '
             f"<strong>{_e(c.get('title'))}</strong> "
             f'<span class="conf">confidence {_e(view.percent(c.get("confidence")))}</span></div>'
             if top else
             f"<h3>{_e(c.get('code'))}: {_e(c.get('title'))} "
             f'<span class="conf">({_e(view.percent(c.get("confidence")))})</span></h3>']
    if c.get("meaning"):
        parts.append(f"<p>{_e(c['meaning'])}</p>")
    for label, items in view.cause_sections(c):
        prose = [t for cmd, t in items if not cmd]
        commands = [f"$ {t}" for cmd, t in items if cmd]
        body = (_pre(prose) if label in ("Evidence", "Tell apart") else
                ("<ul>" + "".join(f"<li>{_e(t)}</li>" for t in prose) + "</ul>" if prose else "")
                + _pre(commands))
        parts.append(f"<h4>{_e(label)}</h4>{body}")
    if top:
        parts.append("</div>")
    return "\n".join(parts)


def _kv(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _timeline(steps: list[Data]) -> str:
    longest = max((float(s.get("duration_s") or 0) for s in steps), default=0.0) or 1.0
    items = []
    for s in steps:
        outcome = str(s.get("outcome", ""))
        dur = float(s.get("duration_s") or 0)
        width = max(1.0, min(100.0, 100.0 * dur / longest)) if dur > 0 else 0.0
        summary = s.get("summary") or (f"blocked by {s['blocked_by']}" if s.get("blocked_by") else "")
        detail = []
        detail += [str(e) for e in s.get("evidence") or []]
        obs = list(view.flatten(s.get("data") or {})) if s.get("data") else []
        extra = ""
        if detail or obs:
            extra = ("<details><summary>observations</summary>" + _pre(detail)
                     + (_kv(obs) if obs else "") + "</details>")
        for cert in view.certificates(s):
            extra += "<h4>Certificate</h4>" + _kv(list(view.flatten(cert)))
        items.append(
            f'<li><span class="o-{_e(outcome)}">{_e(view.OUTCOME_MARK.get(outcome, outcome))}</span>'
            f"<code>{_e(s.get('name', ''))}</code><span>{_e(view.duration(dur))}</span>"
            f"<div>{_e(summary)}"
            + (f'<div class="bar"><span style="width:{width:.1f}%"></span></div>' if width else "")
            + f"{extra}</div></li>")
    return '<ul class="timeline">' + "\n".join(items) + "</ul>"


def render_html(report: Report, *, verbose: bool = False) -> str:
    return render_html_data(view.report_data(report), verbose=verbose)


def _scan(data: Data) -> list[str]:
    """scan: the table of groups first, then one section per group; no single verdict."""
    groups = view.groups(data)
    if not groups:
        return ['<div class="verdict healthy" id="verdict"><span class="code">No pull failure '
                "found.</span></div>"]
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in view.GROUP_COLUMNS)
    rows = "".join("<tr>" + "".join(f"<td><code>{_e(v)}</code></td>" if c == "sample" else
                                    f"<td>{_e(v)}</td>"
                                    for c, v in zip(view.GROUP_COLUMNS, view.group_cells(g),
                                                    strict=True)) + "</tr>" for g in groups)
    out = [f'<h2>Pull failures ({len(groups)} groups, most frequent first)</h2>'
           f'<section id="groups"><table><tr>{head}</tr>{rows}</table></section>', "<h2>Groups</h2>"]
    for i, g in enumerate(groups, 1):
        items = view.group_fix(data, g)
        prose = "".join(f"<li>{_e(x)}</li>" for cmd, x in items if not cmd)
        fix = [f"$ {x}" for cmd, x in items if cmd]
        body = (f"<ul>{prose}</ul>" if prose else "") + (_pre(fix) if fix else "")
        out.append(f'<section class="group"><h3>{_e(view.group_heading(i, data, g))}</h3>'
                   + _kv(view.group_facts(g)) + (f"<h4>Fix</h4>{body}" if body else "")
                   + "</section>")
    return out


def render_html_data(data: Data, *, verbose: bool = False) -> str:
    """The whole page. ``verbose`` opens the observation drawers; they are always present."""
    title = view.title_line(data)
    body: list[str] = [f"<h1>{_e(title)}</h1>"]
    top = view.verdict(data)
    if view.is_scan(data):
        body.extend(_scan(data))
    elif top is None:
        body.append(f'<div class="verdict healthy" id="verdict"><span class="code">'
                    f"{_e(view.healthy_text(data))}</span></div>")
    else:
        body.append('<section id="verdict">' + _cause(top, top=True) + "</section>")
    rest = [] if view.is_scan(data) else view.others(data)
    if rest:
        body.append("<h2>Other candidates</h2>" + "".join(_cause(c, top=False) for c in rest))
    steps = view.steps(data)
    if steps:
        body.append('<h2>Steps</h2><section id="steps">' + "".join(
            (f"<h3>{_e(title)}</h3>" if title else "") + _timeline(group)
            for title, group in view.step_groups(data)) + "</section>")
    found = view.findings(data)
    if found:
        body.append("<h2>Findings</h2>")
        for step_name, f in found:
            tag = f" [{f['code']}]" if f.get("code") else ""
            body.append(f"<h3>{_e(f.get('severity', 'error'))}: {_e(f.get('title'))}{_e(tag)} "
                        f'<span class="conf">({_e(step_name)})</span></h3>'
                        + _pre([str(e) for e in f.get("evidence") or []])
                        + ("<ul>" + "".join(f"<li>{_e(a)}</li>" for a in f["advice"]) + "</ul>"
                           if f.get("advice") else "")
                        + _pre([f"$ {x}" for x in f.get("fix") or []]))
    if data.get("facts"):
        body.append("<h2>Facts</h2>" + _kv([(str(k), view.scalar(v)) for k, v in data["facts"].items()]))
    columns, table_rows = view.answer_table(data)
    if table_rows:
        head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in columns)
        trs = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in table_rows)
        body.append('<h2>Endpoints, in the order the runtime tries them</h2>'
                    f'<section id="answer-table"><table><tr>{head}</tr>{trs}</table></section>')
    cfg = view.config(data)
    if cfg:
        body.append('<h2>Effective configuration</h2><section id="config">'
                    + _kv(view.config_rows(cfg)) + "</section>")
    more = view.extra_rows(data)
    if more:
        body.append("<h2>More</h2><details" + (" open" if verbose else "") + "><summary>"
                    f"{len(more)} more values</summary>" + _kv(more) + "</details>")
    if data.get("notes"):
        body.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in data["notes"]) + "</ul>")
    body.append(f"<footer>pulldoctor {_e(data.get('pulldoctor_version', ''))}, report schema "
                f"{_e(data.get('schema_version', ''))}"
                + (f", took {_e(view.duration(data['duration_s']))}" if data.get("duration_s") else "")
                + "</footer>")
    page = body_html = "\n".join(body)
    if verbose:
        page = body_html.replace("<details>", "<details open>")
    doc = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style></head>\n<body>\n{page}\n</body></html>\n"
    )
    return redact(doc)
