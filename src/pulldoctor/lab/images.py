"""Tiny real images for the lab, built in Python and pushed over HTTP — no network, no docker build.

Why build them by hand: the lab has no internet, and every image-area cause needs a precise image:
a healthy one ``docker pull`` accepts (its config's ``rootfs.diff_ids`` are the sha256 of the
*uncompressed* layer tars, which dockerd checks), a multi-arch index, an arm64-only index (the
platform-mismatch scenario), a layer of several MB (so MTU, slow-body and reset faults hit the middle
of a transfer, many packets in), and a blob corrupted on the registry's disk (digest mismatch).

Everything is deterministic (fixed mtimes, seeded pseudo-random payload), so digests are stable
across runs and can be named in tests. Pushing uses the distribution API with httpx — monolithic
upload (``POST uploads/`` then ``PUT ?digest=``) — and answers Basic or Bearer challenges itself.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import random
import re
import tarfile
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pulldoctor.errors import LabError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

_MTIME = 1_700_000_000  # fixed, so every build of the same content has the same digest
_CREATED = "2023-11-14T22:13:20Z"


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``, the form registries and manifests use."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class _Blob:
    """Bytes stored in a registry under their digest."""

    media_type: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, **extra: object) -> dict[str, object]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size, **extra}


@dataclass(frozen=True, slots=True)
class Image:
    """One platform's image: its manifest, config and layer blobs, and the diff IDs it declares."""

    manifest: _Blob
    config: _Blob
    layers: tuple[_Blob, ...]
    architecture: str
    os: str = "linux"

    @property
    def blobs(self) -> tuple[_Blob, ...]:
        return (self.config, *self.layers)


@dataclass(frozen=True, slots=True)
class Index:
    """A multi-platform index (manifest list) and the images it points to."""

    manifest: _Blob
    images: tuple[Image, ...]


def _make_layer(files: dict[str, bytes], *, oci: bool = False) -> tuple[_Blob, str]:
    """A gzip'd tar layer holding ``files`` (path -> content); returns (blob, diff_id).

    The diff_id is the digest of the uncompressed tar: it is what the config's rootfs lists and
    what dockerd recomputes after extraction.
    """
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, _MTIME
            tar.addfile(info)
        for path in sorted(files):
            data = files[path]
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, _MTIME
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    gz = gzip.compress(tar_bytes, compresslevel=6, mtime=0)
    return _Blob(_OCI_LAYER if oci else _DOCKER_LAYER, gz), sha256_digest(tar_bytes)


def noise(size: int, seed: int = 1) -> bytes:
    """``size`` incompressible but reproducible bytes (a big layer must stay big once gzip'd)."""
    return random.Random(seed).randbytes(size)


def build_image(files: dict[str, bytes], *, architecture: str = "amd64", os: str = "linux",
                variant: str | None = None, oci: bool = False,
                extra_layers: tuple[dict[str, bytes], ...] = ()) -> Image:
    """A one-platform image whose layers hold ``files`` (plus ``extra_layers``)."""
    layers: list[_Blob] = []
    diff_ids: list[str] = []
    for content in (files, *extra_layers):
        blob, diff_id = _make_layer(content, oci=oci)
        layers.append(blob)
        diff_ids.append(diff_id)
    cfg: dict[str, object] = {
        "architecture": architecture,
        "os": os,
        "created": _CREATED,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/hello"], "Labels": {"org.pulldoctor.lab": "true"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": _CREATED, "created_by": "pulldoctor lab"} for _ in layers],
    }
    if variant:
        cfg["variant"] = variant
    config = _Blob(_OCI_CONFIG if oci else DOCKER_CONFIG, _canonical(cfg))
    man_type = _OCI_MANIFEST if oci else DOCKER_MANIFEST
    manifest = {"schemaVersion": 2, "mediaType": man_type, "config": config.descriptor(),
                "layers": [layer.descriptor() for layer in layers]}
    return Image(_Blob(man_type, _canonical(manifest)), config, tuple(layers), architecture, os)


def build_index(images: tuple[Image, ...], *, oci: bool = True) -> Index:
    """An index (OCI) or manifest list (Docker) over ``images``, one entry per platform."""
    entries = []
    for img in images:
        cfg = json.loads(img.config.data)
        platform = {"architecture": img.architecture, "os": img.os}
        if "variant" in cfg:
            platform["variant"] = cfg["variant"]
        entries.append(img.manifest.descriptor(platform=platform))
    media = _OCI_INDEX if oci else _DOCKER_LIST
    body = {"schemaVersion": 2, "mediaType": media, "manifests": entries}
    return Index(_Blob(media, _canonical(body)), images)


def healthy_image(arch: str = "amd64") -> Image:
    """The small image every healthy scenario pulls (Docker schema2, one tiny layer)."""
    return build_image({"hello": b"#!/bin/sh\necho hello from the pulldoctor lab\n",
                        "etc/pulldoctor-lab": f"arch={arch}\n".encode()}, architecture=arch)


def big_image(size_mb: int = 4, seed: int = 7) -> Image:
    """An image with one layer of ``size_mb`` MiB of noise: thousands of packets on the wire."""
    return build_image({"hello": b"big\n", "data/blob.bin": noise(size_mb * 1024 * 1024, seed)})


def multiarch_index() -> Index:
    """linux/amd64 + linux/arm64 (variant v8), OCI index with OCI manifests."""
    amd = build_image({"hello": b"amd64\n"}, architecture="amd64", oci=True)
    arm = build_image({"hello": b"arm64\n"}, architecture="arm64", variant="v8", oci=True)
    return build_index((amd, arm))


def arm64_only_index() -> Index:
    """An index with only linux/arm64: an amd64 host finds no matching manifest in it."""
    arm = build_image({"hello": b"arm64 only\n"}, architecture="arm64", variant="v8", oci=True)
    return build_index((arm,))


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


# --- pushing -------------------------------------------------------------------------------------

_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')


class RegistryAuth(httpx.Auth):
    """Answers a registry's 401: Basic with the credentials, or Bearer via the token realm.

    Tokens are cached per scope. Credentials are only ever sent in headers, never logged.
    """

    requires_response_body = True

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self._creds = (username, password) if username is not None else None
        self._tokens: dict[str, str] = {}

    def _basic(self) -> str:
        assert self._creds is not None
        raw = f"{self._creds[0] or ''}:{self._creds[1] or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scope = _scope_for(request.url.path)
        if scope in self._tokens:
            request.headers["Authorization"] = f"Bearer {self._tokens[scope]}"
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "")
        kind = challenge.split(" ", 1)[0].lower()
        if kind == "basic" and self._creds is not None:
            request.headers["Authorization"] = self._basic()
            yield request
            return
        if kind != "bearer":
            return
        params = dict(_CHALLENGE_RE.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            return
        query = {"service": params.get("service", "")}
        if scope:
            query["scope"] = scope
        token_req = httpx.Request("GET", realm, params=query)
        if self._creds is not None:
            token_req.headers["Authorization"] = self._basic()
        token_resp = yield token_req
        if token_resp.status_code != 200:
            return
        body = token_resp.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            return
        self._tokens[scope] = token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def _scope_for(path: str) -> str:
    m = re.match(r"^/v2/(.+?)/(blobs|manifests|tags)/", path)
    return f"repository:{m.group(1)}:pull,push" if m else ""


def _push_blob(client: httpx.Client, base_url: str, repo: str, blob: _Blob) -> None:
    """Upload ``blob`` unless the registry has it (monolithic: POST uploads/, PUT ?digest=)."""
    head = client.head(f"{base_url}/v2/{repo}/blobs/{blob.digest}")
    if head.status_code == 200:
        return
    start = client.post(f"{base_url}/v2/{repo}/blobs/uploads/")
    _check(start, 202, f"start upload of {blob.digest}")
    location = start.headers.get("location", "")
    if not location:
        raise LabError(f"registry gave no upload Location for {blob.digest}")
    url = httpx.URL(base_url).join(location)
    url = url.copy_merge_params({"digest": blob.digest})
    put = client.put(url, content=blob.data,
                     headers={"Content-Type": "application/octet-stream"})
    _check(put, 201, f"upload of {blob.digest}")


def _push_manifest(client: httpx.Client, base_url: str, repo: str, ref: str, blob: _Blob) -> None:
    """PUT a manifest or index under ``ref`` (a tag or its digest)."""
    resp = client.put(f"{base_url}/v2/{repo}/manifests/{ref}", content=blob.data,
                      headers={"Content-Type": blob.media_type})
    _check(resp, 201, f"manifest {repo}:{ref}")


def push_image(client: httpx.Client, base_url: str, repo: str, tag: str,
               image: Image | Index) -> str:
    """Push every blob and manifest of ``image`` to ``repo:tag``; return the top digest.

    ``client`` carries the transport choices (TLS verify / CA, timeouts, :class:`RegistryAuth`),
    so the caller decides how to reach the registry (for a lab host, inside its namespace).
    """
    base_url = base_url.rstrip("/")
    images = image.images if isinstance(image, Index) else (image,)
    for img in images:
        for blob in img.blobs:
            _push_blob(client, base_url, repo, blob)
        if isinstance(image, Index):
            _push_manifest(client, base_url, repo, img.manifest.digest, img.manifest)
    _push_manifest(client, base_url, repo, tag, image.manifest)
    return image.manifest.digest


def _check(resp: httpx.Response, want: int, what: str) -> None:
    if resp.status_code != want:
        raise LabError(f"push failed: {what}: HTTP {resp.status_code} {resp.text[:200]!r}")


def blob_path(storage_dir: Path, digest: str) -> Path:
    """Where distribution's filesystem driver keeps a blob's bytes."""
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexpart):
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return storage_dir / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"


def corrupt_blob(storage_dir: Path, digest: str) -> Path:
    """Flip one byte in the middle of a stored blob: same size, different digest.

    Keeping the size means the client's size check passes and only the digest check fails,
    which is exactly the ``image.corrupt`` symptom (``Digest did not match`` in skopeo,
    ``filesystem layer verification failed`` in dockerd).
    """
    path = blob_path(storage_dir, digest)
    if not path.is_file():
        raise LabError(f"blob {digest} is not in {storage_dir}")
    data = bytearray(path.read_bytes())
    if not data:
        raise LabError(f"blob {digest} is empty, nothing to corrupt")
    mid = len(data) // 2
    data[mid] ^= 0xFF
    path.write_bytes(bytes(data))
    return path
