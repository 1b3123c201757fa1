"""The lab topology for real: connectivity, client view, teardown, parallel labs, the reaper."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulldoctor.lab.procs import is_alive, list_labs, reap_stale, wrap_argv
from pulldoctor.lab.topology import ADDRESSES, SERVER_ROLES, Lab

pytestmark = pytest.mark.lab

LISTEN = textwrap.dedent("""
    import socket, sys
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 7000)); s.listen(5)
    while True:
        c, _ = s.accept(); c.sendall(sys.argv[2].encode()); c.close()
""")
CONNECT = textwrap.dedent("""
    import socket, sys
    s = socket.create_connection((sys.argv[1], 7000), timeout=3)
    print(s.recv(100).decode())
""")


def test_wrap_argv_keeps_the_command_last_and_mounts_in_order() -> None:
    argv = wrap_argv(["skopeo", "inspect"], netns="pd-x-client", mounts=[("/a", "/b"), ("/c", "/d")])
    assert argv[:3] == ["nsenter", "--net=/run/netns/pd-x-client", "--"]
    assert argv[-3:] == ["--", "skopeo", "inspect"]
    assert argv.index("/a") < argv.index("/b") < argv.index("/c") < argv.index("/d")


def test_every_server_is_reachable_from_the_client(lab: Lab, py_in: Callable[..., Any]) -> None:
    procs = [lab.spawn(r, [sys.executable, "-c", LISTEN, ADDRESSES[r], r], log_name=f"l-{r}")
             for r in SERVER_ROLES]
    for role, proc in zip(SERVER_ROLES, procs, strict=True):
        lab.wait_tcp(role, 7000, timeout=10, proc=proc)
    for role in SERVER_ROLES:
        r = py_in(lab, "client", CONNECT, lab.hosts[role].addr)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == role
    # and the router really forwards: the client's only way out is its default route
    routes = lab.exec("client", ["ip", "route"]).stdout
    assert "default via 198.18.1.1" in routes


def test_client_sees_the_lab_files_not_the_hosts(lab: Lab) -> None:
    (lab.client_files / "etc/docker/daemon.json").write_text('{"debug": true}\n')
    r = lab.client_exec(["sh", "-c", "cat /etc/resolv.conf /etc/docker/daemon.json; echo HOME=$HOME"])
    assert r.returncode == 0, r.stderr
    assert f"nameserver {ADDRESSES['dns']}" in r.stdout
    assert '"debug": true' in r.stdout
    assert f"HOME={lab.client_files / 'home'}" in r.stdout
    # the machine's own files are untouched outside the client's mount namespace
    assert Path("/etc/resolv.conf").read_text() != (lab.client_files / "etc/resolv.conf").read_text()


def _netns() -> set[str]:
    p = Path("/run/netns")
    return {n.name for n in p.iterdir()} if p.exists() else set()


def test_teardown_removes_namespaces_and_processes_even_when_the_body_raises(lab_ok: None) -> None:
    seen: dict[str, object] = {}
    with pytest.raises(RuntimeError, match="boom"), Lab(prefix="t") as lab:
        proc = lab.spawn("registry", ["sleep", "300"])
        helper = lab.client_spawn(["sleep", "300"])
        seen.update(id=lab.id, state=lab.state.path, pids=[proc.pid, helper.pid],
                    recorded={p["pid"] for p in lab.state.procs()},
                    ns={h.netns for h in lab.hosts.values()})
        assert seen["ns"] <= _netns()  # type: ignore[operator]
        raise RuntimeError("boom")
    assert set(seen["pids"]) <= seen["recorded"]  # type: ignore[call-overload, operator]
    assert not (seen["ns"] & _netns())  # type: ignore[operator]
    for pid in seen["pids"]:  # type: ignore[attr-defined]
        assert not is_alive(pid, None)
    assert not Path(seen["state"]).exists()  # type: ignore[arg-type]


def test_two_labs_at_once_do_not_collide(lab_ok: None) -> None:
    with Lab(prefix="t") as a, Lab(prefix="t") as b:
        assert a.id != b.id
        assert not ({h.netns for h in a.hosts.values()} & {h.netns for h in b.hosts.values()})
        # same fixed addresses in both, each answering in its own lab
        for lab, word in ((a, "alpha"), (b, "beta")):
            proc = lab.spawn("registry", [sys.executable, "-c", LISTEN, ADDRESSES["registry"], word])
            lab.wait_tcp("registry", 7000, proc=proc)
        for lab, word in ((a, "alpha"), (b, "beta")):
            r = lab.client_exec([sys.executable, "-c", CONNECT, ADDRESSES["registry"]])
            assert r.stdout.strip() == word, r.stderr


def test_a_killed_owner_is_reaped(lab_ok: None, tmp_path: Path) -> None:
    """A run killed with SIGKILL leaves namespaces and processes; reap_stale removes them."""
    code = textwrap.dedent(f"""
        import json, os, signal, sys
        from pathlib import Path
        from pulldoctor.lab.topology import Lab
        lab = Lab(prefix="t", state_root=Path({str(tmp_path)!r}))
        p = lab.spawn("registry", ["sleep", "300"])
        print(json.dumps({{"id": lab.id, "pid": p.pid,
                          "ns": [h.netns for h in lab.hosts.values()]}}), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == -9, r.stderr
    info = json.loads(r.stdout)
    try:
        assert set(info["ns"]) <= _netns()
        assert is_alive(info["pid"], None)
        assert [s.lab_id for s in list_labs(tmp_path)] == [info["id"]]
        assert reap_stale(tmp_path) == [info["id"]]
    finally:
        reap_stale(tmp_path)
    assert not (set(info["ns"]) & _netns())
    assert not is_alive(info["pid"], None)
    assert list_labs(tmp_path) == []


def test_a_detached_lab_is_not_reaped_until_torn_down(lab_ok: None, tmp_path: Path) -> None:
    from pulldoctor.lab.procs import teardown

    lab = Lab(prefix="t", state_root=tmp_path)
    try:
        lab.detach()
        (lab.state.path / "owner.json").write_text(json.dumps({"pid": 2**22 + 1, "start": 1}))
        assert reap_stale(tmp_path) == []
        assert lab.hosts["client"].netns in _netns()
    finally:
        assert teardown(lab.state) == []
    assert lab.hosts["client"].netns not in _netns()


def test_bounded_exec_returns_partial_output_and_kills_escaped_descendants(lab_ok: None) -> None:
    with Lab(prefix="t") as lab:
        r = lab.client_exec(["sh", "-c", "echo started; setsid sleep 300 & exec sleep 300"],
                            timeout=1)
        assert r.returncode == 124 and r.stdout == "started\n"
        pids = subprocess.run(["ip", "netns", "pids", lab.hosts["client"].netns],
                              capture_output=True, text=True, timeout=10).stdout.split()
        assert pids, "the escaped sleep is still in the client namespace before teardown"
    for pid in pids:
        assert not is_alive(int(pid), None)


def test_servers_resolve_through_the_lab_dns_too(lab: Lab) -> None:
    for role in ("proxy", "registry", "router"):
        r = lab.exec(role, ["cat", "/etc/resolv.conf"])
        assert r.stdout == f"nameserver {ADDRESSES['dns']}\n"
