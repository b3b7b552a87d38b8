"""The HTTP client: the edge secret on every request (and off when a check asks), never in
any text; TLS verified unless --insecure."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from lgtm_smoke.http import EDGE_HEADER, Client, Unreachable, recording_session
from lgtm_smoke.settings import Secret, parse_alb

SECRET = "edge-unit-7c1d"


@pytest.fixture
def echo():
    """A server that answers every request with the edge header it received."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(dict(self.headers))
            body = f"got {self.headers.get(EDGE_HEADER)}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_edge_secret_goes_on_every_request_and_off_on_request(echo):
    url, seen = echo
    client = Client(parse_alb(url), "t", edge_secret=Secret(SECRET))
    ex = client.get("/x")
    assert seen[-1][EDGE_HEADER] == SECRET and seen[-1]["X-Scope-OrgID"] == "t"
    assert SECRET not in ex.preview() and SECRET not in ex.summary()  # a backend echoing it back
    client.get("/x", edge_auth=False, tenant=None)
    assert EDGE_HEADER not in seen[-1] and "X-Scope-OrgID" not in seen[-1]


def test_the_otel_exporter_session_sends_it_too(echo):
    url, seen = echo
    client = Client(parse_alb(url), "t", edge_secret=Secret(SECRET))
    recording_session(client, "/v1/traces", "t").post(url + "/v1/traces", data=b"x")
    assert seen[-1][EDGE_HEADER] == SECRET


def test_tls_is_verified_by_default_and_untrusted_is_one_line(tmp_path):
    import ssl
    import subprocess

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)

    class Quiet(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        alb = parse_alb(f"https://127.0.0.1:{server.server_address[1]}")
        with pytest.raises(Unreachable) as e:
            Client(alb, "t").get("/")
        assert e.value.kind == "tls" and "--ca-bundle" in str(e.value) and "\n" not in str(e.value)
        assert Client(alb, "t", verify=False).get("/").status == 204
    finally:
        server.shutdown()


def test_client_reads_the_environment_once_not_per_request(monkeypatch):
    """Proxies come from the environment when the client is made; after that no request reads
    os.environ (requests would, from the probe threads, while pytest rewrites
    PYTEST_CURRENT_TEST: a KeyError in the middle of a run)."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    client = Client(parse_alb("https://alb.example"), "t1")
    assert client.session.proxies.get("https") == "http://proxy.example:3128"
    assert client.session.trust_env is False
    session = recording_session(client, "/v1/traces", "t1")
    assert session.trust_env is False and session.proxies == client.session.proxies


def test_the_exporter_session_keeps_the_suites_tls_setting(monkeypatch):
    """OTLP exporters before 1.45 post with their own verify=True on every call; the session's
    --ca-bundle / --insecure must win, or the Tempo push fails TLS (found by bash .ci/run lowest)."""
    client = Client(parse_alb("https://alb.example"), "t1", verify="/etc/stack-ca.pem")
    session = recording_session(client, "/v1/traces", "t1")
    sent: dict = {}

    def fake_request(self, method, url, *args, **kwargs):
        sent.update(kwargs)
        raise requests.ConnectionError("not sent")

    monkeypatch.setattr(requests.Session, "request", fake_request)
    with pytest.raises(requests.ConnectionError):
        session.post("https://alb.example/v1/traces", data=b"x", verify=True)  # as the exporter posts
    assert sent["verify"] == "/etc/stack-ca.pem"
