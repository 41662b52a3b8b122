"""The proxy route against a real upstream on 127.0.0.1: the real binary, its real HTTP client and outbound policy."""

from __future__ import annotations

import hashlib

import pytest

from conftest import api_session, assert_absent, error_of, mint_admin_key
from upstreams import LocalAPI, read_body, send, send_json

TOKEN = "proxy-e2e-secret-token"
PIECE = 64 * 1024


def pieces(size: int):
    """`size` bytes of a body in 64 KiB pieces, each different (a lost, repeated or reordered piece changes the hash)."""
    index = 0
    while size > 0:
        piece = (hashlib.sha256(str(index).encode()).digest() * (PIECE // 32))[:size]
        yield piece
        size -= len(piece)
        index += 1


def digest(size: int) -> str:
    h = hashlib.sha256()
    for piece in pieces(size):
        h.update(piece)
    return h.hexdigest()


class Upstream(LocalAPI):
    """A small provider API: remembers every request, answers by path."""

    def __init__(self):
        self.requests: list[dict] = []
        super().__init__(self._answer)

    def _answer(self, handler):
        body = read_body(handler)
        path = handler.path
        self.requests.append({"method": handler.command, "path": path, "headers": dict(handler.headers),
                              "body": body if len(body) <= PIECE else b""})
        if path.startswith("/v1/stream/"):
            size = int(path.rsplit("/", 1)[1])
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(size))
            handler.end_headers()
            for piece in pieces(size):
                handler.wfile.write(piece)
        elif path.startswith("/v1/upload"):
            send_json(handler, 200, {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                                     "chunked": "Transfer-Encoding" in handler.headers})
        elif path.startswith("/v1/redirect"):
            send(handler, 302, b"", {"Location": "http://evil.example/collect"})
        elif path.startswith("/v1/big"):
            send(handler, 200, b"x" * (2 * 1024 * 1024))
        else:
            send_json(handler, 201 if handler.command == "POST" else 200, {"path": path, "body": body.decode()},
                      {"Set-Cookie": "provider_session=1", "X-RateLimit-Remaining": "41"})


@pytest.fixture
def upstream():
    with Upstream() as up:
        yield up


def setup_local_api(api, server, upstream):
    """The integration `local-api` (its API base is the upstream's /v1) and alice's credential for it."""
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


def test_proxy_relays_to_a_local_upstream_and_keeps_it_to_the_api(database, tmp_path, servers, upstream):
    workdir = tmp_path / "proxy"
    workdir.mkdir()
    # Small proxy limits (1 MiB each way), so that both can be crossed here.
    env = database.server_env(LATCHKEY_PROXY_MAX_DOWNLOAD_MB="1", LATCHKEY_PROXY_MAX_UPLOAD_MB="1")
    server = servers(workdir, args=[*database.cli_args, "--allow-private-network"], env=env).start_and_wait()
    key = mint_admin_key(database, workdir)
    api = api_session(key)
    setup_local_api(api, server, upstream)
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

    # An upload over the limit: refused by its announced length before any connection, and a streamed one (chunked,
    # no length) cut off at the limit, with 413 either way.
    count = len(upstream.requests)
    r = api.post(proxy + "upload", data=b"u" * (2 * 1024 * 1024), headers=as_alice, timeout=30)
    assert r.status_code == 413 and error_of(r)["code"] == "payload_too_large", r.text[:300]
    assert len(upstream.requests) == count
    r = api.post(proxy + "upload", data=pieces(1024 * 1024 + PIECE), headers=as_alice, timeout=30)
    assert r.status_code == 413 and error_of(r)["code"] == "payload_too_large", r.text[:300]
    assert len(upstream.requests) == count, "a cut-off upload reached the provider's handler"

    assert_absent(server.stdout_text + server.stderr_text, TOKEN, "the server's output")


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/PID/status")


def test_proxy_streams_fifty_megabytes_down_and_several_up_without_holding_them(database, tmp_path, servers, upstream):
    workdir = tmp_path / "proxy-stream"
    workdir.mkdir()
    server = servers(workdir, args=[*database.cli_args, "--allow-private-network"], env=database.server_env()).start_and_wait()
    key = mint_admin_key(database, workdir)
    api = api_session(key)
    setup_local_api(api, server, upstream)
    proxy = server.base_url + "/api/v1/proxy/local-api/"
    as_alice = {"Latchkey-End-User": "alice"}

    # Warm up (connections, caches), then take the server's peak resident size so far.
    r = api.get(proxy + f"stream/{1024 * 1024}", headers=as_alice, timeout=60)
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == digest(1024 * 1024)
    before = peak_rss_kib(server.proc.pid)

    # 50 MB down, read in pieces here too: every byte arrives, in order.
    size = 50 * 1024 * 1024
    h = hashlib.sha256()
    received = 0
    with api.get(proxy + f"stream/{size}", headers=as_alice, timeout=120, stream=True) as r:
        assert r.status_code == 200, r.text[:300]
        assert r.headers.get("Content-Length") == str(size)
        for chunk in r.iter_content(PIECE):
            h.update(chunk)
            received += len(chunk)
    assert received == size
    assert h.hexdigest() == digest(size)
    grown = (peak_rss_kib(server.proc.pid) - before) / 1024
    # A relay that held the answer would grow by at least its 50 MB.
    assert grown < 20, f"the server's peak resident size grew by {grown:.1f} MB while relaying 50 MB"

    # Several MB up, streamed (chunked, no length) and with its length: the provider reads every byte.
    for data, chunked in ((pieces(6 * 1024 * 1024), True), (b"".join(pieces(6 * 1024 * 1024)), False)):
        r = api.post(proxy + "upload", data=data, headers=as_alice, timeout=60)
        assert r.status_code == 200, r.text[:300]
        assert r.json() == {"bytes": 6 * 1024 * 1024, "sha256": digest(6 * 1024 * 1024), "chunked": chunked}
    assert_absent(server.stdout_text + server.stderr_text, TOKEN, "the server's output")
