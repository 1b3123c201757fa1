"""Which credentials a runtime will send to a registry, and where they come from; never the secret.

Docker's CLI reads ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): a
``credHelpers`` entry for the registry wins (an empty one means "the file itself"), then
``credsStore``, then ``auths`` (``cli/config/configfile/file.go getConfiguredCredentialStore``).
Docker Hub is keyed ``https://index.docker.io/v1/`` there, in ``credHelpers`` too: an entry for
``docker.io`` is never used by docker. containers/image (podman, skopeo, buildah, CRI-O) asks the
helpers of ``registries.conf`` ``credential-helpers`` in order (default: only
``containers-auth.json``, i.e. the auth files: ``auth.json``, then Docker's ``config.json``, then
``~/.dockercfg``, of which it reads ``credHelpers`` and ``auths`` but never ``credsStore``:
``pkg/docker/config/config.go``).

A helper is a real program speaking a tiny protocol (docker-credential-helpers ``client.Get``:
the server on stdin, ``{"Username","Secret"}`` on stdout, the message ``credentials not found in
native keychain`` on stdout with a non-zero exit when it has none). So it is *run*, bounded,
because "the helper is missing or broken" is one of the commonest pull failures. How that went is a
:class:`~pulldoctor.config.model.HelperCheck`: whether it answered, its exit code and a redacted
first line of its stderr; what it printed on stdout is never kept (a secret is registered with
:mod:`pulldoctor.redact` at once and handed only to the walk's own token request).

Under ``--root DIR`` a node's helper is looked for on the node's default PATH under DIR, and not
run: it would run here, with this process's environment and keychain, not the node's.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulldoctor.config.files import read_text, under
from pulldoctor.config.model import Credential, HelperCheck, HelperStatus
from pulldoctor.redact import redact, register_secret

HUB_KEY = "https://index.docker.io/v1/"
HELPER_TIMEOUT_S = 5.0
_NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The PATH assumed for a node seen under ``--root`` (its users' own PATH cannot be known)."""
_AUTH_FILE_HELPER = "containers-auth.json"
"""containers/image's built-in "helper": the auth files (``sysregistriesv2.AuthenticationFileHelper``)."""
_NOT_FOUND_MESSAGE = "credentials not found in native keychain"
_KNOWN_ANSWERS = ("no credentials server URL", "no credentials username")
"""Other fixed messages of docker-credential-helpers (``credentials/error.go``): named, not kept."""


@dataclass(slots=True)
class _HelperAnswer:
    """:func:`ask_helper`'s result: the check (shown) and the credential (never shown)."""

    check: HelperCheck
    username: str | None = None
    secret: str | None = None


def docker_config_path(env: Mapping[str, str]) -> str:
    if env.get("DOCKER_CONFIG"):
        return env["DOCKER_CONFIG"].rstrip("/") + "/config.json"
    return env.get("HOME", "/root").rstrip("/") + "/.docker/config.json"


def docker_key(registry: str) -> str:
    """The key docker's CLI looks the registry up by (``credHelpers``, ``auths``, the helper)."""
    return HUB_KEY if registry == "docker.io" else registry


def _host_of(key: str) -> str:
    """docker CLI ``ConvertToHostname``: strip scheme and path from an ``auths`` key."""
    k = key.split("://", 1)[1] if "://" in key else key
    return k.split("/", 1)[0]


def _load_json(root: str | Path, path: str) -> tuple[dict[str, Any] | None, str | None]:
    text, err = read_text(root, path)
    if text is None:
        return None, err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}"
    return (data if isinstance(data, dict) else None), None


def _find_program(name: str, search_path: str, root: str | Path = "/") -> tuple[str | None, str | None]:
    """Go's ``exec.LookPath``: (the first executable file called ``name`` on ``search_path``, the
    first one found without the x bit). Directories under ``root`` (symlinks resolved inside it)."""
    skipped: str | None = None
    for d in search_path.split(":"):
        if not d.startswith("/"):
            continue  # Go refuses relative PATH entries for a bare name (exec.ErrDot)
        shown = f"{d.rstrip('/')}/{name}"
        try:
            st = under(root, shown).stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_mode & 0o111:
            return shown, skipped
        skipped = skipped or shown
    return None, skipped


def _first_line(data: bytes) -> str | None:
    for line in data.decode("utf-8", "replace").splitlines():
        if line.strip():
            return redact(line.strip())[:200]
    return None


def ask_helper(helper: str, server: str, source: str, env: Mapping[str, str], *,
               node_root: str | Path | None = None, timeout_s: float = HELPER_TIMEOUT_S,
               ) -> _HelperAnswer:
    """Ask ``docker-credential-<helper> get`` for ``server`` as the client would. Never raises.

    Found on ``env``'s PATH and run, bounded by ``timeout_s``; with ``node_root`` (a node's file
    system, ``--root``), looked for on the node's default PATH under it and not run. The secret,
    if any, is registered for redaction before anything else is read, and returned only in the
    answer (never in the check).
    """
    name = f"docker-credential-{helper}"
    rooted = node_root is not None
    root: str | Path = node_root if node_root is not None else "/"
    search = _NODE_PATH if rooted else env.get("PATH", os.defpath)
    check = HelperCheck(helper=helper, server=server, source=source, status=HelperStatus.MISSING,
                        search_path=search)
    if not helper or "/" in helper:
        check.note = "not a helper name"
        return _HelperAnswer(check)
    prog, skipped = _find_program(name, search, root)
    if rooted:
        check.note = (f"the node's own PATH is not known from here: its default PATH was searched "
                      f"under {root}")
    if prog is None:
        if skipped is not None:
            check.status, check.program = HelperStatus.NOT_EXECUTABLE, skipped
        return _HelperAnswer(check)
    check.program = prog
    if rooted:
        check.status = HelperStatus.NOT_RUN
        check.note = (f"found under {root}; whether it answers cannot be known from here (it would "
                      "run with this machine's environment and keychain, not the node's)")
        return _HelperAnswer(check)
    t0 = time.monotonic()
    try:
        proc = subprocess.run([prog, "get"], input=server.encode(), capture_output=True,
                              timeout=max(0.05, timeout_s), env=dict(env), check=False)
    except subprocess.TimeoutExpired as exc:
        check.status, check.duration_s = HelperStatus.TIMED_OUT, time.monotonic() - t0
        check.stderr = _first_line(exc.stderr or b"")
        return _HelperAnswer(check)
    except OSError as exc:
        check.status, check.duration_s = HelperStatus.FAILED, time.monotonic() - t0
        check.stderr = redact(exc.strerror or str(exc))
        return _HelperAnswer(check)
    check.duration_s, check.exit_code = time.monotonic() - t0, proc.returncode
    said = proc.stdout.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        check.stderr = _first_line(proc.stderr)
        if said == _NOT_FOUND_MESSAGE:
            check.status = HelperStatus.NO_CREDENTIALS
        else:
            check.status = HelperStatus.FAILED
            check.note = next((f"it says: {m}" for m in _KNOWN_ANSWERS if said == m), None)
        return _HelperAnswer(check)
    try:
        data = json.loads(proc.stdout)
        user, secret = data.get("Username"), data.get("Secret")
    except (ValueError, AttributeError):
        check.status, check.stderr = HelperStatus.BAD_OUTPUT, _first_line(proc.stderr)
        return _HelperAnswer(check)
    secret = str(secret) if secret else None
    register_secret(secret)
    check.stderr = _first_line(proc.stderr)
    check.status = HelperStatus.ANSWERED if secret else HelperStatus.NO_CREDENTIALS
    return _HelperAnswer(check, str(user) if user else None, secret)


def run_helper(helper: str, server: str, env: Mapping[str, str],
               timeout_s: float = HELPER_TIMEOUT_S) -> tuple[str | None, str | None, str | None]:
    """(username, secret, error) of ``docker-credential-<helper> get`` (see :func:`ask_helper`)."""
    ans = ask_helper(helper, server, "", env, timeout_s=timeout_s)
    err = ans.check.describe() if ans.check.status.broken else None
    return ans.username, ans.secret, err


def _from_auth_entry(host: str, entry: Any, source: str) -> Credential:
    cred = Credential(registry=host, source=source)
    if not isinstance(entry, dict):
        cred.error = "entry is not an object"
        return cred
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        register_secret(auth)
        try:
            user, _, pw = base64.b64decode(auth).decode().partition(":")
            cred.username, cred.password = user or None, pw or None
            register_secret(pw)
        except (ValueError, UnicodeDecodeError):
            cred.error = "auth is not base64 of user:password"
    if entry.get("identitytoken"):
        cred.identity_token = str(entry["identitytoken"])
        register_secret(cred.identity_token)
    if entry.get("username") and not cred.username:
        cred.username = str(entry["username"])
    return cred


def _helper_credential(registry: str, ans: _HelperAnswer) -> Credential:
    c = ans.check
    cred = Credential(registry=registry, source=c.source, helper=c.name, username=ans.username,
                      error=None if not c.status.broken else c.describe())
    if ans.username == "<token>":
        cred.identity_token = ans.secret
    else:
        cred.password = ans.secret
    return cred


def _docker_helper(data: Mapping[str, Any], registry: str, path: str) -> tuple[str, str] | None:
    """(helper, source) docker's CLI uses for ``registry``, or None: the file's ``auths``."""
    key = docker_key(registry)
    helpers = data.get("credHelpers")
    if isinstance(helpers, dict) and key in helpers:  # even an empty entry: it wins (file store)
        h = helpers[key]
        return (str(h), f"{path} credHelpers[{key!r}]") if isinstance(h, str) and h else None
    store = data.get("credsStore")
    return (store, f"{path} credsStore") if isinstance(store, str) and store else None


def hub_key_mistakes(root: str | Path, path: str) -> list[str]:
    """``credHelpers`` keys in docker's ``config.json`` meant for Docker Hub that docker never
    reads for it (it asks for ``https://index.docker.io/v1/``; containers/image for docker.io)."""
    data, _err = _load_json(root, path)
    helpers = (data or {}).get("credHelpers")
    if not isinstance(helpers, dict) or HUB_KEY in helpers:
        return []
    return [k for k in helpers if k.rstrip("/") in ("docker.io", "index.docker.io",
                                                    "registry-1.docker.io",
                                                    "https://index.docker.io/v1",
                                                    "https://registry-1.docker.io")]


def docker_credential(root: str | Path, registry: str, env: Mapping[str, str], *,
                      node_root: str | Path | None = None, timeout_s: float = HELPER_TIMEOUT_S,
                      ) -> tuple[Credential | None, list[str], list[str], list[HelperCheck]]:
    """(credential, files read, problems, helpers asked) for ``registry`` ("docker.io" or
    host[:port]) as docker's CLI finds them (``node_root``: see :func:`ask_helper`)."""
    path = docker_config_path(env)
    data, err = _load_json(root, path)
    if data is None:
        return None, [], [err] if err else [], []
    key = docker_key(registry)
    checks: list[HelperCheck] = []
    chosen = _docker_helper(data, registry, path)
    if chosen is not None:
        ans = ask_helper(chosen[0], key, chosen[1], env, node_root=node_root, timeout_s=timeout_s)
        checks.append(ans.check)
        cred = _helper_credential(registry, ans)
        # the native store returns the file's own entry beside a helper's error; docker uses it
        if not ans.check.status.broken or not (data.get("auths") or {}):
            return cred, [path], [], checks
    auths = data.get("auths") or {}
    if isinstance(auths, dict):
        for k, entry in auths.items():
            if k == key or (registry != "docker.io" and _host_of(k) == registry) or (
                registry == "docker.io" and _host_of(k) in ("index.docker.io", "docker.io")):
                return _from_auth_entry(registry, entry, f"{path} auths"), [path], [], checks
    return None, [path], [], checks


# ---------------------------------------------------------------- containers/image (its own rules)
# Modelled on containers/image pkg/docker/config (getCredentialsWithHomeDir -> findCredentialsInFile).
# Docker's rules above stay separate: the docker CLI looks Hub up only under HUB_KEY, while
# containers/image reads every spelling of Hub's host as one registry.

_HUB_HOSTS = ("registry-1.docker.io", "docker.io")


@dataclass(frozen=True, slots=True)
class AuthFile:
    """One file containers/image reads credentials from; ``legacy``: ``~/.dockercfg``'s format
    (the file is the ``auths`` map itself, every key is cut to its host)."""

    path: str
    legacy: bool = False


def containers_auth_files(env: Mapping[str, str]) -> list[AuthFile]:
    """containers-auth.json(5) search order: ``getAuthFilePaths``.

    ``REGISTRY_AUTH_FILE`` (podman's and skopeo's ``--authfile`` default, a user-specified path)
    is the only file when set; otherwise ``$XDG_RUNTIME_DIR/containers/auth.json``
    (``/run/containers/$UID/auth.json`` without it), ``$XDG_CONFIG_HOME/containers/auth.json``,
    Docker's ``config.json`` (``$DOCKER_CONFIG`` or ``~/.docker``) and ``~/.dockercfg``, all read
    with containers/image's key rules.
    """
    if env.get("REGISTRY_AUTH_FILE"):
        return [AuthFile(env["REGISTRY_AUTH_FILE"])]
    home = env.get("HOME", "/root").rstrip("/")
    uid = env.get("UID") or str(os.getuid())
    runtime = (env["XDG_RUNTIME_DIR"].rstrip("/") + "/containers/auth.json"
               if env.get("XDG_RUNTIME_DIR") else f"/run/containers/{uid}/auth.json")
    config_home = env.get("XDG_CONFIG_HOME") or f"{home}/.config"
    return [AuthFile(runtime), AuthFile(f"{config_home}/containers/auth.json"),
            AuthFile(docker_config_path(env)), AuthFile(f"{home}/.dockercfg", legacy=True)]


def containers_helpers(top: Mapping[str, Any]) -> list[str]:
    """registries.conf ``credential-helpers`` (merged), or containers/image's default."""
    helpers = top.get("credential-helpers")
    if isinstance(helpers, list) and helpers:
        return [str(h) for h in helpers]
    return [_AUTH_FILE_HELPER]


def _normalize_registry(registry: str) -> str:
    """``normalizeRegistry``: Docker Hub's API host names are ``index.docker.io``."""
    return "index.docker.io" if registry in _HUB_HOSTS else registry


def normalize_auth_file_key(key: str, legacy: bool = False) -> str:
    """``normalizeAuthFileKey``: a key with a scheme (or any legacy key) is cut to its host.

    ``https://index.docker.io/v1/`` -> ``index.docker.io``; ``registry-1.docker.io`` ->
    ``index.docker.io``; a namespaced key without a scheme (``docker.io/team``) stays whole, so it
    never matches a registry here.
    """
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy or stripped != key:
        stripped = stripped.split("/", 1)[0]
    return _normalize_registry(stripped)


def containers_auth_keys(auths: Mapping[str, Any], registry: str, repository: str,
                         legacy: bool = False) -> list[str]:
    """The ``auths`` keys that match, in the order containers/image tries them (pure).

    First exact keys, most specific first (``authKeyLookupOrder``): ``host/ns/repo``,
    ``host/ns``, ``host`` (a legacy file: only ``host``); then any key whose normalised form
    (:func:`normalize_auth_file_key`) is the normalised registry, so ``docker.io``,
    ``registry-1.docker.io``, ``index.docker.io`` and ``https://index.docker.io/v1/`` are all
    Hub's. containers/image decodes only the first of these (an entry that is not
    ``user:password`` there sends it to the next file); Go iterates the normalised fallbacks in
    map order, file order here.
    """
    name = f"{registry}/{repository}"
    exact = [registry] if legacy else [name[:i] for i in range(len(name), 0, -1)
                                       if i == len(name) or name[i] == "/"]
    out = [k for k in exact if k in auths]
    norm = _normalize_registry(registry)
    out += [k for k in auths if k not in out and normalize_auth_file_key(k, legacy) == norm]
    return out


def _containers_entry(auths: Mapping[str, Any], key: str, registry: str, source: str,
                      ) -> Credential | None:
    """``decodeDockerAuth``: an entry that is not ``user:password`` (``{}``, a helper's marker)
    counts as absent (None: the next file is read); one that is not base64 is an error."""
    entry = auths.get(key)
    raw = entry.get("auth") if isinstance(entry, dict) else None
    if not isinstance(raw, str) or not raw:
        return None
    cred = _from_auth_entry(registry, entry, source)
    if cred.error is None and ":" not in base64.b64decode(raw).decode(errors="replace"):
        return None
    return cred


def containers_credential(root: str | Path, registry: str, repository: str,
                          env: Mapping[str, str], helpers: list[str] | None = None,
                          helpers_source: str = "registries.conf credential-helpers", *,
                          node_root: str | Path | None = None,
                          timeout_s: float = HELPER_TIMEOUT_S,
                          ) -> tuple[Credential | None, list[str], list[str], list[HelperCheck]]:
    """containers/image's lookup (``getCredentialsWithHomeDir``): each helper in order until one
    has credentials; an error is the pull's only when no later helper has them.

    The built-in helper reads :func:`containers_auth_files` in order; in each, a ``credHelpers``
    entry for exactly ``registry`` is asked (no credentials: the next file), else the first key
    :func:`containers_auth_keys` gives is decoded (an empty entry: the next file). Docker's
    ``credsStore`` is never read.
    """
    files: list[str] = []
    problems: list[str] = []
    checks: list[HelperCheck] = []
    errors: list[Credential] = []
    for helper in helpers or [_AUTH_FILE_HELPER]:
        if helper != _AUTH_FILE_HELPER:
            ans = ask_helper(helper, registry, f"{helpers_source} {helper!r}", env,
                             node_root=node_root, timeout_s=timeout_s)
            checks.append(ans.check)
            cred = _helper_credential(registry, ans)
            if ans.check.status.broken:
                errors.append(cred)
            elif ans.secret:
                return cred, files, problems, checks
            continue
        for af in containers_auth_files(env):
            data, err = _load_json(root, af.path)
            if err:
                problems.append(err)
            if data is None:
                continue
            files.append(af.path)
            ch = None if af.legacy else (data.get("credHelpers") or {}).get(registry)
            if isinstance(ch, str) and ch:
                ans = ask_helper(ch, registry, f"{af.path} credHelpers[{registry!r}]", env,
                                 node_root=node_root, timeout_s=timeout_s)
                checks.append(ans.check)
                cred = _helper_credential(registry, ans)
                if ans.check.status.broken:  # the auth files stop at the first error
                    errors.append(cred)
                    break
                if ans.secret:
                    return cred, files, problems, checks
                continue
            auths = data if af.legacy else data.get("auths") or {}
            if not isinstance(auths, dict):
                continue
            keys = containers_auth_keys(auths, registry, repository, af.legacy)
            # only the best key of a file counts: an empty entry there moves on to the next file
            found = _containers_entry(auths, keys[0], registry, f"{af.path} auths[{keys[0]}]") \
                if keys else None
            if found is not None:
                return found, files, problems, checks
    return (errors[0] if errors else None), files, problems, checks
