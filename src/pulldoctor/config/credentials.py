"""Which credentials a runtime will send to a registry, and where they come from; never the secret.

Docker's CLI reads ``$DOCKER_CONFIG/config.json`` (default ``~/.docker/config.json``): a
``credHelpers`` entry for the host wins, then ``credsStore``, then ``auths``. Docker Hub is keyed
``https://index.docker.io/v1/``. A helper is a real program speaking a tiny protocol (server URL on
stdin, ``{"Username","Secret"}`` on stdout), so it is *run*, with a bounded timeout, because "the
helper is broken" is a common cause of 401s. containers/image reads ``auth.json`` first
(``REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json``, ``~/.config/containers/auth.json``)
and then Docker's file. Secrets found are registered with :mod:`pulldoctor.redact` at once.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulldoctor.config.files import read_text
from pulldoctor.config.model import Credential
from pulldoctor.redact import register_secret

HUB_KEY = "https://index.docker.io/v1/"
HELPER_TIMEOUT_S = 5.0


def docker_config_path(env: Mapping[str, str]) -> str:
    if env.get("DOCKER_CONFIG"):
        return env["DOCKER_CONFIG"].rstrip("/") + "/config.json"
    return env.get("HOME", "/root").rstrip("/") + "/.docker/config.json"


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


def run_helper(helper: str, server: str, env: Mapping[str, str],
               timeout_s: float = HELPER_TIMEOUT_S) -> tuple[str | None, str | None, str | None]:
    """Run ``docker-credential-<helper> get``: (username, secret, error). Bounded; never raises."""
    prog = shutil.which(f"docker-credential-{helper}", path=env.get("PATH", os.defpath))
    if prog is None:
        return None, None, f"docker-credential-{helper} not found in PATH"
    try:
        proc = subprocess.run([prog, "get"], input=server.encode(), capture_output=True,
                              timeout=timeout_s, env=dict(env), check=False)
    except subprocess.TimeoutExpired:
        return None, None, f"docker-credential-{helper} did not answer within {timeout_s:g}s"
    except OSError as exc:
        return None, None, f"docker-credential-{helper}: {exc.strerror or exc}"
    if proc.returncode != 0:
        msg = (proc.stdout or proc.stderr).decode(errors="replace").strip().splitlines()
        return None, None, f"docker-credential-{helper} get failed: {msg[0] if msg else proc.returncode}"
    try:
        data = json.loads(proc.stdout)
        user, secret = data.get("Username"), data.get("Secret")
    except (ValueError, AttributeError):
        return None, None, f"docker-credential-{helper} printed something that is not JSON"
    register_secret(secret)
    return (str(user) if user else None), (str(secret) if secret else None), None


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


def docker_credential(root: str | Path, registry: str, env: Mapping[str, str],
                      run_helpers: bool = True) -> tuple[Credential | None, list[str], list[str]]:
    """(credential, files read, problems) for ``registry`` ("docker.io" or host[:port])."""
    path = docker_config_path(env)
    data, err = _load_json(root, path)
    if data is None:
        return None, [], [err] if err else []
    key = HUB_KEY if registry == "docker.io" else registry
    helper = (data.get("credHelpers") or {}).get(registry) or data.get("credsStore")
    if helper and run_helpers:
        src = f"{path} credHelpers" if (data.get("credHelpers") or {}).get(registry) else f"{path} credsStore"
        user, secret, herr = run_helper(str(helper), key, env)
        cred = Credential(registry=registry, source=src, helper=f"docker-credential-{helper}",
                          username=user, error=herr)
        if user == "<token>":
            cred.identity_token = secret
        else:
            cred.password = secret
        if herr is None or not (data.get("auths") or {}):
            return cred, [path], []
    auths = data.get("auths") or {}
    if isinstance(auths, dict):
        for k, entry in auths.items():
            if k == key or (registry != "docker.io" and _host_of(k) == registry) or (
                registry == "docker.io" and _host_of(k) in ("index.docker.io", "docker.io")):
                return _from_auth_entry(registry, entry, f"{path} auths"), [path], []
    return None, [path], []


# ---------------------------------------------------------------- containers/image (its own rules)
# Modelled on containers/image pkg/docker/config (GetCredentialsForRef -> findCredentialsInFile).
# Docker's rules above stay separate: dockerd's CLI looks Hub up only under HUB_KEY, while
# containers/image reads every spelling of Hub's host as one registry.

_HUB_HOSTS = ("registry-1.docker.io", "docker.io")


@dataclass(frozen=True, slots=True)
class AuthFile:
    """One file containers/image reads credentials from; ``legacy``: ``~/.dockercfg``'s format."""

    path: str
    legacy: bool = False


def containers_auth_files(env: Mapping[str, str]) -> list[AuthFile]:
    """containers-auth.json(5) search order: ``getAuthFilePaths``.

    ``REGISTRY_AUTH_FILE`` (podman's and skopeo's ``--authfile`` default) is the only file when set;
    otherwise ``$XDG_RUNTIME_DIR/containers/auth.json`` (``/run/containers/$UID/auth.json`` without
    it), ``$XDG_CONFIG_HOME/containers/auth.json``, Docker's ``config.json`` (``$DOCKER_CONFIG``
    or ``~/.docker``) and ``~/.dockercfg``, all read with containers/image's key rules.
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


def normalize_registry(registry: str) -> str:
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
    return normalize_registry(stripped)


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
    norm = normalize_registry(registry)
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


def containers_credential(root: str | Path, registry: str, repository: str, env: Mapping[str, str],
                          ) -> tuple[Credential | None, list[str], list[str]]:
    """(credential, files read, problems) as containers/image finds them for ``registry/repository``.

    ``registry`` is the reference's registry (``docker.io`` for Hub). Per file, in
    :func:`containers_auth_files` order: a ``credHelpers`` entry for exactly ``registry`` (run;
    "not found" goes on to the next file), then :func:`containers_auth_keys`. Docker's
    ``credsStore`` is not read by containers/image.
    """
    files: list[str] = []
    problems: list[str] = []
    for af in containers_auth_files(env):
        data, err = _load_json(root, af.path)
        if err:
            problems.append(err)
        if data is None:
            continue
        files.append(af.path)
        auths = data if af.legacy else data.get("auths") or {}
        helpers = {} if af.legacy else data.get("credHelpers") or {}
        helper = helpers.get(registry) if isinstance(helpers, dict) else None
        if helper:
            user, secret, herr = run_helper(str(helper), registry, env)
            if herr is not None and "credentials not found" in herr:
                continue
            cred = Credential(registry=registry, source=f"{af.path} credHelpers", username=user,
                              helper=f"docker-credential-{helper}", error=herr)
            if user == "<token>":
                cred.identity_token = secret
            else:
                cred.password = secret
            return cred, files, problems
        if not isinstance(auths, dict):
            continue
        keys = containers_auth_keys(auths, registry, repository, af.legacy)
        # only the best key of a file counts: an empty entry there moves on to the next *file*
        found = _containers_entry(auths, keys[0], registry, f"{af.path} auths[{keys[0]}]") \
            if keys else None
        if found is not None:
            return found, files, problems
    return None, files, problems
