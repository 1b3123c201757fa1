"""Stage: the credentials and the token, as the runtime gets them.

Credentials go only to the registry's own origin and its token realm, only over TLS unless the
endpoint is configured insecure. With credentials, the realm is asked anonymously first: what the
credentials change is evidence (a token that grants pull either way, or only with them). No
bearer challenge: nothing to fetch (Basic credentials, if any, are sent to the origin only).
"""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

from pulldoctor.diagnose import infer
from pulldoctor.diagnose.infer import blocked
from pulldoctor.diagnose.observe import AnonymousToken, TokenObservation
from pulldoctor.diagnose.session import EndpointWalk
from pulldoctor.diagnose.stage import Stage
from pulldoctor.diagnose.stages.request import request
from pulldoctor.diagnose.timing import cut_by_deadline, first_try, step_cap
from pulldoctor.diagnose.walk import Waiting
from pulldoctor.model import Step
from pulldoctor.redact import redact_url, register_secret


def credential(ew: EndpointWalk) -> tuple[str, str] | None:
    """The (user, secret) the runtime would send to this endpoint, if it has any."""
    cfg, ref = ew.walk.config, ew.ref
    host = urlsplit(ew.origin).netloc
    for key in (host, ref.registry, ref.api_host,
                "https://index.docker.io/v1/" if ref.is_docker_hub else ""):
        cred = cfg.credential_for(key) if key else None
        if cred is not None and (cred.password or cred.identity_token):
            register_secret(cred.password)
            register_secret(cred.identity_token)
            return cred.username or "<token>", (cred.password or cred.identity_token or "")
    return None


def basic(user: str, secret: str) -> str:
    value = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    register_secret(value.split(" ", 1)[1])
    return value


async def _run(ew: EndpointWalk) -> Step | None:
    from pulldoctor.probes import registry_api as rp

    bearer = next((c for c in ew.challenges if c.scheme == "bearer"), None)
    plain = next((c for c in ew.challenges if c.scheme == "basic"), None)
    cred = credential(ew)
    secure = ew.origin.startswith("https://") or ew.endpoint.insecure
    if bearer is None:
        if plain is not None and cred is not None and secure:
            ew.auth, ew.creds_accepted = basic(*cred), False
        return None
    realm = bearer.params.get("realm", "")
    repo = ew.ref.repository
    send_creds = cred is not None and (realm.startswith("https://") or ew.endpoint.insecure)
    obs = TokenObservation(redact_url(realm), repo, credentials_found=cred is not None,
                           with_credentials=send_creds)
    waiting = Waiting("http", f"the token server's answer at {obs.realm}", obs.realm)
    if not realm.startswith(("https://", "http://")):
        obs.realm_usable = False

        async def nothing(timeout: float) -> TokenObservation:
            return obs

        return await ew.observe("token", 1.0, nothing, infer.classify_token, waiting)
    rhost = urlsplit(realm).hostname or ""
    r = await ew.reach(realm, "token realm")
    if not r.ok:
        return ew.record(blocked(f"token {rhost}", r.failed.name if r.failed else "token realm"))
    url = rp.token_url(realm, bearer.params.get("service"), repo)
    rtt = ew.rtt()
    cap = step_cap(5.0, rtt)

    async def probe(timeout: float) -> TokenObservation:
        t0 = time.monotonic()
        if send_creds:  # anonymous first: shows what the credentials change (evidence only)
            part = first_try(timeout, rtt, share=1 / 3)
            anon = await request(ew, "GET", url, what="token", timeout=part, rtt=rtt, share=1.0,
                                 read_cap=2.0, keep_body=256 * 1024)
            atok = rp.read_token(anon.fetched.body) if anon.status == 200 else None
            register_secret(atok)
            aacc = rp.token_access(atok) if atok else None
            obs.anonymous = AnonymousToken(anon.status, atok is not None,
                                           None if aacc is None else rp.grants_pull(aacc, repo))
        headers = {"Authorization": basic(*cred)} if send_creds and cred else {}
        left = max(0.5, timeout - (time.monotonic() - t0))
        obs.http = await request(ew, "GET", url, what="token", timeout=left, rtt=rtt, share=1.0,
                                 headers=headers, read_cap=3.0, keep_body=256 * 1024,
                                 cut=timeout < cap - 0.01)
        obs.http.authenticated = False  # a realm's 401 is about these credentials, not access
        token = rp.read_token(obs.http.fetched.body) if obs.http.status == 200 else None
        obs.token_found = token is not None
        if token:
            register_secret(token)
            ew.auth, ew.creds_accepted = "Bearer " + token, send_creds
            access = rp.token_access(token)
            obs.grants_pull = None if access is None else rp.grants_pull(access, repo)
        return obs

    return await ew.observe(f"token {rhost}", cap, probe, infer.classify_token,
                            waiting, precheck=lambda t: cut_by_deadline(t, rtt))


STAGE: Stage[EndpointWalk] = Stage("token", ("registry ping",), _run)
