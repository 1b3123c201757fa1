"""Every scenario builds for real, and skopeo (containers/image) meets exactly its failure.

skopeo is the quickest real client; docker and containerd runs are the lab-clients tests'.
Scenarios whose symptom is a hang are run with a short bound and must hit it (rc 124).
"""

from __future__ import annotations

import pytest

from pulldoctor.causes import CATALOGUE
from pulldoctor.lab.procs import TIMEOUT_RC
from pulldoctor.lab.scenarios import SCENARIOS, Scenario, check_catalogue, scenarios_json
from pulldoctor.lab.topology import Lab

REQUIRED_CODES = {
    "dns.udp_timeout", "dns.resolver_unreachable", "dns.nxdomain", "dns.servfail",
    "net.unreachable", "net.tcp_timeout", "net.refused", "net.reset", "net.tls_handshake_timeout",
    "net.request_timeout", "net.mtu", "proxy.error", "tls.unknown_authority",
    "tls.hostname_mismatch", "tls.expired", "tls.http_response_to_https",
    "registry.unauthorized", "registry.denied", "registry.not_found", "registry.rate_limited",
    "registry.server_error", "image.platform_mismatch", "image.corrupt", "host.disk_full",
    "host.kernel_udp", "daemon.config",
}

# scenario -> what skopeo must print (all fragments), or None for success, or "hang".
EXPECT: dict[str, tuple[str, ...] | str | None] = {
    "healthy": None,
    "healthy-token-auth": None,
    "dns-udp-timeout-cdn": ("lookup cdn.lab.test on 198.18.4.2:53: read udp", "i/o timeout"),
    "dns-udp-blocked": ("lookup registry.lab.test on 198.18.4.2:53: read udp", "i/o timeout"),
    "dns-resolver-down": ("lookup registry.lab.test on 198.18.4.2:53", "read: connection refused"),
    "dns-nxdomain": ("lookup regsitry.lab.test on 198.18.4.2:53: no such host",),
    "dns-servfail": ("lookup registry.lab.test on 198.18.4.2:53: server misbehaving",),
    "net-no-route": ("dial tcp 198.18.2.2:443: connect: network is unreachable",),
    "net-tcp-drop": "hang",
    "net-refused": ("dial tcp 198.18.2.2:443: connect: connection refused",),
    "net-reset": ("read tcp", "198.18.3.2:443: read: connection reset by peer"),
    "net-tls-handshake-timeout": ("net/http: TLS handshake timeout",),
    "net-request-timeout": "hang",
    "net-mtu-blackhole": "hang",
    "proxy-dead": ("proxyconnect tcp: dial tcp 198.18.5.2:3128: connect: connection refused",),
    "proxy-auth-required": ("Proxy Authentication Required",),
    "tls-unknown-authority": ("x509: certificate signed by unknown authority",),
    "tls-hostname-mismatch": ("certificate is valid for not-this-host.lab.test, not registry.lab.test",),
    "tls-expired": ("x509: certificate has expired or is not yet valid",),
    "tls-plain-http": ("server gave HTTP response to HTTPS client",),
    "registry-unauthorized": ("unauthorized: authentication required",),
    "registry-denied": ("reading manifest latest in registry.lab.test/lab/hello: denied",),
    "registry-not-found": ("manifest unknown",),
    "registry-rate-limited": ("toomanyrequests: You have reached your pull rate limit",),
    "registry-server-error": ("500 Internal Server Error",),
    "image-platform-mismatch": ("no image found in image index for architecture amd64",),
    "image-corrupt-layer": ("Digest did not match",),
    "host-disk-full": ("no space left on device",),
    "host-udp-ports-exhausted": ("dial udp 198.18.4.2:53: connect: resource temporarily unavailable",),
    "daemon-config-broken": ("loading registries configuration",),
    "healthy-insecure-http": None,
    "insecure-cdn-dns-udp-timeout": ("lookup cdn.lab.test on 198.18.4.2:53: read udp", "i/o timeout"),
    "insecure-cdn-nxdomain": ("lookup cdn.lab.test on 198.18.4.2:53: no such host",),
    "insecure-cdn-tcp-drop": "hang",
    "insecure-cdn-refused": ("dial tcp 198.18.3.2:443: connect: connection refused",),
    "healthy-token-anonymous": None,
    "token-realm-nxdomain": ("lookup auth.lab.test on 198.18.4.2:53: no such host",),
    "token-realm-refused": ("dial tcp 198.18.6.2:443: connect: connection refused",),
    "token-realm-server-error": ("Requesting bearer token: invalid status code from registry 503",),
    "mirror-down-fallback": None,
    "proxy-shell-only": ("proxyconnect tcp: dial tcp 198.18.5.2:3128: connect: connection refused",),
    "proxy-daemon-only": None,
    "tls-handshake-stall": ("net/http: TLS handshake timeout",),
}


def test_catalogue_is_sound_and_covers_every_required_code() -> None:
    assert check_catalogue() == []
    codes = {s.code for s in SCENARIOS.values()}
    assert codes >= REQUIRED_CODES
    assert None in codes  # healthy
    assert all(c is None or c in CATALOGUE for c in codes)
    assert set(EXPECT) == set(SCENARIOS), "every scenario needs its expected symptom here"


def test_scenarios_are_printable_data() -> None:
    import json

    data = json.loads(scenarios_json())
    by_name = {d["name"]: d for d in data}
    assert by_name["dns-udp-timeout-cdn"]["dns_modes"] == {"cdn.lab.test": {"mode": "drop_udp"}}
    assert by_name["net-tcp-drop"]["faults"] == [
        {"name": "drop", "to": "registry", "proto": "tcp", "port": 443}]


def _skopeo(lab: Lab, sc: Scenario, timeout: float) -> tuple[int, str]:
    dest = lab.data_dir if sc.code == "host.disk_full" else lab.workdir
    r = lab.client_exec(["skopeo", "copy", "--retry-times", "0", f"docker://{sc.image}",
                         f"oci:{dest}/pulled:x"], timeout=timeout)
    return r.returncode, r.stdout + r.stderr


SLOW = {"registry-rate-limited", "net-tls-handshake-timeout", "dns-udp-blocked",
        "dns-udp-timeout-cdn", "insecure-cdn-dns-udp-timeout", "tls-handshake-stall"}  # skopeo's own retries and Go's 2 x 5 s DNS timeouts


@pytest.mark.lab
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(EXPECT)])
def test_scenario_builds_and_skopeo_meets_its_failure(name: str, lab: Lab) -> None:
    sc = SCENARIOS[name]
    sc.build(lab)
    want = EXPECT[name]
    rc, out = _skopeo(lab, sc, timeout=8 if want == "hang" else 90)
    if want is None:
        assert rc == 0, out
    elif want == "hang":
        assert rc == TIMEOUT_RC, out
    else:
        assert rc == 1, out
        for fragment in want:
            assert fragment in out, out
