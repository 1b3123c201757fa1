"""containers/image's trust policy for one image: the file, the scope that applies, what it requires,
and where the signatures are looked for. Only podman, skopeo, buildah and CRI-O enforce it.

Read as containers/image reads it (sources in ``signature/``, ``docker/``, v5.23 as in Debian 12's
skopeo, and current):

* the file: ``$HOME/.config/containers/policy.json`` when it exists, else
  ``/etc/containers/policy.json`` (``defaultPolicyPathWithHomeDir``); a missing file or one that
  does not parse stops every pull (``invalid policy in "…"``);
* the parser is strict (``ParanoidUnmarshalJSONObject``): unknown and duplicate keys are errors, a
  ``default`` is required, every requirement list must be non-empty, each requirement type has its
  exact fields;
* the scope (``requirementsForImageRef``): for the ``docker`` transport the identity
  ``host[:port]/repo:tag`` (or ``@digest``), then each namespace ``host/ns/repo``, ``host/ns``,
  ``host``, then ``*.domain`` wildcards, then the transport's ``""``, then the global ``default``;
* signatures (``docker/registries_d.go``): ``registries.d/*.yaml`` (``$HOME/.config/containers/
  registries.d`` when it exists), ``docker:`` scopes matched the same way, then ``default-docker``;
  ``lookaside`` (or the old ``sigstore``) holds simple-signing signatures at
  ``BASE/REPO@sha256=HEX/signature-N``; ``use-sigstore-attachments`` reads sigstore signatures
  from the registry (tag ``sha256-HEX.sig``). Without a lookaside, the built-in default is
  ``file:///var/lib/containers/sigstore`` (root).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulldoctor.config.files import list_dir, read_text, under
from pulldoctor.reference import ImageReference

POLICY_JSON = "/etc/containers/policy.json"
_REGISTRIES_D = "/etc/containers/registries.d"
_DEFAULT_LOOKASIDE = "file:///var/lib/containers/sigstore"
TRANSPORT = "docker"

_FIELDS: dict[str, frozenset[str]] = {
    "insecureAcceptAnything": frozenset({"type"}),
    "reject": frozenset({"type"}),
    "signedBy": frozenset({"type", "keyType", "keyPath", "keyPaths", "keyData",
                           "signedIdentity"}),
    "signedBaseLayer": frozenset({"type", "baseLayerIdentity"}),
    "sigstoreSigned": frozenset({"type", "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio",
                                 "rekorPublicKeyPath", "rekorPublicKeyPaths",
                                 "rekorPublicKeyData", "rekorPublicKeyDatas", "pki",
                                 "signedIdentity"}),
}
"""The keys each requirement type accepts (``policy_config.go``, ``policy_config_sigstore.go``)."""
_EXACT = ("insecureAcceptAnything", "reject", "signedBaseLayer")  # every key required
_KEY_TYPES = ("GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs")
_KEY_FILES = ("keyPath", "rekorPublicKeyPath")
_KEY_FILE_LISTS = ("keyPaths", "rekorPublicKeyPaths")
_SIGNING = ("signedBy", "sigstoreSigned", "signedBaseLayer")


class PolicyError(ValueError):
    """The policy does not load: containers/image refuses every pull with it."""


@dataclass(slots=True)
class Requirement:
    """One requirement of the scope that applies (all of them must be met)."""

    type: str
    key_files: list[str] = field(default_factory=list)  # keyPath(s), rekor keys, Fulcio CA
    key_data: bool = False  # keys given inline (keyData...)
    key_type: str | None = None

    @property
    def needs_signature(self) -> bool:
        return self.type in _SIGNING

    def describe(self) -> str:
        bits = [self.type] + ([self.key_type] if self.key_type else []) + \
            [f"key {k}" for k in self.key_files] + (["inline key"] if self.key_data else [])
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "key_files": list(self.key_files), "key_data": self.key_data,
                "key_type": self.key_type}


@dataclass(slots=True)
class PolicyView:
    """The trust policy that applies to one image (``path`` None: no policy file at all)."""

    path: str | None
    error: str | None = None  # the file does not load (containers/image refuses every pull)
    scope: str = ""  # 'docker "registry.lab.test/lab"', 'docker ""', 'default'
    requirements: list[Requirement] = field(default_factory=list)
    scopes_tried: list[str] = field(default_factory=list)
    lookaside: str = _DEFAULT_LOOKASIDE  # where simple-signing signatures are read, for the repo
    lookaside_source: str = "built-in default"
    sigstore_attachments: bool = False
    registries_d: str = _REGISTRIES_D
    registries_d_error: str | None = None

    @property
    def rejects(self) -> bool:
        return any(r.type == "reject" for r in self.requirements)

    @property
    def needs_signature(self) -> bool:
        return any(r.needs_signature for r in self.requirements)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "error": self.error, "scope": self.scope,
                "requirements": [r.to_dict() for r in self.requirements],
                "scopes_tried": list(self.scopes_tried), "lookaside": self.lookaside,
                "lookaside_source": self.lookaside_source,
                "use_sigstore_attachments": self.sigstore_attachments,
                "registries_d": self.registries_d,
                "registries_d_error": self.registries_d_error}


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for k, v in pairs:
        if k in seen:
            raise PolicyError(f'Duplicate key "{k}"')
        seen[k] = v
    return seen


def _requirement(raw: Any) -> Requirement:
    if not isinstance(raw, dict):
        raise PolicyError("a requirement is not a JSON object")
    kind = raw.get("type")
    if kind not in _FIELDS:
        raise PolicyError(f'Unknown policy requirement type "{kind}"')
    unknown = sorted(set(raw) - _FIELDS[kind])
    if unknown:
        raise PolicyError(f'Unknown key "{unknown[0]}"')
    if kind in _EXACT and (missing := sorted(_FIELDS[kind] - set(raw))):
        raise PolicyError(f'Key "{missing[0]}" missing in a JSON object')
    req = Requirement(str(kind))
    if kind == "signedBy":
        if raw.get("keyType") not in _KEY_TYPES:
            raise PolicyError(f'invalid keyType "{raw.get("keyType", "")}"')
        req.key_type = str(raw["keyType"])
        if sum(k in raw for k in ("keyPath", "keyPaths", "keyData")) != 1:
            raise PolicyError("Exactly one of keyPath, keyPaths and keyData must be specified")
    for k in _KEY_FILES:
        if isinstance(raw.get(k), str):
            req.key_files.append(raw[k])
    for k in _KEY_FILE_LISTS:
        if isinstance(raw.get(k), list):
            req.key_files += [str(p) for p in raw[k]]
    fulcio = raw.get("fulcio")
    if isinstance(fulcio, dict) and isinstance(fulcio.get("caPath"), str):
        req.key_files.append(fulcio["caPath"])
    req.key_data = any(k in raw for k in ("keyData", "keyDatas"))
    return req


def _requirements(raw: Any) -> list[Requirement]:
    if not isinstance(raw, list) or not raw:
        raise PolicyError("List of verification policy requirements must not be empty")
    return [_requirement(r) for r in raw]


def parse_policy(text: str) -> tuple[list[Requirement], dict[str, dict[str, list[Requirement]]]]:
    """(default, {transport: {scope: requirements}}); raises :class:`PolicyError` as
    ``NewPolicyFromBytes`` would refuse the file."""
    try:
        doc = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict):
        raise PolicyError("JSON object expected")
    for k in doc:
        if k not in ("default", "transports"):
            raise PolicyError(f'Unknown key "{k}"')
    if doc.get("default") is None:
        raise PolicyError("Default policy is missing")
    default = _requirements(doc["default"])
    transports: dict[str, dict[str, list[Requirement]]] = {}
    raw = doc.get("transports") or {}
    if not isinstance(raw, dict):
        raise PolicyError('"transports" is not a JSON object')
    for name, scopes in raw.items():
        if not isinstance(scopes, dict):
            raise PolicyError(f'transport "{name}" is not a JSON object')
        transports[name] = {scope: _requirements(reqs) for scope, reqs in scopes.items()}
    return default, transports


def scopes(ref: ImageReference) -> list[str]:
    """``PolicyConfigurationIdentity`` then ``PolicyConfigurationNamespaces`` of a docker image."""
    name = f"{ref.registry}/{ref.repository}"
    out = [f"{name}@{ref.digest}" if ref.digest else f"{name}:{ref.tag or 'latest'}"]
    while True:
        out.append(name)
        if "/" not in name:
            break
        name = name.rsplit("/", 1)[0]
    host = name.split(":", 1)[0]
    while "." in host:
        host = host.split(".", 1)[1]
        out.append("*." + host)
    return out


def _policy_path(root: str | Path, env: Mapping[str, str]) -> str | None:
    """The file containers/image reads: the user's, when it exists, else the system's."""
    home = env.get("HOME", "/root").rstrip("/")
    for p in (f"{home}/.config/containers/policy.json", POLICY_JSON):
        if under(root, p).exists():
            return p
    return None


def _registries_d(root: str | Path, env: Mapping[str, str], ref: ImageReference,
                  view: PolicyView) -> None:
    """Fill the lookaside and sigstore-attachment settings for ``ref`` (``registries_d.go``)."""
    import yaml

    user = env.get("HOME", "/root").rstrip("/") + "/.config/containers/registries.d"
    view.registries_d = user if under(root, user).is_dir() else _REGISTRIES_D
    default: dict[str, Any] | None = None
    docker: dict[str, tuple[dict[str, Any], str]] = {}
    for name in list_dir(root, view.registries_d):
        if not name.endswith(".yaml"):
            continue
        path = f"{view.registries_d}/{name}"
        text, err = read_text(root, path)
        try:
            doc = yaml.safe_load(text or "") or {}
        except yaml.YAMLError as exc:
            view.registries_d_error = f"parsing {path}: {exc}"
            return
        if err or not isinstance(doc, dict):
            view.registries_d_error = err or f"parsing {path}: not a mapping"
            return
        if isinstance(doc.get("default-docker"), dict):
            if default is not None:
                view.registries_d_error = f'"default-docker" defined twice (again in {path})'
                return
            default = doc["default-docker"]
            default["_file"] = path
        for ns, conf in (doc.get("docker") or {}).items():
            if ns in docker:
                view.registries_d_error = f'"docker" namespace "{ns}" defined twice ({path})'
                return
            docker[str(ns)] = (conf if isinstance(conf, dict) else {}, path)
    chain = [(docker[s][0], f'{docker[s][1]} docker "{s}"') for s in scopes(ref) if s in docker]
    if default is not None:
        chain.append((default, f"{default['_file']} default-docker"))
    if os.geteuid() != 0:  # builtinDefaultLookasideStorageDir
        view.lookaside = "file://" + env.get("HOME", "/root").rstrip("/") + \
            "/.local/share/containers/sigstore"
    for conf, where in chain:
        base = conf.get("lookaside") or conf.get("sigstore")
        if base:
            view.lookaside, view.lookaside_source = f"{str(base).rstrip('/')}", where
            break
    for conf, _where in chain:
        if conf.get("use-sigstore-attachments") is not None:
            view.sigstore_attachments = bool(conf["use-sigstore-attachments"])
            break
    repo_path = ref.repository  # reference.Path: no registry host
    view.lookaside = f"{view.lookaside}/{repo_path}"


def read_policy(root: str | Path, env: Mapping[str, str], ref: ImageReference) -> PolicyView:
    """The trust policy containers/image applies to ``ref`` on the host at ``root``. Never raises."""
    path = _policy_path(root, env)
    view = PolicyView(path)
    if path is None:
        view.error = f"open {POLICY_JSON}: no such file or directory"
        return view
    text, err = read_text(root, path)
    if text is None:
        view.error = err or f"open {path}: no such file or directory"
        return view
    try:
        default, transports = parse_policy(text)
    except PolicyError as exc:
        view.error = f'invalid policy in "{path}": {exc}'
        return view
    chosen = transports.get(TRANSPORT)
    for scope in [*scopes(ref), ""]:
        view.scopes_tried.append(f'{TRANSPORT} "{scope}"')
        if chosen is not None and scope in chosen:
            view.scope, view.requirements = f'{TRANSPORT} "{scope}"', chosen[scope]
            break
    else:
        view.scope, view.requirements = "default", default
    try:
        _registries_d(root, env, ref, view)
    except Exception as exc:  # a registries.d that surprises the reader is its own finding
        view.registries_d_error = f"{type(exc).__name__}: {exc}"
    return view


def signature_url(lookaside: str, digest: str, n: int = 1) -> str:
    """Where the ``n``-th simple-signing signature of ``digest`` is (``lookasideStorageURL``)."""
    algo, _, hexpart = digest.partition(":")
    return f"{lookaside}@{algo}={hexpart}/signature-{n}"


def attachment_tag(digest: str) -> str:
    """The tag sigstore attachments are stored under (``sigstoreAttachmentTag``)."""
    return digest.replace(":", "-", 1) + ".sig"


def missing_key_files(view: PolicyView, root: str | Path) -> list[str]:
    """Key files the requirements name that do not exist under ``root`` (no signature can then be
    accepted: ``None of the signatures were accepted, reasons: open …: no such file``)."""
    return [k for r in view.requirements for k in r.key_files
            if k.startswith("/") and not under(root, k).is_file()]


def stored_signatures(view: PolicyView, root: str | Path) -> list[str] | None:
    """The digests a ``file://`` lookaside holds a first signature for, for this repository
    (None: the lookaside is not a local directory)."""
    if not view.lookaside.startswith("file://"):
        return None
    base = view.lookaside[len("file://"):]
    parent, _, stem = base.rpartition("/")
    out: list[str] = []
    for name in list_dir(root, parent or "/"):
        if name.startswith(stem + "@") and under(root, f"{parent}/{name}/signature-1").is_file():
            out.append(name[len(stem) + 1:].replace("=", ":", 1))
    return out
