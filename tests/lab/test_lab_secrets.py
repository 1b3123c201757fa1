"""No secret leaks, end to end: the real CLI as a lab client that HAS credentials.

Three credentialed worlds, each a fresh lab (``Services(..., audit=True)``):

* ``htpasswd``: docker-registry with Basic auth; the password is in the client's
  ``~/.docker/config.json`` and containers ``auth.json`` (base64 ``auth`` field);
* ``token``: the registry trusts the lab's token server on ``auth.lab.test`` (Bearer challenge);
  same client files; the token server appends every token it issues to a file only this test reads;
* ``proxy``: ``HTTPS_PROXY=http://proxyuser:proxy-pass-1@proxy.lab.test:3128``, a tinyproxy
  that requires Basic auth;
* a credential helper: ``token`` with the login held by a real ``docker-credential-pdlab`` on the
  client's PATH instead of the files.

In each, ``diagnose`` (text, --verbose, --json, markdown, --html) and ``host`` (the same formats) run
as the client, a real ``skopeo copy`` runs, and ``explain`` reads what skopeo printed; then the same
again with a wrong password. Every stdout, stderr, HTML file, every lab server log and every file
under the client's home and runtime dir (except the credential files themselves) is searched for the
password, the base64 ``user:password`` blob, the proxy password and every token issued. Positive
checks (the user name or the credential file is shown, the right cause is named, tokens really were
issued) make sure each test fails for the right reason, not because nothing ran.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pulldoctor.lab.scenarios import Services
    from pulldoctor.lab.topology import Lab

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_ok")]

WRONG_PASSWORD = "wrong-password-9"
WRONG_PROXY_PASSWORD = "wrong-proxy-pass-7"
TIMEOUT_S = "10"  # diagnose's own deadline; the lab bounds each process at 40 s on top


def _b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def static_secrets() -> dict[str, str]:
    """Every secret the lab's client holds, by a name that says what leaked."""
    from pulldoctor.lab.scenarios import LAB_PASSWORD, LAB_USER, PROXY_PASSWORD, PROXY_USER

    return {
        "registry password": LAB_PASSWORD,
        "registry user:password base64": _b64(LAB_USER, LAB_PASSWORD),
        "wrong password": WRONG_PASSWORD,
        "wrong user:password base64": _b64(LAB_USER, WRONG_PASSWORD),
        "proxy password": PROXY_PASSWORD,
        "proxy user:password base64": _b64(PROXY_USER, PROXY_PASSWORD),
        "wrong proxy password": WRONG_PROXY_PASSWORD,
    }


def issued_token_secrets(lab: Lab) -> dict[str, str]:
    """Each token the token server issued, by its unique parts (payload, signature).

    The JWT header is the same for every token (the signing certificate, public), so searching for
    it would flag harmless output; payload (with its random ``jti``) and signature are unique, and
    a truncated token still shows the start of one of them.
    """
    path = lab.workdir / "token-issued"
    found: dict[str, str] = {}
    if not path.exists():
        return found
    for i, token in enumerate(path.read_text().split()):
        _header, payload, signature = token.split(".")
        found[f"token {i} (whole)"] = token
        found[f"token {i} payload"] = payload[:32]
        found[f"token {i} signature start"] = signature[:24]
        found[f"token {i} signature end"] = signature[-24:]
    return found


def find_leaks(texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """``"<secret name> in <where>"`` for every secret found in any text (empty: no leak)."""
    return [f"{name} in {where}" for where, text in texts.items()
            for name, value in secrets.items() if value and value in text]


# ------------------------------------------------------------------------------ the worlds
def _services(kind: str) -> Services:
    from pulldoctor.lab.scenarios import Services

    return {"htpasswd": Services(auth="htpasswd", client_auth="good", audit=True),
            "token": Services(auth="token", client_auth="good", audit=True),
            "proxy": Services(proxy="auth", proxy_userinfo=True, audit=True),
            "plain-http": Services(tls="plain", auth="htpasswd", client_auth="good",
                                   audit=True)}[kind]


@contextmanager
def credentialed_lab(kind: str) -> Iterator[Lab]:
    """A fresh lab of ``kind`` (see the module docstring), torn down even if the test fails."""
    from pulldoctor.lab.scenarios import Scenario
    from pulldoctor.lab.topology import Lab

    with Lab(prefix="s") as lab:
        Scenario(f"secrets-{kind}", None, "secrets test", services=_services(kind)).build(lab)
        yield lab


def pulldoctor(lab: Lab, *args: str, stdin: str | None = None,
               ) -> subprocess.CompletedProcess[str]:
    return lab.client_exec([sys.executable, "-m", "pulldoctor", *args], timeout=40, input=stdin)


@dataclass
class Run:
    """Everything one round of commands printed or wrote, by where it came from."""

    texts: dict[str, str] = field(default_factory=dict)
    results: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def add(self, name: str, r: subprocess.CompletedProcess[str]) -> None:
        self.results[name] = r
        self.texts[f"{name} stdout"] = r.stdout or ""
        self.texts[f"{name} stderr"] = r.stderr or ""


def run_everything(lab: Lab, image: str, runtime: str, tag: str, *, all_host: bool = True) -> Run:
    """diagnose and host in every output form, a real skopeo pull, and explain of its output.

    ``all_host=False`` runs host only with --verbose (and --html): host reads the same files
    whatever the password, so the wrong-password round spends its time on diagnose.
    """
    html = lab.workdir / f"{tag}-html"
    html.mkdir()
    fmts: dict[str, list[str]] = {"text": [], "verbose": ["--verbose"], "json": ["--json"],
                                  "markdown": ["--format", "markdown"]}
    jobs: dict[str, list[str]] = {}
    for cmd in ("diagnose", "host"):
        base = [cmd, image, "--runtime", runtime]
        if cmd == "diagnose":
            base += ["--timeout", TIMEOUT_S]
        for name, extra in fmts.items():
            if cmd == "diagnose" or all_host or name == "verbose":
                jobs[f"{cmd} {name}"] = base + extra
        jobs[f"{cmd} html"] = [*base, "--verbose", "--html", str(html / f"{cmd}.html")]
    if runtime == "docker":  # containers/image reads auth.json, docker config.json: both files
        jobs["diagnose podman json"] = ["diagnose", image, "--runtime", "podman", "--json",
                                        "--timeout", TIMEOUT_S]
    run = Run()
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {name: pool.submit(pulldoctor, lab, *argv) for name, argv in jobs.items()}
        skopeo = pool.submit(lab.client_exec, ["skopeo", "copy", "--retry-times", "0",
                                               f"docker://{image}",
                                               f"oci:{lab.workdir}/{tag}-oci:pulled"], 60)
        for name, fut in futures.items():
            run.add(name, fut.result())
        run.add("skopeo", skopeo.result())
    client_text = (run.results["skopeo"].stderr or "") + (run.results["skopeo"].stdout or "")
    for name, extra in {"explain text": [], "explain verbose": ["--verbose"],
                        "explain json": ["--json"]}.items():
        run.add(name, pulldoctor(lab, "explain", "-", *extra, stdin=client_text))
    for f in html.iterdir():
        run.texts[f"html {f.name}"] = f.read_text(errors="replace")
    return run


# Where the lab's secrets legitimately live: the client's logins, the proxy's own config, the
# daemons' unit drop-ins (HTTPS_PROXY with the proxy's user:password, as on a real host), and
# the file the token server writes for this test. Everything else in the lab must be clean.
SECRET_HOMES = ("client/home/.docker/config.json", "client/run/containers/auth.json",
                "work/proxy/tinyproxy.conf", "work/token-issued",
                "client/etc/systemd/system/docker.service.d/http-proxy.conf",
                "client/etc/systemd/system/containerd.service.d/http-proxy.conf")


def everything_else(lab: Lab) -> dict[str, str]:
    """Every file of the lab: server logs, the client's home and runtime dir, the lab's records.

    Files in :data:`SECRET_HOMES` are skipped, as are big ones (image data).
    """
    root = lab.state.path
    texts = {}
    for p in root.rglob("*"):
        rel = str(p.relative_to(root))
        if rel in SECRET_HOMES or p.is_symlink() or not p.is_file():
            continue
        if p.stat().st_size < 2_000_000:
            texts[f"lab file {rel}"] = p.read_bytes().decode("utf-8", "replace")
    assert any(k.startswith("lab file logs/") for k in texts), "the server logs were searched"
    return texts


def assert_commands_ended_cleanly(run: Run) -> None:
    for name, r in run.results.items():
        if name == "skopeo":
            continue
        assert r.returncode in (0, 1), f"{name}: rc {r.returncode}\n{r.stderr[-2000:]}"
        assert "Traceback" not in r.stderr, f"{name}:\n{r.stderr[-3000:]}"


def _diag(run: Run, name: str = "diagnose json") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(run.results[name].stdout)
    return doc


def _causes(doc: dict[str, Any]) -> list[str]:
    return [c["code"] for c in doc["causes"]]


def _credentials(doc: dict[str, Any]) -> list[dict[str, Any]]:
    config = next(s for s in doc["steps"] if s["name"] == "config")
    creds: list[dict[str, Any]] = config["data"]["credentials"]
    return creds


# ------------------------------------------------------------------------------ the tests
@pytest.mark.parametrize("kind", ["htpasswd", "token"])
def test_registry_credentials_never_leak(kind: str) -> None:
    from pulldoctor.lab.scenarios import LAB_USER, REGISTRY, write_client_auth

    image = f"{REGISTRY}/lab/hello:latest"
    with credentialed_lab(kind) as lab:
        good = run_everything(lab, image, "docker", "good")
        write_client_auth(lab, LAB_USER, WRONG_PASSWORD)
        bad = run_everything(lab, image, "docker", "bad", all_host=False)
        tokens = issued_token_secrets(lab)
        issued = lab.workdir / "token-issued"
        n_tokens = len(issued.read_text().split()) if issued.exists() else 0
        other = everything_else(lab)

    secrets = {**static_secrets(), **tokens}
    for run in (good, bad):
        assert_commands_ended_cleanly(run)
        assert find_leaks(run.texts, secrets) == []
    assert find_leaks(other, secrets) == []

    # The checks above can fail: the credentials were really used, and shown by name/source.
    assert good.results["skopeo"].returncode == 0, good.results["skopeo"].stderr
    assert bad.results["skopeo"].returncode != 0
    if kind == "token":
        # six diagnose runs and skopeo logged in with the good password (the wrong one gets none)
        assert n_tokens >= 7, f"the token server issued only {n_tokens} token(s)"
    for run, code in ((good, None), (bad, "registry.unauthorized")):
        for name in ("diagnose json", "diagnose podman json"):
            doc = _diag(run, name)
            assert _causes(doc)[:1] == ([code] if code else []), (name, _causes(doc))
            (cred,) = _credentials(doc)
            assert cred["username"] == LAB_USER and cred["has_secret"] is True
        assert str(_credentials(_diag(run))[0]["source"]).endswith(".docker/config.json auths")
        assert "auth.json" in str(_credentials(_diag(run, "diagnose podman json"))[0]["source"])
        for name in ("host verbose", "diagnose verbose"):
            assert LAB_USER in run.texts[f"{name} stdout"], name
        assert "config.json" in run.texts["html host.html"]
        assert LAB_USER in run.texts["html diagnose.html"]
    for name in ("host text", "host markdown"):
        assert LAB_USER in good.texts[f"{name} stdout"], name
    assert "registry.unauthorized" in bad.texts["diagnose text stdout"]
    assert "registry.unauthorized" in bad.texts["explain text stdout"]


def test_proxy_password_never_leaks() -> None:
    from pulldoctor.lab.scenarios import PROXY_PORT, PROXY_USER, REGISTRY

    image = f"{REGISTRY}/lab/hello:latest"
    with credentialed_lab("proxy") as lab:
        # containers/image (podman, skopeo) takes the proxy from the caller's environment.
        good = run_everything(lab, image, "podman", "good")
        wrong = f"http://{PROXY_USER}:{WRONG_PROXY_PASSWORD}@proxy.lab.test:{PROXY_PORT}"
        lab.client_extra_env.update({"HTTPS_PROXY": wrong, "https_proxy": wrong,
                                     "HTTP_PROXY": wrong, "http_proxy": wrong})
        bad = run_everything(lab, image, "podman", "bad", all_host=False)
        other = everything_else(lab)

    secrets = static_secrets()
    for run in (good, bad):
        assert_commands_ended_cleanly(run)
        assert find_leaks(run.texts, secrets) == []
    assert find_leaks(other, secrets) == []

    assert good.results["skopeo"].returncode == 0, good.results["skopeo"].stderr
    assert bad.results["skopeo"].returncode != 0
    assert _causes(_diag(good)) == [], "diagnose must pass the proxy's auth like skopeo does"
    assert _causes(_diag(bad))[:1] == ["proxy.error"]
    for run in (good, bad):
        for name in ("diagnose verbose", "diagnose markdown", "host verbose"):
            assert "proxy.lab.test" in run.texts[f"{name} stdout"], name
    # tinyproxy answers 407 without credentials, 401 for wrong ones: the verdict quotes it.
    assert "could not open a tunnel" in bad.texts["diagnose text stdout"]
    assert "401 Unauthorized" in bad.texts["diagnose text stdout"]


def _log(lab: Lab, role_prefix: str) -> list[str]:
    (path,) = [p for p in lab.log_dir.iterdir() if p.name.startswith(role_prefix)]
    return [ln for ln in path.read_text().splitlines() if " GET " in ln or " HEAD " in ln]


def _authz(line: str) -> str:
    return line.rsplit(" authz=", 1)[1]


@pytest.mark.parametrize("kind", ["htpasswd", "token"])
def test_credentials_go_only_to_the_registry_and_its_realm(kind: str) -> None:
    """From the servers' own logs: the CDN (the blobs' redirect host) never gets Authorization from
    diagnose; the token server gets Basic only at its realm path; the registry did get the user."""
    from pulldoctor.lab.scenarios import REGISTRY

    with credentialed_lab(kind) as lab:
        r = pulldoctor(lab, "diagnose", f"{REGISTRY}/lab/hello:latest", "--json", "--layers",
                       "--timeout", TIMEOUT_S)
        cdn = _log(lab, "cdn")
        registry_log = next(p for p in lab.log_dir.iterdir()
                            if p.name.startswith("registry-registry")).read_text()
        token_log = _log(lab, "auth") if kind == "token" else []
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and _causes(doc) == [], r.stdout[-3000:]

    # config blob + layer, fetched from the CDN after the registry's 307: no Authorization there.
    assert len(cdn) >= 2, cdn
    assert all(_authz(ln) == "-" and "authorization" not in ln.split(" headers=")[1].split(",")
               for ln in cdn), cdn
    blob_steps = [s for s in doc["steps"] if "cdn.lab.test" in s["name"]
                  and s["data"].get("kind") == "http"]
    assert blob_steps and all(s["data"]["authorization_sent"] is False for s in blob_steps)

    if kind == "htpasswd":  # the registry itself did receive (and accept) the login
        assert 'msg="authorized request"' in registry_log, registry_log[-2000:]
    else:
        basic = [ln for ln in token_log if _authz(ln) == "Basic"]
        assert basic, token_log
        assert all(" GET /token 200 " in ln for ln in basic), token_log
        assert {_authz(ln) for ln in token_log} <= {"Basic", "-"}  # no Bearer sent to the realm
        token_step = next(s for s in doc["steps"] if s["name"].startswith("token"))
        assert "https://auth.lab.test" in json.dumps(token_step["data"])


def test_no_credentials_to_a_plain_http_registry_not_configured_insecure() -> None:
    """The registry speaks plain HTTP (with htpasswd) and is not an insecure registry: diagnose
    must stop at TLS, as docker does, and never send the client's login over cleartext.

    Proof from the registry's log: distribution logs ``authorized request`` for a good login and
    ``error authenticating user "labuser"`` for a bad one; here neither appears. The control: the
    same registry declared in ``insecure-registries`` (docker then uses plain HTTP) does get the
    login, and the same log shows it."""
    from pulldoctor.lab.scenarios import LAB_PASSWORD, LAB_USER, REGISTRY, write_client_auth

    # With the port in the name, docker's plain-HTTP fallback for an insecure registry goes to the
    # same port 443 (without it, to port 80), so the control below reaches this registry.
    host = f"{REGISTRY}:443"
    image = f"{host}/lab/hello:latest"
    with credentialed_lab("plain-http") as lab:
        write_client_auth(lab, LAB_USER, LAB_PASSWORD, host=host)
        log = next(p for p in lab.log_dir.iterdir() if p.name.startswith("registry-registry"))
        r = pulldoctor(lab, "diagnose", image, "--json", "--timeout", TIMEOUT_S)
        before = log.read_text()
        daemon_json = lab.client_files / "etc/docker/daemon.json"
        cfg = json.loads(daemon_json.read_text())
        daemon_json.write_text(json.dumps({**cfg, "insecure-registries": [host]}))
        insecure = pulldoctor(lab, "diagnose", image, "--json", "--timeout", TIMEOUT_S)
        after = log.read_text()[len(before):]
    doc = json.loads(r.stdout)
    assert _causes(doc)[:1] == ["tls.http_response_to_https"], _causes(doc)
    assert _credentials(doc)[0]["username"] == LAB_USER  # it had a login to send
    assert LAB_USER not in before and "authorized request" not in before, before[-3000:]
    # Control: configured insecure, the login is sent over HTTP and the registry logs it.
    assert insecure.returncode == 0, insecure.stdout[-3000:]
    assert 'msg="authorized request"' in after, after[-3000:]


HELPER = "pdlab"


def test_what_a_credential_helper_answers_never_leaks() -> None:
    """A real docker-credential-pdlab on the client's PATH holds the login (config.json
    ``credsStore``, registries.conf ``credential-helpers``) and answers ``get`` with the password,
    which it also echoes on stderr: every output and every lab file is clean, and the credentials
    it gave really worked (skopeo pulls through it; diagnose, which asked it, finds nothing)."""
    from pulldoctor.lab.scenarios import LAB_PASSWORD, LAB_USER, REGISTRY
    from pulldoctor.lab.topology import CLIENT_PATH

    image = f"{REGISTRY}/lab/hello:latest"
    with credentialed_lab("token") as lab:
        home = lab.client_files / "home"
        (home / ".docker/config.json").write_text(json.dumps({"credsStore": HELPER}))
        (lab.client_files / "run/containers/auth.json").unlink()
        conf = lab.client_files / "etc/containers/registries.conf"
        conf.write_text(f'credential-helpers = ["{HELPER}"]\n' + conf.read_text())
        program = home / "bin" / f"docker-credential-{HELPER}"
        program.parent.mkdir()
        program.write_text("#!/bin/sh\nread -r server\n"
                           f'echo "debug: giving {LAB_PASSWORD} for $server" >&2\n'
                           f'printf \'{{"ServerURL":"%s","Username":"{LAB_USER}",'
                           f'"Secret":"{LAB_PASSWORD}"}}\' "$server"\n')
        program.chmod(0o755)
        lab.client_extra_env["PATH"] = f"{program.parent}:{CLIENT_PATH}:{Path(sys.executable).parent}"
        run = run_everything(lab, image, "docker", "helper")
        tokens = issued_token_secrets(lab)
        other = {k: v for k, v in everything_else(lab).items()
                 if not k.endswith(f"client/home/bin/docker-credential-{HELPER}")}

    secrets = {**static_secrets(), **tokens}
    assert_commands_ended_cleanly(run)
    # skopeo itself passes its helper's stderr through (docker-credential-helpers' client sets
    # cmd.Stderr = os.Stderr): the real client's own output is not pulldoctor's to redact
    assert find_leaks(run.texts, secrets) == ["registry password in skopeo stderr"]
    assert find_leaks(other, secrets) == []
    # it can fail: the helper's credentials were really used, and the helper is shown
    assert run.results["skopeo"].returncode == 0, run.results["skopeo"].stderr
    assert len(tokens) >= 4 * 3, "the token server issued tokens for the helper's login"
    for name in ("diagnose json", "diagnose podman json"):
        doc = _diag(run, name)
        assert _causes(doc) == [], (name, _causes(doc))
        config = next(s for s in doc["steps"] if s["name"] == "config")
        (helper,) = config["data"]["credential_helpers"]
        assert helper["status"] == "answered" and helper["stderr"].startswith("debug: giving ***")
    assert f"docker-credential-{HELPER}" in run.texts["host verbose stdout"]
