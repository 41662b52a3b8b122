"""One rate budget and one circuit across instances: three `latchkey serve` on one PostgreSQL behind nginx.

Calls go through the proxy route to a small stdlib upstream that counts what arrives. The instances lease slices
of a Connection's budget from the database (no round trip per call), so together they admit close to the budget
and never more; a provider that keeps failing behind one instance is paused for all of them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import _make_database
from peers import nginx_problem
from refresh_cluster import Cluster, ensure, unique_name
from upstreams import LocalAPI, send_json

BUDGET = 300
CALLS = 600
USERS = [f"user-{i}" for i in range(6)]


class CountingUpstream(LocalAPI):
    """A provider API on 127.0.0.1 that counts requests by first path segment: `/ok/…` answers 200, `/down/…` 503."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        super().__init__(self._answer, keep_alive=True)

    def _answer(self, handler):
        segment = handler.path.strip("/").split("/")[0]
        with self.lock:
            self.counts[segment] = self.counts.get(segment, 0) + 1
        status = 503 if segment == "down" else 200
        send_json(handler, status, {"ok": status == 200})

    def count(self, segment: str) -> int:
        with self.lock:
            return self.counts.get(segment, 0)


@pytest.fixture(scope="module")
def upstream():
    with CountingUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    problem = nginx_problem()
    if problem:
        pytest.skip(f"nginx: {problem}")
    workdir = tmp_path_factory.mktemp("gateway-pg")
    gen = _make_database("postgres", workdir)
    db = next(gen)
    c = Cluster(db, workdir, instances=3, with_nginx=True)
    try:
        c.start()
        yield c
    finally:
        c.stop()
        gen.close()


def integration_with_users(cluster: Cluster, upstream: CountingUpstream, segment: str) -> tuple[str, str]:
    """A generic OAuth integration whose API base is the upstream's `/segment`, a credential per user; its key and
    the console app's Connection id."""
    origin = f"http://127.0.0.1:{upstream.port}"
    key = unique_name(segment)
    cluster.create_integration(key, "c", "s", {"authorizationURL": origin + "/authorize", "tokenURL": origin + "/token",
                                               "apiBaseURL": origin + "/" + segment})
    for user in USERS:
        cluster.import_credential(key, user, f"token-{user}", f"refresh-{user}", expires_at="2099-01-01T00:00:00Z")
    r = cluster.api().get(cluster.entry_url + "/api/v1/connections", timeout=30)
    ensure(r.status_code == 200, f"GET /api/v1/connections → HTTP {r.status_code}")
    connection = next(item["id"] for item in r.json()["items"] if item["integration"] == key)
    return key, connection


def proxy_get(session: requests.Session, base: str, key: str, user: str) -> requests.Response:
    return session.get(f"{base}/api/v1/proxy/{key}/items", headers={"Latchkey-End-User": user}, timeout=60)


def test_three_instances_share_one_budget_and_admit_close_to_it(cluster, upstream):
    key, connection = integration_with_users(cluster, upstream, "ok")
    # A day-long window, so that the run does not straddle two windows.
    r = cluster.api().put(cluster.entry_url + f"/api/v1/connections/{connection}/rate-limit",
                          json={"budget": BUDGET, "windowSeconds": 86400}, timeout=30)
    ensure(r.status_code == 200, f"PUT rate-limit → HTTP {r.status_code}: {r.text[:200]}")

    sessions = [cluster.api() for _ in range(12)]

    def one(i: int) -> tuple[int, str | None, str | None]:
        r = proxy_get(sessions[i % len(sessions)], cluster.entry_url, key, USERS[i % len(USERS)])
        code = r.json().get("error", {}).get("code") if r.status_code != 200 else None
        return r.status_code, code, r.headers.get("Retry-After")

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        results = list(pool.map(one, range(CALLS)))

    admitted = sum(1 for status, _, _ in results if status == 200)
    refused = [(status, code, retry) for status, code, retry in results if status != 200]
    arrived = upstream.count("ok")
    ensure(arrived == admitted, f"{arrived} calls reached the upstream but {admitted} were answered 200")
    ensure(admitted <= BUDGET, f"{admitted} calls admitted over a budget of {BUDGET}")
    ensure(admitted >= BUDGET * 0.9, f"only {admitted} calls admitted of a budget of {BUDGET}\n{cluster.diagnostics()}")
    ensure(all(status == 429 and code == "rate_limited" and retry and int(retry) >= 1 for status, code, retry in refused),
           f"refusals other than 429 rate_limited with Retry-After: {sorted(set(refused))[:5]}")


def test_a_failing_provider_is_paused_on_every_instance(cluster, upstream):
    key, _ = integration_with_users(cluster, upstream, "down")
    api = cluster.api()
    first, *others = cluster.instances
    # Five failures in a row behind one instance open the shared circuit.
    for i in range(5):
        r = proxy_get(api, first.base_url, key, USERS[i % len(USERS)])
        ensure(r.status_code == 503 and "error" not in r.json(), f"call {i}: HTTP {r.status_code} {r.text[:200]}")
    ensure(upstream.count("down") == 5, f"{upstream.count('down')} calls reached the failing upstream")
    # The other instances refuse without calling it.
    for instance in others:
        r = proxy_get(api, instance.base_url, key, USERS[0])
        ensure(r.status_code == 503, f"HTTP {r.status_code} {r.text[:200]}")
        ensure(r.json()["error"]["code"] == "provider_unavailable", r.text[:200])
        ensure(int(r.headers.get("Retry-After", "0")) >= 1, "no Retry-After")
    ensure(upstream.count("down") == 5, f"{upstream.count('down')} calls reached the paused upstream")
