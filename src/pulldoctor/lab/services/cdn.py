"""The lab's CDN: a static HTTP(S) server over the registry's storage directory.

Why: with the ``redirect`` middleware on, docker-registry answers blob GETs with a 307 to
``baseurl + <storage path>`` (``/docker/registry/v2/blobs/sha256/ab/<hex>/data``), the way Docker Hub
sends clients to Cloudflare. Serving the storage root as-is makes those URLs work, so the blob
fetch really goes to a second host that can fail on its own (its DNS name, its firewall, its TLS),
while manifests still come from the registry.

Run: ``python -m pulldoctor.lab.services.cdn --root STORAGE --addr A --port P [--cert C --key K]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pulldoctor.lab.services import ServiceSpec, module_env
from pulldoctor.lab.services.httpbase import QuietHandler, add_listen_args, open_server, serve


def resolve_under(root: Path, url_path: str) -> Path | None:
    """The file ``url_path`` names under ``root``, or None if it escapes root or is not a file.

    Pure path logic (no symlink is followed out of root): the CDN must never serve anything but
    the registry's storage.
    """
    rel = url_path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    if not rel or "\x00" in rel:
        return None
    candidate = (root / rel).resolve()
    root_resolved = root.resolve()
    if candidate != root_resolved and root_resolved not in candidate.parents:
        return None
    return candidate if candidate.is_file() else None


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single ``bytes=a-b`` / ``bytes=a-`` range as (start, end inclusive); None if absent/bad."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].partition("-")
    try:
        if first == "":
            n = int(last)
            return (max(size - n, 0), size - 1) if n > 0 and size else None
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class _CDNHandler(QuietHandler):
    """GET and HEAD of files under the server's root; everything else is 405."""

    root: Path = Path("/nonexistent")

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_POST(self) -> None:
        self.send_error(405)

    do_PUT = do_DELETE = do_POST

    def _serve(self, *, body: bool) -> None:
        path = resolve_under(self.root, self.path)
        if path is None:
            self.send_error(404, "not found")
            return
        size = path.stat().st_size
        rng = parse_range(self.headers.get("Range"), size)
        start, end = rng if rng else (0, size - 1)
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1 if size else 0))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body or size == 0:
            return
        with path.open("rb") as fh:
            fh.seek(start)
            remaining = end - start + 1
            try:
                while remaining > 0:
                    chunk = fh.read(min(65536, remaining))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True


def cdn_service(*, root: Path, addr: str, port: int = 8080, cert: Path | None = None,
                key: Path | None = None, log_header_names: bool = False) -> ServiceSpec:
    """How to start the CDN over ``root`` (the registry's storage ``rootdirectory``)."""
    argv = [sys.executable, "-m", "pulldoctor.lab.services.cdn", "--root", str(root),
            "--addr", addr, "--port", str(port)]
    if log_header_names:
        argv.append("--log-header-names")
    if cert is not None and key is not None:
        argv += ["--cert", str(cert), "--key", str(key)]
    return ServiceSpec(name="cdn", argv=argv, env=module_env(), port=port,
                       scheme="https" if cert else "http")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulldoctor.lab.services.cdn",
                                     description="static server over registry storage")
    parser.add_argument("--root", required=True, type=Path, help="registry storage root")
    add_listen_args(parser)
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        raise SystemExit(f"error: --root {args.root} is not a directory")
    handler = type("BoundCDNHandler", (_CDNHandler,), {"root": args.root,
                                                   "log_header_names": args.log_header_names})
    serve(open_server(args.addr, args.port, handler), args.cert, args.key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
