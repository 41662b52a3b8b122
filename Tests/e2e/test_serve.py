"""Starting the server, first-admin setup, the credential API and its errors."""

from __future__ import annotations

import json
import os
import re
import resource
import select
import socket
import stat
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import (
    REPO_ROOT,
    LatchkeyServer,
    api_session,
    assert_absent,
    assert_secret_equal,
    check_admin_key,
    base_env,
    binary_path,
    complete_setup,
    error_of,
    keys_status,
    mint_admin_key,
    parse_html,
    poll_until,
    run_cli,
)

BACKUP_LINE = "BACK THIS FILE UP NOW"


# --------------------------------------------------------------------------
# zero configuration


def test_zero_config_start_in_empty_dir_and_restart(tmp_path, servers):
    workdir = tmp_path / "empty"
    workdir.mkdir()
    env = base_env()  # PATH and HOME, nothing else

    first = servers(workdir, args=["--port", "0"], env=env).start_and_wait()
    print(f"\nstart → /readyz 200 (fresh data dir): {first.startup_seconds:.3f}s")

    assert BACKUP_LINE in first.stdout_text, "no back-up warning printed for a newly generated master key"
    data_dir = workdir / "latchkey-data"
    key_file = data_dir / "master.key"
    assert key_file.is_file(), "latchkey-data/master.key was not created in the working directory"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600, f"master.key mode is {oct(stat.S_IMODE(os.stat(key_file).st_mode))}, want 0o600"
    assert (data_dir / "latchkey.sqlite").is_file(), "latchkey-data/latchkey.sqlite was not created"
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700, f"latchkey-data mode is {oct(stat.S_IMODE(os.stat(data_dir).st_mode))}, want 0o700"
    for name in ("latchkey.sqlite", "latchkey.sqlite-wal", "latchkey.sqlite-shm"):
        if (data_dir / name).exists():
            mode = stat.S_IMODE(os.stat(data_dir / name).st_mode)
            assert mode == 0o600, f"{name} mode is {oct(mode)}, want 0o600"

    assert first.setup_url, "no one-time setup link printed while no administrator exists"
    assert first.setup_url.startswith(first.base_url + "/setup?token="), "setup link does not point at this server"
    assert any("No administrator yet" in line for line in first.stdout_lines)

    r = requests.get(first.url("/healthz"), timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = requests.get(first.url("/readyz"), timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ready"}

    # Store something, so there is data to keep across a restart.
    db_args = ["--data-dir", str(data_dir)]
    key = run_cli(["keys", "create-admin", *db_args], workdir, env).stdout.strip()
    check_admin_key(key, "keys create-admin stdout")
    api = api_session(key)
    created = api.post(
        first.url("/api/v1/credentials"),
        json={"integration": "github", "externalUserId": "alice", "type": "oauth2", "accessToken": "zero-config-token"},
        timeout=10,
    )
    assert created.status_code == 201, f"create → {created.status_code}"
    cred_id = created.json()["id"]
    key_bytes = key_file.read_bytes()

    rc = first.stop()
    assert rc == 0, f"SIGTERM should shut the server down cleanly, exit code was {rc}"

    second = servers(workdir, args=["--port", "0"], env=env).start_and_wait()
    print(f"start → /readyz 200 (existing data dir): {second.startup_seconds:.3f}s")
    assert BACKUP_LINE not in second.stdout_text, "back-up warning printed again although the key file already existed"
    assert key_file.read_bytes() == key_bytes, "master.key changed on restart"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

    # Still no administrator: the restart prints a new setup link, and the earlier one stops working.
    assert second.setup_url and second.setup_url != first.setup_url, "no new setup link after a restart without an administrator"
    assert "no longer work" in second.stdout_text, "the startup line does not say that earlier setup links stopped working"
    old_link = requests.get(second.url(first.setup_url[len(first.base_url) :]), timeout=5)
    assert old_link.status_code == 403, f"the setup link of the previous start → {old_link.status_code}, want 403"
    new_link = requests.get(second.setup_url, timeout=5)
    assert new_link.status_code == 200, f"the new setup link → {new_link.status_code}, want 200"

    got = api.get(second.url(f"/api/v1/credentials/{cred_id}"), timeout=10)
    assert got.status_code == 200, f"credential lost across restart (GET → {got.status_code})"
    revealed = api.post(second.url(f"/api/v1/credentials/{cred_id}/reveal"), timeout=10)
    assert revealed.status_code == 200
    assert_secret_equal(revealed.json()["secret"]["accessToken"], "zero-config-token", "access token after restart")


# --------------------------------------------------------------------------
# first administrator


def test_setup_flow(tmp_path, servers):
    server = servers(tmp_path, args=["--data-dir", str(tmp_path / "data")]).start_and_wait()
    assert server.setup_url and server.setup_token
    web = requests.Session()

    # Wrong token: forbidden, as an HTML page.
    bad = web.get(server.url("/setup?token=" + "x" * 43), timeout=10)
    assert bad.status_code == 403, f"invalid setup token → {bad.status_code}, want 403"
    bad = web.get(server.url("/setup"), timeout=10)
    assert bad.status_code in (403, 404), f"setup without token → {bad.status_code}"

    page = web.get(server.setup_url, timeout=10)
    assert page.status_code == 200
    assert page.headers.get("Content-Type", "").startswith("text/html")
    forms = parse_html(page.text).forms
    assert len(forms) == 1, "setup page should hold exactly one form"
    form = forms[0]
    assert form["method"] == "post"
    action = urllib.parse.urljoin(server.setup_url, form["action"])
    assert action == server.setup_url, "form does not post back to /setup?token=…"
    for field in ("csrf", "email", "name", "password", "confirm"):
        assert field in form["inputs"], f"setup form lacks the {field!r} field"
    assert form["inputs"]["csrf"]["type"] == "hidden" and form["inputs"]["csrf"]["value"]
    csrf = form["inputs"]["csrf"]["value"]

    # Too-short password: 400 and the form again; nothing created.
    short = web.post(action, data={"csrf": csrf, "email": "admin@example.com", "name": "Ada", "password": "short", "confirm": "short"}, timeout=30)
    assert short.status_code == 400, f"short password → {short.status_code}, want 400"
    again = parse_html(short.text).forms
    assert again and "password" in again[0]["inputs"], "the 400 page should show the form again"
    assert "admin-key" not in parse_html(short.text).by_id

    # Missing CSRF value: refused, nothing created.
    no_csrf = web.post(
        action,
        data={"email": "admin@example.com", "name": "Ada", "password": "correct horse battery", "confirm": "correct horse battery"},
        timeout=30,
    )
    assert 400 <= no_csrf.status_code < 500, f"setup without csrf → {no_csrf.status_code}"
    assert "admin-key" not in parse_html(no_csrf.text).by_id, "setup succeeded without the CSRF field"

    # The real thing.
    key = complete_setup(server)

    api = api_session(key)
    listed = api.get(server.url("/api/v1/credentials"), timeout=10)
    assert listed.status_code == 200, f"new admin key rejected by the API ({listed.status_code})"
    assert listed.json() == {"items": [], "nextCursor": None}

    gone = web.get(server.setup_url, timeout=10)
    assert gone.status_code == 404, f"setup URL after use → {gone.status_code}, want 404"
    reused = web.post(
        action,
        data={"csrf": csrf, "email": "evil@example.com", "name": "Eve", "password": "another long password", "confirm": "another long password"},
        timeout=30,
    )
    assert reused.status_code == 404, f"reusing the setup token → {reused.status_code}, want 404"
    assert "admin-key" not in parse_html(reused.text).by_id

    # After a restart no setup link is offered any more.
    server.stop()
    again = servers(tmp_path, args=["--data-dir", str(tmp_path / "data")]).start_and_wait()
    assert api.get(again.url("/api/v1/credentials"), timeout=10).status_code == 200
    assert again.setup_url is None and not any("No administrator yet" in line for line in again.stdout_lines), (
        "a setup link was printed although an administrator exists"
    )


# --------------------------------------------------------------------------
# start + CRUD on both databases


def _assert_no_secret(body_text: str, secrets_: list[str], what: str) -> None:
    for s in secrets_:
        assert_absent(body_text, s, f"{what} contains a stored secret")


def test_start_and_credential_crud(tmp_path, servers, database):
    env = database.server_env()
    server = servers(tmp_path, args=database.cli_args, env=env).start_and_wait()
    print(f"\n[{database.kind}] start → /readyz 200: {server.startup_seconds:.3f}s")

    # create-admin works next to the running server.
    key = mint_admin_key(database, tmp_path)
    api = api_session(key)
    base = server.url("/api/v1/credentials")

    oauth = {
        "integration": "github",
        "externalUserId": "alice",
        "type": "oauth2",
        "accessToken": "gho_access_" + os.urandom(8).hex(),
        "refreshToken": "ghr_refresh_" + os.urandom(8).hex(),
        "expiresAt": "2026-12-01T00:00:00Z",
        "scopes": ["repo"],
        "label": "Alice's work GitHub",
    }
    api_key = {"integration": "openai", "externalUserId": "alice", "type": "api_key", "apiKey": "sk-" + os.urandom(12).hex()}
    basic = {"integration": "jira", "externalUserId": "bob", "type": "basic", "username": "bob", "password": "pw-" + os.urandom(12).hex()}
    all_secrets = [oauth["accessToken"], oauth["refreshToken"], api_key["apiKey"], basic["password"]]

    ids = {}
    for name, payload in (("oauth", oauth), ("api_key", api_key), ("basic", basic)):
        r = api.post(base, json=payload, timeout=10)
        assert r.status_code == 201, f"create {name} → {r.status_code}"
        _assert_no_secret(r.text, all_secrets, f"create {name} response")
        meta = r.json()
        assert meta["id"] and isinstance(meta["keyVersion"], int)
        assert meta["integration"] == payload["integration"]
        assert meta["type"] == payload["type"]
        for field in ("accessToken", "refreshToken", "apiKey", "password"):
            assert field not in meta, f"create response carries {field}"
        ids[name] = meta["id"]

    one = api.get(f"{base}/{ids['oauth']}", timeout=10)
    assert one.status_code == 200
    _assert_no_secret(one.text, all_secrets, "GET credential")
    meta = one.json()
    assert meta["externalUserId"] == "alice" and meta["scopes"] == ["repo"] and meta["label"] == "Alice's work GitHub"
    assert meta["expiresAt"] == "2026-12-01T00:00:00Z"

    # Paging: more rows than a page, every id exactly once.
    for i in range(5):
        r = api.post(base, json={"integration": "slack", "externalUserId": f"user{i}", "type": "api_key", "apiKey": f"xoxb-{i}-" + os.urandom(6).hex()}, timeout=10)
        assert r.status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get(base, params=params, timeout=10)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 3
        _assert_no_secret(page.text, all_secrets, "list page")
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["nextCursor"]
        if not cursor:
            break
        assert pages < 10, "paging does not end"
    assert len(seen) == 8 and len(set(seen)) == 8, "paging lost or repeated credentials"

    filtered = api.get(base, params={"integration": "github", "externalUserId": "alice"}, timeout=10).json()
    assert [c["id"] for c in filtered["items"]] == [ids["oauth"]]
    assert {c["id"] for c in api.get(base, params={"externalUserId": "alice"}, timeout=10).json()["items"]} == {ids["oauth"], ids["api_key"]}

    patched = api.patch(f"{base}/{ids['oauth']}", json={"label": "renamed"}, timeout=10)
    assert patched.status_code == 200 and patched.json()["label"] == "renamed"
    assert api.get(f"{base}/{ids['oauth']}", timeout=10).json()["label"] == "renamed"

    rev = api.post(f"{base}/{ids['oauth']}/reveal", timeout=10)
    assert rev.status_code == 200
    assert rev.json()["credential"]["id"] == ids["oauth"]
    assert_secret_equal(rev.json()["secret"].get("accessToken"), oauth["accessToken"], "revealed access token")
    assert_secret_equal(rev.json()["secret"].get("refreshToken"), oauth["refreshToken"], "revealed refresh token")
    revealed_key = api.post(f"{base}/{ids['api_key']}/reveal", timeout=10).json()["secret"].get("apiKey")
    assert_secret_equal(revealed_key, api_key["apiKey"], "revealed API key")
    b = api.post(f"{base}/{ids['basic']}/reveal", timeout=10).json()["secret"]
    assert_secret_equal(b.get("username"), "bob", "revealed username")
    assert_secret_equal(b.get("password"), basic["password"], "revealed basic password")

    deleted = api.delete(f"{base}/{ids['basic']}", timeout=10)
    assert deleted.status_code == 204
    assert api.get(f"{base}/{ids['basic']}", timeout=10).status_code == 404
    assert api.post(f"{base}/{ids['basic']}/reveal", timeout=10).status_code == 404
    assert ids["basic"] not in [c["id"] for c in api.get(base, params={"limit": 100}, timeout=10).json()["items"]]

    audit = api.get(server.url("/api/v1/audit"), timeout=10)
    assert audit.status_code == 200
    actions = [e["action"] for e in audit.json()["items"]]
    for action in ("credential.create", "credential.reveal", "credential.update"):
        assert action in actions, f"audit log has no {action} event"
    _assert_no_secret(audit.text, all_secrets, "audit log")

    spec = requests.get(server.url("/openapi.json"), timeout=10)
    assert spec.status_code == 200 and str(spec.json().get("openapi", "")).startswith("3.1")
    assert "/api/v1/credentials" in spec.json().get("paths", {})

    status = keys_status(database, tmp_path)
    assert status["activeVersion"] == 1 and status["versions"] == [1]

    # Data survives a restart.
    assert server.stop() == 0
    again = servers(tmp_path, args=database.cli_args, env=env).start_and_wait()
    rev = api.post(again.url(f"/api/v1/credentials/{ids['api_key']}/reveal"), timeout=10)
    assert rev.status_code == 200
    assert_secret_equal(rev.json()["secret"].get("apiKey"), api_key["apiKey"], "API key after restart")
    again.stop()

    verify = run_cli(["audit", "verify", *database.cli_args], tmp_path, database.env, check=False)
    assert verify.returncode == 0 and "is intact" in verify.stdout + verify.stderr, f"audit verify exit {verify.returncode}: {verify.stderr[-2000:]}"


# --------------------------------------------------------------------------
# bad input over HTTP


@pytest.fixture
def api_server(tmp_path, servers, sqlite_database):
    server = servers(tmp_path, args=sqlite_database.cli_args).start_and_wait()
    key = mint_admin_key(sqlite_database, tmp_path)
    return server, api_session(key)


def test_malformed_json_is_invalid_request(api_server):
    server, api = api_server
    r = api.post(server.url("/api/v1/credentials"), data='{"integration": "github", ', headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "invalid_request"
    assert err.get("requestId")


def test_unknown_field_is_listed(api_server):
    server, api = api_server
    r = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "t", "colour": "blue"}, timeout=10)
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "invalid_request"
    assert any(f.get("path") == "colour" and f.get("message") for f in err.get("fields", [])), "unknown field not named in `fields`"


def test_missing_and_wrongly_typed_fields_are_listed(api_server):
    server, api = api_server
    r = api.post(server.url("/api/v1/credentials"), json={"type": "oauth2", "accessToken": "t"}, timeout=10)
    assert r.status_code == 400
    assert "integration" in [f["path"] for f in error_of(r).get("fields", [])]

    r = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "t", "scopes": "repo"}, timeout=10)
    assert r.status_code == 400
    assert "scopes" in [f["path"] for f in error_of(r).get("fields", [])]

    r = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "type": "api_key"}, timeout=10)
    assert r.status_code == 400
    assert "apiKey" in [f["path"] for f in error_of(r).get("fields", [])]

    r = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "type": "basic", "username": "u"}, timeout=10)
    assert r.status_code == 400
    assert "password" in [f["path"] for f in error_of(r).get("fields", [])]

    r = api.post(server.url("/api/v1/credentials"), json=["not", "an", "object"], timeout=10)
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_request"

    r = api.get(server.url("/api/v1/credentials"), params={"limit": "lots"}, timeout=10)
    assert r.status_code == 400 and "limit" in [f["path"] for f in error_of(r).get("fields", [])]


def test_invalid_expires_at_names_the_field(api_server):
    """A well-formed JSON body with a bad timestamp is a field error, not "not valid JSON"."""
    server, api = api_server
    r = api.post(
        server.url("/api/v1/credentials"),
        json={"integration": "github", "type": "oauth2", "accessToken": "t", "expiresAt": "next tuesday"},
        timeout=10,
    )
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "invalid_request"
    assert "expiresAt" in [f.get("path") for f in err.get("fields", [])], (
        f"bad expiresAt not reported as a field error (message: {err['message']!r})"
    )


def test_body_over_one_mebibyte_is_rejected(api_server):
    server, api = api_server
    big = json.dumps({"integration": "github", "type": "oauth2", "accessToken": "t", "label": "x" * (1024 * 1024 + 10)})
    r = api.post(server.url("/api/v1/credentials"), data=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"
    assert api.get(server.url("/api/v1/credentials"), timeout=10).json()["items"] == [], "an oversized body created a row"


def test_bad_and_unknown_ids(api_server):
    server, api = api_server
    r = api.get(server.url("/api/v1/credentials/not-an-id"), timeout=10)
    assert r.status_code == 400 and error_of(r)["code"] == "invalid_request"
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/reveal")):
        kwargs = {"json": {"label": "x"}} if method == "PATCH" else {}
        r = api.request(method, server.url(f"/api/v1/credentials/{unknown}{path}"), timeout=10, **kwargs)
        assert r.status_code == 404, f"{method} unknown id → {r.status_code}"
        assert error_of(r)["code"] == "not_found"


def test_authentication_errors(api_server):
    server, api = api_server
    url = server.url("/api/v1/credentials")
    r = requests.get(url, timeout=10)
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    r = requests.get(url, headers={"Authorization": "Bearer lk_live_" + "A" * 43}, timeout=10)
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    r = requests.get(url, headers={"Authorization": "Bearer lk_app_x"}, timeout=10)
    assert r.status_code == 401 and error_of(r)["code"] == "unauthorized"
    app_key = api.post(server.url("/api/v1/apps"), json={"name": "DerekApp"}, timeout=10).json()["apiKey"]
    r = requests.get(url, headers={"Authorization": f"Bearer {app_key}"}, timeout=10)
    assert r.status_code == 403 and error_of(r)["code"] == "forbidden"


def test_not_found_pages(api_server):
    server, _ = api_server
    html = requests.get(server.url("/nope"), headers={"Accept": "text/html,application/xhtml+xml"}, timeout=10)
    assert html.status_code == 404
    assert html.headers.get("Content-Type", "").startswith("text/html"), "a browser should get an HTML 404 page"
    assert "<html" in html.text.lower()
    plain = requests.get(server.url("/nope"), timeout=10)
    assert plain.status_code == 404
    assert plain.headers.get("Content-Type", "").startswith("text/html"), "no Accept: json → HTML 404 page"
    api = requests.get(server.url("/api/v1/nope"), timeout=10)
    assert api.status_code == 404 and error_of(api)["code"] == "not_found"


def test_concurrent_imports_for_a_new_integration_all_succeed(tmp_path, servers, database):
    """Several clients importing at once for an integration and end user nobody used yet: no 5xx."""
    server = servers(tmp_path, args=database.cli_args, env=database.server_env()).start_and_wait()
    key = mint_admin_key(database, tmp_path)
    url = server.url("/api/v1/credentials")
    workers = 4
    barrier = threading.Barrier(workers)

    def create(i):
        s = api_session(key)
        barrier.wait(timeout=30)
        r = s.post(url, json={"integration": "gitlab", "externalUserId": "carol", "type": "api_key", "apiKey": f"glpat-{i}-" + os.urandom(8).hex()}, timeout=30)
        return r.status_code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(create, range(workers)))
    assert codes == [201] * workers, f"concurrent first imports answered {codes}"
    listed = api_session(key).get(url, params={"integration": "gitlab", "externalUserId": "carol"}, timeout=10).json()
    assert len(listed["items"]) == workers


# --------------------------------------------------------------------------
# settings and limits


def test_serve_help_names_every_setting_of_the_readme_table(tmp_path):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `--") or line.startswith("| | `LATCHKEY_")]
    assert len(rows) >= 15, f"README's configuration table has only {len(rows)} rows"
    help_text = run_cli(["serve", "--help"], tmp_path, base_env()).stdout
    missing = []
    for row in rows:
        cells = [cell.strip().strip("`") for cell in row.strip("|").split("|")]
        flag, variable = cells[0], cells[1]
        assert variable.startswith("LATCHKEY_"), f"README row without an environment variable: {row}"
        if flag and flag not in help_text:
            missing.append(flag)
        if variable not in help_text:
            missing.append(variable)
    assert not missing, f"`latchkey serve --help` does not name {missing}, which README's configuration table lists"


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset); never blocks."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_half_sent_request_is_closed_after_the_idle_timeout(tmp_path, servers, sqlite_database):
    server = servers(tmp_path, args=[*sqlite_database.cli_args, "--idle-timeout", "1"]).start_and_wait()
    assert "open-file limit" in server.output, "the server does not log its open-file limit at start"
    host, port = urllib.parse.urlsplit(server.base_url).hostname, server.port
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: latchkey\r\nX-Slow: ")
        poll_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close a connection whose request head never ends")
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"POST /api/v1/credentials HTTP/1.1\r\nHost: latchkey\r\nContent-Length: 100\r\n\r\n{\"integ")
        poll_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close a connection whose body stops")
    # A kept-alive connection is closed once idle too, after answering.
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: latchkey\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200"), f"/healthz on a raw socket answered {answer[:40]!r}"
        poll_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close an idle kept-alive connection")


def test_many_idle_connections_do_not_stop_the_server(tmp_path, sqlite_database):
    # The server gets 256 descriptors (soft and hard), fewer than the idle connections opened below.
    wrapper = tmp_path / "latchkey-256"
    wrapper.write_text(f'#!/bin/sh\nulimit -Sn 256 && ulimit -Hn 256 || exit 99\nexec "{binary_path()}" "$@"\n')
    wrapper.chmod(0o755)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    server = LatchkeyServer(tmp_path, args=[*sqlite_database.cli_args, "--idle-timeout", "1"], binary=wrapper)
    sockets: list[socket.socket] = []
    try:
        server.start_and_wait()
        assert re.search(r"open-file limit.*256", server.output), "the server does not log the limit it runs with"
        host, port = urllib.parse.urlsplit(server.base_url).hostname, server.port
        for _ in range(300):
            try:
                sock = socket.create_connection((host, port), timeout=5)
            except OSError:
                continue  # the listen queue is full: the connection never existed
            sock.setblocking(False)
            try:
                sock.send(b"GET /healthz HTTP/1.1\r\nHost: latchkey\r\n")
            except OSError:
                pass
            sockets.append(sock)
        assert len(sockets) > 256, f"only {len(sockets)} idle connections could be opened"

        def all_cut() -> bool:
            return all(_closed_by_server(sock) for sock in sockets)

        def healthy() -> bool:
            return requests.get(server.url("/healthz"), timeout=3).status_code == 200

        poll_until(all_cut, timeout=60, what="the server to cut 300 idle connections")
        poll_until(healthy, timeout=30, what="/healthz to answer after the idle connections were cut")
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def test_a_fresh_server_exports_every_documented_metric_at_zero_with_help(tmp_path, servers, sqlite_database):
    server = servers(tmp_path, args=sqlite_database.cli_args).start_and_wait()
    text = requests.get(server.url("/metrics"), timeout=10).text
    series = {
        "latchkey_refresh_attempts_total": [f'{{trigger="{t}"}} 0' for t in ("on_demand", "proactive")],
        "latchkey_refresh_successes_total": [f'{{trigger="{t}"}} 0' for t in ("on_demand", "proactive")],
        "latchkey_refresh_failures_total": [
            f'{{reason="{r}"}} 0' for r in ("transient", "needs_reauth", "invalid_client", "bad_response", "circuit_open")
        ],
        "latchkey_refresh_lag_seconds": ["_count 0"],
        "latchkey_refresh_duration_seconds": ["_count 0"],
        "latchkey_vault_operations_total": ['{operation="reveal",result="success"} 0'],
        "latchkey_key_rewrap_rows_total": [" 0"],
    }
    lines = text.splitlines()
    for name, samples in series.items():
        assert any(line.startswith(f"# HELP {name} ") for line in lines), f"/metrics has no HELP line for {name}"
        for sample in samples:
            assert name + sample in lines, f"/metrics lacks {name + sample!r} on a fresh server"
