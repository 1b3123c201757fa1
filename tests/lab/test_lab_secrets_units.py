"""Pure pieces behind the secrets tests (no lab, no root): proxy userinfo, the audit log line.

* :func:`pulldoctor.probes.http.proxy_credentials` splits ``HTTPS_PROXY`` userinfo off the way Go
  does (percent-decoded), so the walk authenticates to a proxy like the runtimes do, and registers
  the password with redaction at once;
* the lab servers' ``--log-header-names`` line carries header *names* and the Authorization
  *scheme*, never a credential (it is what the lab tests read to prove where credentials went).
"""

from __future__ import annotations

import base64
import io
import threading
from http.client import HTTPConnection

import pytest

from pulldoctor.probes.http import basic_authorization, proxy_credentials
from pulldoctor.redact import redact


@pytest.mark.parametrize("url,bare,cred", [
    ("http://proxy.corp:3128", "http://proxy.corp:3128", None),
    ("http://u1:pw-one-1@proxy.corp:3128", "http://proxy.corp:3128", ("u1", "pw-one-1")),
    ("http://dom%5Cuser:p%40ss%3Aw0rd@10.0.0.1:8080/", "http://10.0.0.1:8080/",
     ("dom\\user", "p@ss:w0rd")),
    ("http://onlyuser@proxy.corp", "http://proxy.corp", ("onlyuser", "")),
])
def test_proxy_credentials_split_like_go(url: str, bare: str,
                                          cred: tuple[str, str] | None) -> None:
    assert proxy_credentials(url) == (bare, cred)


def test_proxy_password_is_redacted_once_seen() -> None:
    _bare, cred = proxy_credentials("http://px-user:Zq7-unusual-Pw@proxy.corp:3128")
    assert cred is not None
    header = basic_authorization(*cred)
    assert header == "Basic " + base64.b64encode(b"px-user:Zq7-unusual-Pw").decode()
    leaked = f"password Zq7-unusual-Pw and blob {header.split()[1]}"
    assert "Zq7-unusual-Pw" not in redact(leaked)
    assert header.split()[1] not in redact(leaked)


def test_audit_log_line_has_header_names_and_scheme_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulldoctor.lab.services.httpbase import LabHTTPServer, QuietHandler

    class Handler(QuietHandler):
        log_header_names = True

        def do_GET(self) -> None:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    server = LabHTTPServer("127.0.0.1", 0, Handler)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        conn = HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        secret = base64.b64encode(b"someone:very-secret-9").decode()
        conn.request("GET", "/token?account=someone&x=1",
                     headers={"Authorization": f"Basic {secret}", "X-Custom": "value-1"})
        assert conn.getresponse().status == 204
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
        t.join(timeout=10)
    line = err.getvalue().strip()
    assert line.endswith("GET /token 204 headers=accept-encoding,authorization,host,x-custom "
                         "authz=Basic"), line
    assert secret not in line and "value-1" not in line and "someone" not in line
