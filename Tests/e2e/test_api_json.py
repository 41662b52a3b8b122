"""The API's JSON is stable: every object's keys come back in sorted order, at every depth, so the same answer always
reads the same and responses diff cleanly."""

from __future__ import annotations

import json

from conftest import api_session, mint_admin_key


def sorted_everywhere(text: str, what: str) -> None:
    """Fails unless every object in `text` lists its keys in sorted order."""

    def check(pairs):
        keys = [key for key, _ in pairs]
        assert keys == sorted(keys), f"{what}: keys {keys} are not in sorted order"
        return dict(pairs)

    json.loads(text, object_pairs_hook=check)


def test_every_response_lists_its_keys_in_sorted_order(sqlite_database, tmp_path, servers):
    workdir = tmp_path / "json"
    workdir.mkdir()
    server = servers(workdir, args=sqlite_database.cli_args, env=sqlite_database.server_env()).start_and_wait()
    api = api_session(mint_admin_key(sqlite_database, workdir))
    base = server.base_url + "/api/v1"

    answers = []
    r = api.post(base + "/integrations", json={"provider": "github", "clientId": "id", "clientSecret": "secret"}, timeout=30)
    assert r.status_code == 201, r.text[:300]
    answers.append(("POST /integrations", r))
    r = api.post(base + "/credentials", json={"integration": "github", "type": "oauth2", "accessToken": "t0ken-value", "externalUserId": "ada",
                                              "scopes": ["repo"], "expiresAt": "2099-01-01T00:00:00Z"}, timeout=30)
    assert r.status_code == 201, r.text[:300]
    credential = r.json()["id"]
    answers.append(("POST /credentials", r))
    for path in ("/integrations", "/integrations/github", "/credentials", f"/credentials/{credential}", "/connections", "/providers", "/tools",
                 "/audit", "/requests"):
        answers.append((f"GET {path}", api.get(base + path, timeout=30)))
    token = api.post(base + "/credentials/token", json={"integration": "github", "externalUserId": "ada"}, timeout=30)
    answers.append(("POST /credentials/token", token))
    answers.append(("an error", api.post(base + "/credentials/token", json={"integration": "github", "externalUserId": "nobody"}, timeout=30)))
    answers.append(("a validation error", api.post(base + "/credentials", json={"integration": 3}, timeout=30)))

    for what, response in answers:
        assert response.headers.get("Content-Type", "").startswith("application/json"), what
        sorted_everywhere(response.text, what)

    # The same question, the same bytes.
    again = api.get(f"{base}/credentials/{credential}", timeout=30)
    assert again.text == api.get(f"{base}/credentials/{credential}", timeout=30).text
    assert token.json()["accessToken"] == "t0ken-value"
