"""Token refresh never races: three instances on one PostgreSQL behind nginx, a fake provider that counts.

`POST /api/v1/credentials/token` refreshes an expired access token before handing it out,
exactly once per credential across all instances (in-process single flight + a database
lease + a fenced write). The provider is `fake_oauth_provider.py` in its own process, so it
outlives the instances a test kills, and it counts every refresh request per client.

Each test has its own OAuth client at the fake and its own integration, so the tests share
one cluster (module scope) without seeing each other's calls. A single SQLite instance runs
the concurrency test too.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import time

import pytest

from conftest import LatchkeyServer, _make_database, assert_secret_equal
from fake_oauth_provider import FakeProviderProcess
from peers import need_peer, nginx_problem
from refresh_cluster import (
    Cluster,
    concurrent_token_calls,
    pid_with_local_port,
    summarize,
    token_call,
    counts,
    ensure,
    unique_name,
    wait_for,
)

CALLERS = 50
# Rounds of concurrent callers per credential (each forces one refresh); more for a soak run.
ROUNDS = int(os.environ.get("LATCHKEY_E2E_REFRESH_ROUNDS", "3"))
LEASE_SECONDS = 15


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    p = FakeProviderProcess(tmp_path_factory.mktemp("fake-oauth")).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def pg_cluster(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("refresh-pg")
    gen = _make_database("postgres", workdir)
    db = next(gen)
    cluster = Cluster(db, workdir, instances=3, with_nginx=nginx_problem() is None)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        gen.close()  # drops the schema


@pytest.fixture(scope="module")
def sqlite_single(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("refresh-sqlite")
    gen = _make_database("sqlite", workdir)
    db = next(gen)
    cluster = Cluster(db, workdir, instances=1, with_nginx=False)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        gen.close()


class Account:
    """One OAuth client at the fake, its integration in Latchkey, one imported credential."""

    def __init__(self, cluster: Cluster, fake: FakeProviderProcess, *, rotate: bool = True, expires_in=3600,
                 endpoints: dict | None = None, user: str = "alice", hold: bool = False):
        self.cluster, self.fake = cluster, fake
        self.client = unique_name("client")
        self.secret = "secret-" + secrets.token_urlsafe(12)
        self.key = unique_name("fake")
        self.user = user
        self.first_refresh_token = "rt-1-" + secrets.token_urlsafe(12)
        self.old_access_token = "old-at-" + secrets.token_urlsafe(12)
        fake.seed(self.client, self.secret, self.first_refresh_token)
        fake.configure(self.client, rotate=rotate, expiresIn=expires_in)
        if hold:
            # Before the import: the background refresher may start the refresh at once.
            fake.hold(self.client)
        cluster.create_integration(self.key, self.client, self.secret, endpoints or fake.endpoints())
        self.credential = cluster.import_credential(self.key, user, self.old_access_token, self.first_refresh_token)
        self.id = self.credential["id"]

    @property
    def body(self) -> dict:
        return {"integration": self.key, "externalUserId": self.user}

    def counters(self) -> dict:
        return self.fake.counters(self.client)

    def issued(self) -> list[dict]:
        return self.fake.state(self.client)["issued"]

    def status(self, base: str | None = None) -> str:
        return self.cluster.credential(self.id, base)["status"]


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assert_all_ok(calls, what: str, account: "Account | None" = None) -> str:
    extra = f"; provider: {counts(account.counters())}" if account else ""
    bad = sum(1 for c in calls if c.status != 200 or not c.token)
    ensure(bad == 0, f"{what}: {bad} of {len(calls)} callers failed ({summarize(calls)}){extra}")
    tokens = {c.token for c in calls}
    if len(tokens) != 1:
        issued = [e["accessToken"] for e in account.issued()] if account else []
        which = sorted(issued.index(t) + 1 if t in issued else 0 for t in tokens)
        per = {n: sum(1 for c in calls if (issued.index(c.token) + 1 if c.token in issued else 0) == n) for n in which}
        raise AssertionError(f"{what}: the {len(calls)} callers got {len(tokens)} different access tokens, want 1 "
                             f"(callers per issued token #: {per}, 0 = not issued by the provider){extra}")
    return tokens.pop()


def check_token_body(body: dict, account: Account) -> None:
    assert body.get("tokenType") == "Bearer", f"tokenType {body.get('tokenType')!r}"
    assert body.get("credentialId") == account.id, "credentialId is not the imported credential"
    assert body.get("integration") == account.key, f"integration {body.get('integration')!r}"
    assert isinstance(body.get("scopes"), list), f"scopes {body.get('scopes')!r}"
    assert body.get("expiresAt"), "expiresAt missing after a refresh with expires_in"
    assert parse_time(body["expiresAt"]) > dt.datetime.now(dt.timezone.utc), "expiresAt of the fresh token is in the past"


# --------------------------------------------------------------------------
# (a) many callers, one refresh


def _concurrent_refresh_once(cluster: Cluster, fake: FakeProviderProcess, bases: list[str], label: str, spread: int = 1) -> None:
    # The imported token expired long ago. The background refresher may be the one that
    # refreshes it; either way the provider must see one refresh and every caller its token.
    # Each later round makes the stored token look expired again (PATCH expiresAt): with
    # rotation on, a stale refresh token would be reuse at the provider (invalid_grant).
    account = Account(cluster, fake, rotate=True)
    previous = account.old_access_token
    for n in range(1, ROUNDS + 1):
        what = f"[{label}] round {n}"
        if n > 1:
            cluster.expire(account.id)
        t = time.monotonic()
        calls = concurrent_token_calls(cluster.admin_key, bases, account.body, CALLERS)
        elapsed = time.monotonic() - t
        try:
            token = assert_all_ok(calls, what, account)
        except AssertionError:
            print(cluster.refresh_log())
            raise
        c = account.counters()
        issued = account.issued()
        print(f"{what}: {CALLERS} callers in {elapsed:.2f}s, slowest {max(x.seconds for x in calls):.2f}s; "
              f"provider saw {c['refreshRequests']} refresh request(s) in all; {len({x.upstream for x in calls})} upstream(s)")
        upstreams = len({x.upstream for x in calls})
        assert upstreams >= spread, f"{what}: nginx sent the callers to {upstreams} instance(s), want {spread}"
        assert c["refreshRequests"] == n and c["processed"] == n, (
            f"{what}: the provider saw {c['refreshRequests']} refresh requests ({counts(c)}), want exactly {n} after {n} round(s)"
        )
        assert c["reuse"] == 0 and c["invalidGrant"] == 0, f"{what}: a rotated-out refresh token was presented again ({counts(c)})"
        assert_secret_equal(token, issued[n - 1]["accessToken"], f"{what}: the token handed out is not the one of the provider's latest refresh")
        ensure(token != previous, f"{what}: the callers got the expired token")
        check_token_body(calls[0].body, account)
        # The rotated refresh token was stored: reveal shows the newest one.
        secret = cluster.reveal(account.id)["secret"]
        assert_secret_equal(secret.get("refreshToken"), issued[n - 1]["newRefreshToken"], f"{what}: stored refresh token after rotation")
        assert account.status() == "active"
        previous = token
    c = account.counters()
    assert c["byRefreshToken"].get(account.first_refresh_token) == 1, "the first refresh token was not presented exactly once"
    assert c["authMethods"] == {"client_secret_basic": ROUNDS}, f"[{label}] client authentication: {c['authMethods']}"


def test_fifty_callers_through_nginx_refresh_once(pg_cluster, fake):
    need_peer(nginx_problem(), "nginx (the load balancer in front of three instances)")
    _concurrent_refresh_once(pg_cluster, fake, [pg_cluster.nginx.url], "postgres, 3 instances, nginx", spread=len(pg_cluster.instances))


def test_fifty_callers_on_one_sqlite_instance_refresh_once(sqlite_single, fake):
    _concurrent_refresh_once(sqlite_single, fake, [sqlite_single.instances[0].base_url], "sqlite, 1 instance")


# --------------------------------------------------------------------------
# (c) failures


def test_invalid_grant_marks_needs_reauth(pg_cluster, fake):
    for label, rule in (("invalid_grant", {"error": "invalid_grant"}), ("400 without a body", {"status": 400, "body": ""})):
        account = Account(pg_cluster, fake, user=f"reauth-{secrets.token_hex(2)}")
        fake.fail(account.client, count=1, **rule)
        r = token_call(pg_cluster.admin_key, pg_cluster.entry_url, account.body)
        assert r.status == 409 and r.error_code == "needs_reauth", f"{label}: {r.describe()}, want 409 needs_reauth"
        assert account.status() == "needs_reauth", f"{label}: credential status {account.status()!r}, want needs_reauth"
        c = account.counters()
        assert c["refreshRequests"] == 1 and c["processed"] == 0, f"{label}: provider counters {counts(c)} (a permanent failure is not retried)"
        again = token_call(pg_cluster.admin_key, pg_cluster.instances[-1].base_url, account.body)
        assert again.status == 409 and again.error_code == "needs_reauth", f"{label}, asked again: {again.describe()}"
        print(f"[{label}] 409 needs_reauth; provider saw {account.counters()['refreshRequests']} refresh request(s) after two calls")


def test_transient_failures_are_retried(pg_cluster, fake):
    account = Account(pg_cluster, fake)
    fake.fail(account.client, count=3, status=503)
    t = time.monotonic()
    r = token_call(pg_cluster.admin_key, pg_cluster.entry_url, account.body)
    elapsed = time.monotonic() - t
    assert r.status == 200 and r.token, f"503 three times then OK: {r.describe()}, want 200"
    c = account.counters()
    print(f"[503×3] 200 after {elapsed:.2f}s; provider saw {c['refreshRequests']} refresh requests")
    assert c["refreshRequests"] == 4 and c["processed"] == 1, f"provider counters {counts(c)}, want 3 failures + 1 success"
    assert_secret_equal(r.token, account.issued()[0]["accessToken"], "token after retries")
    assert account.status() == "active"

    other = Account(pg_cluster, fake, user="mixed")
    fake.fail(other.client, count=1, status=500)
    fake.fail(other.client, count=1, status=429, retryAfter=1)
    fake.fail(other.client, count=1, status=503)
    r = token_call(pg_cluster.admin_key, pg_cluster.entry_url, other.body)
    assert r.status == 200 and r.token, f"500, 429, 503 then OK: {r.describe()}, want 200"
    assert other.counters()["processed"] == 1


def test_provider_down_answers_502_and_recovers(pg_cluster, tmp_path):
    # Each instance keeps its own circuit breaker (5 failures open it for 30 s): the 502 is asked
    # of one instance and the recovery of another, whose circuit saw at most the background try.
    first, second = pg_cluster.instances[1], pg_cluster.instances[-1]
    down = FakeProviderProcess(tmp_path / "down-fake").start()
    try:
        account = Account(pg_cluster, down)
        down.stop()
        t = time.monotonic()
        r = token_call(pg_cluster.admin_key, first.base_url, account.body)
        elapsed = time.monotonic() - t
        print(f"[provider down] {r.describe()} after {elapsed:.2f}s")
        assert r.status == 502 and r.error_code == "provider_unreachable", f"provider down: {r.describe()}, want 502 provider_unreachable"
        assert account.status() == "active", "a provider that cannot be reached must not cost the credential"
        down.restart()  # same port, same tokens
        r = token_call(pg_cluster.admin_key, second.base_url, account.body)
        assert r.status == 200 and r.token, f"provider back: {r.describe()}, want 200"
        assert down.counters(account.client)["processed"] == 1
    finally:
        down.stop()


# --------------------------------------------------------------------------
# (b) an instance dies in the middle of a refresh (last: it kills one instance)


def test_sigkill_mid_refresh_another_instance_completes_it(pg_cluster, fake):
    cluster = pg_cluster
    account = Account(cluster, fake, rotate=True, hold=True)
    victim = cluster.instances[0]
    result = {}
    caller = threading.Thread(target=lambda: result.setdefault("r", token_call(cluster.admin_key, victim.base_url, account.body, timeout=60)))
    caller.start()

    held = wait_for(lambda: fake.held(account.client), 20, "the provider to hold the refresh request")
    assert len(held) == 1, f"{len(held)} refresh requests held, want 1"
    pids = {s.proc.pid: s for s in cluster.instances if s.alive()}
    owner_pid = pid_with_local_port(list(pids), held[0]["peerPort"])
    assert owner_pid is not None, "no instance owns the connection of the held refresh request"
    owner = pids[owner_pid]
    if owner is not victim:
        print(f"note: the held refresh came from instance {cluster.instances.index(owner)}, not the one called")
    owner.kill()
    if owner is victim:
        caller.join(60)
        assert fake.release(account.client) == 1
    else:
        # A background refresher on another instance won the race to the provider. The called instance is alive
        # and waits: once the dead instance's lease runs out, one of the living instances takes the refresh over
        # (the provider holds that request too). Release both at once, before that second lease runs out as well.
        alive = [s.proc.pid for s in cluster.instances if s.alive()]
        wait_for(lambda: any(pid_with_local_port(alive, h["peerPort"]) is not None for h in fake.held(account.client)),
                 LEASE_SECONDS + 10, "a living instance to take the refresh over once the lease ran out")
        assert fake.release(account.client) == 2
        caller.join(30)
        taken_over = result.get("r")
        assert taken_over is not None and taken_over.status == 200 and taken_over.token, \
            f"the called instance after the takeover: {taken_over.describe() if taken_over else 'no answer'}, want 200"
    wait_for(lambda: account.counters()["abandoned"] == 1, 10, "the provider to drop the request of the dead instance")
    c = account.counters()
    assert c["processed"] == (0 if owner is victim else 1), f"the held request was processed although its instance died ({counts(c)})"

    survivors = [s for s in cluster.instances if s.alive()]
    assert len(survivors) >= 1
    t = time.monotonic()
    r = token_call(cluster.admin_key, survivors[0].base_url, account.body, timeout=60)
    elapsed = time.monotonic() - t
    print(f"[sigkill] the killed instance's caller: {result['r'].describe() if 'r' in result else 'no answer'}; "
          f"another instance answered {r.describe()} after {elapsed:.2f}s")
    assert r.status == 200 and r.token, f"another instance after the kill: {r.describe()}, want 200"
    assert elapsed <= LEASE_SECONDS + 10, f"the surviving instance took {elapsed:.1f}s (lease is {LEASE_SECONDS}s)"
    c = account.counters()
    assert c["processed"] == 1 and c["reuse"] == 0 and c["invalidGrant"] == 0, f"provider counters {counts(c)}, want exactly one processed refresh"
    assert c["byRefreshToken"].get(account.first_refresh_token) == 1, "the first refresh token was not presented exactly once"
    assert_secret_equal(r.token, account.issued()[0]["accessToken"], "token after the takeover")
    assert account.status(survivors[0].base_url) == "active"
    secret = cluster.reveal(account.id, survivors[0].base_url)["secret"]
    assert_secret_equal(secret.get("refreshToken"), account.issued()[0]["newRefreshToken"], "stored refresh token after the takeover")
    if len(survivors) > 1:
        again = token_call(cluster.admin_key, survivors[1].base_url, account.body)
        ensure(again.status == 200 and again.token == r.token, f"third instance: {again.describe()} (or another token)")
        assert account.counters()["processed"] == 1, "the third instance refreshed again"

    # Bring the killed instance back on its port (nginx still points at it).
    index = cluster.instances.index(owner)
    for attempt in range(5):
        replacement = LatchkeyServer(owner.cwd, args=[*owner.args, "--port", str(owner.port)], env=owner.env)
        try:
            replacement.start_and_wait()
            break
        except OSError:  # the binary being rewritten by a build ("text file busy"): try again
            time.sleep(2)
    cluster.instances[index] = replacement
