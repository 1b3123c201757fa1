"""A small bearer-token server that docker-registry 2.8 trusts, for the token-auth scenarios.

Why our own: the registry's 401 + ``WWW-Authenticate: Bearer realm=...`` challenge sends every
client to a separate auth host, as Docker Hub does (auth.docker.io). That host must really exist in
the lab so its own failures (down, wrong password, scope denied) can be reproduced.

Protocol (distribution's token spec): ``GET /token?service=S&scope=repository:NAME:pull`` with
optional Basic auth, and the OAuth2 ``POST /token`` form (``grant_type=password``) that containerd
tries first. Replies ``{"token", "access_token", "expires_in", "issued_at"}``. Tokens are ES256 JWTs
whose header carries ``x5c`` = the signing certificate; the registry verifies that chain against its
``rootcertbundle`` (the same certificate), then checks ``iss``, ``aud`` (= service), ``exp``/``nbf``
and the ``access`` claim (distribution ``registry/auth/token/token.go``).

Denied scopes: a user's ``deny`` patterns (fnmatch on the repository name) get an empty ``access``
list, like Docker Hub for a private or missing repository; the registry then answers 401 and
clients print their "access denied / may require docker login" message.

Run: ``python -m pulldoctor.lab.services.token --config CONFIG.json --addr A --port P``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import fnmatch
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from pulldoctor.lab.services import ServiceSpec, module_env
from pulldoctor.lab.services.docker_registry import TokenAuth
from pulldoctor.lab.services.httpbase import QuietHandler, add_listen_args, open_server, serve

_PBKDF2_ROUNDS = 20_000


@dataclass(frozen=True, slots=True)
class TokenUser:
    """A user of the token server; ``deny`` holds repository patterns it gets no access to."""

    password: str
    actions: tuple[str, ...] = ("pull", "push")
    deny: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """Who gets what: named users, and whether anonymous clients get pull tokens."""

    users: dict[str, TokenUser] = field(default_factory=dict)
    anonymous_pull: bool = False
    anonymous_deny: tuple[str, ...] = ()


def hash_password(password: str, salt: bytes | None = None) -> dict[str, str]:
    """Salted PBKDF2 so the config file on disk never holds a password in clear."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    return {"salt": salt.hex(), "pbkdf2_sha256": digest.hex()}


def check_password(stored: dict[str, str], password: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` record."""
    want = hash_password(password, bytes.fromhex(stored["salt"]))["pbkdf2_sha256"]
    return hmac.compare_digest(want, stored["pbkdf2_sha256"])


def parse_scope(scope: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``repository:a/b:pull,push`` -> ("repository", "a/b", ("pull", "push")); None if malformed.

    The name may itself contain ':' only in the ``repository(plugin)`` class form, which we do not
    need; a host:port never appears in a scope.
    """
    parts = scope.split(":")
    if len(parts) < 3 or not parts[0] or not parts[1]:
        return None
    kind, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1]
    return kind, name, tuple(a for a in actions.split(",") if a)


def grant(config: dict[str, Any], user: str | None, scopes: list[str]) -> list[dict[str, Any]]:
    """The ``access`` claim for ``user`` (None = anonymous) asking for ``scopes`` (pure)."""
    if user is None:
        if not config.get("anonymous_pull"):
            return []
        allowed, deny = ("pull",), tuple(config.get("anonymous_deny", ()))
    else:
        entry = config["users"][user]
        allowed, deny = tuple(entry["actions"]), tuple(entry.get("deny", ()))
    access = []
    for scope in scopes:
        parsed = parse_scope(scope)
        if parsed is None:
            continue
        kind, name, wanted = parsed
        if kind != "repository":
            continue
        if any(fnmatch.fnmatchcase(name, pat) for pat in deny):
            actions: list[str] = []
        else:
            actions = [a for a in wanted if a in allowed or (a == "*" and "push" in allowed)]
        access.append({"type": kind, "name": name, "actions": actions})
    return access


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(key: ec.EllipticCurvePrivateKey, cert_der: bytes, claims: dict[str, Any]) -> str:
    """An ES256 JWT with the signing certificate in ``x5c`` (what distribution verifies)."""
    header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(cert_der).decode()]}
    signing_input = (_b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     _b64url(json.dumps(claims, separators=(",", ":")).encode()))
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def write_signing_material(workdir: Path, issuer: str) -> tuple[Path, Path]:
    """A P-256 key and a self-signed certificate for it; the cert is the registry's root bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{issuer} token signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_path, cert_path = workdir / "token-signing.key", workdir / "token-signing.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def token_service(workdir: Path, *, addr: str, port: int = 5001, policy: TokenPolicy,
                  service: str = "registry.lab.test", issuer: str = "auth.lab.test",
                  realm_host: str | None = None, expires_in: int = 300,
                  cert: Path | None = None, key: Path | None = None,
                  log_header_names: bool = False, issued_file: Path | None = None,
                  ) -> tuple[ServiceSpec, TokenAuth]:
    """Write the token server's key, certificate and config; return its spec and the
    :class:`TokenAuth` to hand to :func:`.registry.registry_service`.

    ``realm_host`` is how clients reach this server (a lab name such as ``auth.lab.test``);
    it defaults to ``addr``. ``log_header_names`` and ``issued_file`` are for the secrets tests:
    the access log lists header names and the Authorization scheme, and every token issued is
    appended to ``issued_file`` (mode 0600), so a test can search pulldoctor's output for them.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = write_signing_material(workdir, issuer)
    users = {name: {**hash_password(u.password), "actions": list(u.actions),
                    "deny": list(u.deny)} for name, u in policy.users.items()}
    config = {"service": service, "issuer": issuer, "expires_in": expires_in,
              "signing_key": str(key_path), "signing_cert": str(cert_path),
              "anonymous_pull": policy.anonymous_pull,
              "anonymous_deny": list(policy.anonymous_deny), "users": users}
    cfg_path = workdir / "token.json"
    cfg_path.write_text(json.dumps(config, indent=2) + "\n")
    cfg_path.chmod(0o600)
    argv = [sys.executable, "-m", "pulldoctor.lab.services.token", "--config", str(cfg_path),
            "--addr", addr, "--port", str(port)]
    if cert is not None and key is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    if log_header_names:
        argv.append("--log-header-names")
    if issued_file is not None:
        argv += ["--issued-file", str(issued_file)]
    scheme = "https" if cert is not None else "http"
    host = realm_host or addr
    host = f"[{host}]" if ":" in host else host
    spec = ServiceSpec(name="token", argv=argv, env=module_env(), port=port, scheme=scheme)
    return spec, TokenAuth(realm=f"{scheme}://{host}:{port}/token", service=service,
                           issuer=issuer, rootcertbundle=cert_path)


class _TokenHandler(QuietHandler):
    """GET /token (Basic or anonymous) and POST /token (OAuth2 password grant)."""

    config: ClassVar[dict[str, Any]] = {}
    key: ec.EllipticCurvePrivateKey | None = None
    cert_der: bytes = b""
    issued_file: str = ""  # append every issued token here (tests only); "" = nowhere

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            self._json(404, {"details": "not found"})
            return
        query = urllib.parse.parse_qs(url.query)
        user = self._basic_user()
        if user is False:
            self._json(401, {"details": "incorrect username or password"})
            return
        if user is None and not self.config.get("anonymous_pull"):
            self._json(401, {"details": "authentication required"},
                       {"WWW-Authenticate": 'Basic realm="pulldoctor-lab"'})
            return
        self._issue(user, query.get("service", [""])[0], query.get("scope", []), oauth=False)

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/token":
            self._json(404, {"details": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            self._json(413, {"details": "form too large"})
            return
        form = urllib.parse.parse_qs(self.rfile.read(length).decode(errors="replace"))
        if form.get("grant_type", [""])[0] != "password":
            self._json(400, {"error": "unsupported_grant_type"})
            return
        user = self._login(form.get("username", [""])[0], form.get("password", [""])[0])
        if user is None:
            self._json(401, {"error": "invalid_grant",
                             "details": "incorrect username or password"})
            return
        scopes = " ".join(form.get("scope", [])).split()
        self._issue(user, form.get("service", [""])[0], scopes, oauth=True)

    def _login(self, username: str, password: str) -> str | None:
        entry = self.config["users"].get(username)
        return username if entry is not None and check_password(entry, password) else None

    def _basic_user(self) -> str | Literal[False] | None:
        """None: no credentials sent; False: wrong credentials; str: the authenticated user."""
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        username, _, password = raw.partition(":")
        return self._login(username, password) or False

    def _issue(self, user: str | None, service: str, scopes: list[str], *, oauth: bool) -> None:
        if service != self.config["service"]:
            self._json(400, {"details": f"unknown service {service!r}"})
            return
        now = int(time.time())
        expires_in = int(self.config["expires_in"])
        claims = {"iss": self.config["issuer"], "sub": user or "", "aud": service,
                  "exp": now + expires_in, "nbf": now - 5, "iat": now,
                  "jti": secrets.token_hex(12), "access": grant(self.config, user, scopes)}
        assert self.key is not None
        token = make_jwt(self.key, self.cert_der, claims)
        if self.issued_file:
            fd = os.open(self.issued_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a") as fh:
                fh.write(token + "\n")
        issued = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body: dict[str, Any] = {"access_token": token, "expires_in": expires_in,
                                "issued_at": issued}
        if not oauth:
            body["token"] = token
        else:
            body["scope"] = " ".join(scopes)
        self._json(200, body)

    def _json(self, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulldoctor.lab.services.token",
                                     description="bearer-token server for docker-registry")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--issued-file", type=Path, help="append every issued token here (tests)")
    add_listen_args(parser)
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text())
        key = serialization.load_pem_private_key(Path(config["signing_key"]).read_bytes(), None)
        cert = x509.load_pem_x509_certificate(Path(config["signing_cert"]).read_bytes())
    except (OSError, ValueError, KeyError) as exc:
        raise SystemExit(f"error: cannot load token config {args.config}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SystemExit("error: the signing key must be an EC P-256 key")
    handler = type("BoundTokenHandler", (_TokenHandler,),
                   {"config": config, "key": key,
                    "cert_der": cert.public_bytes(serialization.Encoding.DER),
                    "issued_file": str(args.issued_file or ""),
                    "log_header_names": args.log_header_names})
    serve(open_server(args.addr, args.port, handler), args.cert, args.key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
