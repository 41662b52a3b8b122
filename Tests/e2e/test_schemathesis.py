"""The API keeps its contract: Schemathesis (`--checks all`) against a running server finds nothing.

The server is started here (SQLite, 127.0.0.1) with an admin key made by the CLI; Schemathesis reads
its `/openapi.json` and sends generated requests, valid and invalid, in every phase (examples,
coverage, fuzzing, stateful). Exceptions the document cannot express are in schemathesis.toml next
to this file, each with its reason. A fixed seed keeps runs reproducible; LATCHKEY_SCHEMATHESIS_SEED
and LATCHKEY_SCHEMATHESIS_EXAMPLES explore further.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import E2E_DIR, mint_admin_key

CONFIG = E2E_DIR / "schemathesis.toml"
SEED = os.environ.get("LATCHKEY_SCHEMATHESIS_SEED", "1")
MAX_EXAMPLES = os.environ.get("LATCHKEY_SCHEMATHESIS_EXAMPLES", "40")


def _schemathesis_available() -> bool:
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        return False
    return True


def test_schemathesis_finds_no_failure(tmp_path, servers, sqlite_database):
    if not _schemathesis_available():
        reason = "schemathesis is not installed (.ci/run installs the pinned version with pip)"
        if os.environ.get("LATCHKEY_REQUIRE_PEERS") == "1":
            pytest.fail(f"LATCHKEY_REQUIRE_PEERS=1 but {reason}", pytrace=False)
        pytest.skip(reason)

    server = servers(tmp_path, args=sqlite_database.cli_args).start_and_wait()
    key = mint_admin_key(sqlite_database, tmp_path)
    work = tmp_path / "schemathesis"
    work.mkdir()
    command = [
        sys.executable,
        "-c",
        "from schemathesis.cli import schemathesis; schemathesis()",
        "--config-file",
        str(CONFIG),
        "run",
        server.url("/openapi.json"),
        "--url",
        server.base_url,
        "--checks",
        "all",
        # Every check but one: `ensure_resource_availability` (stateful phase only) follows each inferred link from a
        # created app, its webhook sub-resource included, which exists only once set (404 until then, as documented).
        # Schemathesis 4.32.5 does not apply the per-operation switch in schemathesis.toml in that phase, and whether a
        # run draws that link depends on the whole document. Created resources are read back by the other suites.
        "--exclude-checks",
        "ensure_resource_availability",
        "--header",
        f"Authorization: Bearer {key}",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
    ]
    proc = subprocess.run(
        command,
        cwd=work,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # The only secret on this server is the admin key we passed; it is masked before anything is shown.
    output = (proc.stdout + proc.stderr).replace(key, "lk_live_[the admin key]")
    summary = [line for line in output.splitlines() if "generated," in line or line.startswith("=")]
    print("\n" + "\n".join(summary[-3:]))
    if proc.returncode != 0:
        raise AssertionError(f"schemathesis found failures (exit {proc.returncode}):\n{output[-20000:]}")
    assert "Selected:" in output, "schemathesis did not test any operation"
    assert server.alive(), "the server stopped during the run"
