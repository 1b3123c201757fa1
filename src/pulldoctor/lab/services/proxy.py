"""tinyproxy as lab data: an HTTP(S) forward proxy that only ever forwards to lab hosts.

Why: proxy causes (wrong proxy, proxy wants credentials, proxy down, NO_PROXY missing) need a
real proxy whose answers (407, 403, CONNECT refusals) clients turn into their own messages. A
*dead* proxy is just an address nobody listens on, which is the scenario's job, not ours.

Safety: the proxy must never become a way out of the lab. ``Allow`` limits who may use it to lab
and loopback clients, ``ConnectPort`` limits CONNECT to the lab's ports, and a default-deny
``Filter`` limits destinations to names under ``lab.test`` and addresses in 198.18.0.0/15.
"""

from __future__ import annotations

from pathlib import Path

from pulldoctor.errors import LabToolMissing
from pulldoctor.lab.services import ServiceSpec

_TINYPROXY_BIN = "/usr/bin/tinyproxy"

#: Destinations the proxy may reach: the lab zone and the lab's benchmarking range, nothing else.
ALLOWED_DESTINATIONS = (r"^([a-z0-9-]+\.)*lab\.test$", r"^198\.1[89]\.[0-9]+\.[0-9]+$")


def tinyproxy_config(*, addr: str, port: int, workdir: Path, connect_ports: tuple[int, ...],
                     basic_auth: tuple[str, str] | None = None,
                     allow_clients: tuple[str, ...] = ("127.0.0.0/8", "198.18.0.0/15"),
                     ) -> str:
    """tinyproxy.conf text (pure). ``connect_ports`` are the ports CONNECT may reach."""
    if not connect_ports:
        raise ValueError("give at least one port CONNECT may reach (the registry's)")
    lines = [
        "# written by pulldoctor.lab.services.proxy",
        "User nobody",
        "Group nogroup",
        f"Port {port}",
        f"Listen {addr}",
        "Timeout 60",
        "MaxClients 50",
        "LogLevel Info",
        f"PidFile \"{workdir / 'tinyproxy.pid'}\"",
        "DisableViaHeader Yes",
        "FilterDefaultDeny Yes",
        "FilterType ere",
        "FilterCaseSensitive No",
        f"Filter \"{workdir / 'filter'}\"",
    ]
    lines += [f"Allow {net}" for net in allow_clients]
    lines += [f"ConnectPort {p}" for p in sorted(set(connect_ports))]
    if basic_auth is not None:
        user, password = basic_auth
        if any(c.isspace() for c in user + password):
            raise ValueError("tinyproxy BasicAuth cannot hold whitespace in user or password")
        lines.append(f"BasicAuth {user} {password}")
    return "\n".join(lines) + "\n"


def proxy_service(workdir: Path, *, addr: str, port: int = 3128,
                  connect_ports: tuple[int, ...] = (443, 5000),
                  basic_auth: tuple[str, str] | None = None,
                  destinations: tuple[str, ...] = ALLOWED_DESTINATIONS) -> ServiceSpec:
    """Write tinyproxy.conf and its destination filter; return how to start it in foreground.

    ``destinations`` are the filter's extended regexes (default: lab names and 198.18.0.0/15;
    tests on loopback add 127.0.0.x). The config holds the proxy password when ``basic_auth`` is set, so it is written mode 0600.
    """
    if not Path(_TINYPROXY_BIN).exists():
        raise LabToolMissing("tinyproxy not found (apt-get install tinyproxy)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "filter").write_text("\n".join(destinations) + "\n")
    conf = workdir / "tinyproxy.conf"
    conf.write_text(tinyproxy_config(addr=addr, port=port, workdir=workdir,
                                     connect_ports=connect_ports, basic_auth=basic_auth))
    conf.chmod(0o600)
    return ServiceSpec(name="proxy", argv=[_TINYPROXY_BIN, "-d", "-c", str(conf)], env={},
                       port=port, scheme="http")
