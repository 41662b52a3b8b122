"""Degraded mode with a real outage: PostgreSQL of its own, stopped for 20 seconds while calls go on.

The real binary serves the token route and proxy calls of an end user it resolved before the outage from what it
keeps, holds their audit events, refuses what it never resolved with 503 and a time to retry, shows the outage in
/readyz and /metrics, and writes every held event into an intact chain once the database is back.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (
    Database,
    api_session,
    assert_absent,
    base_env,
    error_of,
    mint_admin_key,
    poll_until,
    random_master_key,
    run_cli,
)
from test_proxy import Upstream

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("LATCHKEY_PG_BIN", "/usr/lib/postgresql/15/bin"))
TOKEN = "degraded-e2e-secret-token"
OUTAGE_SECONDS = 20


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL's tools refuse to run as root: as the postgres user then (as scripts/pg-start.sh does)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class OwnPostgres:
    """A throw-away cluster this test may stop and start (the shared one of the other tests must stay up)."""

    def __init__(self):
        if not (PG_BIN / "pg_ctl").exists():
            if os.environ.get("LATCHKEY_REQUIRE_PEERS") == "1":
                pytest.fail(f"LATCHKEY_REQUIRE_PEERS=1 but {PG_BIN}/pg_ctl is missing", pytrace=False)
            pytest.skip("PostgreSQL 15 is not installed")
        out = subprocess.run([str(ROOT / "scripts/pg-start.sh")], capture_output=True, text=True, timeout=120, check=True).stdout
        self.dir = re.search(r"^PGDIR=(.+)$", out, re.M).group(1)
        self.url = out.strip().splitlines()[-1]

    def stop(self):
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "stop", "-D", f"{self.dir}/data", "-m", "fast", "-w"]),
                       capture_output=True, timeout=60, check=True)

    def start(self):
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "start", "-D", f"{self.dir}/data", "-l", f"{self.dir}/postgres.log", "-w"]),
                       capture_output=True, timeout=60, check=True)

    def remove(self):
        subprocess.run([str(ROOT / "scripts/pg-stop.sh"), self.dir], capture_output=True, timeout=120)


@pytest.fixture
def own_postgres():
    pg = OwnPostgres()
    try:
        yield pg
    finally:
        pg.remove()


def _metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else None


def test_calls_go_on_while_postgres_is_stopped_and_their_audit_is_written_after(tmp_path, servers, own_postgres):
    database = Database("postgres", tmp_path / "data", url=own_postgres.url, master_key=random_master_key())
    workdir = tmp_path / "degraded"
    workdir.mkdir()
    with Upstream() as upstream:
        server = servers(workdir, args=[*database.cli_args, "--allow-private-network"], env=database.server_env()).start_and_wait()
        key = mint_admin_key(database, workdir)
        api = api_session(key)
        origin = f"http://127.0.0.1:{upstream.port}"
        r = api.post(server.base_url + "/api/v1/integrations", timeout=30, json={
            "provider": "oauth2", "key": "local-api", "clientId": "c", "clientSecret": "s", "scopes": ["read"],
            "settings": {"authorizationURL": origin + "/authorize", "tokenURL": origin + "/token", "apiBaseURL": origin + "/v1"},
        })
        assert r.status_code == 201, r.text[:400]
        for user in ("alice", "bob"):
            r = api.post(server.base_url + "/api/v1/credentials", timeout=30, json={
                "integration": "local-api", "type": "oauth2", "accessToken": f"{TOKEN}-{user}", "externalUserId": user,
                "expiresAt": "2099-01-01T00:00:00Z",
            })
            assert r.status_code == 201, r.text[:400]
        token_url = server.base_url + "/api/v1/credentials/token"
        proxy_url = server.base_url + "/api/v1/proxy/local-api/items"
        alice = {"integration": "local-api", "externalUserId": "alice"}

        # Resolved once before the outage: the token route and a proxy call.
        assert api.post(token_url, json=alice, timeout=30).status_code == 200
        assert api.get(proxy_url, headers={"Latchkey-End-User": "alice"}, timeout=30).status_code == 200
        assert api.get(server.base_url + "/readyz", timeout=10).json()["status"] == "ready"

        own_postgres.stop()
        outage_end = time.monotonic() + OUTAGE_SECONDS
        calls = 0
        upstream_before = len(upstream.requests)
        while time.monotonic() < outage_end:
            r = api.post(token_url, json=alice, timeout=30)
            assert r.status_code == 200, f"token route during the outage: HTTP {r.status_code} {r.text[:300]}"
            assert r.json()["accessToken"] == f"{TOKEN}-alice"
            r = api.get(proxy_url, headers={"Latchkey-End-User": "alice"}, timeout=30)
            assert r.status_code == 200, f"proxy during the outage: HTTP {r.status_code} {r.text[:300]}"
            calls += 2
            time.sleep(0.25)  # pacing of the calls, not a wait for background work
        assert len(upstream.requests) - upstream_before == calls // 2
        assert upstream.requests[-1]["headers"].get("Authorization") == f"Bearer {TOKEN}-alice"

        # What was never resolved here is refused at once, saying when to try again.
        r = api.post(token_url, json={"integration": "local-api", "externalUserId": "bob"}, timeout=30)
        assert r.status_code == 503, r.text[:300]
        assert error_of(r)["code"] == "unavailable"
        assert r.headers.get("Retry-After") == "5"
        assert_absent(r.text, f"{TOKEN}-bob", "the refusal")

        ready = api.get(server.base_url + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text[:300]
        assert ready.json()["status"] == "degraded"
        assert ready.json()["heldAuditEvents"] == calls
        metrics = api.get(server.base_url + "/metrics", timeout=10).text
        assert _metric(metrics, "latchkey_database_reachable") == 0
        assert _metric(metrics, "latchkey_audit_events_held") == calls
        assert (_metric(metrics, "latchkey_degraded_handouts_total") or 0) >= calls

        own_postgres.start()
        poll_until(lambda: api.get(server.base_url + "/readyz", timeout=10).json()["status"] == "ready", 60,
                   what="/readyz to say ready once PostgreSQL is back")
        poll_until(lambda: _metric(api.get(server.base_url + "/metrics", timeout=10).text, "latchkey_audit_events_held") == 0, 60,
                   what="the held audit events to be written")
        assert _metric(api.get(server.base_url + "/metrics", timeout=10).text, "latchkey_database_reachable") == 1

        # Every hand-out of the outage is in the chain, which is intact; calls go on as before.
        events = []
        url = server.base_url + "/api/v1/audit?action=credential.token&limit=200"
        while url:
            page = api.get(url, timeout=30).json()
            events += page["items"]
            url = page.get("nextCursor") and server.base_url + f"/api/v1/audit?action=credential.token&limit=200&cursor={page['nextCursor']}"
        assert len(events) == 2 + calls
        # The request log kept its entries through the outage too (each proxy call is one).
        proxied = []
        url = server.base_url + "/api/v1/requests?kind=proxy&limit=200"
        while url:
            page = api.get(url, timeout=30).json()
            proxied += page["items"]
            url = page.get("nextCursor") and server.base_url + f"/api/v1/requests?kind=proxy&limit=200&cursor={page['nextCursor']}"
        assert len(proxied) == 1 + calls // 2
        assert api.post(token_url, json=alice, timeout=30).status_code == 200
        assert api.post(token_url, json={"integration": "local-api", "externalUserId": "bob"}, timeout=30).status_code == 200
        server.stop()
        verified = run_cli(["audit", "verify", *database.cli_args], tmp_path, database.env, timeout=120)
        assert "intact" in verified.stdout
        output = server.stdout_text + server.stderr_text
        assert_absent(output, TOKEN, "the server's output")
        # The outage is logged when it begins and ends, not once per call.
        assert output.count("degraded mode begins") >= 1
        assert "circuit not readable" not in output
