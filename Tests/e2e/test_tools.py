"""Tools through the real binary: `POST /api/v1/tools/invoke` calls a catalog tool (the sandbox provider's, pointed
at a small stdlib upstream on 127.0.0.1) with the real HTTP client and outbound policy."""

from __future__ import annotations

import pytest

from conftest import api_session, assert_absent, error_of, mint_admin_key
from upstreams import SandboxAPI

TOKEN = "tools-e2e-secret-token"


@pytest.fixture
def sandbox_api():
    with SandboxAPI() as api:
        yield api


def test_a_tool_is_invoked_as_the_user_with_its_errors(database, tmp_path, servers, sandbox_api):
    workdir = tmp_path / "tools"
    workdir.mkdir()
    server = servers(workdir, args=[*database.cli_args, "--allow-private-network"], env=database.server_env()).start_and_wait()
    key = mint_admin_key(database, workdir)
    api = api_session(key)
    origin = f"http://127.0.0.1:{sandbox_api.port}"
    r = api.post(
        server.base_url + "/api/v1/integrations",
        json={
            "provider": "sandbox",
            "clientId": "c",
            "clientSecret": "s",
            "settings": {"authorizationURL": origin + "/authorize", "tokenURL": origin + "/token", "apiBaseURL": origin + "/api"},
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text[:400]
    for user, scopes in (("alice", ["profile", "items.read"]), ("bob", ["profile"])):
        r = api.post(
            server.base_url + "/api/v1/credentials",
            json={"integration": "sandbox", "type": "oauth2", "accessToken": TOKEN, "externalUserId": user, "scopes": scopes,
                  "expiresAt": "2099-01-01T00:00:00Z"},
            timeout=30,
        )
        assert r.status_code == 201, r.text[:400]
    invoke = server.base_url + "/api/v1/tools/invoke"

    r = api.post(invoke, json={"tool": "sandbox.list_items", "externalUserId": "alice"}, timeout=30)
    assert r.status_code == 200, r.text[:400]
    answer = r.json()
    assert answer["result"] == {"items": [{"id": 1, "title": "Buy milk", "done": False}]}
    assert answer["meta"]["status"] == 200 and isinstance(answer["meta"]["durationMs"], int) and answer["meta"]["credentialId"]
    assert sandbox_api.requests[-1]["headers"].get("Authorization") == f"Bearer {TOKEN}"
    assert_absent(r.text, TOKEN, "the tool's answer")

    # The input is checked field by field before anything is sent.
    count = len(sandbox_api.requests)
    r = api.post(invoke, json={"tool": "sandbox.list_items", "input": {"colour": "red"}, "externalUserId": "alice"}, timeout=30)
    assert r.status_code == 400, r.text[:400]
    assert [field["path"] for field in error_of(r)["fields"]] == ["input.colour"]

    # bob did not grant items.read: refused before the call, with a reconnect URL that asks for it.
    r = api.post(invoke, json={"tool": "sandbox.list_items", "externalUserId": "bob"}, timeout=30)
    assert r.status_code == 403, r.text[:400]
    error = error_of(r)
    assert error["code"] == "insufficient_scope" and "items.read" in error["message"]
    assert error["action"]["url"].startswith("http") and error["action"]["url"].endswith("scopes=items.read")
    assert len(sandbox_api.requests) == count

    # A failing provider is a transient error.
    r = api.post(invoke, json={"tool": "sandbox.get_profile", "externalUserId": "alice"}, timeout=30)
    assert r.status_code == 502, r.text[:400]
    assert error_of(r)["code"] == "provider_unreachable" and error_of(r)["retryAfter"] > 0

    r = api.get(server.base_url + "/api/v1/requests?kind=tool", timeout=30)
    assert r.status_code == 200, r.text[:400]
    logged = r.json()["items"]
    assert sorted(entry["tool"] for entry in logged if "tool" in entry) == ["sandbox.get_profile", "sandbox.list_items", "sandbox.list_items", "sandbox.list_items"]
    assert_absent(server.stdout_text + server.stderr_text, TOKEN, "the server's output")
