"""Rules for the network under the pull: DNS, TCP, transport (TLS records, HTTP/2).

Proxies are read in :mod:`.rules_proxy`, certificates and handshakes in :mod:`.rules_tls`.

Every pattern is the wording of Go's ``net``, ``net/http``, ``crypto/tls`` or ``x/net/http2``
packages as the runtimes pass it through (pull-internals.md sections 2 and 3): ``lookup <name> on
<server>: <err>`` (``net.DNSError``), ``<op> <net> [<src>->]<dst>: <err>`` (``net.OpError``),
``stream error: stream ID <n>; <code>`` (``http2.StreamError``). A class of wording is matched by
its structure (which error the Go type wraps), not by one pasted example.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import (
    DIAGNOSE,
    EXTRACTING,
    LOOKUP,
    MIRROR_ROUTE,
    NOT_VIA_PROXY,
    PROXY_NEEDED,
    RUNTIME_LOG,
    A,
    H,
    Rule,
    rule,
)

_DNS_UDP_VS_TCP = ("dig +notcp +tries=1 +time=2 @{resolver} {host}  vs  "
                   "dig +tcp +tries=1 +time=2 @{resolver} {host}   # only TCP answers: UDP/53 is dropped")
_CONNECT_STEPS = ("dig @{resolver} {host}   # DNS answers?",
                  "nc -vz -w 3 {host} 443   # TCP connects?",
                  "env | grep -i _proxy; systemctl show --property=Environment docker containerd "
                  "crio   # is a proxy required, or wrongly applied?")

DNS: tuple[Rule, ...] = (
    # --- DNS (the "udp" in these messages is the name lookup, never the image transfer) -----
    rule("dns_read_udp_timeout", Code.DNS_UDP_TIMEOUT,
         LOOKUP + r"read udp " + A + "->" + A + r": i/o timeout", 0.92,
         also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3), (Code.HOST_KERNEL_UDP, 0.15)),
         distinguish=(_DNS_UDP_VS_TCP, "nstat -az UdpRcvbufErrors   # kernel drops instead of the network")),
    rule("dns_lookup_timeout", Code.DNS_UDP_TIMEOUT, LOOKUP + r"[^\n]{0,80}?i/o timeout", 0.85,
         also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3),), distinguish=(_DNS_UDP_VS_TCP,)),
    rule("dial_tcp_no_address_timeout", Code.DNS_UDP_TIMEOUT, r"dial tcp: i/o timeout", 0.75,
         also=((Code.NET_TCP_TIMEOUT, 0.3),),
         distinguish=("dig @{resolver} {host}   # no answer: DNS; an answer: then nc -vz -w 3 {host} 443",
                      "'dial tcp' without an address means the lookup inside the dial never finished")),
    rule("dns_resolver_refused", Code.DNS_RESOLVER_UNREACHABLE,
         LOOKUP + r"(?:read|write|dial) udp[^\n]{0,140}?connection refused", 0.92),
    # Go's net.OpError for the resolver's own socket, when a wrapper dropped the "lookup" prefix:
    # port 53 over UDP is only ever the name lookup (pull-internals.md 2.6)
    rule("dns_socket_timeout", Code.DNS_UDP_TIMEOUT,
         r"read udp " + A + "->" + H + r":53: i/o timeout", 0.85,
         also=((Code.DNS_RESOLVER_UNREACHABLE, 0.3),), distinguish=(_DNS_UDP_VS_TCP,)),
    rule("dns_socket_refused", Code.DNS_RESOLVER_UNREACHABLE,
         r"(?:read|write|dial) udp (?:" + A + "->)?" + H
         + r":53: (?:read: |write: |connect: )?connection refused", 0.88),
    # the resolver's socket fails locally (errno from connect/socket, no packet sent): no route to
    # the nameserver, an IPv6 nameserver on a host without IPv6 (EADDRNOTAVAIL when no local IPv6
    # address can reach it, [::1] with IPv6 disabled), a sandbox forbidding the socket
    rule("dns_resolver_no_route", Code.DNS_RESOLVER_UNREACHABLE,
         r"dial udp " + A + r": (?:connect: |socket: )?(?:network is unreachable|no route to host|"
         r"permission denied|address family not supported by protocol)|"
         r"dial udp \[[0-9a-fA-F:.%\w]{2,64}\]:\d{1,5}: (?:connect: )?cannot assign requested "
         r"address", 0.9),
    # EMFILE on the lookup's socket: the pulling process hit its open-files limit (LimitNOFILE)
    rule("dns_socket_emfile", Code.DAEMON_CONFIG,
         r"(?:dial|read|write) udp[^\n]{0,140}?too many open files", 0.6,
         also=((Code.HOST_KERNEL_UDP, 0.35),),
         distinguish=("systemctl show -p LimitNOFILE docker containerd crio; ls /proc/$(pidof "
                      "dockerd)/fd | wc -l   # the runtime's open-files limit is used up",)),
    rule("dns_eai_again", Code.DNS_RESOLVER_UNREACHABLE,
         r"lookup [\w.*-]{1,255}: (?:Try again|Temporary failure in name resolution)|"
         r"Temporary failure in name resolution", 0.62,
         also=((Code.DNS_UDP_TIMEOUT, 0.45),),
         distinguish=("cat /etc/resolv.conf && dig @NAMESERVER {host}   # refused/unreachable vs "
                      "no answer (libc prints 'Try again' for both)",)),
    rule("dns_servfail", Code.DNS_SERVFAIL, r"server misbehaving|lame referral", 0.9),
    # apple/containerization RegistryClient: kDNSServiceErr_NoSuchRecord on the registry's (or the
    # proxy's) name: "failed to resolve either repository hostname %s[ or proxy hostname %s]"
    rule("apple_no_such_record", Code.DNS_NXDOMAIN,
         r"failed to resolve either repository hostname \S{1,253}", 0.8,
         also=((Code.PROXY_ERROR, 0.4),),
         distinguish=("dscacheutil -q host -a name {host}   # no address: the name (or the proxy's) "
                      "does not resolve on this Mac",)),
    # Windows getaddrinfo (Winsock): WSATRY_AGAIN 11002 is EAI_AGAIN (no answer from the server in
    # time), WSANO_DATA 11004 is a name with no address record, WSAHOST_NOT_FOUND 11001 NXDOMAIN
    rule("winsock_dns_try_again", Code.DNS_UDP_TIMEOUT,
         r"This is usually a temporary error during hostname resolution", 0.62,
         also=((Code.DNS_RESOLVER_UNREACHABLE, 0.5),), distinguish=(_DNS_UDP_VS_TCP,)),
    rule("winsock_dns_no_data", Code.DNS_NXDOMAIN,
         r"The requested name is valid, but no data of the requested type was found|"
         r"No such host is known", 0.8,
         distinguish=("nslookup {host}   # the name has no A/AAAA record on this resolver",)),
    rule("dns_nxdomain", Code.DNS_NXDOMAIN,
         r"(?:" + LOOKUP + r")?no such host|Name or service not known|nodename nor servname provided|"
         # glibc's EAI_NODATA through Go's cgo resolver ("No address associated with hostname": the
         # resolver answered, the name has no address) and musl's "Name does not resolve"
         r"No address associated with hostname|Name does not resolve",
         # a network whose resolver knows only internal names (external ones are resolved by the
         # proxy) answers NXDOMAIN for the registry: the proxy is what had to be used
         0.86, also=((Code.PROXY_ERROR, 0.38),),
         distinguish=("dig @{resolver} {host}; grep -E 'search|ndots' /etc/resolv.conf",
                      "dig @OTHER_RESOLVER {host}   # resolves elsewhere: this resolver is internal-only; "
                      "is a proxy required (env | grep -i _proxy)?")),
    rule("dns_garbled", Code.DNS_SERVFAIL,
         r"cannot unmarshal DNS message|invalid DNS response|no answer from DNS server", 0.5,
         also=((Code.DNS_UDP_TIMEOUT, 0.3),)),
    rule("dns_udp_eperm", Code.DNS_UDP_TIMEOUT,
         r"(?:write|dial|read) udp[^\n]{0,140}?operation not permitted", 0.55,
         also=((Code.HOST_KERNEL_UDP, 0.3),),
         distinguish=("nft list ruleset | grep -n 'dport 53'   # a local reject gives EPERM",)),
    rule("kernel_udp_limits", Code.HOST_KERNEL_UDP,
         r"(?:read|write|dial) udp[^\n]{0,140}?(?:no buffer space available|cannot assign requested "
         r"address|resource temporarily unavailable)|nf_conntrack: table full", 0.75),
    # any other DNSError: the lookup itself failed, whatever Go put after it. Every more specific
    # DNS wording above outranks this; it only decides when nothing else in the text does
    rule("dns_lookup_failed", Code.DNS_RESOLVER_UNREACHABLE, LOOKUP, 0.4,
         also=((Code.DNS_UDP_TIMEOUT, 0.35), (Code.DNS_SERVFAIL, 0.3)),
         distinguish=("dig @{resolver} {host}; dig +tcp @{resolver} {host}   # how the resolver "
                      "answers this name over UDP and TCP",)),
)

TRANSPORT: tuple[Rule, ...] = (
    rule("tcp_connect_timeout", Code.NET_TCP_TIMEOUT,
         r"dial tcp " + A + r": (?:i/o timeout|connect: connection timed out|connectex: A connection "
         r"attempt failed)|connect: connection timed out|"
         # the same words retyped by a reporter (an editor or phone capitalising "TCP", "I/O")
         r"(?i:dial tcp) " + A + r": (?i:i/o timeout)", 0.86,
         # net.OpError's ETIMEDOUT says only that no SYN-ACK came back: a network that lets traffic
         # out only through a proxy drops direct dials exactly so, and a mirror or endpoint from the
         # runtime's configuration (registry-mirrors, hosts.toml) is dialled with the same words
         also=((Code.PROXY_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("nc -vz -w 3 {host} 443   # times out here too: a firewall or route drops SYNs",
                      PROXY_NEEDED, MIRROR_ROUTE),
         unless=NOT_VIA_PROXY),
    rule("tcp_refused", Code.NET_REFUSED,
         r"dial tcp " + A + r": (?:getsockopt: |connect: |connectex: )?(?:connection refused|"
         r"No connection could be made because the target machine actively refused it)", 0.86,
         # ECONNREFUSED is an RST or an ICMP reject: a filter that REJECTs direct dials (traffic out
         # only through a proxy) answers so, and so does a configured mirror/endpoint that is down
         # or on the wrong port; the address in the text does not tell them apart
         also=((Code.PROXY_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.38)),
         distinguish=("nc -vz -w 3 {host} {port}   # refused here too: nothing listens there, or a "
                      "firewall REJECTs the dial", PROXY_NEEDED, MIRROR_ROUTE),
         unless=NOT_VIA_PROXY),
    # any other wording of a refused connect (a tool's own wrapper, a paste with the address or
    # the "dial tcp" mangled): ECONNREFUSED is an answer (RST or ICMP reject), never a timeout,
    # whatever precedes it. Below the specific rules, which name where the refusal came from
    rule("refused_other_wording", Code.NET_REFUSED,
         r"\bconnect(?:ex)?:\s{1,3}connection refused|\d:\s{1,3}connection refused", 0.7,
         also=((Code.PROXY_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.38)),
         distinguish=(PROXY_NEEDED, MIRROR_ROUTE), unless=NOT_VIA_PROXY),
    # a refusal is a refusal (net.OpError's ECONNREFUSED/WSAECONNREFUSED: a RST or an ICMP reject
    # answered the SYN). From a public address it is not the registry's own answer (public fronts
    # listen on 443), so a filtering box that lets traffic out only through a proxy is the runner-up;
    # the text does not show a proxy, so it never outranks the refusal itself
    rule("refused_public_address", Code.PROXY_ERROR,
         r"dial tcp (?!127\.|10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.0\.0\.0)"
         r"\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}: (?:getsockopt: |connect: |connectex: )?(?:connection refused|"
         r"No connection could be made)", 0.5,
         distinguish=("nc -vz -w 3 {host} 443   # refused here too while the registry answers from "
                      "another network: a firewall REJECTs direct dials; is a proxy required (env | "
                      "grep -i _proxy; systemctl show --property=Environment docker containerd)?",),
         unless=NOT_VIA_PROXY),
    # a private address refusing 443: the registry listens elsewhere (plain HTTP on :5000 or :80),
    # and the setting that makes the runtime use that (insecure-registries, hosts.toml) is missing
    # or was not read
    rule("refused_private_443", Code.DAEMON_CONFIG,
         r"dial tcp (?:10\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.)[\d.]{3,11}:443: "
         r"(?:getsockopt: |connect: |connectex: )?(?:connection refused|No connection could be made)",
         0.5, also=((Code.TLS_HTTP_RESPONSE_TO_HTTPS, 0.45),), distinguish=("curl -sv http://{host}:5000/v2/; curl -sv http://{host}/v2/   # the "
                           "registry answers plain HTTP elsewhere: list it in insecure-registries "
                           "(daemon.json) / hosts.toml, then restart the runtime",),
         unless=NOT_VIA_PROXY),
    # 0.0.0.0 is never a registry's address: the name was blackholed locally (/etc/hosts, a DNS
    # filter), so the configured route to the registry (mirror, hosts entry) is suspect. A runner-up
    # only: the refusal itself is real, and scan's shapes blank addresses (the top cause may not
    # depend on one)
    rule("dial_unspecified_address", Code.DAEMON_CONFIG, r"dial tcp (?:0\.0\.0\.0|\[::\]):\d{1,5}", 0.6,
         distinguish=("getent hosts {host}; grep -n '{host}' /etc/hosts   # 0.0.0.0 comes from a "
                      "hosts entry or a DNS filter, not from the registry",
                      "docker info | grep -A3 'Registry Mirrors'   # a mirror that is not used",)),
    rule("tcp_unreachable", Code.NET_UNREACHABLE,
         r"dial tcp " + A + r": (?:getsockopt: |connect: )?(?:no route to host|network is unreachable)|"
         r"(?:read|write) tcp " + A + "->" + A + r": (?:read: |write: )?(?:no route to host|"
         r"network is unreachable)|"
         r"dial tcp \[[0-9a-fA-F:.%\w]{2,64}\]:\d{1,5}: (?:connect: )?cannot assign requested address",
         0.86),
    # the TCP connection exists and the TLS exchange stalls: large records lost (MTU), or a
    # middlebox/proxy that accepts the connection and never forwards it
    rule("tls_handshake_timeout", Code.NET_TLS_HANDSHAKE_TIMEOUT, r"TLS handshake timeout", 0.86,
         also=((Code.NET_MTU, 0.3), (Code.PROXY_ERROR, 0.28)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null   "
                      "# stalls after ClientHello with large certs: MTU",
                      "env | grep -i _proxy; systemctl show --property=Environment docker containerd   "
                      "# a network that needs a proxy (or a proxy that is set wrongly)")),
    rule("connection_reset", Code.NET_RESET,
         r"connection reset by peer|broken pipe|server sent GOAWAY|tls: bad record MAC|"
         r"http2: stream closed|http2: client connection lost|use of closed network connection|"
         r"http2: Transport: cannot retry|http2: client connection force closed|"
         r"server closed idle connection", 0.8,
         # a RST (or a TLS record the peer could not authenticate) comes from the registry's front
         # under load as well as from a middlebox (DPI, a firewall that lets out only proxied
         # traffic); the words are the kernel's, whoever sent the RST
         also=((Code.PROXY_ERROR, 0.35), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # reset here too: the path (a "
                      "middlebox or required proxy); works: retry, the front was overloaded",
                      PROXY_NEEDED)),
    # Go on Windows prints the Winsock errno's FormatMessage text after the call's name (wsarecv,
    # wsasend, connectex...): WSAECONNRESET 10054 and WSAECONNABORTED 10053 are the peer's (or a
    # middlebox's) reset, the Windows wording of "connection reset by peer"
    rule("winsock_reset", Code.NET_RESET,
         r"An existing connection was forcibly closed by the remote host|"
         r"An established connection was aborted by the software in your host machine", 0.8,
         also=((Code.PROXY_ERROR, 0.35), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=(PROXY_NEEDED,)),
    # WSAENETUNREACH 10051 / WSAEHOSTUNREACH 10065: "network is unreachable" / "no route to host"
    rule("winsock_unreachable", Code.NET_UNREACHABLE,
         r"A socket operation was attempted to an unreachable (?:network|host)", 0.86),
    # golang.org/x/net/http2 StreamError.Error(): "stream error: stream ID %d; %v[; %v]"; the peer
    # (or a front/proxy speaking HTTP/2 for it) reset the stream mid-transfer
    rule("http2_stream_reset", Code.NET_RESET,
         r"stream error: stream ID \S{1,12};? (?:INTERNAL_ERROR|PROTOCOL_ERROR|CANCEL|REFUSED_STREAM|"
         r"ENHANCE_YOUR_CALM|STREAM_CLOSED|FLOW_CONTROL_ERROR|NO_ERROR)|"
         r"StreamClosed\(streamID: HTTP2StreamID|HTTP2ErrorCode<0x\d{1,2} \w{1,40}>", 0.8,
         also=((Code.PROXY_ERROR, 0.3),),
         distinguish=("curl --http1.1 -sv -o /dev/null https://{host}/v2/   # works over HTTP/1.1: a "
                      "front or proxy breaks HTTP/2 streams",)),
    # "unexpected EOF" is io.ErrUnexpectedEOF: a body or record that ended early. During layer
    # extraction it is the extractor's input ending (rules_content), not the network
    rule("unexpected_eof", Code.NET_RESET, r"unexpected EOF", 0.75,
         also=((Code.PROXY_ERROR, 0.35), (Code.REGISTRY_SERVER_ERROR, 0.32)),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # cut here too: the registry's "
                      "front or a proxy on the path; works here: retry the pull",),
         unless=EXTRACTING + r"|failed to read expected number of bytes|happened during read: "
                r"unexpected EOF|heuristic tuning data:"),
    # the same io.ErrUnexpectedEOF while a *blob* was being copied (containerd's fetcher "failed to
    # copy", moby's layer download, a blobs/ URL): a body shorter than its Content-Length is also
    # what a registry (or a pull-through cache) serving a truncated blob from its storage produces
    rule("unexpected_eof_blob", Code.NET_RESET,
         r"(?:failed to copy|blobs/sha256:\w{1,64}|[Dd]ownloading|layer\b)[^\n]{0,300}?unexpected EOF",
         0.74, also=((Code.IMAGE_CORRUPT, 0.36), (Code.PROXY_ERROR, 0.35),
                     (Code.REGISTRY_SERVER_ERROR, 0.32)),
         distinguish=("curl -sIL https://{host}/v2/REPO/blobs/DIGEST | grep -i content-length   # "
                      "the same short body every time: the registry/cache stores a truncated blob",
                      "docker pull {image}   # again: a different point of failure is the network"),
         unless=EXTRACTING + r"|failed to read expected number of bytes|happened during read: "
                r"unexpected EOF|heuristic tuning data:"),
    rule("bare_eof", Code.NET_RESET, r"(?::|\]) EOF\b", 0.55,
         # io.EOF: the peer closed without a word -- the registry's front, or a middlebox/proxy
         also=((Code.PROXY_ERROR, 0.35), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # closed here too: the front or "
                      "the path", PROXY_NEEDED)),
    # closed before any answer to the *first* request (the /v2/ ping or the token): the registry's
    # front, or a proxy/middlebox on the path that the runtime's proxy settings do not handle
    rule("eof_first_request", Code.NET_RESET,
         r"https?://[^\s\"]{1,300}(?:/v2/?|/token\?[^\s\"]{0,300}|/v1/_ping)\\?\"? ?: (?:unexpected )?EOF\b", 0.75,
         also=((Code.PROXY_ERROR, 0.45), (Code.REGISTRY_SERVER_ERROR, 0.35)),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # closed here too: the registry's "
                      "front; works here: the daemon's path (systemctl show -p Environment docker)",)),
    # the first request to a registry on its own port (not 443) closed with no answer: a plain-HTTP
    # registry drops the TLS ClientHello -- the setting that makes the runtime speak HTTP to it
    # (insecure-registries, hosts.toml http://) is missing or was not read
    rule("eof_first_request_custom_port", Code.DAEMON_CONFIG,
         r"https://" + H + r":(?!443\b)\d{1,5}/(?:v2/?|v1/_ping)\\?\"? ?: (?:unexpected )?EOF\b", 0.5,
         distinguish=("curl -sv http://{host}:{port}/v2/   # answers over plain HTTP: list {host}:{port}"
                      " in insecure-registries (daemon.json) / hosts.toml, then restart the runtime",)),
    # a reset on the *first* request (the /v2/ ping, the token): nothing was transferred yet, so
    # not a flaky long download -- the registry's front, or a middlebox/proxy that cuts direct
    # connections (for-win#3324: "It was a proxy issue")
    rule("reset_first_request", Code.NET_RESET,
         r"https?://[^\s\"]{1,300}(?:/v2/?|/token\?[^\s\"]{0,300}|/v1/_ping)\\?\"?: (?:read|write) tcp "
         + A + "->" + A + r": [^\n]{0,40}(?:connection reset by peer|forcibly closed)", 0.8,
         also=((Code.PROXY_ERROR, 0.5),),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # reset here too: a middlebox cuts "
                      "direct connections; is a proxy required (env | grep -i _proxy)?",)),
    # the URL names no port, so Go dials 443 for https -- a socket to another port (80, 3128,
    # 8080...) means the request went through a proxy (or a transparent redirect) on the way
    rule("https_socket_not_443", Code.PROXY_ERROR,
         r"https://[\w.-]{1,253}/[^\s\"]{0,2048}\\?\"?: (?:read|write) tcp " + A + r"->" + H
         + r":(?!443\b)\d{1,5}: ", 0.82, also=((Code.NET_RESET, 0.5),),
         distinguish=("env | grep -i _proxy; systemctl show --property=Environment docker   # the "
                      "proxy in the path (the socket's port is not the registry's 443)",)),
    rule("stalled_transfer", Code.NET_MTU,
         r"read tcp " + A + "->" + A + r": (?:read: )?(?:connection timed out|i/o timeout)", 0.5,
         also=((Code.NET_REQUEST_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.3)),
         distinguish=("pulldoctor diagnose --layers {image}   # small replies work, large ones stall: MTU",
                      PROXY_NEEDED)),
    rule("request_timeout", Code.NET_REQUEST_TIMEOUT,
         r"context deadline exceeded|Client\.Timeout exceeded[^\n)]{0,40}|timeout awaiting response "
         r"headers|because of no progress in \S{1,20}|request canceled(?! while waiting for connection)",
         # the client's deadline says only that the step took too long: a connect that never
         # finished (a proxy that had to be used, SYNs dropped) or a transfer that stalled (MTU)
         # ends in the same words when the wrapper kept only the outer error
         0.7, also=((Code.NET_TCP_TIMEOUT, 0.4), (Code.PROXY_ERROR, 0.38), (Code.NET_MTU, 0.3)),
         distinguish=(DIAGNOSE.replace("proves which one fails", "times DNS, TCP and TLS separately"),
                      PROXY_NEEDED),
         unless=r"waiting for connection"),
    # net/http's Client.Do appends "(Client.Timeout exceeded while awaiting headers)" whenever the
    # client's Timeout fired before response headers arrived (client.go), whether the connection
    # was still being made (DNS, dial, a proxy's CONNECT) or the server was silent. Without
    # "waiting for connection" the text does not say which: the connect causes stay candidates
    rule("client_timeout_before_headers", Code.NET_REQUEST_TIMEOUT,
         r"Client\.Timeout exceeded while awaiting headers", 0.6,
         also=((Code.NET_TCP_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.44), (Code.DNS_UDP_TIMEOUT, 0.4)),
         distinguish=(DIAGNOSE.replace("proves which one fails", "times DNS, TCP and TLS separately"),
                      *_CONNECT_STEPS),
         unless=r"waiting for connection"),
    # net/http: the client's timeout fired before any connection existed (DNS, dial or the proxy's
    # CONNECT never finished). The registry was never reached, so nothing says the link works.
    # The ECS agent reads this text the same way (amazon-ecs-agent errormessages:
    # PatternNetworkConfigurationError)
    rule("waiting_for_connection", Code.NET_REQUEST_TIMEOUT,
         r"request canceled while waiting for connection[^\n]{0,60}", 0.5,
         also=((Code.DNS_UDP_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.44), (Code.NET_TCP_TIMEOUT, 0.42)),
         distinguish=(DIAGNOSE.replace("proves which one fails", "times DNS, TCP and TLS separately"),
                      *_CONNECT_STEPS),
         note="'waiting for connection': no connection was made before the client's timeout (the "
              "name lookup, the TCP connect or the proxy never finished); the registry was never "
              "reached, so this is not a slow registry on a working link"),
    # the CRI answer carries only the cancellation (kubelet's runtime-request-timeout, containerd's
    # image_pull_progress_timeout, a deleted pod): the error that caused it is in the runtime's log
    # (and any wrapper that kept only the cancellation: Nomad's "Failed to pull `%s`: %v", a
    # tool's own sentence ending in the bare context error)
    rule("cri_bare_context", Code.NET_REQUEST_TIMEOUT,
         r"(?:rpc error: code = (?:Unknown|Canceled|DeadlineExceeded|[124]) desc = |[Pp]ull[^\n]{0,300}: )"
         r"(?:[^\n\"]{0,200}: )?context (?:canceled|deadline exceeded)(?m:[\"'.]{0,2}\s{0,4}$)", 0.45,
         also=((Code.NET_TCP_TIMEOUT, 0.35), (Code.DNS_UDP_TIMEOUT, 0.3), (Code.PROXY_ERROR, 0.3),
               (Code.NET_MTU, 0.25)),
         distinguish=(RUNTIME_LOG, "crictl pull {image}   # on the node: the runtime's own error",
                      *_CONNECT_STEPS[:2]),
         note="the runtime answered only 'context canceled/deadline exceeded': the pull was cut "
              "short, and the error that made it slow is in the runtime's own log"),
    rule("context_canceled", Code.NET_REQUEST_TIMEOUT, r"context canceled", 0.35,
         distinguish=(RUNTIME_LOG,)),
    rule("v1_network_timed_out", Code.DNS_UDP_TIMEOUT,
         r"Network timed out while trying to connect to \S{1,300}", 0.5,
         also=((Code.NET_TCP_TIMEOUT, 0.45), (Code.NET_REQUEST_TIMEOUT, 0.35)),
         distinguish=("dig {host}   # no answer: DNS", "nc -vz -w 3 {host} 443   # no connect: TCP")),
    # minikube (pkg/minikube/node/cache.go): the kic base image came neither from gcr.io nor from its
    # fallbacks, and the per-registry errors are only in --alsologtostderr; minikube's own triage
    # label for these is cause/firewall-or-proxy
    rule("minikube_kic_download", Code.PROXY_ERROR,
         r"failed to download kic base image or any fallback image", 0.45,
         also=((Code.NET_TCP_TIMEOUT, 0.42), (Code.DNS_UDP_TIMEOUT, 0.38)),
         distinguish=("minikube start --alsologtostderr 2>&1 | grep -i -e kicbase -e error   # the "
                      "registry errors behind it", *_CONNECT_STEPS[1:])),
    # moby v1.x registry/session.go GetRemoteImageLayer: "Server error: Status %d while fetching
    # image layer (%s)" with the status still 0 after five tries that got no response at all -- a
    # connection that failed (the transport error itself went only to the debug log)
    rule("v1_status_0", Code.NET_TCP_TIMEOUT, r"Server error: Status 0 while", 0.55,
         also=((Code.NET_RESET, 0.5), (Code.NET_REQUEST_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.35)),
         distinguish=("nc -vz -w 3 {host} 443   # a registry address that hangs (one of several behind "
                      "the name?): dig {host}, then try each", *_CONNECT_STEPS[1:])),
    # containers/image docker_client.go: the /v2/ ping failed (its error is dropped) and a /v1/_ping
    # answered 200/401, so ErrV1NotSupported "can't talk to a V1 container registry" is printed --
    # a registry that is there and whose v2 ping failed for a passing reason (timeouts, TLS)
    rule("v2_ping_failed_v1_answered", Code.NET_REQUEST_TIMEOUT,
         r"can't talk to a V1 container registry", 0.45,
         also=((Code.NET_TLS_HANDSHAKE_TIMEOUT, 0.42), (Code.REGISTRY_SERVER_ERROR, 0.4),
               (Code.PROXY_ERROR, 0.35)),
         distinguish=("podman --log-level=debug pull {image} 2>&1 | grep -i ping   # the v2 ping's own "
                      "error", "curl -sv https://{host}/v2/ -o /dev/null   # answers 200/401 now?")),
    # moby v1.x registry/session.go: every v1 endpoint failed; the per-endpoint errors are only in
    # the daemon log
    rule("v1_no_endpoint", Code.REGISTRY_SERVER_ERROR, r"Could not reach any registry endpoint", 0.45,
         also=((Code.NET_TCP_TIMEOUT, 0.35), (Code.DNS_UDP_TIMEOUT, 0.3), (Code.PROXY_ERROR, 0.3)),
         distinguish=("curl -sv https://{host}/v2/ -o /dev/null   # the registry answers 5xx, or "
                      "the connection fails", RUNTIME_LOG)),
    # the front end's 408 page: a GET has no body, so its *headers* did not arrive whole -- lost
    # full-size segments on the way to the registry (every such thread was fixed by the MTU)
    rule("http_408_incomplete_request", Code.NET_MTU,
         r"didn't send a complete request in time", 0.6,
         also=((Code.NET_REQUEST_TIMEOUT, 0.45), (Code.PROXY_ERROR, 0.3)),
         distinguish=("ping -M do -s 1472 -c 3 {host}   # 'message too long' or no reply: "
                      "lower the MTU (daemon.json \"mtu\", or the interface)",)),
    # a 408 is written by whatever front read the request: the registry's load balancer, or a proxy
    # on the path whose own idle timer fired (its page names it: Squid, Zscaler, nginx)
    rule("http_408", Code.NET_REQUEST_TIMEOUT, r"\b408\b|Request Time-?out", 0.5,
         also=((Code.NET_MTU, 0.35), (Code.PROXY_ERROR, 0.3)),
         distinguish=("pulldoctor diagnose --layers {image}   # the request body never arrived whole: MTU",
                      "curl -sv https://{host}/v2/ 2>&1 | grep -i -e server: -e via:   # who wrote the "
                      "408: the registry's front or a proxy")),
)

_CLIENT_SIDE: tuple[Rule, ...] = (
    # ctr and nerdctl pull in the client process: they read neither the CRI's registry settings
    # (hosts.toml without --hosts-dir, the CRI mirrors) nor a proxy set only on containerd.service,
    # so a network failure there is often a setting the daemon has and the client does not
    rule("client_side_pull_network", Code.DAEMON_CONFIG,
         r"dial tcp " + A + r": (?:i/o timeout|connect: connection (?:timed out|refused))|"
         r"x509: certificate signed by unknown authority|lookup [\w.*-]{1,255}[^\n]{0,80}no such host", 0.55,
         requires=r"\bctr(?::| -| i| images?)|\bnerdctl\b", also=((Code.PROXY_ERROR, 0.5),),
         distinguish=("ctr images pull --hosts-dir /etc/containerd/certs.d {image}   # works: the "
                      "CRI's hosts.toml was not read by this client",
                      "HTTPS_PROXY=... ctr images pull {image}   # ctr/nerdctl do not inherit "
                      "containerd.service's proxy environment")),
)

RULES: tuple[Rule, ...] = DNS + TRANSPORT + _CLIENT_SIDE
