"""The verdict type, and the classifiers shared by every kind of step: stalls, configuration,
host checks. Pure: no sockets, files or clocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from pulldoctor.causes import Code
from pulldoctor.diagnose.observe import (
    ConfigObservation,
    HostChecksObservation,
    HttpObservation,
    Stall,
    TlsObservation,
)
from pulldoctor.model import Outcome, Step


@dataclass(slots=True)
class Verdict:
    """How one step ended and which cause (if any) it proves.

    ``ends_endpoint``: the step is fine, but the runtime goes no further on this endpoint (an
    insecure ``https://`` endpoint that speaks plain HTTP: the runtime falls back to its
    ``http://`` endpoint).
    """

    outcome: Outcome
    code: Code | None = None
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.9
    ends_endpoint: bool = False


OK = Verdict(Outcome.OK)


def classify_config(obs: ConfigObservation) -> Verdict:
    """The configuration step: a warning when files are broken or a shell proxy is ignored."""
    eps = ", ".join(url + (" (mirror)" if mirror else "") for url, mirror in obs.endpoints)
    ev = [f"runtime {obs.runtime}; endpoints in order: {eps}",
          f"resolvers: {', '.join(obs.nameservers) or '(none: Go uses 127.0.0.1, ::1)'}"]
    ev += [f"problem: {p}" for p in obs.problems]
    warn = bool(obs.problems)
    if obs.shell_proxy and obs.runtime == "docker" and not obs.proxy_set:
        warn = True  # a classic: the proxy is set in the shell, where the daemon never sees it
        ev.append(f"this shell sets HTTPS_PROXY={obs.shell_proxy}, but dockerd does not "
                  "see it (only daemon.json \"proxies\" or the service's environment apply); "
                  "the walk goes direct, as the daemon does")
    ev += _client_proxies(obs)
    if len({(c.proxy, c.no_proxy) for c in obs.clients}) > 1:
        warn = True  # the same image pulls differently depending on who pulls it
    return Verdict(Outcome.WARNING if warn else Outcome.OK, None, ev)


def _client_proxies(obs: ConfigObservation) -> list[str]:
    """Which proxy applies to which client, and whose path the walk takes (evidence lines)."""
    out = []
    for c in obs.clients:
        proxy = f"proxy {c.proxy}" if c.proxy else "no proxy (direct)"
        no = f", NO_PROXY={c.no_proxy}" if c.no_proxy and c.proxy else ""
        walked = "walked" if c.walked else (
            "not walked (--client " + obs.client + ")" if obs.client != "auto"
            else "not walked (under --root this shell is not the host's; --client cli walks it)")
        out.append(f"{c.who}: {proxy}{no} [{c.source}]; {walked}")
    if len({(c.proxy, c.no_proxy) for c in obs.clients}) > 1:
        both = sum(c.walked for c in obs.clients) > 1
        out.append("these clients use different proxies, so the same pull can work for one and "
                   "fail for the other: " + ("each path is walked, under its own heading"
                                              if both else "only the walked path is proven here"))
    return out


def classify_endpoints(obs: ConfigObservation) -> Verdict:
    """No endpoint left for the image is a configuration problem (nothing to pull from)."""
    if obs.endpoints:
        return OK
    return Verdict(Outcome.PROBLEM, Code.DAEMON_CONFIG,
                   ["the configuration leaves no endpoint for this image"], 0.6)


def config_problems(obs: ConfigObservation) -> Verdict:
    """Files the runtime could not read are supporting evidence of a configuration cause."""
    if not obs.problems:
        return OK
    return Verdict(Outcome.WARNING, Code.DAEMON_CONFIG,
                   [f"configuration problem: {p}" for p in obs.problems], 0.6)


STALL_MIN_S = 0.25
"""Silence shorter than this proves nothing, whatever the link."""
STALL_RTTS = 4.0

_STALL_CAUSES: dict[str, tuple[Code, float]] = {
    "dns": (Code.DNS_UDP_TIMEOUT, 0.6), "tcp": (Code.NET_TCP_TIMEOUT, 0.7),
    "proxy": (Code.PROXY_ERROR, 0.6), "tls": (Code.NET_TLS_HANDSHAKE_TIMEOUT, 0.8),
    "http": (Code.NET_REQUEST_TIMEOUT, 0.8),
}


def classify_stall(obs: Stall) -> Verdict:
    """A step cut short while waiting: the silence itself is evidence, when it was long enough.

    A TLS handshake that never completes is ``net.tls_handshake_timeout``, a request with no
    response ``net.request_timeout``, a connect with no SYN-ACK ``net.tcp_timeout``. Silence
    shorter than :data:`STALL_MIN_S`, or than four measured round trips, proves nothing: then
    what ran out was the diagnosis's own time, and the step says so.
    """
    cut = "the deadline (--timeout) cut it" if obs.by_deadline else "its own time ran out"
    ev = [f"no answer after {obs.waited_s:.2f}s while waiting for {obs.waiting_for}; {cut}"]
    floor = max(STALL_MIN_S, STALL_RTTS * obs.rtt_s if obs.rtt_s else 0.0)
    if obs.waited_s < floor or obs.stage not in _STALL_CAUSES:
        ev.append("too short to prove a stall on this link (raise --timeout)")
        return Verdict(Outcome.TIMEOUT, None, ev)
    code, conf = _STALL_CAUSES[obs.stage]
    return Verdict(Outcome.TIMEOUT, code, ev, conf)


def classify_host_checks(obs: HostChecksObservation, *, walk_found: bool) -> Verdict:
    if obs.crashed:
        return Verdict(Outcome.CRASHED, None, [f"host checks failed: {obs.crashed}"])
    if not obs.finished:
        return Verdict(Outcome.SKIPPED, None, ["host checks did not finish before the deadline"
                                               + (" (not needed)" if walk_found else "")])
    if obs.codes:
        return Verdict(Outcome.WARNING, None,
                       ["host checks found: " + ", ".join(obs.codes), *obs.evidence])
    return Verdict(Outcome.OK, None, ["host checks found nothing wrong"])


def ruled_out(step: Step) -> frozenset[str]:
    """What this step's evidence rules out, so a fix never contradicts it (``"mtu"`` when the
    exchange also stalled with small segments)."""
    obs = step.observation
    retry = obs.retry if isinstance(obs, TlsObservation | HttpObservation) else None
    return frozenset({"mtu"}) if retry is not None and retry.ok is False else frozenset()


def blocked(step_name: str, by: str) -> Step:
    """A step that could not run because an earlier one broke (never counted as failed)."""
    return Step(step_name, Outcome.BLOCKED, summary=f"not run: {by} failed", blocked_by=by)
