"""The proxy route against a real upstream on 127.0.0.1: the real binary, its real HTTP client and outbound policy."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import api_session, assert_absent, error_of, mint_admin_key

TOKEN = "proxy-e2e-secret-token"


class Upstream:
    """A small provider API: remembers every request, answers by path."""

    def __init__(self):
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                if self.path.startswith("/v1/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "http://evil.example/collect")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path.startswith("/v1/big"):
                    payload = b"x" * (2 * 1024 * 1024)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                payload = json.dumps({"path": self.path, "body": body.decode()}).encode()
                self.send_response(201 if self.command == "POST" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Set-Cookie", "provider_session=1")
                self.send_header("X-RateLimit-Remaining", "41")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    with Upstream() as up:
        yield up


def test_proxy_relays_to_a_local_upstream_and_keeps_it_to_the_api(database, tmp_path, servers, upstream):
    workdir = tmp_path / "proxy"
    workdir.mkdir()
    server = servers(workdir, args=[*database.cli_args, "--allow-private-network"], env=database.server_env()).start_and_wait()
    key = mint_admin_key(database, workdir)
    api = api_session(key)
    origin = f"http://127.0.0.1:{upstream.port}"
    r = api.post(
        server.base_url + "/api/v1/integrations",
        json={
            "provider": "oauth2",
            "key": "local-api",
            "clientId": "c",
            "clientSecret": "s",
            "scopes": ["read"],
            "settings": {"authorizationURL": origin + "/authorize", "tokenURL": origin + "/token", "apiBaseURL": origin + "/v1"},
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text[:400]
    r = api.post(
        server.base_url + "/api/v1/credentials",
        json={"integration": "local-api", "type": "oauth2", "accessToken": TOKEN, "externalUserId": "alice", "expiresAt": "2099-01-01T00:00:00Z"},
        timeout=30,
    )
    assert r.status_code == 201, r.text[:400]
    proxy = server.base_url + "/api/v1/proxy/local-api/"
    as_alice = {"Latchkey-End-User": "alice"}

    # A call with its query and body, the token injected, headers filtered both ways.
    r = api.post(proxy + "items?x=1&y=a%20b", data=b'{"n":1}', timeout=30,
                 headers={**as_alice, "Content-Type": "application/json", "Cookie": "console=1", "X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 201, r.text[:400]
    assert r.json() == {"path": "/v1/items?x=1&y=a%20b", "body": '{"n":1}'}
    assert r.headers.get("X-RateLimit-Remaining") == "41"
    assert "Set-Cookie" not in r.headers
    assert_absent(r.text, TOKEN, "the proxied answer")
    sent = upstream.requests[-1]
    assert sent["headers"].get("Authorization") == f"Bearer {TOKEN}"
    for dropped in ("Cookie", "X-Forwarded-For", "Latchkey-End-User"):
        assert dropped not in sent["headers"], f"{dropped} reached the provider"
    assert all(key not in value for value in sent["headers"].values()), "the caller's Latchkey key reached the provider"

    # Traversal and absolute URLs are refused before any connection.
    count = len(upstream.requests)
    for path in ("%2e%2e/admin", "a%2F..%2Fb", "http:%2F%2Fevil.example%2Fx", "a/%252e%252e/b"):
        r = api.get(proxy + path, headers=as_alice, timeout=30)
        assert r.status_code == 400, f"{path}: HTTP {r.status_code}"
        assert error_of(r)["code"] == "invalid_request"
    assert len(upstream.requests) == count

    # A redirect to another host is not followed; an answer over the limit is refused.
    r = api.get(proxy + "redirect", headers=as_alice, timeout=30, allow_redirects=False)
    assert r.status_code == 502 and error_of(r)["code"] == "provider_unreachable", r.text[:300]
    r = api.get(proxy + "big", headers=as_alice, timeout=30)
    assert r.status_code == 502 and error_of(r)["code"] == "provider_unreachable", r.text[:300]

    assert_absent(server.stdout_text + server.stderr_text, TOKEN, "the server's output")
