"""The CLI and the vault on disk: commands other than `serve` never create a vault (run where there is none,
they refuse and say where they looked), and `keys status` reports rows it cannot read."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import api_session, base_env, mint_admin_key, run_cli

COMMANDS = [
    ["users", "create", "--email", "alice@example.com"],
    ["keys", "status"],
    ["keys", "create-admin"],
    ["keys", "rotate"],
    ["keys", "retire", "1"],
    ["audit", "verify"],
    ["tenants", "list"],
    ["migrate"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_command_run_outside_the_data_directory_refuses_and_creates_nothing(tmp_path, args):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    proc = run_cli(args, workdir, base_env(), timeout=60, check=False)
    assert proc.returncode != 0, f"`latchkey {' '.join(args)}` in an empty directory exited 0: stdout {proc.stdout[-300:]!r}"
    expected_dir = str((workdir / "latchkey-data").resolve())
    assert expected_dir in proc.stderr, f"the refusal does not name the data directory it looked in: {proc.stderr[-500:]!r}"
    assert "--data-dir" in proc.stderr and "LATCHKEY_DATA_DIR" in proc.stderr, f"no hint how to point at the vault: {proc.stderr[-500:]!r}"
    assert "intact" not in proc.stdout
    assert list(workdir.iterdir()) == [], f"files were created: {[p.name for p in workdir.iterdir()]}"


def test_an_empty_postgres_database_is_refused_except_by_migrate(tmp_path, postgres_database):
    db = postgres_database
    refused = run_cli(["audit", "verify", *db.cli_args], tmp_path, db.env, timeout=60, check=False)
    assert refused.returncode != 0 and "holds no Latchkey vault" in refused.stderr, refused.stderr[-500:]
    assert db.url not in refused.stderr, "the refusal repeats the database URL (it may carry a password)"
    run_cli(["migrate", *db.cli_args], tmp_path, db.env, timeout=120)
    verified = run_cli(["audit", "verify", *db.cli_args], tmp_path, db.env, timeout=60)
    assert "intact" in verified.stdout.lower()


def test_keys_status_reports_rows_it_cannot_read_and_exits_non_zero(tmp_path, servers, sqlite_database):
    db = sqlite_database
    server = servers(tmp_path, args=db.cli_args, env=db.server_env()).start_and_wait()
    key = mint_admin_key(db, tmp_path)
    api = api_session(key)
    ids = []
    for user in ["alice", "bob"]:
        r = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "externalUserId": user, "type": "api_key", "apiKey": f"canary-{user}"}, timeout=10)
        assert r.status_code == 201, r.text[:300]
        ids.append(r.json()["id"])
    server.stop()
    with sqlite3.connect(db.data_dir / "latchkey.sqlite", timeout=30) as conn:
        conn.execute("UPDATE credentials SET connection_config = 'not json' WHERE id = ?", (ids[1],))
    # Reading the list flags the damaged row (once); the status then reports it.
    server = servers(tmp_path, args=db.cli_args, env=db.server_env()).start_and_wait()
    assert api.get(server.url("/api/v1/credentials"), timeout=10).status_code == 200
    server.stop()

    proc = run_cli(["keys", "status", "--json", *db.cli_args], tmp_path, db.env, timeout=60, check=False)
    assert proc.returncode != 0, "keys status exited 0 with an unreadable row"
    status = json.loads(proc.stdout)
    assert status["unreadable"] == {"count": 1, "ids": [ids[1]]}
    assert ids[1] in proc.stderr and "canary" not in proc.stdout + proc.stderr
    text = run_cli(["keys", "status", *db.cli_args], tmp_path, db.env, timeout=60, check=False)
    assert text.returncode != 0 and ids[1] in text.stderr
