"""A reference-data sync killed with SIGKILL in the middle resumes where it stopped, without duplicates, on SQLite
and PostgreSQL.

A real `latchkey serve` (its sync poll and lease shortened with LATCHKEY_SYNC_POLL_MS and LATCHKEY_SYNC_LEASE_SECONDS,
which are meant for tests) syncs the sandbox provider's to-do items (catalog dataset `sandbox.items`, cursor pages)
for one person, from a local provider (fake_oauth_provider.py) serving 45 items in pages of 10. The sync is started
with "sync now" (`POST /api/v1/connections/{id}/sync/run`) rather than waiting up to 15 minutes for the spread of
first runs. The provider answers pages 1 and 2 and holds page 3; while it is held the server is killed with SIGKILL.
A server started again on the same database takes the job over by itself once its lease has lapsed — no request
touches it — and, once page 3 is released, finishes it: the run resumed from the saved cursor (pages 1 and 2 were
asked for once each, never again), and every item is stored exactly once, as the app reads them back.
"""

from __future__ import annotations

import os
import secrets
import signal

import pytest
import requests

from conftest import mint_admin_key, poll_until
from fake_oauth_provider import FakeProviderProcess

ITEMS = 45
PAGE_SIZE = 10
HELD_PAGE = 3
SERVER_ENV = {"LATCHKEY_SYNC_POLL_MS": "200", "LATCHKEY_SYNC_LEASE_SECONDS": "2"}


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    p = FakeProviderProcess(tmp_path_factory.mktemp("sync-resume-fake-provider")).start()
    try:
        yield p
    finally:
        p.stop()


def _session(key: str) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {key}"
    return s


def _ok(r: requests.Response, status: int, what: str) -> dict:
    assert r.status_code == status, f"{what} → HTTP {r.status_code}: {r.text[:300]}"
    return r.json() if r.content else {}


def test_a_sync_killed_mid_way_resumes_from_its_saved_page_without_duplicates(tmp_path, servers, database, fake):
    fake.reset()
    fake.serve_items(ITEMS, page_size=PAGE_SIZE, hold_page=HELD_PAGE)
    env = database.server_env(**SERVER_ENV)
    args = [*database.cli_args, "--allow-private-network"]
    server = servers(tmp_path, args=args, env=env).start_and_wait()
    api = _session(mint_admin_key(database, tmp_path))

    # The sandbox provider at the fake, an app with a Connection for it, and Sarah's credential under it.
    key = "todo-" + secrets.token_hex(3)
    _ok(api.post(server.url("/api/v1/integrations"), json={
        "provider": "sandbox", "key": key, "clientId": "client-" + key, "clientSecret": secrets.token_urlsafe(12),
        "settings": {**fake.endpoints(), "apiBaseURL": fake.url}}, timeout=30), 201, "POST /api/v1/integrations")
    created = _ok(api.post(server.url("/api/v1/apps"), json={"name": "Todo board"}, timeout=30), 201, "POST /api/v1/apps")
    app = _session(created["apiKey"])
    app_id = created.get("id") or created["app"]["id"]
    connection = _ok(api.post(server.url("/api/v1/connections"), json={"integration": key, "appId": app_id}, timeout=30),
                     201, "POST /api/v1/connections")["id"]
    _ok(api.post(server.url("/api/v1/credentials"), json={
        "integration": key, "connectionId": connection, "externalUserId": "sarah", "type": "oauth2",
        "accessToken": "at-" + secrets.token_urlsafe(16), "expiresAt": "2030-01-01T00:00:00Z",
        "scopes": ["profile", "items.read"]}, timeout=30), 201, "POST /api/v1/credentials")
    _ok(api.put(server.url(f"/api/v1/connections/{connection}/sync"), json={"datasets": {"sandbox.items": {"enabled": True}}},
                timeout=30), 200, "PUT sync settings")

    # Sync now: the job is due at once; pages 1 and 2 are stored, page 3 is held at the provider.
    run = _ok(api.post(server.url(f"/api/v1/connections/{connection}/sync/run"), timeout=30), 202, "POST sync/run")
    assert run["datasets"] == ["sandbox.items"] and run["due"] == 1, run
    poll_until(lambda: fake.held_items() or None, timeout=60, what="page 3 held at the provider")
    assert fake.counters()["itemPagesServed"] == {"1": 1, "2": 1}

    os.kill(server.proc.pid, signal.SIGKILL)
    server.kill()
    poll_until(lambda: fake.counters()["itemsAbandoned"] == 1 or None, timeout=30,
               what="the held page dropped when its client died")

    # Page 2's records were saved with the cursor of page 3 before the kill: the app already reads 20 items.
    def read_all(at) -> list[dict]:
        items, cursor = [], None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = _ok(app.get(at.url(f"/api/v1/connect/users/sarah/connections/{connection}/data/sandbox.items"), params=params,
                               timeout=30), 200, "GET data")
            items += page["items"]
            cursor = page["nextCursor"]
            if not cursor:
                return items, page["sync"]

    # A new server on the same database: nothing asks for the job; it is resumed once the dead server's lease lapses.
    server = servers(tmp_path, args=args, env=env).start_and_wait()
    stored, _ = read_all(server)
    assert len(stored) == 2 * PAGE_SIZE, [i["key"] for i in stored]
    poll_until(lambda: fake.held_items() or None, timeout=60, what="the resumed run asking for page 3 again")
    assert fake.release_items() == 1

    def finished():
        items, sync = read_all(server)
        return (items, sync) if sync and sync["status"] == "ok" else None

    items, sync = poll_until(finished, timeout=60, interval=0.2, what="the resumed sync to finish")
    keys = [i["key"] for i in items]
    assert sorted(keys) == [f"item-{i:04d}" for i in range(ITEMS)], keys
    assert len(keys) == len(set(keys)) == ITEMS and sync["recordCount"] == ITEMS, sync
    assert items[3]["data"] == {"id": "item-0003", "title": "Item 3", "done": True}

    # Resumed from the saved cursor, not from the start: pages 1 and 2 were asked for once each; page 3 twice (the
    # request the kill cut off, then the resumed one), the others once.
    counters = fake.counters()
    assert counters["itemPages"] == {"1": 1, "2": 1, "3": 2, "4": 1, "5": 1}, counters["itemPages"]
    assert counters["itemPagesServed"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}, counters["itemPagesServed"]

    # The Connection's view agrees, and "sync now" was audited.
    settings = _ok(api.get(server.url(f"/api/v1/connections/{connection}/sync"), timeout=30), 200, "GET sync settings")
    health = next(d for d in settings["datasets"] if d["name"] == "sandbox.items")["health"]
    assert health["jobs"] == 1 and health["ok"] == 1 and health["records"] == ITEMS, health
    audit = _ok(api.get(server.url("/api/v1/audit"), params={"action": "connection.sync_run"}, timeout=30), 200, "GET audit")
    assert len(audit["items"]) == 1, audit["items"]
