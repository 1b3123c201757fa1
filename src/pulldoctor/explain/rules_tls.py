"""Rules for TLS: what crypto/tls and crypto/x509 say about the registry's certificate and handshake.

Split from :mod:`.rules_network` (the connection under it). Behind "proxyconnect" the plain-HTTP
peer is the proxy (an http:// proxy written https://): :mod:`.rules_network`'s proxy rules name it.
Any certificate the client sees may be a TLS-intercepting proxy's rather than the registry's, so
the proxy stays a candidate behind the x509 wordings (pull-internals.md section 3).
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import MIRROR_ROUTE, Rule, rule

RULES: tuple[Rule, ...] = (
    # behind "proxyconnect" the plain-HTTP peer is the proxy (an http:// proxy written https://):
    # the proxy rule names it, not the registry's TLS
    # crypto/tls: a plain-HTTP answer read as a TLS record ("first record does not look like a TLS
    # handshake", or its length field read from "HTTP/1.1 ..." as "oversized record received")
    rule("http_response_to_https", Code.TLS_HTTP_RESPONSE_TO_HTTPS,
         r"server gave HTTP response to HTTPS client|first record does not look like a TLS handshake|"
         r"tls: oversized record received", 0.95,
         # a plain-HTTP answer on 443: the registry serves HTTP (insecure-registries/hosts.toml
         # missing), or a captive portal / transparent proxy answered in its place
         also=((Code.DAEMON_CONFIG, 0.4), (Code.PROXY_ERROR, 0.35)),
         distinguish=("curl -sv http://{host}/v2/ 2>&1 | head -20   # a registry's /v2/ answer: "
                      "list it as insecure; a login page or proxy banner: the network's portal/proxy",),
         unless=r"proxyconnect"),
    # Docker 1.x (registry/endpoint.go, NewEndpoint): "Invalid registry endpoint %s: %v. If this
    # private registry supports only HTTP or HTTPS with an unknown CA certificate, please add
    # `--insecure-registry %s`", and docker-py's copy of the v1 probe, "HTTPS endpoint unresponsive
    # and insecure mode isn't enabled": HTTPS did not answer and plain HTTP was not tried
    rule("https_probe_no_insecure", Code.TLS_HTTP_RESPONSE_TO_HTTPS,
         r"HTTPS endpoint unresponsive and insecure mode isn't enabled", 0.6,
         also=((Code.DAEMON_CONFIG, 0.45), (Code.NET_REFUSED, 0.4), (Code.TLS_UNKNOWN_AUTHORITY, 0.35)),
         distinguish=("curl -sv http://{host}/v2/; curl -sv https://{host}/v2/   # which one the "
                      "registry answers: plain HTTP needs insecure-registries",)),
    rule("tls_spoken_to_http", Code.DAEMON_CONFIG, r"malformed HTTP response[^\n]{0,40}", 0.7,
         distinguish=("curl -v https://{host}/v2/   # the registry speaks TLS: use https:// "
                      "in hosts.toml / drop it from insecure-registries",),
         unless=r"https://[^\s\"]{1,500}\"?: (?:net/http: HTTP/1\.x transport connection broken: )?"
                r"malformed HTTP response"),
    rule("unknown_authority", Code.TLS_UNKNOWN_AUTHORITY,
         r"x509: certificate signed by unknown authority|certificate is not trusted|"
         r"unable to get local issuer certificate|x509: [^\n]{0,40}self[- ]signed certificate", 0.92,
         # the CA is often installed, but where this client does not read it (ctr ignores the CRI
         # config, docker reads certs.d/<host:port>, containerd reads hosts.toml via config_path)
         # ...or the certificate is not the registry's at all: a TLS-intercepting proxy re-signs
         # every connection with its own CA (the same x509 words)
         also=((Code.PROXY_ERROR, 0.4), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null | openssl "
                      "x509 -noout -issuer   # the issuer: the registry's CA, or a proxy's",
                      "openssl s_client -connect {host}:443 -servername {host} -CAfile CA.crt "
                      "</dev/null   # verifies with the CA: it is installed where this client "
                      "does not read it",)),
    # the client certificate configured for this registry cannot be loaded (containerd's hosts.toml
    # client=, docker's certs.d/<host>/client.cert): "failed to load X509 key pair: %w"
    rule("client_cert_unloadable", Code.DAEMON_CONFIG, r"failed to load X509 key pair", 0.85,
         distinguish=("ls -l /etc/containerd/certs.d/{registry}/ /etc/docker/certs.d/{registry}/   "
                      "# the client.cert/client.key pair named must exist, match and be readable",)),
    # TLS alert 116: the registry wants a client certificate and none was sent
    rule("client_cert_required", Code.DAEMON_CONFIG, r"tls: certificate required", 0.8,
         distinguish=("grep -rn client /etc/containerd/certs.d/{registry}/ /etc/docker/certs.d/"
                      "{registry}/   # the client cert/key the registry requires is not configured "
                      "(or not read)",)),
    # crypto/tls alertError as the *peer's* alert ("remote error: tls: <alert>"): the registry (or
    # a middlebox in front of it) refused our certificate, or refused the handshake itself
    rule("peer_rejected_client_cert", Code.DAEMON_CONFIG,
         r"remote error: tls: (?:bad certificate|unknown certificate authority|certificate required|"
         r"certificate expired|unsupported certificate)", 0.7,
         distinguish=("ls /etc/docker/certs.d/{registry}/ /etc/containerd/certs.d/{registry}/   # the "
                      "client certificate the registry expects (client.cert/client.key, hosts.toml "
                      "client=)",)),
    rule("peer_refused_handshake", Code.PROXY_ERROR,
         r"remote error: tls: (?:handshake failure|protocol version not supported|insufficient "
         r"security level|internal error|access denied)", 0.45,
         also=((Code.REGISTRY_SERVER_ERROR, 0.35), (Code.DAEMON_CONFIG, 0.35)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null   # the same "
                      "alert here: the server (or an SNI-filtering middlebox) refuses this name",
                      "env | grep -i _proxy   # a TLS-intercepting proxy on the path")),
    rule("hostname_mismatch", Code.TLS_HOSTNAME_MISMATCH,
         # crypto/x509 HostnameError: "x509: certificate is valid for %s, not %s" -- its first
         # words decide it (a long SAN list often wraps before the ", not <host>")
         r"x509: certificate is valid for [^\n]{0,300}?(?:, not \S{1,255}|(?m:$))|relies on legacy Common Name field|"
         r"certificate is not valid for any names|because it doesn't contain any IP SANs", 0.92,
         # the certificate answering may not be the registry's: an intercepting proxy or captive
         # portal presents its own, and a mirror/endpoint configured by IP or by another name is
         # checked against the name the configuration used
         also=((Code.PROXY_ERROR, 0.35), (Code.DAEMON_CONFIG, 0.3)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null | openssl "
                      "x509 -noout -subject -issuer -ext subjectAltName   # whose certificate answers",
                      MIRROR_ROUTE)),
    # any other certificate the client refuses (crypto/x509's remaining errors: key usage, a name
    # constraint, an unsupported algorithm, a malformed chain): the certificate the client sees is
    # not the one it trusts -- often a TLS-intercepting proxy
    rule("x509_other", Code.TLS_UNKNOWN_AUTHORITY, r"x509: [^\n]{1,160}", 0.5,
         also=((Code.PROXY_ERROR, 0.4),),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null | "
                      "openssl x509 -noout -issuer -subject   # the issuer: the registry's CA, or a "
                      "proxy's",)),
    rule("cert_expired", Code.TLS_EXPIRED, r"x509: certificate has expired(?: or is not yet valid)?[^\n]{0,120}", 0.92,
         also=((Code.PROXY_ERROR, 0.3),),
         distinguish=("timedatectl   # a wrong clock makes every certificate look expired",
                      "openssl s_client -connect {host}:443 -servername {host} </dev/null | openssl "
                      "x509 -noout -issuer -dates   # an intercepting proxy's certificate, expired")),
)

