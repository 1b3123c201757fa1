"""Real-server fixtures and helpers for the probe tests: a client and a server namespace per test.

Each test gets its own pair ``pdt-<random>-c`` / ``pdt-<random>-s`` joined by a veth (client
198.19.0.1, server 198.19.0.2; both only inside those namespaces), real servers started in the server
namespace (the lab's dnslib DNS server, docker-registry, python's http.server), nft rules where a
fault is needed. Probe code runs *in process*, on a thread that has joined the client namespace with
setns(2) (namespaces are per thread on Linux), so tests assert on real dataclasses. Everything is
stopped by PID and both namespaces are deleted in ``finally``.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
CLIENT_ADDR = "198.19.0.1"
SERVER_ADDR = "198.19.0.2"
CLONE_NEWNET = 0x40000000

needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None,
                                reason="needs root and iproute2 to build network namespaces")


def _run(argv: list[str], timeout: float = 10.0) -> None:
    subprocess.run(argv, check=True, timeout=timeout, capture_output=True)


@dataclass
class NetPair:
    """A client and a server namespace with one link between them."""

    client: str
    server: str
    workdir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def spawn(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen(["ip", "netns", "exec", self.server, *argv], stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(p)
        return p

    def nft(self, ns: str, hook: str, rule: str) -> None:
        """Load one filter rule on ``hook`` (input/output/forward) in namespace ``ns``."""
        ruleset = (f"table inet pdt {{\n chain {hook} {{\n  type filter hook {hook} priority 0;\n"
                   f"  {rule}\n }}\n}}\n")
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset.encode(),
                           timeout=10, capture_output=True)
        assert r.returncode == 0, r.stderr.decode()

    def exec_client(self, argv: list[str], timeout: float = 60.0,
                    env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["ip", "netns", "exec", self.client, *argv], capture_output=True,
                              text=True, timeout=timeout, env=env)

    def in_client(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
        """Run ``make()`` on a thread inside the client namespace and return its result."""
        box: list[Any] = []

        def target() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{self.client}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    box.append(OSError(ctypes.get_errno(), "setns failed"))
                    return
            finally:
                os.close(fd)
            try:
                box.append(asyncio.run(make()))
            except BaseException as exc:
                box.append(exc)

        th = threading.Thread(target=target, daemon=True)
        th.start()
        th.join(timeout)
        assert box, "probe did not finish within the test bound"
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]  # type: ignore[no-any-return]

    def wait_tcp(self, port: int, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r = subprocess.run(["ip", "netns", "exec", self.client, sys.executable, "-c",
                                "import socket,sys; socket.create_connection("
                                f"('{SERVER_ADDR}', {port}), 0.5)"], capture_output=True,
                               timeout=5)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"nothing listens on {SERVER_ADDR}:{port}")

    def wait_udp_dns(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(p.poll() is None for p in self.procs):
                r = subprocess.run(["ip", "netns", "exec", self.server, "ss", "-lun"],
                                   capture_output=True, text=True, timeout=5)
                if f"{SERVER_ADDR}:53" in r.stdout:
                    return
            time.sleep(0.1)
        raise AssertionError("DNS server did not start")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


@pytest.fixture
def netpair(tmp_path: Path) -> Iterator[NetPair]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2")
    tag = secrets.token_hex(3)
    pair = NetPair(f"pdt-{tag}-c", f"pdt-{tag}-s", tmp_path)
    veth_c, veth_s = f"pdc{tag}", f"pds{tag}"
    try:
        _run(["ip", "netns", "add", pair.client])
        _run(["ip", "netns", "add", pair.server])
        _run(["ip", "link", "add", veth_c, "netns", pair.client, "type", "veth", "peer", "name",
              veth_s, "netns", pair.server])
        for ns, dev, addr in ((pair.client, veth_c, CLIENT_ADDR), (pair.server, veth_s, SERVER_ADDR)):
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev])
            _run(["ip", "-n", ns, "link", "set", dev, "up"])
        yield pair
    finally:
        pair.stop()
        for ns in (pair.client, pair.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


@pytest.fixture
def dns_server(netpair: NetPair) -> Callable[[dict[str, Any]], None]:
    """Start the lab's real DNS server (zone ``pdt.test``) in the server namespace."""

    def start(modes: dict[str, Any]) -> None:
        # ``{"name": {"mode": "drop_udp"}}`` shorthand -> the lab's typed DNS faults (dns_<mode>).
        faults = [{"name": f"dns_{m['mode']}", "host": name,
                   **{k: v for k, v in m.items() if k != "mode"}}
                  for name, m in modes.items() if m["mode"] != "answer"]
        cfg = {"zone": "pdt.test",
               "records": {"registry.pdt.test": SERVER_ADDR, "cdn.pdt.test": SERVER_ADDR},
               "faults": faults}
        path = netpair.workdir / "zone.json"
        path.write_text(json.dumps(cfg))
        netpair.spawn([sys.executable, "-m", "pulldoctor.lab.dnsserver", "--config", str(path),
                       "--addr", SERVER_ADDR], "dns")
        netpair.wait_udp_dns()

    return start


REGISTRY_YML = """version: 0.1
log: {{level: error}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http:
  addr: {addr}
{tls}"""


@pytest.fixture
def registry(netpair: NetPair) -> Callable[..., int]:
    """Start docker-registry 2.8 in the server namespace; returns its port."""
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")

    def start(port: int = 5000, cert: Path | None = None, key: Path | None = None,
              htpasswd: Path | None = None) -> int:
        store = netpair.workdir / f"store{port}"
        store.mkdir()
        tls = f"  tls:\n    certificate: {cert}\n    key: {key}\n" if cert and key else ""
        if htpasswd is not None:
            tls += f"auth:\n  htpasswd:\n    realm: pdt\n    path: {htpasswd}\n"
        cfg = netpair.workdir / f"registry{port}.yml"
        cfg.write_text(REGISTRY_YML.format(root=store, addr=f"{SERVER_ADDR}:{port}", tls=tls))
        netpair.spawn(["docker-registry", "serve", str(cfg)], f"registry{port}")
        netpair.wait_tcp(port)
        return port

    return start


def make_image(layer_size: int = 4096, arch: str = "amd64") -> dict[str, Any]:
    """A small real image (one random layer, OCI types) built by the lab's image builder."""
    from pulldoctor.lab import images

    img = images.build_image({"data.bin": os.urandom(layer_size)}, architecture=arch, oci=True)
    return {"image": img, "blobs": {b.digest: b.data for b in img.blobs},
            "manifest": img.manifest.data, "config": img.config.digest,
            "layer": img.layers[0].digest}


async def push_image(base: str, repo: str, tag: str, image: dict[str, Any],
                     verify: Any = False, index_arch: str | None = None,
                     auth: tuple[str, str] | None = None) -> str:
    """Push ``image`` with the lab's pusher (monolithic uploads); with ``index_arch``, under a
    one-entry index for that architecture. Returns the digest the tag points to."""
    import httpx

    from pulldoctor.lab import images

    img: images.Image = image["image"]
    if index_arch is not None and index_arch != img.architecture:
        raise ValueError(f"index_arch {index_arch} differs from the image's {img.architecture}")
    target = images.build_index((img,)) if index_arch is not None else img
    with httpx.Client(verify=verify, trust_env=False, timeout=10,
                      auth=httpx.BasicAuth(*auth) if auth else None) as c:
        return images.push_image(c, base, repo, tag, target)


@pytest.fixture
def tls_material(tmp_path: Path) -> dict[str, Path]:
    """A trustme CA and certificates: good, wrong-name and expired (all for the server address)."""
    import datetime as dt

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    out: dict[str, Path] = {"ca": tmp_path / "ca.pem"}
    ca.cert_pem.write_to_path(str(out["ca"]))
    now = dt.datetime.now(dt.UTC)
    kinds = {
        "good": ca.issue_cert("registry.pdt.test", SERVER_ADDR),
        "wrong": ca.issue_cert("other.pdt.test"),
        "expired": ca.issue_cert("registry.pdt.test", SERVER_ADDR,
                                 not_before=now - dt.timedelta(days=30),
                                 not_after=now - dt.timedelta(days=1)),
    }
    for name, cert in kinds.items():
        out[f"{name}_cert"] = tmp_path / f"{name}.crt"
        out[f"{name}_key"] = tmp_path / f"{name}.key"
        cert.cert_chain_pems[0].write_to_path(str(out[f"{name}_cert"]))
        cert.private_key_pem.write_to_path(str(out[f"{name}_key"]))
    return out
