"""The master key: bad values, a lost key file, and a different key all stop the server."""

from __future__ import annotations

import base64
import hashlib
import secrets

from conftest import api_session, assert_absent, assert_secret_equal, base_env, mint_admin_key, random_master_key

CANNOT_START = "latchkey: cannot start:"


def _refusal(server) -> str:
    """Wait for a server that must refuse to start; return its `cannot start` message."""
    rc = server.wait_exit()
    assert rc != 0, "latchkey exited 0 although it could not start"
    lines = [line for line in server.stderr_lines if line.startswith(CANNOT_START)]
    assert lines, f"no `{CANNOT_START} …` line on stderr; stderr tail:\n{server.stderr_tail()}"
    assert server.base_url is None, "the server printed a listening line before refusing"
    return lines[-1]


def _snapshot(directory) -> dict[str, str]:
    """File name → sha256 of the files that matter (SQLite's -wal/-shm side files excluded)."""
    out = {}
    for path in sorted(directory.iterdir()):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_master_key_of_16_bytes_is_refused(tmp_path, servers):
    key16 = base64.b64encode(secrets.token_bytes(16)).decode()
    server = servers(tmp_path, args=["--data-dir", str(tmp_path / "data")], env=base_env(LATCHKEY_MASTER_KEY=key16)).start()
    message = _refusal(server)
    assert "32 bytes" in message, f"message does not say the key must be 32 bytes: {message!r}"
    assert_absent(server.output, key16, "the rejected master key was echoed")


def test_master_key_that_is_not_base64_is_refused(tmp_path, servers):
    server = servers(tmp_path, args=["--data-dir", str(tmp_path / "data")], env=base_env(LATCHKEY_MASTER_KEY="not*base64!")).start()
    message = _refusal(server)
    assert "base64" in message, f"message does not mention base64: {message!r}"
    assert_absent(server.output, "not*base64!", "the rejected master key was echoed")


def test_lost_key_file_refuses_to_start_and_creates_nothing(tmp_path, servers, sqlite_database):
    db = sqlite_database
    first = servers(tmp_path, args=db.cli_args).start_and_wait()
    key_file = db.data_dir / "master.key"
    assert key_file.is_file()
    original_key = key_file.read_bytes()
    api = api_session(mint_admin_key(db, tmp_path))
    created = api.post(first.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "keep-me"}, timeout=10)
    assert created.status_code == 201
    cred_id = created.json()["id"]
    assert first.stop() == 0

    key_file.unlink()
    before = _snapshot(db.data_dir)

    second = servers(tmp_path, args=db.cli_args).start()
    message = _refusal(second)
    assert "master.key" in message or "key file" in message, f"message does not name the key file: {message!r}"
    assert "backup" in message.lower(), f"message does not point at the backup: {message!r}"
    assert "BACK THIS FILE UP" not in second.stdout_text
    assert not key_file.exists(), "a new master.key was generated for a database that already holds data"
    assert _snapshot(db.data_dir) == before, "the refused start changed files in the data directory"

    # Restoring the backup brings everything back.
    key_file.write_bytes(original_key)
    key_file.chmod(0o600)
    third = servers(tmp_path, args=db.cli_args).start_and_wait()
    revealed = api.post(third.url(f"/api/v1/credentials/{cred_id}/reveal"), timeout=10)
    assert revealed.status_code == 200
    assert_secret_equal(revealed.json()["secret"].get("accessToken"), "keep-me", "access token after restoring the key file")


def test_lost_key_file_refuses_even_without_credentials(tmp_path, servers, sqlite_database):
    db = sqlite_database
    first = servers(tmp_path, args=db.cli_args).start_and_wait()
    assert first.stop() == 0
    (db.data_dir / "master.key").unlink()
    second = servers(tmp_path, args=db.cli_args).start()
    message = _refusal(second)
    assert "backup" in message.lower(), f"message does not point at the backup: {message!r}"
    assert not (db.data_dir / "master.key").exists(), "a new master.key was generated"


def test_key_file_readable_by_others_is_refused_until_fixed(tmp_path, servers, sqlite_database):
    db = sqlite_database
    first = servers(tmp_path, args=db.cli_args).start_and_wait()
    assert first.stop() == 0
    key_file = db.data_dir / "master.key"
    key_file.chmod(0o644)
    second = servers(tmp_path, args=db.cli_args).start()
    message = _refusal(second)
    assert str(key_file) in message, f"message does not name the key file: {message!r}"
    assert "644" in message, f"message does not give the file's mode: {message!r}"
    assert f"chmod 600 {key_file}" in message, f"message does not say how to fix it: {message!r}"
    assert_absent(second.output, key_file.read_text().strip(), "the master key was echoed")

    key_file.chmod(0o600)
    third = servers(tmp_path, args=db.cli_args).start_and_wait()
    assert third.stop() == 0


def test_different_env_key_on_file_keyed_database_is_refused(tmp_path, servers, sqlite_database):
    db = sqlite_database
    first = servers(tmp_path, args=db.cli_args).start_and_wait()
    assert first.stop() == 0
    other = random_master_key()
    second = servers(tmp_path, args=db.cli_args, env=base_env(LATCHKEY_MASTER_KEY=other)).start()
    message = _refusal(second)
    assert "not the key this database was created with" in message, f"unexpected message: {message!r}"
    assert_absent(second.output, other, "the rejected master key was echoed")


def test_postgres_refuses_a_different_env_key(tmp_path, servers, postgres_database):
    db = postgres_database
    key_a = db.master_key
    first = servers(tmp_path, args=db.cli_args, env=base_env(LATCHKEY_MASTER_KEY=key_a)).start_and_wait()
    api = api_session(mint_admin_key(db, tmp_path))
    created = api.post(first.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "pg-keep-me"}, timeout=10)
    assert created.status_code == 201
    cred_id = created.json()["id"]
    assert first.stop() == 0

    key_b = random_master_key()
    refused = servers(tmp_path, args=db.cli_args, env=base_env(LATCHKEY_MASTER_KEY=key_b)).start()
    message = _refusal(refused)
    assert "not the key this database was created with" in message, f"unexpected message: {message!r}"
    assert_absent(refused.output, key_b, "the rejected master key was echoed")
    assert_absent(refused.output, key_a, "the database's master key was echoed")

    missing = servers(tmp_path, args=db.cli_args, env=base_env()).start()
    message = _refusal(missing)
    assert "LATCHKEY_MASTER_KEY" in message, f"message does not say how to supply the key: {message!r}"
    assert not (tmp_path / "latchkey-data" / "master.key").exists(), "a key file was generated for an existing PostgreSQL database"

    again = servers(tmp_path, args=db.cli_args, env=base_env(LATCHKEY_MASTER_KEY=key_a)).start_and_wait()
    revealed = api.post(again.url(f"/api/v1/credentials/{cred_id}/reveal"), timeout=10)
    assert revealed.status_code == 200
    assert_secret_equal(revealed.json()["secret"].get("accessToken"), "pg-keep-me", "access token with the original key")
