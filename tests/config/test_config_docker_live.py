"""The live daemon view (``GET /info`` on docker.sock) and the "edited but not restarted" finding.

A complete dockerd cannot run in this test environment (no devices cgroup), so the socket is served
by ``FakeDockerInfoSocket``: a real Unix-socket HTTP/1.0 server that answers ``/info`` the way
dockerd does (the fields pulldoctor reads), and nothing else. It is a fake, named as one.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulldoctor.config.docker import daemon_info
from pulldoctor.config.effective import discover
from pulldoctor.host import daemon_config
from pulldoctor.host.context import HostContext
from pulldoctor.reference import parse_reference

INFO = {"ServerVersion": "27.3.1", "DockerRootDir": "/var/lib/docker", "Driver": "overlay2",
        "HttpProxy": "", "HttpsProxy": "http://xxxxx:xxxxx@proxy.corp:3128", "NoProxy": "",
        "RegistryConfig": {"Mirrors": ["https://old-mirror.corp/"]}}


class FakeDockerInfoSocket:
    """Serves one canned ``/info`` reply per connection on a Unix socket, until closed."""

    def __init__(self, path: Path, body: bytes, status: str = "200 OK") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.reply = f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n\r\n".encode() + body
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                conn.recv(4096)
                conn.sendall(self.reply)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def live_root(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "var/run").mkdir(parents=True)
    (tmp_path / "etc/docker").mkdir(parents=True)
    (tmp_path / "etc/docker/daemon.json").write_text(json.dumps({"registry-mirrors": ["https://new-mirror.corp"]}))
    srv = FakeDockerInfoSocket(tmp_path / "var/run/docker.sock", json.dumps(INFO).encode())
    try:
        yield tmp_path
    finally:
        srv.close()


def test_live_view_is_read_and_drift_reported(live_root: Path) -> None:
    cfg = discover("nginx", "docker", live_root, {}, live=True)
    assert cfg.settings["live"]["server_version"] == "27.3.1"
    assert cfg.settings["live"]["mirrors"] == ["https://old-mirror.corp/"]
    step = daemon_config.check(HostContext(root=live_root, image=parse_reference("nginx"),
                                           runtime="docker", env={}, live=True))
    drift = [f for f in step.findings if "not restarted" in f.title]
    assert drift and drift[0].fix == ["systemctl restart docker"]


def test_no_socket_and_error_reply(tmp_path: Path) -> None:
    assert daemon_info(tmp_path)[1] == "/var/run/docker.sock: no Docker daemon socket"
    (tmp_path / "var/run").mkdir(parents=True)
    srv = FakeDockerInfoSocket(tmp_path / "var/run/docker.sock", b"{}", status="500 Internal Server Error")
    try:
        info, err = daemon_info(tmp_path)
        assert info is None and err and "unexpected reply" in err
    finally:
        srv.close()
