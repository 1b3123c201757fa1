"""What every renderer shows, computed once from a report: redacted, ordered, plain data.

Renderers (plain text, rich terminal, Markdown, HTML) differ only in layout. They all start from
:func:`report_data`, the report's JSON contract (``Report.to_dict``) with every secret masked, so a
secret is removed before any layout code sees it, and the same sections appear in the same order in
every format: verdict, other candidates, steps, findings, facts, configuration, scan groups, notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulldoctor.model import Report, Step
from pulldoctor.redact import redact_obj

Data = dict[str, Any]

OUTCOME_MARK = {
    "ok": "ok", "problem": "PROBLEM", "warning": "warning", "skipped": "skipped",
    "blocked": "blocked", "timeout": "TIMEOUT", "crashed": "CRASHED",
}
"""Outcome labels; failures upper-case so they stand out in colourless output."""

_CERT_KEYS = frozenset({
    "subject", "issuer", "sans", "san", "subject_alt_names", "not_before", "not_after",
    "notbefore", "notafter", "serial", "serial_number", "fingerprint_sha256", "sha256",
})


def report_data(report: Report) -> Data:
    """The report as redacted JSON-like data; the single input of every renderer."""
    data: Data = redact_obj(report.to_dict())
    return data


def step_data(step: Step) -> Data:
    """One step as redacted data (the live view renders steps before the report exists)."""
    data: Data = redact_obj(step.to_dict())
    return data


def scalar(value: Any) -> str:
    """A short, stable text form of a fact or observation value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(scalar(v) for v in value) if value else "-"
    return json.dumps(value, sort_keys=True, default=str)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted.key, text)`` pairs for nested observations, in insertion order."""
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        for i, v in enumerate(value):
            yield from flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix or "value", scalar(value)


def duration(seconds: Any) -> str:
    """A duration for tables: milliseconds under a second, else seconds."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "-"
    if seconds <= 0:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def percent(confidence: Any) -> str:
    return f"{confidence:.0%}" if isinstance(confidence, (int, float)) else "?"


_TITLE_SUBJECT_MAX = 200
"""A whole pasted log as ``explain``'s subject would bury the verdict; JSON keeps it whole."""


def subject(data: Data) -> str:
    """The subject on one line, shortened for headings."""
    text = " ".join(str(data.get("subject") or "").split())
    return text if len(text) <= _TITLE_SUBJECT_MAX else text[: _TITLE_SUBJECT_MAX - 1] + "…"


def title_line(data: Data) -> str:
    """``pulldoctor diagnose: nginx:latest`` style heading."""
    subj = subject(data)
    return f"pulldoctor {data.get('command', '?')}" + (f": {subj}" if subj else "")


def verdict(data: Data) -> Data | None:
    """The root cause (most likely first in the contract), or None when nothing was found."""
    causes = data.get("causes") or []
    return causes[0] if causes else None


Item = tuple[bool, str]
"""One line of a cause's section: (is a shell command, text)."""


def cause_sections(c: Mapping[str, Any]) -> list[tuple[str, list[Item]]]:
    """A cause's sections in order, non-empty ones only: evidence, fix (sentences, then commands),
    confirm (commands), tell apart. Only commands are ever shown as commands; the fix and confirm
    labels name the runtime the commands are for, when the report knows it."""
    rt = f" ({c['runtime']})" if c.get("runtime") else ""
    sections: list[tuple[str, list[Item]]] = [
        ("Evidence", [(False, str(e)) for e in c.get("evidence") or []]),
        (f"Fix{rt}", [(False, str(a)) for a in c.get("advice") or []]
         + [(True, str(f)) for f in c.get("fix") or []]),
        (f"Confirm{rt}", [(True, str(x)) for x in c.get("confirm") or []]),
        ("Tell apart", [(False, str(d)) for d in c.get("distinguish") or []]),
    ]
    return [(label, items) for label, items in sections if items]


def others(data: Data) -> list[Data]:
    return list((data.get("causes") or [])[1:])


def steps(data: Data) -> list[Data]:
    return list(data.get("steps") or [])


def step_groups(data: Data) -> list[tuple[str | None, list[Data]]]:
    """The steps in runs of one endpoint each, with a heading per endpoint (``diagnose``).

    The report already orders them (the endpoint whose error the runtime reports first); the
    heading says which endpoint it is, in the runtime's order, and what became of it (and, when
    diagnose walked several clients' paths, whose: its ``note`` names them). Steps of the whole
    diagnosis (configuration, host checks) need no heading when they come first.
    """
    all_steps = steps(data)
    if not any(s.get("endpoint") for s in all_steps):
        return [(None, all_steps)] if all_steps else []
    info = {(str(e.get("url")), e.get("client")): e for e in data.get("endpoints") or []
            if isinstance(e, Mapping)}
    tried = [str(u) for u in (data.get("facts") or {}).get("endpoints") or []]
    groups: list[tuple[str | None, list[Data]]] = []
    for s in all_steps:
        ep = s.get("endpoint")
        key = str(ep) if ep else None
        if groups and groups[-1][1] and (groups[-1][1][0].get("endpoint"),
                                         groups[-1][1][0].get("client")) == (ep, s.get("client")):
            groups[-1][1].append(s)
            continue
        if key is None:
            groups.append((None if not groups else "Whole diagnosis", [s]))
            continue
        e = info.get((key, s.get("client")), {})
        where = (f"Endpoint {tried.index(key) + 1} of {len(tried)}, " if key in tried
                 else "Endpoint ")
        title = where + key + (" (mirror)" if e.get("mirror") else "")
        groups.append((title + (f": {e['note']}" if e.get("note") else ""), [s]))
    return groups




def healthy_text(data: Data) -> str:
    """What the verdict line says when there is no cause."""
    if data.get("command") == "explain":
        return "No pull failure recognised."
    outcomes = {str(s.get("outcome")) for s in steps(data)}
    if outcomes & {"problem", "crashed"}:
        return "A step failed, but no single root cause could be proven (see the steps)."
    if "timeout" in outcomes:
        return ("The walk did not finish before the deadline: nothing is proven yet "
                "(raise --timeout; see the steps).")
    return "No problem found."


def findings(data: Data) -> list[tuple[str, Data]]:
    """Every finding with the name of the step that made it, in step order."""
    return [(str(s.get("name", "")), f) for s in steps(data) for f in s.get("findings") or []]


def certificates(step: Mapping[str, Any]) -> list[Data]:
    """Certificate-shaped dicts in a step's observations (subject/issuer/SANs/validity...)."""
    found: list[Data] = []

    def walk(value: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(value, Mapping):
            if len(_CERT_KEYS & {str(k).lower() for k in value}) >= 2:
                found.append(dict(value))
                return
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, list):
            for v in value:
                walk(v, depth + 1)

    walk(step.get("data") or {}, 0)
    return found


def config(data: Data) -> Data | None:
    """The effective pull configuration (``extra.config``, a ``PullConfig.to_dict``) if present."""
    cfg = data.get("config")
    return cfg if isinstance(cfg, dict) and cfg else None


def config_rows(cfg: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The configuration as (label, value) rows: runtime, endpoints in order, proxy, credentials."""
    rows: list[tuple[str, str]] = []
    for key in ("runtime", "image", "platform"):
        if key in cfg:
            rows.append((key, scalar(cfg[key])))
    for i, ep in enumerate(cfg.get("endpoints") or [], 1):
        if not isinstance(ep, Mapping):
            rows.append((f"endpoint {i}", scalar(ep)))
            continue
        bits = [str(ep.get("url", ""))]
        if ep.get("is_mirror"):
            bits.append("mirror")
        if ep.get("insecure") or ep.get("skip_verify"):
            bits.append("insecure")
        if ep.get("ca_files"):
            bits.append("CA " + scalar(ep.get("ca_files")))
        if ep.get("proxy"):
            bits.append(f"via proxy {ep.get('proxy')}")
        if ep.get("credential_source"):
            bits.append(f"credentials from {ep.get('credential_source')}")
        if ep.get("source"):
            bits.append(f"from {ep.get('source')}")
        rows.append((f"endpoint {i}", "; ".join(b for b in bits if b)))
    proxy = cfg.get("proxy")
    if isinstance(proxy, Mapping) and any(proxy.get(k) for k in ("http_proxy", "https_proxy")):
        parts = [f"{k}={proxy[k]}" for k in ("http_proxy", "https_proxy", "no_proxy") if proxy.get(k)]
        if proxy.get("source"):
            parts.append(f"from {proxy['source']}")
        rows.append(("proxy", "; ".join(parts)))
    elif isinstance(proxy, Mapping):
        rows.append(("proxy", "none"))
    clients = [c for c in cfg.get("clients") or [] if isinstance(c, Mapping)]
    if len(clients) > 1:  # which proxy applies to which client (containerd: ctr vs the CRI)
        for c in clients:
            cp = c.get("proxy") if isinstance(c.get("proxy"), Mapping) else {}
            used = (cp or {}).get("https_proxy") or (cp or {}).get("http_proxy")
            rows.append((f"proxy for {c.get('name', '')}",
                         f"{used or 'none (direct)'}; {c.get('who', '')}"
                         + ("" if c.get("walked", True) else " (not walked)")))
    for cred in cfg.get("credentials") or []:
        if isinstance(cred, Mapping):
            who = cred.get("username") or (f"helper {cred['helper']}" if cred.get("helper") else "")
            bits = [str(cred.get("source", "")), who or "", "secret set" if cred.get("has_secret") else "no secret"]
            if cred.get("error"):
                bits.append(f"error: {cred['error']}")
            rows.append((f"credentials {cred.get('registry', '')}", "; ".join(b for b in bits if b)))
    res = cfg.get("resolver")
    if isinstance(res, Mapping):
        bits = [f"nameservers {scalar(res.get('nameservers'))}"]
        if res.get("search"):
            bits.append(f"search {scalar(res.get('search'))}")
        bits.append(f"ndots {scalar(res.get('ndots'))}, timeout {scalar(res.get('timeout_s'))} s, "
                    f"attempts {scalar(res.get('attempts'))}")
        if res.get("read_error"):
            bits.append(f"error: {res['read_error']}")
        rows.append(("resolver", "; ".join(bits)))
    settings = cfg.get("settings")
    if isinstance(settings, Mapping) and settings:
        rows.extend((f"setting {k}", v) for k, v in flatten(settings) if v not in ("-", ""))
    if cfg.get("sources"):
        rows.append(("files read", scalar(cfg.get("sources"))))
    if cfg.get("problems"):
        rows.append(("problems", scalar(cfg.get("problems"))))
    return rows


GROUP_COLUMNS = ("count", "code", "image", "registry", "node", "first_seen", "last_seen", "sample")
"""scan's table: one row per (cause, image, registry, node), most frequent first."""
_TABLE_SAMPLE = 110
"""Characters of the sample line in the table (the group's detail shows it whole)."""


def is_scan(data: Data) -> bool:
    return data.get("command") == "scan"


def groups(data: Data) -> list[Data]:
    """``scan`` groups (``extra.groups``), as given (the scanner sorts them)."""
    g = data.get("groups")
    return [x for x in g if isinstance(x, dict)] if isinstance(g, list) else []


def _group_sample(group: Mapping[str, Any], limit: int = 600) -> str:
    """The group's sample line (older reports call it ``example``), cut never inside a URL."""
    from pulldoctor.excerpt import excerpt

    return excerpt(str(group.get("sample") or group.get("example") or ""), limit)




def group_cells(group: Mapping[str, Any]) -> tuple[str, ...]:
    """One table row: the columns of :data:`GROUP_COLUMNS`, the sample cut short."""
    return tuple(_group_sample(group, _TABLE_SAMPLE) if c == "sample" else scalar(group.get(c))
                 for c in GROUP_COLUMNS)


def cause_of(data: Data, code: Any) -> Data | None:
    """The report's catalogue entry (title, fix, confirm) for a group's code."""
    return next((c for c in data.get("causes") or [] if c.get("code") == code), None)


def group_fix(data: Data, group: Mapping[str, Any]) -> list[Item]:
    """The group's own fix (filled with its image and host), else its cause's: sentences first,
    then commands; only commands are ever shown as commands."""
    src: Mapping[str, Any] = group if (group.get("fix") or group.get("advice")) else (
        cause_of(data, group.get("code")) or {})
    return ([(False, str(a)) for a in src.get("advice") or []]
            + [(True, str(x)) for x in src.get("fix") or []])


def group_heading(i: int, data: Data, group: Mapping[str, Any]) -> str:
    cause = cause_of(data, group.get("code")) or {}
    conf = next((c.get("confidence") for c in group.get("candidates") or []
                 if c.get("code") == group.get("code")), cause.get("confidence"))
    inferred = " -- inferred from the failing step, no wording names it" if group.get("inferred") else ""
    return f"{i}. {group.get('code')}: {cause.get('title', '')} ({percent(conf)}){inferred}"


def group_facts(group: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) lines of one group's detail, in reading order."""
    rows = [("where", f"image {scalar(group.get('image'))} from {scalar(group.get('registry'))}"
                      f" on node {scalar(group.get('node'))}"),
            ("seen", f"{scalar(group.get('count'))} time{'' if group.get('count') == 1 else 's'}, "
                     f"first {scalar(group.get('first_seen'))}, last {scalar(group.get('last_seen'))}")]
    for key in ("pods", "namespaces", "sources"):
        if group.get(key):
            rows.append((key, scalar(group.get(key))))
    rows.append(("sample", _group_sample(group)))
    cands = group.get("candidates") or []
    if cands:
        rows.append(("candidates", ", ".join(f"{c.get('code')} {percent(c.get('confidence'))}"
                                              for c in cands if isinstance(c, Mapping))))
    return rows


def answer_table(data: Data) -> tuple[list[str], list[list[str]]]:
    """``host``'s answer table (``extra.answer_table``): endpoints in the order the runtime tries
    them. Columns come from the rows' keys in first-seen order, so new columns need no code here.
    """
    rows = [r for r in data.get("answer_table") or [] if isinstance(r, Mapping)]
    columns: list[str] = []
    for r in rows:
        columns.extend(str(k) for k in r if str(k) not in columns)
    return columns, [[scalar(r.get(c)) for c in columns] for r in rows]


_KNOWN_KEYS = frozenset({
    "schema_version", "pulldoctor_version", "command", "subject", "causes", "facts", "notes",
    "steps", "duration_s", "groups", "config", "answer_table", "endpoints",
})


def extra_rows(data: Data) -> list[tuple[str, str]]:
    """Command-specific sections no renderer knows yet, flattened (shown with ``--verbose``)."""
    return [row for k, v in data.items() if k not in _KNOWN_KEYS for row in flatten(v, str(k))]
