"""Reports built from the real model objects, one per command shape, for the renderer tests.

They are built the way the commands build them (``Cause.from_catalogue``, ``Step``, ``Finding``,
``PullConfig.to_dict``), with fixed durations so whole outputs can be compared to golden files.
"""

from __future__ import annotations

from pulldoctor.config.model import Credential, Endpoint, ProxyConfig, PullConfig, ResolverConfig
from pulldoctor.model import Cause, Finding, Outcome, Report, Step

ERROR = ("error pulling image configuration: download failed after attempts=6: dial tcp: lookup "
         "production.cloudflare.docker.com on 127.0.0.53:53: read udp 127.0.0.1:41234->"
         "127.0.0.53:53: i/o timeout")

VALUES = {"host": "production.cloudflare.docker.com", "resolver": "127.0.0.53",
          "image": "nginx:latest", "registry": "docker.io", "port": "443"}


def explain_report() -> Report:
    return Report(
        command="explain",
        subject=ERROR,
        causes=[
            Cause.from_catalogue(
                "dns.udp_timeout", 0.9,
                ["lookup production.cloudflare.docker.com on 127.0.0.53:53",
                 "read udp 127.0.0.1:41234->127.0.0.53:53: i/o timeout"],
                VALUES, ["dig +notcp vs dig +tcp @127.0.0.53 production.cloudflare.docker.com"]),
            Cause.from_catalogue("host.kernel_udp", 0.2, ["read udp"], VALUES,
                                 ["nstat -az UdpRcvbufErrors"]),
        ],
        facts={"runtime": "dockerd (graph driver)", "step": "config", "image": None,
               "host": "production.cloudflare.docker.com", "resolver": "127.0.0.53",
               "resolver_kind": "systemd-resolved stub", "transport": "udp", "attempts": 6,
               "real_attempts": 5, "cdn_host": True},
    )


def unrecognised_report() -> Report:
    return Report(command="explain", subject="hello world",
                  notes=["nothing in this text was recognised as a pull failure"])


def scan_report() -> Report:
    return Report(
        command="scan",
        subject="/var/log/syslog",
        causes=[Cause.from_catalogue("registry.rate_limited", 0.95, ["toomanyrequests"], VALUES),
                Cause.from_catalogue("dns.nxdomain", 0.86, ["no such host"], VALUES)],
        facts={"lines": 120000, "failures": 17, "groups": 2},
        notes=["2 different causes: each group is its own finding (no single verdict over "
               "unrelated failures)"],
        extra={"groups": [
            {"code": "registry.rate_limited", "image": "nginx:latest", "registry": "docker.io",
             "node": "node-a1", "count": 12, "first_seen": "2026-11-29T08:01:02Z",
             "last_seen": "2026-11-29T09:14:00Z", "source": "/var/log/syslog",
             "sources": ["kubelet"], "pods": ["web-0", "web-1"], "namespaces": ["default"],
             "sample": "toomanyrequests: You have reached your pull rate limit. | <b>*_x_*</b>",
             "example": "toomanyrequests: You have reached your pull rate limit. | <b>*_x_*</b>",
             "candidates": [{"code": "registry.rate_limited", "confidence": 0.95}],
             "inferred": False, "fix": ["docker login"],
             "advice": ["authenticated pulls have a larger quota; or configure a pull-through "
                        "mirror"]},
            {"code": "dns.nxdomain", "image": "regsitry.example.com/app:1.2",
             "registry": "regsitry.example.com", "node": "-", "count": 5, "first_seen": "line 17",
             "last_seen": "line 4031", "source": "/var/log/syslog",
             "sample": 'Head "https://regsitry.example.com/v2/app/manifests/1.2": dial tcp: lookup '
                       "regsitry.example.com: no such host ```x```",
             "example": "dial tcp: lookup regsitry.example.com: no such host ```x```",
             "candidates": [{"code": "dns.nxdomain", "confidence": 0.86}], "inferred": False,
             "fix": ["dig regsitry.example.com"],
             "advice": ["check the registry host in the image reference: regsitry.example.com/app:1.2"],
             "first_line": 17, "last_line": 4031},
        ]},
    )


CERT = {"subject": "CN=registry.lab.test", "issuer": "O=pulldoctor lab CA",
        "san": ["registry.lab.test", "198.18.2.2"], "not_before": "2026-01-01T00:00:00+00:00",
        "not_after": "2026-02-01T00:00:00+00:00", "valid_now": False, "self_signed": False,
        "serial": "1f2e"}


def diagnose_report() -> Report:
    steps = [
        Step("dns", Outcome.OK, 0.012, "registry.lab.test -> 198.18.2.2 (udp and tcp)",
             ["198.18.1.53 udp A registry.lab.test: NOERROR 198.18.2.2 in 3 ms"],
             data={"resolvers": {"198.18.1.53": {"udp": "ok", "tcp": "ok", "rtt_ms": 3}},
                   "addresses": ["198.18.2.2"]}),
        Step("tcp", Outcome.OK, 0.004, "198.18.2.2:443 connected", data={"address": "198.18.2.2:443"}),
        Step("tls", Outcome.PROBLEM, 0.031, "certificate expired on 2026-02-01",
             ["x509: certificate has expired or is not yet valid"],
             data={"certificate": CERT, "verify_code": 10, "protocol": "TLSv1.3"}),
        Step("ping", Outcome.BLOCKED, 0.0, "", blocked_by="tls"),
        Step("manifest", Outcome.BLOCKED, 0.0, "", blocked_by="tls"),
        Step("mtu", Outcome.TIMEOUT, 2.5, "large packet probe got no answer within 2.5 s",
             data={"interfaces": {"eth0": 1500}}),
    ]
    return Report(
        command="diagnose",
        subject="registry.lab.test/app:1.0",
        causes=[Cause.from_catalogue(
            "tls.expired", 0.97, ["not_after 2026-02-01T00:00:00+00:00 is in the past"],
            {"host": "registry.lab.test", "port": "443", "image": "registry.lab.test/app:1.0",
             "registry": "registry.lab.test"})],
        facts={"runtime": "docker", "platform": "linux/amd64"},
        steps=steps,
        duration_s=2.61,
        extra={"layers": [{"digest": "sha256:" + "ab" * 32, "size": 3145728, "mb_per_s": 55.5}]},
    )


def healthy_report() -> Report:
    return Report(
        command="diagnose", subject="registry.lab.test/app:1.0",
        steps=[Step("dns", Outcome.OK, 0.01, "ok"), Step("manifest", Outcome.OK, 0.2, "200 OK")],
        notes=["every step of the pull worked from this host"], duration_s=0.4)


def fallback_report() -> Report:
    """diagnose with two endpoints: the runtime's error comes from the second (shown first)."""
    https, http = "https://registry.lab.test:443", "http://registry.lab.test:443"
    cdn_ev = ["cdn.lab.test: no UDP query to 198.18.4.2 got a reply, but the same server answers "
              "over TCP: UDP port 53 is dropped on the path (firewall)"]
    steps = [
        Step("config", Outcome.OK, 0.0, "runtime docker; endpoints in order: " + https + ", "
             + http),
        Step("dns registry.lab.test", Outcome.OK, 0.004, "registry.lab.test resolves to "
             "198.18.2.2 via 198.18.4.2", endpoint=http),
        Step("registry ping " + http, Outcome.OK, 0.006, f"ping: {http}/v2/ -> HTTP 200",
             endpoint=http),
        Step("config blob registry.lab.test", Outcome.OK, 0.01, "config blob: HTTP 307",
             endpoint=http),
        Step("dns cdn.lab.test", Outcome.PROBLEM, 0.51, cdn_ev[0], cdn_ev, endpoint=http,
             cause="dns.udp_timeout", confidence=0.97),
        Step("config blob", Outcome.BLOCKED, 0.0, "not run: dns cdn.lab.test failed",
             blocked_by="dns cdn.lab.test", endpoint=http),
        Step("dns registry.lab.test", Outcome.OK, 0.004, "registry.lab.test resolves to "
             "198.18.2.2 via 198.18.4.2", endpoint=https),
        Step("tls registry.lab.test:443", Outcome.WARNING, 0.02, "registry.lab.test: TLS "
             "http_response", ["insecure registry: the runtime falls back to its plain-HTTP "
                               "endpoint"], endpoint=https),
        Step("host checks", Outcome.OK, 0.05, "host checks found nothing wrong"),
    ]
    return Report(
        command="diagnose", subject="registry.lab.test:443/lab/hello:latest",
        causes=[Cause.from_catalogue("dns.udp_timeout", 0.97, [f"[dns cdn.lab.test] {cdn_ev[0]}"],
                                     {"host": "cdn.lab.test", "resolver": "198.18.4.2",
                                      "image": "registry.lab.test:443/lab/hello:latest"},
                                     runtime="docker", context=frozenset({"walked"}),
                                     complete=True)],
        facts={"runtime": "docker", "endpoints": [https, http]}, steps=steps, duration_s=0.7,
        extra={"endpoints": [
            {"url": http, "mirror": False, "outcome": "failed", "reported": True,
             "note": "the error dockerd reports comes from here"},
            {"url": https, "mirror": False, "outcome": "fell_back", "reported": False,
             "note": "dockerd falls back to its next endpoint from here"}]})


def pull_config() -> PullConfig:
    return PullConfig(
        runtime="docker", image="docker.io/library/nginx:latest",
        endpoints=[
            Endpoint("https://mirror.lab.test", "mirror.lab.test:443", is_mirror=True,
                     ca_files=["/etc/docker/certs.d/mirror.lab.test/ca.crt"],
                     source="daemon.json registry-mirrors"),
            Endpoint("https://registry-1.docker.io", "registry-1.docker.io:443", source="default"),
        ],
        proxy=ProxyConfig(https_proxy="http://proxy.lab.test:3128", no_proxy="localhost,.lab.test",
                          source="systemd drop-in http-proxy.conf"),
        credentials=[Credential("docker.io", "~/.docker/config.json auths", username="bob",
                                password="not-shown")],
        resolver=ResolverConfig(nameservers=["198.18.1.53"], search=["lab.test"]),
        sources=["/etc/docker/daemon.json"],
    )


def host_report() -> Report:
    return Report(
        command="host",
        subject="nginx",
        causes=[Cause.from_catalogue("daemon.config", 0.6, ["daemon.json: unknown key 'registry-mirror'"],
                                     {"image": "nginx"})],
        steps=[
            Step("daemon_config", Outcome.PROBLEM, 0.002, "1 problem in /etc/docker/daemon.json",
                 findings=[Finding("unknown key 'registry-mirror'", "error", "daemon.config",
                                   ["/etc/docker/daemon.json: \"registry-mirror\""],
                                   ["systemctl restart docker"],
                                   ["rename \"registry-mirror\" to \"registry-mirrors\""])]),
            Step("kernel_udp", Outcome.OK, 0.001, "no UDP drops"),
            Step("disk", Outcome.WARNING, 0.001, "/var/lib/docker 91% full",
                 findings=[Finding("data root nearly full", "warning", None, ["91% used"], ["docker system prune"])]),
            Step("cpu", Outcome.SKIPPED, 0.0, "no runtime cgroup readable"),
            Step("clock", Outcome.CRASHED, 0.0, "check crashed: ValueError"),
        ],
        extra={"config": pull_config().to_dict(), "answer_table": [
            {"order": 1, "url": "https://mirror.lab.test", "scheme": "https", "mirror": True,
             "tls_verify": True, "ca": "/etc/docker/certs.d/mirror.lab.test/ca.crt",
             "proxy": "http://proxy.lab.test:3128", "credentials": "anonymous",
             "source": "daemon.json registry-mirrors"},
            {"order": 2, "url": "https://registry-1.docker.io", "scheme": "https", "mirror": False,
             "tls_verify": True, "ca": "system roots", "proxy": "http://proxy.lab.test:3128",
             "credentials": "~/.docker/config.json auths", "source": "Docker Hub (built in)"}]},
    )


ALL = {
    "explain": explain_report, "unrecognised": unrecognised_report, "scan": scan_report,
    "diagnose": diagnose_report, "healthy": healthy_report, "host": host_report,
    "fallback": fallback_report,
}
