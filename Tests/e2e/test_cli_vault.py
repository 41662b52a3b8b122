"""CLI commands other than `serve` never create a vault: run where there is none, they refuse and say where they looked."""

from __future__ import annotations

import pytest

from conftest import base_env, run_cli

COMMANDS = [
    ["users", "create", "--email", "alice@example.com"],
    ["keys", "status"],
    ["keys", "create-admin"],
    ["keys", "rotate"],
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
