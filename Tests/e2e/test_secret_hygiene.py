"""No secret leaks into logs, metrics, error bodies or audit exports.

Credentials are stored with unique canary strings, revealed, and sent again in
all kinds of broken requests while the server logs at trace level as JSON.
Afterwards none of the canaries, the admin API keys or the setup token may
appear anywhere except where they are meant to be shown (reveal responses,
the setup success page, the setup link line, `keys create-admin` stdout).
"""

from __future__ import annotations

import json
import secrets

import requests

from conftest import (
    SETUP_RE,
    api_session,
    assert_absent,
    assert_secret_equal,
    complete_setup,
    error_of,
    mint_admin_key,
    run_cli,
)


def _canary(kind: str) -> str:
    return f"CANARY-{kind}-{secrets.token_hex(8)}"


def test_no_secret_in_logs_metrics_errors_or_audit(tmp_path, servers, sqlite_database):
    db = sqlite_database
    env = db.server_env(LATCHKEY_LOG_LEVEL="trace")
    server = servers(tmp_path, args=[*db.cli_args, "--log-format", "json"], env=env).start_and_wait()
    setup_token = server.setup_token
    assert setup_token, "no setup link printed"

    c = {kind: _canary(kind) for kind in (
        "ACCESS", "REFRESH", "APIKEY", "PASSWORD", "PATCHED",
        "BADDATE", "BADSCOPES", "BADTYPE", "UNKNOWNKEY", "UNKNOWNVALUE", "MALFORMED",
        "OVERSIZE", "BEARER", "SETUPGUESS",
    )}
    # A wrong setup token is a guess at a secret: it must not be logged either.
    guess = requests.get(server.url(f"/setup?token={c['SETUPGUESS']}"), timeout=10)
    assert guess.status_code == 403

    setup_key = complete_setup(server)
    cli_key = mint_admin_key(db, tmp_path)
    needles = {**{f"canary {k}": v for k, v in c.items()}, "setup admin key": setup_key, "CLI admin key": cli_key, "setup token": setup_token}

    api = api_session(setup_key)
    other = api_session(cli_key)
    base = server.url("/api/v1/credentials")
    bodies: dict[str, str] = {}

    # ---- store and reveal
    oauth = api.post(base, json={"integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": c["ACCESS"], "refreshToken": c["REFRESH"], "scopes": ["repo"]}, timeout=10)
    key_cred = other.post(base, json={"integration": "openai", "externalUserId": "alice", "type": "api_key", "apiKey": c["APIKEY"]}, timeout=10)
    basic = api.post(base, json={"integration": "jira", "externalUserId": "alice", "type": "basic", "username": "alice", "password": c["PASSWORD"]}, timeout=10)
    for name, r in (("create oauth2", oauth), ("create api_key", key_cred), ("create basic", basic)):
        assert r.status_code == 201, f"{name} → {r.status_code}"
        bodies[name] = r.text
    oauth_id, key_id, basic_id = oauth.json()["id"], key_cred.json()["id"], basic.json()["id"]

    patched = api.patch(f"{base}/{oauth_id}", json={"accessToken": c["PATCHED"]}, timeout=10)
    assert patched.status_code == 200, f"PATCH accessToken → {patched.status_code}"
    bodies["patch"] = patched.text

    revealed = api.post(f"{base}/{oauth_id}/reveal", timeout=10).json()["secret"]
    assert_secret_equal(revealed.get("accessToken"), c["PATCHED"], "patched access token")
    assert_secret_equal(revealed.get("refreshToken"), c["REFRESH"], "refresh token")
    assert_secret_equal(other.post(f"{base}/{key_id}/reveal", timeout=10).json()["secret"].get("apiKey"), c["APIKEY"], "API key")
    assert_secret_equal(api.post(f"{base}/{basic_id}/reveal", timeout=10).json()["secret"].get("password"), c["PASSWORD"], "basic password")

    bodies["get"] = api.get(f"{base}/{oauth_id}", timeout=10).text
    bodies["list"] = api.get(base, timeout=10).text

    # ---- failing requests that carry canaries
    def expect_error(name: str, response: requests.Response, status: int) -> None:
        assert response.status_code == status, f"{name} → {response.status_code}, want {status}"
        error_of(response)
        bodies[name] = response.text

    good = {"integration": "github", "externalUserId": "bob", "type": "oauth2"}
    expect_error("bad expiresAt", api.post(base, json={**good, "accessToken": c["ACCESS"], "expiresAt": c["BADDATE"]}, timeout=10), 400)
    expect_error("bad scopes", api.post(base, json={**good, "accessToken": c["ACCESS"], "scopes": c["BADSCOPES"]}, timeout=10), 400)
    expect_error("bad type", api.post(base, json={**good, "type": c["BADTYPE"], "accessToken": c["ACCESS"]}, timeout=10), 400)
    expect_error("wrongly typed token", api.post(base, json={**good, "accessToken": [c["ACCESS"]], "refreshToken": {"v": c["REFRESH"]}}, timeout=10), 400)
    expect_error("unknown field", api.post(base, json={**good, "accessToken": c["ACCESS"], c["UNKNOWNKEY"]: c["UNKNOWNVALUE"]}, timeout=10), 400)
    expect_error("unknown field value", api.post(base, json={**good, "accessToken": c["ACCESS"], "note": c["UNKNOWNVALUE"]}, timeout=10), 400)
    expect_error(
        "malformed JSON",
        api.post(base, data='{"integration": "github", "type": "oauth2", "accessToken": "' + c["MALFORMED"] + '", ', headers={"Content-Type": "application/json"}, timeout=10),
        400,
    )
    expect_error(
        "malformed JSON 2",
        api.post(base, data='{"accessToken": ' + c["MALFORMED"] + "}", headers={"Content-Type": "application/json"}, timeout=10),
        400,
    )
    expect_error("patch unknown field", api.patch(f"{base}/{oauth_id}", json={c["UNKNOWNKEY"]: c["UNKNOWNVALUE"]}, timeout=10), 400)
    expect_error("patch bad value", api.patch(f"{base}/{oauth_id}", json={"accessToken": 42, "expiresAt": c["BADDATE"]}, timeout=10), 400)
    oversize = json.dumps({**good, "accessToken": c["OVERSIZE"], "label": "x" * (1024 * 1024 + 10)})
    expect_error("oversized body", api.post(base, data=oversize, headers={"Content-Type": "application/json"}, timeout=30), 413)
    expect_error("bad bearer", requests.get(base, headers={"Authorization": f"Bearer lk_live_{c['BEARER']}"}, timeout=10), 401)
    expect_error("bad bearer 2", requests.get(base, headers={"Authorization": f"Bearer {c['BEARER']}"}, timeout=10), 401)
    expect_error("unknown app key", requests.get(base, headers={"Authorization": f"Bearer lk_app_{c['BEARER']}"}, timeout=10), 401)

    # ---- metrics and audit
    metrics = requests.get(server.url("/metrics"), timeout=10)
    assert metrics.status_code == 200
    bodies["metrics"] = metrics.text

    audit_pages, cursor = [], None
    while True:
        r = api.get(server.url("/api/v1/audit"), params={"cursor": cursor} if cursor else None, timeout=10)
        assert r.status_code == 200
        audit_pages.append(r.text)
        cursor = r.json().get("nextCursor")
        if not cursor:
            break
        assert len(audit_pages) < 100
    bodies["audit list"] = "\n".join(audit_pages)

    jsonl = api.get(server.url("/api/v1/audit/export"), params={"format": "jsonl"}, timeout=30)
    assert jsonl.status_code == 200
    events = [json.loads(line) for line in jsonl.text.splitlines() if line.strip()]
    actions = {e.get("action") for e in events}
    assert {"credential.create", "credential.reveal"} <= actions, f"audit export lacks create/reveal events (has {sorted(a for a in actions if a)})"
    bodies["audit export jsonl (API)"] = jsonl.text
    csv_export = api.get(server.url("/api/v1/audit/export"), params={"format": "csv"}, timeout=30)
    assert csv_export.status_code == 200 and csv_export.text.count("\n") >= len(events)
    bodies["audit export csv (API)"] = csv_export.text

    cli_jsonl = run_cli(["audit", "export", "--format", "jsonl", *db.cli_args], tmp_path, db.env)
    assert cli_jsonl.stdout.strip(), "CLI jsonl export is empty"
    bodies["audit export jsonl (CLI)"] = cli_jsonl.stdout
    bodies["audit export jsonl (CLI stderr)"] = cli_jsonl.stderr
    out_file = tmp_path / "audit.csv"
    cli_csv = run_cli(["audit", "export", "--format", "csv", "--output", str(out_file), *db.cli_args], tmp_path, db.env)
    assert out_file.is_file() and out_file.stat().st_size > 0, "CLI csv export wrote nothing"
    bodies["audit export csv (CLI file)"] = out_file.read_text()
    bodies["audit export csv (CLI output)"] = cli_csv.stdout + cli_csv.stderr

    server.stop()

    # ---- server output
    stdout_lines = list(server.stdout_lines)
    setup_lines = [i for i, line in enumerate(stdout_lines) if SETUP_RE.search(line)]
    assert len(setup_lines) == 1, "the setup link should be printed exactly once"
    del stdout_lines[setup_lines[0]]  # the one place the setup token is meant to be shown
    bodies["server stdout"] = "\n".join(stdout_lines)
    bodies["server stderr"] = server.stderr_text

    not_json = [n for n, line in enumerate(server.stderr_lines, 1) if line.strip() and not _is_json_object(line)]
    assert not not_json, f"--log-format json: {len(not_json)} stderr lines are not JSON objects (first at line {not_json[0]})"
    assert len(server.stderr_lines) > 10, "trace logging produced almost no output"

    leaks = [
        f"{needle_name} in {source}"
        for source, text in bodies.items()
        for needle_name, needle in needles.items()
        if needle in text
    ]
    assert not leaks, "secrets leaked:\n  " + "\n  ".join(leaks)
    for source, text in bodies.items():  # belt and braces: any canary at all
        assert_absent(text, "CANARY-", f"a canary string appears in {source}")


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
