"""`latchkey apps`: an app made from the command line gets its key printed once, and that key works against the
running server for the app's own routes while admin routes refuse it; `apps list` shows the app, never a key."""

from __future__ import annotations

import re

from conftest import api_session, assert_absent, mint_admin_key, run_cli


def test_apps_create_prints_the_key_once_and_the_key_works(tmp_path, servers, database):
    db = database
    server = servers(tmp_path, args=db.cli_args, env=db.server_env()).start_and_wait()
    created = run_cli(["apps", "create", "DerekApp", *db.cli_args], tmp_path, db.env)
    key = created.stdout.strip()
    assert re.fullmatch(r"lk_app_[A-Za-z0-9_-]{43}", key), f"apps create did not print one app key on stdout: {created.stdout[-200:]!r}"
    assert_absent(created.stderr, key, "apps create repeated the key on stderr")
    assert "DerekApp" in created.stderr and "only now" in created.stderr

    listed = run_cli(["apps", "list", *db.cli_args], tmp_path, db.env)
    rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert [row[1] for row in rows] == ["console", "external"], listed.stdout
    assert rows[1][4] == "DerekApp" and rows[1][2] == "active"
    assert_absent(listed.stdout, key, "apps list printed the key")
    assert key.startswith(rows[1][3].rstrip("…"))

    app = api_session(key)
    mine = app.get(server.url("/api/v1/end-users"), timeout=10)
    assert mine.status_code == 200 and mine.json() == {"items": [], "nextCursor": None}, mine.text[:300]
    assert app.get(server.url("/api/v1/apps"), timeout=10).status_code == 403

    admin = api_session(mint_admin_key(db, tmp_path))
    apps = admin.get(server.url("/api/v1/apps"), timeout=10)
    assert [a["name"] for a in apps.json()["items"]] == ["Console", "DerekApp"]
    assert_absent(apps.text, key, "GET /api/v1/apps returned the key")

    refused = run_cli(["apps", "create", "", *db.cli_args], tmp_path, db.env, check=False)
    assert refused.returncode != 0 and "must not be empty" in refused.stderr, refused.stderr[-300:]
