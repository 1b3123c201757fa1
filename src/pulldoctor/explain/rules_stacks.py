"""Rules for the network and TLS wording of the *non-Go* stacks the tools around runtimes use.

The runtimes are Go, and :mod:`.rules_network` reads Go's wording. Many tools that pull are not:
enroot and CI scripts shell out to curl; Jib, docker-java, testcontainers-java and Bazel's
downloader are Java; docker-py, oras-py and testcontainers-python use requests/urllib3/ssl;
dockerode and testcontainers-node are Node. Each stack names the same failures its own way, and a
class of wording is read here by the stack's own format, not by one pasted example:

* curl's tool: ``curl: (<CURLcode>) <curl_easy_strerror text>`` (curl ``src/tool_operate.c``,
  ``lib/strerror.c``), and the C library's ``strerror`` texts inside it, capitalised
  (``Connection refused``, ``Connection timed out``, ``Connection reset by peer``);
* Java: the exception class names of ``java.net`` / ``javax.net.ssl`` / Apache HttpClient
  (``UnknownHostException``, ``SocketTimeoutException: connect timed out`` / ``Read timed out``,
  ``SSLHandshakeException: PKIX path building failed``) and Bazel's downloader (``Unknown host:``);
* Python: urllib3's ``NewConnectionError`` / ``ConnectTimeoutError`` / ``ReadTimeoutError`` and
  ``ssl``'s ``[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: <X509 verify text>``;
* Node: libuv's error codes after the syscall (``getaddrinfo ENOTFOUND``, ``connect
  ECONNREFUSED``) and OpenSSL's verify codes (``UNABLE_TO_GET_ISSUER_CERT_LOCALLY``).

None of these stacks says whether it went through a proxy, so the connect rules keep the proxy as
an alternative; a connection to the Docker daemon's own socket (``docker.sock``, ``:2375``) is not
the registry and is left to :mod:`.rules_host`.
"""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.explain.rulebase import Rule, rule

_DAEMON_SOCKET = r"docker\.sock|:237[56]\b|npipe:|docker_engine|DOCKER_HOST"
"""A refusal or timeout towards the Docker daemon, not the registry (docker-java, dockerode and
testcontainers talk to the daemon first): the daemon rules in :mod:`.rules_host` read those."""
_DIG = ("dig {host}; getent hosts {host}   # NXDOMAIN: the name is wrong or not in this network's "
        "DNS; no answer at all: the resolver (these stacks print one message for both)")
_NC = ("nc -vz -w 5 {host} 443   # refused/times out here too: nothing listens there or a firewall "
       "drops it; connects: the tool's proxy settings (JVM -Dhttps.proxyHost, HTTPS_PROXY) differ",)
_CA = ("openssl s_client -connect {host}:443 -servername {host} </dev/null | openssl x509 -noout "
       "-issuer   # the issuer this tool does not trust (Java keeps its own cacerts, Python certifi "
       "its own bundle, Node NODE_EXTRA_CA_CERTS): a private CA or a TLS-intercepting proxy",)

RULES: tuple[Rule, ...] = (
    # --- names -----------------------------------------------------------------------------------
    # curl CURLE_COULDNT_RESOLVE_HOST (6) "Could not resolve host: %s"; Java UnknownHostException
    # (Bazel's HttpConnector rethrows it as "Unknown host: %s"); Node getaddrinfo ENOTFOUND. Each
    # says the same for NXDOMAIN and for a resolver that gave no answer
    rule("stack_unknown_host", Code.DNS_NXDOMAIN,
         r"curl: \(6\)[^\n]{0,120}|Could not resolve host: \S{1,253}|UnknownHostException(?::[^\n]{0,120})?|"
         r"\bUnknown host: \S{1,253}|getaddrinfo ENOTFOUND \S{1,253}|UnresolvedAddressException", 0.75,
         also=((Code.DNS_UDP_TIMEOUT, 0.4), (Code.PROXY_ERROR, 0.3)),
         distinguish=(_DIG, "env | grep -i _proxy   # behind a proxy only the proxy resolves names"),
         needles=("curl: (6)", "Could not resolve host", "UnknownHost", "Unknown host",
                  "ENOTFOUND", "UnresolvedAddress")),
    # Node getaddrinfo EAI_AGAIN / libc EAI_AGAIN: the resolver did not answer in time
    rule("stack_dns_try_again", Code.DNS_UDP_TIMEOUT, r"getaddrinfo EAI_AGAIN \S{1,253}", 0.6,
         also=((Code.DNS_RESOLVER_UNREACHABLE, 0.5),),
         distinguish=("dig +notcp {host}; dig +tcp {host}   # only TCP answers: UDP/53 is dropped",)),
    # curl "Could not resolve proxy: %s" (5); Java "Unable to tunnel through proxy"
    rule("stack_proxy", Code.PROXY_ERROR,
         r"curl: \(5\)|Could not resolve proxy: \S{1,253}|Unable to tunnel through proxy[^\n]{0,120}|"
         r"CONNECT tunnel failed, response \d{3}|Received HTTP code \d{3} from proxy after CONNECT",
         0.8, distinguish=("env | grep -i _proxy   # the proxy this tool uses, and its answer",)),
    # --- connect ---------------------------------------------------------------------------------
    # strerror(ECONNREFUSED) as curl (7), Java ConnectException and Python [Errno 111] print it;
    # Node "connect ECONNREFUSED <addr>"
    rule("stack_refused", Code.NET_REFUSED,
         r"(?:curl: \(7\) )?Failed to connect to \S{1,253} port \d{1,5}[^\n]{0,80}?Connection refused|"
         r"ConnectException: Connection refused|\[Errno 111\] Connection refused|"
         r"connect ECONNREFUSED (?:\d|\[)[^\s,]{1,60}|HttpHostConnectException[^\n]{0,300}?refused|"
         r"Connect to \S{1,300} \[[^\]\n]{0,600}\] failed: Connection refused",
         0.8, also=((Code.PROXY_ERROR, 0.3),), distinguish=_NC, unless=_DAEMON_SOCKET),
    # a connect that never completed: curl (7)/(28) "Failed to connect ... Connection timed out" or
    # "Connection timed out after %ld milliseconds", Java "connect timed out" /
    # ConnectTimeoutException, urllib3 ConnectTimeoutError, Node "connect ETIMEDOUT <addr>"
    rule("stack_connect_timeout", Code.NET_TCP_TIMEOUT,
         r"Failed to connect to \S{1,253} port \d{1,5}[^\n]{0,80}?(?:Connection timed out|Timeout was "
         r"reached|Operation timed out)|Connection timed out after \d{1,9} milli|"
         r"SocketTimeoutException: [Cc]onnect timed out|ConnectTimeoutException|ConnectTimeoutError|"
         r"\(connect timeout=[\d.]{1,8}\)|connect ETIMEDOUT (?:\d|\[)[^\s,]{1,60}|"
         r"ConnectException: Connection timed out|"
         # Apache HttpClient's ConnectTimeoutException message (Jib, Maven, Gradle): "Connect to
         # %s [%s] failed: connect timed out" (DefaultHttpClientConnectionOperator)
         r"Connect to \S{1,300} \[[^\]\n]{0,600}\] failed: (?:connect timed out|Connection timed out|"
         r"Read timed out)", 0.78,
         also=((Code.PROXY_ERROR, 0.35),), distinguish=_NC, unless=_DAEMON_SOCKET),
    # Java NoRouteToHostException; strerror(EHOSTUNREACH/ENETUNREACH) capitalised
    rule("stack_unreachable", Code.NET_UNREACHABLE,
         r"NoRouteToHostException|\[Errno 11[03]\] (?:No route to host|Network is unreachable)|"
         r"connect E(?:HOST|NET)UNREACH|curl: \(7\)[^\n]{0,200}?(?:No route to host|Network is "
         r"unreachable)", 0.8,
         distinguish=("ip route get $(getent hosts {host} | cut -d' ' -f1)   # no route from this "
                      "host",)),
    # --- transfer --------------------------------------------------------------------------------
    # a request that got no (complete) answer in time: curl (28) "Operation timed out after %ld
    # milliseconds with %ld bytes received", Java/urllib3 "Read timed out", Node ESOCKETTIMEDOUT
    rule("stack_read_timeout", Code.NET_REQUEST_TIMEOUT,
         r"Operation timed out after \d{1,9} milliseconds with \d{1,15}[^\n]{0,40}|"
         r"SocketTimeoutException: Read timed out|Read timed out\. \(read timeout=[\d.]{1,8}\)|"
         r"ReadTimeoutError|ReadTimeout\b|ESOCKETTIMEDOUT", 0.72,
         also=((Code.REGISTRY_SERVER_ERROR, 0.35), (Code.NET_MTU, 0.3)),
         distinguish=("curl -sv -o /dev/null -w '%{{time_starttransfer}} %{{size_download}}\\n' "
                      "https://{host}/v2/   # slow to first byte: the registry; stalls mid-blob: "
                      "the path (MTU, a proxy)",)),
    # the connection closed under the transfer: strerror(ECONNRESET) capitalised (curl (56)
    # "Recv failure: Connection reset by peer", Python ConnectionResetError(104, ...)), Java
    # "SocketException: Connection reset", Node ECONNRESET / "socket hang up", urllib3
    # "Connection aborted." / RemoteDisconnected / IncompleteRead, curl (18) and (92)
    rule("stack_reset", Code.NET_RESET,
         r"Connection reset by peer|SocketException: Connection reset|ConnectionResetError|"
         r"\bECONNRESET\b|socket hang up|RemoteDisconnected|IncompleteRead\(|"
         r"'Connection aborted\.'|curl: \(18\)[^\n]{0,120}|curl: \(92\)[^\n]{0,120}|"
         r"transfer closed with \d{1,15} bytes remaining", 0.72,
         also=((Code.PROXY_ERROR, 0.35), (Code.NET_MTU, 0.3)),
         distinguish=("curl -sv -o /dev/null https://{host}/v2/   # reset here too: a middlebox or "
                      "the registry's front cuts it; only on large blobs: MTU",),
         unless=_DAEMON_SOCKET,
         needles=("Connection reset", "ConnectionReset", "ECONNRESET", "socket hang up",
                  "RemoteDisconnected", "IncompleteRead", "Connection aborted", "curl: (18)",
                  "curl: (92)", "transfer closed")),
    # --- TLS -------------------------------------------------------------------------------------
    # the chain is not trusted: Java PKIX / SunCertPathBuilderException, Python ssl "certificate
    # verify failed: self-signed certificate (in certificate chain)|unable to get local issuer
    # certificate", Node SELF_SIGNED_CERT_IN_CHAIN / DEPTH_ZERO_SELF_SIGNED_CERT / UNABLE_TO_VERIFY_
    # LEAF_SIGNATURE, curl (60) "SSL certificate problem: self-signed certificate"
    rule("stack_untrusted_ca", Code.TLS_UNKNOWN_AUTHORITY,
         r"PKIX path building failed|unable to find valid certification path to requested target|"
         r"SunCertPathBuilderException|certificate verify failed: (?:self[- ]signed certificate|"
         r"unable to get (?:local )?issuer certificate)|SELF_SIGNED_CERT_IN_CHAIN|"
         r"DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|"
         r"\bself[- ]signed certificate(?: in certificate chain)?\b|"
         r"SSL certificate problem: [^\n]{0,80}", 0.85,
         also=((Code.PROXY_ERROR, 0.4),), distinguish=_CA),
    # the certificate's dates: Java CertificateExpiredException / "validity check failed", Python
    # and curl "certificate has expired", Node CERT_HAS_EXPIRED / CERT_NOT_YET_VALID
    rule("stack_cert_expired", Code.TLS_EXPIRED,
         r"CertificateExpiredException|CertificateNotYetValidException|validity check failed|"
         r"CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|(?<!x509: )certificate has expired|"
         r"certificate is not yet valid", 0.86,
         distinguish=("timedatectl; echo | openssl s_client -connect {host}:443 -servername {host} "
                      "2>/dev/null | openssl x509 -noout -dates   # a wrong clock, or an expired "
                      "certificate",)),
    # the name: Java SSLPeerUnverifiedException "Certificate for <h> doesn't match any of the subject
    # alternative names" / "No subject alternative DNS name matching", Python "Hostname mismatch,
    # certificate is not valid for", Node ERR_TLS_CERT_ALTNAME_INVALID, curl (60) "no alternative
    # certificate subject name matches target host name"
    rule("stack_hostname_mismatch", Code.TLS_HOSTNAME_MISMATCH,
         r"doesn't match any of the subject alternative names|No subject alternative (?:DNS )?names? "
         r"match|Hostname mismatch, certificate is not valid for|ERR_TLS_CERT_ALTNAME_INVALID|"
         r"does not match certificate's altnames|no alternative certificate subject name matches|"
         r"SSL: certificate subject name [^\n]{0,120} does not match target host", 0.88,
         distinguish=("echo | openssl s_client -connect {host}:443 -servername {host} 2>/dev/null | "
                      "openssl x509 -noout -ext subjectAltName   # the names the certificate is "
                      "for",)),
    # TLS spoken to a plain-HTTP port: OpenSSL "wrong version number" / "packet length too long"
    # (Python [SSL: WRONG_VERSION_NUMBER], curl (35), Node EPROTO), Java "Unsupported or
    # unrecognized SSL message" / "plaintext connection?"
    rule("stack_plain_http", Code.TLS_HTTP_RESPONSE_TO_HTTPS,
         r"WRONG_VERSION_NUMBER|wrong version number|packet length too long|"
         r"Unsupported or unrecognized SSL message|plaintext connection\?", 0.75,
         also=((Code.PROXY_ERROR, 0.4),),
         distinguish=("curl -sv http://{host}/v2/   # answers over plain HTTP: the registry has no "
                      "TLS there (configure it as insecure/http), or a proxy answers in clear",)),
    # the peer closed or refused the handshake: Java "Remote host terminated the handshake" /
    # "Remote host closed connection during handshake", OpenSSL SSL_ERROR_SYSCALL (curl (35))
    rule("stack_handshake_closed", Code.PROXY_ERROR,
         r"Remote host (?:terminated the handshake|closed connection during handshake)|"
         r"SSL_ERROR_SYSCALL[^\n]{0,120}|SSLEOFError|EOF occurred in violation of protocol", 0.45,
         also=((Code.NET_RESET, 0.4), (Code.REGISTRY_SERVER_ERROR, 0.3)),
         distinguish=("openssl s_client -connect {host}:443 -servername {host} </dev/null   # closed "
                      "here too: a middlebox (proxy, SNI filter) ends the handshake",)),
)
