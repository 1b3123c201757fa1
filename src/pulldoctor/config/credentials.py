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


def containers_auth_files(env: Mapping[str, str]) -> list[str]:
    """containers-auth.json(5) search order (the Docker files come after these)."""
    if env.get("REGISTRY_AUTH_FILE"):
        return [env["REGISTRY_AUTH_FILE"]]
    home = env.get("HOME", "/root").rstrip("/")
    uid = env.get("UID") or str(os.getuid())
    runtime_dir = env.get("XDG_RUNTIME_DIR") or (f"/run/containers/{uid}" if uid == "0" else f"/run/user/{uid}")
    config_home = env.get("XDG_CONFIG_HOME") or f"{home}/.config"
    return [f"{runtime_dir}/containers/auth.json", f"{config_home}/containers/auth.json"]


def containers_credential(root: str | Path, registry: str, repository: str, env: Mapping[str, str],
                          ) -> tuple[Credential | None, list[str], list[str]]:
    """containers/image lookup: most specific key (host/ns/repo ... host) in the first file having it."""
    files: list[str] = []
    problems: list[str] = []
    keys = [f"{registry}/{repository}"]
    parts = repository.split("/")
    keys += [f"{registry}/{'/'.join(parts[:i])}" for i in range(len(parts) - 1, 0, -1)]
    keys.append(registry)
    for path in containers_auth_files(env):
        data, err = _load_json(root, path)
        if err:
            problems.append(err)
        if data is None:
            continue
        files.append(path)
        helper = (data.get("credHelpers") or {}).get(registry)
        if helper:
            user, secret, herr = run_helper(str(helper), registry, env)
            return Credential(registry=registry, source=f"{path} credHelpers", username=user,
                              password=secret, helper=f"docker-credential-{helper}", error=herr), files, problems
        auths = data.get("auths") or {}
        for k in keys:
            if isinstance(auths, dict) and k in auths:
                return _from_auth_entry(registry, auths[k], f"{path} auths[{k}]"), files, problems
    cred, more, probs = docker_credential(root, registry, env)
    return cred, files + more, problems + probs
