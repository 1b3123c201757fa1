"""Classifiers of the registry's answers: ping, token, manifests, platform, blobs.

HTTP answers are classified by the catalogue's own table
(:func:`pulldoctor.causes.cause_for_registry_error`, as go-containerregistry's transport does) plus
the context the table cannot know: a ping's 401 is the expected challenge, a 404 for a blob the
manifest named is corruption, a 401 after accepted credentials is a denial. Pure.
"""

from __future__ import annotations

from pulldoctor.causes import Code, cause_for_registry_error
from pulldoctor.diagnose.infer.common import Verdict, classify_stall
from pulldoctor.diagnose.infer.net import retry_evidence
from pulldoctor.diagnose.observe import (
    BlobObservation,
    HttpObservation,
    ManifestObservation,
    PingObservation,
    PlatformObservation,
    Stall,
    TokenObservation,
)
from pulldoctor.model import Outcome

_TRANSPORT: dict[str, tuple[Code, float]] = {
    "read_timeout": (Code.NET_REQUEST_TIMEOUT, 0.8), "reset": (Code.NET_RESET, 0.8),
    "connect_timeout": (Code.NET_TCP_TIMEOUT, 0.8), "proxy": (Code.PROXY_ERROR, 0.8),
    "refused": (Code.NET_REFUSED, 0.8), "unreachable": (Code.NET_UNREACHABLE, 0.8),
    "tls": (Code.TLS_UNKNOWN_AUTHORITY, 0.8),
}
"""Transport failures by what was observed; ``connect_error`` (no errno) names no cause."""

_TABLE_CONFIDENCE = {Code.REGISTRY_RATE_LIMITED: 0.97}


def classify_http(obs: HttpObservation) -> Verdict:
    """Name the outcome of one registry request (ping, token, manifest, blob)."""
    f, what = obs.fetched, obs.what
    codes = list(obs.error.codes) if obs.error is not None else []
    ev = [f"{what}: {f.url} -> " + (f"HTTP {f.status}" if f.status else "no response")
          + (f" {codes}" if codes else "")]
    if f.failure is not None:
        ev.append(f"{what}: {f.failure.detail}")
        kind = f.failure.kind
        more = retry_evidence(obs.retry, "transfer")
        if obs.retry is not None and obs.retry.ok and kind in ("stall", "read_timeout"):
            return Verdict(Outcome.PROBLEM, Code.NET_MTU, [*ev, *more], 0.95)
        if obs.deadline_cut and kind in ("stall", "read_timeout", "connect_timeout"):
            waiting = (f"a SYN-ACK from {f.url}" if kind == "connect_timeout" else
                       f"the rest of the body after {f.size} bytes of {f.url}" if kind == "stall"
                       else f"the answer to {what} {f.url}")
            v = classify_stall(Stall("tcp" if kind == "connect_timeout" else "http", waiting,
                                     f.seconds, True))
            return Verdict(v.outcome, v.code, [*v.evidence, *ev, *more], v.confidence)
        if kind == "stall" or (kind == "read_timeout" and obs.retry is not None):
            sure = obs.retry is not None and obs.retry.ok is False
            return Verdict(Outcome.PROBLEM, Code.NET_REQUEST_TIMEOUT, [*ev, *more],
                           0.85 if sure or obs.retry is None else 0.6)
        if kind in _TRANSPORT:
            code, conf = _TRANSPORT[kind]
            return Verdict(Outcome.PROBLEM, code, ev, conf)
        return Verdict(Outcome.PROBLEM, None, [*ev, "the request failed and no errno says why"],
                       0.3)
    status = f.status
    if 200 <= status < 400 or (what == "ping" and status == 401):
        return Verdict(Outcome.OK, evidence=ev)
    if obs.blob and status == 404:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [*ev, "the manifest names a blob the registry does not have"], 0.8)
    if obs.authenticated and status == 401:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_DENIED, [
            *ev, "the credentials were accepted, but the token grants no pull on this "
            "repository"], 0.9)
    found = cause_for_registry_error(status, codes)
    if found is None:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR, ev, 0.4)
    code = found
    if code == Code.REGISTRY_RATE_LIMITED:
        ev += [f"{k}: {v}" for k, v in obs.rate_limit.items()]
    if code == Code.PROXY_ERROR:
        ev.append("the proxy wants credentials")
    return Verdict(Outcome.PROBLEM, code, ev, _TABLE_CONFIDENCE.get(code, 0.9))


def classify_ping(obs: PingObservation) -> Verdict:
    return classify_http(obs.http)


def classify_token(obs: TokenObservation) -> Verdict:
    """The token request: what the realm said, and what the token grants."""
    if not obs.realm_usable:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR,
                       [f"challenge has no usable realm: {obs.realm!r}"], 0.5)
    if obs.http is None:
        return Verdict(Outcome.PROBLEM, None, ["no token request was made"], 0.3)
    v = classify_http(obs.http)
    if v.outcome != Outcome.OK:
        if obs.http.status == 401:
            v.code = Code.REGISTRY_UNAUTHORIZED
            v.evidence.append("the token server rejected the credentials" if obs.with_credentials
                              else "the token server wants credentials and none are configured")
        return v
    if not obs.token_found:
        return Verdict(Outcome.PROBLEM, Code.REGISTRY_SERVER_ERROR,
                       ["token response has no token/access_token"], 0.6)
    if obs.grants_pull is not None:
        v.evidence.append(f"token {'grants' if obs.grants_pull else 'does NOT grant'} pull on "
                          f"{obs.repository}"
                          + (" (authenticated)" if obs.with_credentials else " (anonymous)"))
    if obs.anonymous is not None and obs.anonymous.grants_pull is not None:
        v.evidence.append("an anonymous token " + ("also grants" if obs.anonymous.grants_pull
                                                   else "does not grant") + " pull")
    return v


def classify_digest(what: str, expected: str | None, got: str, exp_size: int | None,
                    got_size: int) -> Verdict:
    """Content must hash to its digest and have its declared size."""
    if expected and expected.startswith("sha256:") and expected != got:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [f"{what}: expected {expected}, content hashes to {got}"], 0.97)
    if exp_size is not None and exp_size != got_size:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_CORRUPT,
                       [f"{what}: expected {exp_size} bytes, got {got_size}"], 0.95)
    return Verdict(Outcome.OK, evidence=[f"{what}: {got_size} bytes, digest verified"])


def classify_manifest(obs: ManifestObservation) -> Verdict:
    """A manifest: the request, its digest and size, and whether the runtime can read it."""
    v = classify_http(obs.http)
    if v.outcome != Outcome.OK:
        return v
    f, what = obs.http.fetched, obs.http.what
    d = classify_digest(what, obs.expected_digest, f.sha256, obs.expected_size, f.size)
    if d.outcome != Outcome.OK:
        return d
    m = obs.manifest
    if m is None:
        return Verdict(Outcome.PROBLEM, None, [f"{what}: no manifest body was read"], 0.3)
    if m.unsupported:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_UNSUPPORTED, [f"{what}: {m.unsupported}"])
    if not m.is_index and m.config is None:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_UNSUPPORTED,
                       [f"{what}: an image manifest that names no config blob"], 0.8)
    limits = [f"{k}: {v}" for k, v in obs.http.rate_limit.items()]
    return Verdict(Outcome.OK, evidence=[f"{what}: {m.media_type} {f.sha256}", *d.evidence,
                                         *limits])


def classify_platform(obs: PlatformObservation) -> Verdict:
    if obs.chosen is None:
        return Verdict(Outcome.PROBLEM, Code.IMAGE_PLATFORM_MISMATCH, [
            f"the index offers {', '.join(obs.offered) or 'no platform'}; "
            f"this pull wants {obs.wanted}"], 0.97)
    return Verdict(Outcome.OK, evidence=[f"{obs.wanted} -> {obs.chosen.get('digest')}"])


def classify_blob(obs: BlobObservation) -> Verdict:
    """One hop of a blob: a redirect, or the content verified against its digest and size."""
    v = classify_http(obs.http)
    f, what = obs.http.fetched, obs.http.what
    if v.outcome != Outcome.OK:
        return v
    if 300 <= f.status < 400:
        host = (obs.http.location or "").split("://", 1)[-1].split("/", 1)[0]
        v.evidence.append(f"redirected to {host} (Authorization is not sent there)")
        return v
    if obs.method == "HEAD":
        got = int(f.headers.get("content-length", "-1") or -1)
        if obs.expected_size is not None and got >= 0 and got != obs.expected_size:
            return classify_digest(what, None, "", obs.expected_size, got)
        return v
    d = classify_digest(what, obs.digest, f.sha256, obs.expected_size, f.size)
    rate = (f"{f.size} bytes in {f.seconds:.2f}s ({f.throughput_mbps} Mbit/s)"
            if f.throughput_mbps else f"{f.size} bytes")
    return Verdict(d.outcome, d.code, [*v.evidence, *d.evidence, rate], d.confidence)
