"""Concurrent refresh against a real provider that punishes double refreshes: glewlwyd.

glewlwyd is provisioned with `--rotate-refresh-tokens`: every refresh answers a new refresh
token, and presenting a rotated-out one revokes the whole chain, the newest token included.
So if Latchkey ever refreshed one credential twice with the same refresh token, the
credential would be dead at glewlwyd and the next round would fail with needs_reauth.

Real tokens come from a direct authorization-code flow (the harness's headless
`login_and_consent.py`), are imported into Latchkey with an expiry in the past, and then
many callers ask several instances for the token at once, twice. PostgreSQL with three
instances, and one SQLite instance.
"""

from __future__ import annotations

import os
import secrets
import time
import urllib.parse

import pytest
import requests

from conftest import _make_database
from peers import Glewlwyd, glewlwyd_problem, need_peer, query_of
from refresh_cluster import Cluster, concurrent_token_calls, ensure, summarize, unique_name

CALLERS = 30
# Rounds of concurrent callers (each forces one refresh at glewlwyd); more for a soak run.
ROUNDS = int(os.environ.get("LATCHKEY_E2E_REFRESH_ROUNDS", "3"))
REDIRECT_URI = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server the refresh tests run against)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-refresh")).start()
    try:
        server.provision([REDIRECT_URI], "--rotate-refresh-tokens", "--no-pkce-required")
        yield server
    except Exception:
        print(server.log_tail())
        raise
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def cluster(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"refresh-glewlwyd-{request.param}")
    gen = _make_database(request.param, workdir)
    db = next(gen)
    c = Cluster(db, workdir, instances=3 if request.param == "postgres" else 1, with_nginx=False)
    try:
        c.start()
        c.kind = request.param
        yield c
    finally:
        c.stop()
        gen.close()


def _http() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def real_tokens(glewlwyd: Glewlwyd) -> dict:
    """Authorization code flow at glewlwyd as its user alice: {access_token, refresh_token, ...}."""
    doc = glewlwyd.doc
    state = secrets.token_urlsafe(12)
    query = {"response_type": "code", "client_id": doc["client"]["client_id"], "redirect_uri": REDIRECT_URI,
             "scope": "read", "state": state}
    callback = glewlwyd.consent(doc["authorization_endpoint"] + "?" + urllib.parse.urlencode(query))
    q = query_of(callback)
    assert q.get("code") and q.get("state") == state, f"glewlwyd gave no code (error={q.get('error')!r})"
    r = _http().post(doc["token_endpoint"], data={"grant_type": "authorization_code", "code": q["code"], "redirect_uri": REDIRECT_URI},
                     auth=(doc["client"]["client_id"], doc["client"]["client_secret"]), timeout=20)
    assert r.status_code == 200, f"code exchange at glewlwyd → HTTP {r.status_code}"
    tokens = r.json()
    ensure(tokens.get("access_token") and tokens.get("refresh_token"), "glewlwyd answered no access/refresh token")
    return tokens


def _active(glewlwyd: Glewlwyd, token: str, hint: str) -> bool:
    return glewlwyd.introspect(token, hint).get("active") is True


def _round(cluster: Cluster, body: dict, label: str) -> tuple[str, dict]:
    bases = [s.base_url for s in cluster.instances]
    t = time.monotonic()
    calls = concurrent_token_calls(cluster.admin_key, bases, body, CALLERS)
    elapsed = time.monotonic() - t
    bad = sum(1 for c in calls if c.status != 200 or not c.token)
    ensure(bad == 0, f"{label}: {bad} of {CALLERS} callers failed ({summarize(calls)})")
    tokens = {c.token for c in calls}
    ensure(len(tokens) == 1, f"{label}: {CALLERS} callers got {len(tokens)} different access tokens, want 1")
    print(f"[glewlwyd, {cluster.kind}] {label}: {CALLERS} callers on {len(bases)} instance(s) in {elapsed:.2f}s")
    return tokens.pop(), calls[0].body


def test_concurrent_refresh_with_rotating_refresh_tokens(glewlwyd, cluster):
    doc = glewlwyd.doc
    key = unique_name("glewlwyd")
    cluster.create_integration(key, doc["client"]["client_id"], doc["client"]["client_secret"],
                               {"discoveryURL": doc["discovery_url"]}, provider="oidc", scopes=["openid", "read"])
    tokens = real_tokens(glewlwyd)
    user = unique_name("alice")
    cred = cluster.import_credential(key, user, tokens["access_token"], tokens["refresh_token"], scopes=["read"])
    body = {"integration": key, "externalUserId": user}

    previous_token, previous_refresh = tokens["access_token"], tokens["refresh_token"]
    for n in range(1, ROUNDS + 1):
        what = f"round {n}"
        if n > 1:
            cluster.expire(cred["id"])  # the stored token looks expired again: forces the next refresh
        token, answer = _round(cluster, body, what)
        ensure(token != previous_token, f"{what}: the callers got the expired token")
        assert answer.get("expiresAt"), f"{what}: no expiresAt after a refresh with expires_in"
        ensure(_active(glewlwyd, token, "access_token"), f"{what}: the token is not active at glewlwyd")
        ensure(glewlwyd.userinfo(token).status_code == 200, f"{what}: glewlwyd's userinfo refuses the token")
        ensure(not _active(glewlwyd, previous_refresh, "refresh_token"), f"{what}: the refresh token used was not rotated out")
        stored = cluster.reveal(cred["id"])["secret"].get("refreshToken")
        ensure(stored and stored != previous_refresh, f"{what}: the rotated refresh token was not stored")
        ensure(_active(glewlwyd, stored, "refresh_token"),
               f"{what}: the stored refresh token is dead at glewlwyd (a rotated-out one was reused, which revokes the chain)")
        status = cluster.credential(cred["id"])["status"]
        assert status == "active", f"{what}: credential status {status!r}"
        previous_token, previous_refresh = token, stored
