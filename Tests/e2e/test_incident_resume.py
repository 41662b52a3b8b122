"""A revoke-everything run killed with SIGKILL in the middle resumes by itself, on SQLite and PostgreSQL.

A real `latchkey serve` (its incident lease shortened with LATCHKEY_INCIDENT_LEASE_SECONDS, which is meant for
tests) revokes every credential of the tenant at a local OAuth provider (fake_oauth_provider.py). The provider lets
the first two credentials' revocations through and holds the third one's; while it is held the server is killed
with SIGKILL. A server started again on the same database takes the interrupted run by itself — no request touches
it — and finishes it: every credential is revoked exactly once at the provider (the held revocation was dropped
unprocessed when its client died, and made again by the resumed run) and deleted, and no observation of the run
ever said it was done while credentials were left.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading

import pytest
import requests

from conftest import mint_admin_key, poll_until
from fake_oauth_provider import FakeProviderProcess

CREDENTIALS = 5
LEASE_SECONDS = "2"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    p = FakeProviderProcess(tmp_path_factory.mktemp("incident-resume-fake-oauth")).start()
    try:
        yield p
    finally:
        p.stop()


def _session(key: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {key}"
    return s


def test_a_revoke_everything_run_killed_mid_way_resumes_by_itself(tmp_path, servers, database, fake):
    env = database.server_env(LATCHKEY_INCIDENT_LEASE_SECONDS=LEASE_SECONDS)
    args = [*database.cli_args, "--allow-private-network"]
    server = servers(tmp_path, args=args, env=env).start_and_wait()
    api = _session(mint_admin_key(database, tmp_path))

    # An OAuth integration at the fake provider, and one credential per person with a refresh token it knows.
    key = "leaked-" + secrets.token_hex(3)
    client, secret = "client-" + key, "secret-" + secrets.token_urlsafe(12)
    tokens: dict[str, str] = {}
    for n in range(CREDENTIALS):
        tokens[f"person-{n}"] = f"rt-{n}-" + secrets.token_urlsafe(16)
        fake.seed(client, secret, tokens[f"person-{n}"])
    r = api.post(server.url("/api/v1/integrations"), json={"provider": "oauth2", "key": key, "clientId": client, "clientSecret": secret,
                                                          "scopes": ["read"], "settings": fake.endpoints()}, timeout=30)
    assert r.status_code == 201, f"POST /api/v1/integrations → {r.status_code}: {r.text[:300]}"
    for person, refresh in tokens.items():
        r = api.post(server.url("/api/v1/credentials"), json={"integration": key, "externalUserId": person, "type": "oauth2",
                                                              "accessToken": "at-" + secrets.token_urlsafe(12), "refreshToken": refresh,
                                                              "expiresAt": "2030-01-01T00:00:00Z", "scopes": ["read"]}, timeout=30)
        assert r.status_code == 201, f"POST /api/v1/credentials → {r.status_code}: {r.text[:300]}"

    # Two credentials' refresh-token revocations go through, the third one's is held.
    fake.hold_revocations(client, after=2, count=1, token_prefix="rt-")
    observed: list[dict] = []

    def jobs(at) -> list[dict]:
        r = api.get(at.url("/api/v1/incidents/jobs"), timeout=30)
        assert r.status_code == 200, r.text[:300]
        observed.extend(r.json()["items"])
        return r.json()["items"]

    # The API answers when the run is over; this one never answers (its server dies), so it runs aside.
    def start_run() -> None:
        try:
            api.post(server.url("/api/v1/incidents/revoke"), json={"scope": "tenant", "confirm": "revoke everything"}, timeout=120)
        except requests.RequestException:
            pass

    runner = threading.Thread(target=start_run, daemon=True)
    runner.start()
    held = poll_until(lambda: fake.held_revocations(client) or None, timeout=60, what="the third credential's revocation held")
    assert held[0]["refreshToken"].startswith("rt-")
    before = jobs(server)
    assert len(before) == 1 and before[0]["status"] == "running"
    assert before[0]["total"] == CREDENTIALS and before[0]["processed"] == 2 and before[0]["revoked"] == 2, before[0]

    os.kill(server.proc.pid, signal.SIGKILL)
    server.kill()
    runner.join(timeout=30)
    poll_until(lambda: fake.counters(client)["revokesAbandoned"] == 1 or None, timeout=30,
               what="the held revocation dropped when its client died")

    # A new server on the same database: nothing asks for the job, it resumes by itself once the lease has lapsed.
    server = servers(tmp_path, args=args, env=env).start_and_wait()

    def finished():
        listed = jobs(server)
        return listed[0] if listed and listed[0]["status"] != "running" else None

    job = poll_until(finished, timeout=90, interval=0.2, what="the interrupted run to finish by itself")
    assert job["status"] == "done", job
    assert job["processed"] == CREDENTIALS and job["revoked"] + job["revocationFailed"] + job["notSupported"] == CREDENTIALS, job
    assert job["revoked"] == CREDENTIALS and job["revocationFailed"] == 0, job

    # Each credential was revoked exactly once at the provider, and none is left here.
    revoked = fake.counters(client)["revokedTokens"]
    assert {person: revoked.get(refresh, 0) for person, refresh in tokens.items()} == {person: 1 for person in tokens}, revoked
    r = api.get(server.url("/api/v1/credentials"), params={"integration": key, "limit": 100}, timeout=30)
    assert r.status_code == 200 and r.json()["items"] == [], r.text[:300]

    # Never reported done while credentials were left: every observation that is not running counts them all.
    for seen in observed:
        if seen["status"] != "running":
            assert seen["processed"] == seen["total"] == CREDENTIALS, seen
        assert seen["processed"] <= CREDENTIALS

    # The resumed run is audited as the system's.
    r = api.get(server.url("/api/v1/audit"), params={"action": "incident.revoke_finish"}, timeout=30)
    finishes = r.json()["items"]
    assert [e["actor"] for e in finishes] == ["system:incident"], finishes
