"""An MCP client uses a person's connected service through Latchkey, end to end, with the official MCP Python SDK
(PyPI `mcp`): discovery from the 401, registration (DCR, or a Client ID Metadata Document), PKCE, sign-in and
consent, token, `tools/list`, `tools/call` of a sandbox tool, refresh, revocation, sign-out cutting it off, and a
restart that keeps the client registered. In the handshake era (`initialize`, 2025-11-25 and earlier) and in the
2026-07-28 one (no handshake, no session)."""

from __future__ import annotations

import json

import anyio
import pytest
import requests

from conftest import api_session, assert_absent, complete_setup
from mcp_flow import MemoryStorage, Person, oauth_provider, text_of, tool_named, with_client
from upstreams import LocalAPI, SandboxAPI, send_json
from webtools import free_port

TOKEN = "mcp-e2e-provider-token"
EMAIL = "admin@example.com"
PASSWORD = "correct horse battery staple"
MODES = ["legacy", "2026-07-28"]


class RedirectTarget(LocalAPI):
    """The client's redirect URI on another origin: it only has to exist."""

    def __init__(self):
        super().__init__(lambda handler: send_json(handler, 200, {"ok": True}))
        self.redirect_uri = f"{self.origin}/callback"


def connected_server(servers, database, workdir, sandbox, port: int | None = None):
    """A server with the sandbox integration and the administrator's connected sandbox account."""
    # A fixed port: the public URL (the issuer, the /mcp resource) names it.
    args = [*database.cli_args, "--allow-private-network", "--port", str(port or free_port())]
    server = servers(workdir, args=args, env=database.server_env()).start_and_wait()
    key = complete_setup(server, email=EMAIL, password=PASSWORD)
    api = api_session(key)
    r = api.post(
        server.base_url + "/api/v1/integrations",
        json={
            "provider": "sandbox",
            "clientId": "c",
            "clientSecret": "s",
            "settings": {"authorizationURL": sandbox.origin + "/authorize", "tokenURL": sandbox.origin + "/token", "apiBaseURL": sandbox.origin + "/api"},
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text[:400]
    # The person's console end user is named by their User id (the setup's audit event names it).
    setup = api.get(server.base_url + "/api/v1/audit", params={"action": "admin.setup"}, timeout=30).json()["items"]
    person = setup[0]["target"]
    r = api.post(
        server.base_url + "/api/v1/credentials",
        json={"integration": "sandbox", "type": "oauth2", "accessToken": TOKEN, "externalUserId": person, "scopes": ["profile", "items.read"],
              "expiresAt": "2099-01-01T00:00:00Z"},
        timeout=30,
    )
    assert r.status_code == 201, r.text[:400]
    return server, key


def post_mcp(url: str, token: str, version: str = "2026-07-28") -> requests.Response:
    """A bare `tools/list` with `token` (stateless 2026-07-28: no session needed), as a client that kept it sends it."""
    return requests.post(
        url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                 "MCP-Protocol-Version": version, "Mcp-Method": "tools/list"},
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": version, "io.modelcontextprotocol/clientCapabilities": {}}}}),
        timeout=30,
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_client_lists_and_calls_a_tool_as_the_person(mode, database, tmp_path, servers):
    with SandboxAPI() as sandbox, RedirectTarget() as target:
        server, _ = connected_server(servers, database, tmp_path / "mcp", sandbox)
        mcp_url = server.base_url + "/mcp"
        person = Person(server.base_url, EMAIL, PASSWORD, label="person")
        storage = MemoryStorage()
        provider = oauth_provider(mcp_url, person, storage, target.redirect_uri)

        async def use(client):
            tools = (await client.list_tools()).tools
            listed = tool_named(tools, "list_items")
            result = await client.call_tool(listed.name, {})
            return tools, result

        tools, result = anyio.run(with_client, mcp_url, provider, mode, use)
        assert not result.is_error, text_of(result)
        assert "Buy milk" in text_of(result)
        # The provider saw the person's own token, never the client's.
        assert sandbox.requests[-1]["headers"].get("Authorization") == f"Bearer {TOKEN}"
        assert storage.tokens is not None and storage.tokens.access_token.startswith("lk_at_")
        assert all(storage.tokens.access_token not in str(r["headers"]) for r in sandbox.requests)
        # The redirect back carried state and iss; the consent page named the client and the service.
        back = person.redirects[-1]
        assert back.url.startswith(target.redirect_uri + "?") and back.query.get("iss") and back.query.get("state")
        assert "SDK test client" in person.consent_pages[-1].text
        assert_absent("\n".join(server.stdout_lines + server.stderr_lines), storage.tokens.access_token, "the server's output")

        # Refresh: the SDK refreshes an expired token by itself; the old refresh token is then spent.
        first = storage.tokens
        provider.context.token_expiry_time = 1.0  # long past (0 would mean "no expiry")
        tools_again = anyio.run(with_client, mcp_url, provider, mode, lambda client: client.list_tools())
        assert [t.name for t in tools_again.tools] == [t.name for t in tools]
        assert storage.tokens.access_token != first.access_token and storage.tokens.refresh_token != first.refresh_token
        assert len(person.redirects) == 1, "a refresh must not send the person through consent again"
        r = requests.post(server.base_url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": first.refresh_token,
                                                                  "client_id": storage.client_info.client_id}, timeout=30)
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text[:300]
        # Reusing it revoked the whole family: the current access token no longer works.
        assert post_mcp(mcp_url, storage.tokens.access_token).status_code == 401


def test_revocation_and_sign_out_cut_the_client_off(sqlite_database, tmp_path, servers):
    with SandboxAPI() as sandbox, RedirectTarget() as target:
        server, _ = connected_server(servers, sqlite_database, tmp_path / "mcp", sandbox)
        mcp_url = server.base_url + "/mcp"
        person = Person(server.base_url, EMAIL, PASSWORD)
        storage = MemoryStorage()
        provider = oauth_provider(mcp_url, person, storage, target.redirect_uri)
        anyio.run(with_client, mcp_url, provider, "legacy", lambda client: client.list_tools())
        token = storage.tokens.access_token
        r = post_mcp(mcp_url, token)
        assert r.status_code == 200, r.text[:300]

        r = requests.post(server.base_url + "/oauth/revoke", data={"token": token, "client_id": storage.client_info.client_id}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        r = post_mcp(mcp_url, token)
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")

        # A new grant, then the person signs out of the console: every MCP grant of theirs ends with it.
        storage.tokens = None
        anyio.run(with_client, mcp_url, provider, "legacy", lambda client: client.list_tools())
        token = storage.tokens.access_token
        assert post_mcp(mcp_url, token).status_code == 200
        r = person.web.sign_out()
        assert r.status_code in (200, 303), r.status_code
        assert post_mcp(mcp_url, token).status_code == 401


def test_a_restart_keeps_the_client_registered(sqlite_database, tmp_path, servers):
    with SandboxAPI() as sandbox, RedirectTarget() as target:
        port = free_port()
        workdir = tmp_path / "mcp"
        server, _ = connected_server(servers, sqlite_database, workdir, sandbox, port=port)
        mcp_url = server.base_url + "/mcp"
        storage = MemoryStorage()
        provider = oauth_provider(mcp_url, Person(server.base_url, EMAIL, PASSWORD), storage, target.redirect_uri)
        anyio.run(with_client, mcp_url, provider, "legacy", lambda client: client.list_tools())
        registered = storage.client_info.client_id
        server.stop()

        again = servers(workdir, args=[*sqlite_database.cli_args, "--allow-private-network", "--port", str(port)], env=sqlite_database.server_env())
        again.start_and_wait()
        # The same client, a new person session: authorization works with the stored registration.
        storage.tokens = None
        person = Person(again.base_url, EMAIL, PASSWORD, label="after restart")
        provider = oauth_provider(mcp_url, person, storage, target.redirect_uri)
        tools = anyio.run(with_client, mcp_url, provider, "legacy", lambda client: client.list_tools())
        assert storage.client_info.client_id == registered
        assert tool_named(tools.tools, "list_items")
        assert len(person.redirects) == 1 and "code" in person.redirects[-1].query


class MetadataDocument(LocalAPI):
    """A client's Client ID Metadata Document on another local origin, served over plain http (the loopback test mode:
    with `--allow-private-network` the server reads `http://127.0.0.1…` documents; in production only https ones)."""

    def __init__(self, redirect_uri: str):
        self.fetches = 0
        super().__init__(self._answer)
        self.url = f"{self.origin}/oauth/client.json"
        self.redirect_uri = redirect_uri

    def _answer(self, handler):
        if handler.path != "/oauth/client.json":
            send_json(handler, 404, {})
            return
        self.fetches += 1
        send_json(handler, 200, {
            "client_id": self.url,
            "client_name": "Metadata document client",
            "redirect_uris": [self.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            # ChatGPT's shape: private_key_jwt offered beside none is used as none.
            "token_endpoint_auth_method": "none",
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
        })


def test_a_client_identified_by_its_metadata_document(sqlite_database, tmp_path, servers):
    with SandboxAPI() as sandbox, RedirectTarget() as target:
        with MetadataDocument(target.redirect_uri) as document:
            server, _ = connected_server(servers, sqlite_database, tmp_path / "mcp", sandbox)
            mcp_url = server.base_url + "/mcp"
            person = Person(server.base_url, EMAIL, PASSWORD)
            storage = MemoryStorage()
            provider = oauth_provider(mcp_url, person, storage, target.redirect_uri)
            # The SDK accepts only https document URLs; the server's loopback test mode reads this one over http.
            provider.context.client_metadata_url = document.url

            tools = anyio.run(with_client, mcp_url, provider, "legacy", lambda client: client.list_tools())
            assert tool_named(tools.tools, "list_items")
            assert storage.client_info.client_id == document.url, "the client used its document URL, not a registration"
            assert document.fetches >= 1
            assert "Metadata document client" in person.consent_pages[-1].text
            r = requests.post(server.base_url + "/oauth/register", json={"redirect_uris": [target.redirect_uri]}, timeout=30)
            assert r.status_code == 201  # registration still works beside it
