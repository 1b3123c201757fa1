"""Rules for proxies on the path: net/http's CONNECT errors, a proxy the pulling process lacks, a
proxy that answers in the wrong protocol.

Split from :mod:`.rules_network` (the direct connection, whose rules keep the proxy as an
alternative when the words cannot exclude a proxy that had to be used).
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import NOT_VIA_PROXY, A, Rule, rule

RULES: tuple[Rule, ...] = (
    rule("proxyconnect", Code.PROXY_ERROR, r"proxyconnect tcp[^\n]{0,200}", 0.92,
         also=((Code.DAEMON_CONFIG, 0.3),),
         distinguish=("systemctl show --property=Environment docker containerd   # the proxy the "
                      "runtime uses; curl -v -x \"$HTTPS_PROXY\" https://{host}/v2/",)),
    # the paste shows a proxy set (an echo of $https_proxy, HTTPS_PROXY=..., a unit's Environment=)
    # and the pull dialled the registry directly (no "proxyconnect"): the pulling process does not
    # have that proxy (sudo drops the environment, daemons read their unit's, ctr/nerdctl their own)
    rule("proxy_set_dial_direct", Code.PROXY_ERROR,
         r"dial tcp " + A + r": (?:i/o timeout|(?:getsockopt: |connect: )?connection (?:timed out|"
         r"refused)|connectex: [^\n]{0,80})|(?:read|write) tcp " + A + "->" + A
         + r": [^\n]{0,40}(?:connection reset by peer|forcibly closed)", 0.88,
         requires=r"(?i:\b(?:https?|all)_proxy)\s{0,3}[=:]\s{0,3}\\?[\"']?(?:https?|socks5h?)://|"
                  r"(?i:echo \$\{?(?:https?|all)_proxy)",
         also=((Code.NET_TCP_TIMEOUT, 0.6),), unless=NOT_VIA_PROXY,
         distinguish=("sudo env | grep -i _proxy; systemctl show --property=Environment docker "
                      "containerd crio   # the proxy your shell has is not the pulling process's "
                      "(sudo drops it; a daemon reads its unit's environment)",)),
    # moby before 1.10 (net/http of Go < 1.6): "http: error connecting to proxy %s: %v"
    rule("proxy_connect_error", Code.PROXY_ERROR, r"necting to proxy[^\n]{0,200}", 0.9),
    rule("proxy_auth", Code.PROXY_ERROR, r"Proxy Authentication Required|\b407\b", 0.86),
    rule("desktop_proxy_connect", Code.PROXY_ERROR,
         r"connecting to " + A + r": dial tcp " + A + r": [^\n]{0,160}", 0.7,
         unless=r"via direct connection"),
    rule("desktop_direct_connect_timeout", Code.NET_TCP_TIMEOUT,
         r"via direct connection[^\n]{0,300}?(?:connectex: A connection attempt failed|i/o timeout|"
         r"connection timed out)", 0.88),
    rule("dial_invalid_argument", Code.PROXY_ERROR, r"dial tcp " + A + r": connect: invalid argument", 0.4,
         also=((Code.DAEMON_CONFIG, 0.3),)),
    # net/http reads a reply as HTTP where it expected TLS. For an https:// URL the only plain-HTTP
    # exchange is the CONNECT to a proxy (direct https fails in crypto/tls first), so the proxy
    # is the one that answered in TLS (an https proxy configured as http://, or the wrong port)
    rule("malformed_response_on_https", Code.PROXY_ERROR,
         r"https://[^\s\"]{1,500}\"?: (?:net/http: HTTP/1\.x transport connection broken: )?"
         r"malformed HTTP response", 0.78,
         also=((Code.DAEMON_CONFIG, 0.45),),
         distinguish=("env | grep -i _proxy; systemctl show --property=Environment docker   # a "
                      "proxy URL whose port speaks TLS must be written https://",)),
)

