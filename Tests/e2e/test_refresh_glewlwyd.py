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

import datetime as dt
import secrets
import time
import urllib.parse

import pytest
import requests

from conftest import _make_database
from peers import Glewlwyd, glewlwyd_problem, need_peer, query_of
from refresh_cluster import Cluster, concurrent_token_calls, summarize, unique_name

CALLERS = 30
BUFFER_SECONDS = 60
# Tokens live 65 s: the one of the first refresh is within Latchkey's 60-s buffer 5 s later,
# which forces the second round without touching the clock.
ACCESS_TOKEN_SECONDS = 65
REDIRECT_URI = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server the refresh tests run against)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-refresh")).start()
    try:
        server.provision([REDIRECT_URI], "--rotate-refresh-tokens", "--no-pkce-required",
                         "--access-token-duration", str(ACCESS_TOKEN_SECONDS))
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
    assert tokens.get("access_token") and tokens.get("refresh_token"), "glewlwyd answered no access/refresh token"
    return tokens


def _active(glewlwyd: Glewlwyd, token: str, hint: str) -> bool:
    return glewlwyd.introspect(token, hint).get("active") is True


def _round(cluster: Cluster, body: dict, label: str) -> tuple[str, dict]:
    bases = [s.base_url for s in cluster.instances]
    t = time.monotonic()
    calls = concurrent_token_calls(cluster.admin_key, bases, body, CALLERS)
    elapsed = time.monotonic() - t
    bad = [c for c in calls if c.status != 200 or not c.token]
    assert not bad, f"{label}: {len(bad)} of {CALLERS} callers failed ({summarize(calls)})"
    tokens = {c.token for c in calls}
    assert len(tokens) == 1, f"{label}: {CALLERS} callers got {len(tokens)} different access tokens, want 1"
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

    token1, answer1 = _round(cluster, body, "round 1")
    assert token1 != tokens["access_token"], "round 1 handed out the expired imported token"
    assert _active(glewlwyd, token1, "access_token"), "the token of round 1 is not active at glewlwyd"
    assert glewlwyd.userinfo(token1).status_code == 200, "glewlwyd's userinfo refuses the token of round 1"
    assert not _active(glewlwyd, tokens["refresh_token"], "refresh_token"), "the imported refresh token was not rotated out"
    stored = cluster.reveal(cred["id"])["secret"].get("refreshToken")
    assert stored and stored != tokens["refresh_token"], "the rotated refresh token was not stored"
    assert _active(glewlwyd, stored, "refresh_token"), "the stored refresh token is not active at glewlwyd (chain revoked?)"
    assert cluster.credential(cred["id"])["status"] == "active"

    # Round 2 once the token of round 1 is within the buffer.
    expires_at = dt.datetime.fromisoformat(answer1["expiresAt"].replace("Z", "+00:00"))
    due = (expires_at - dt.timedelta(seconds=BUFFER_SECONDS) - dt.datetime.now(dt.timezone.utc)).total_seconds()
    time.sleep(max(0.0, due) + 1.0)
    token2, _ = _round(cluster, body, "round 2")
    assert token2 != token1, "round 2 did not refresh"
    assert _active(glewlwyd, token2, "access_token"), "the token of round 2 is not active at glewlwyd"
    assert not _active(glewlwyd, stored, "refresh_token"), "the refresh token used in round 2 is still active (not rotated)"
    stored2 = cluster.reveal(cred["id"])["secret"].get("refreshToken")
    assert stored2 and stored2 not in (stored, tokens["refresh_token"]), "the second rotated refresh token was not stored"
    assert _active(glewlwyd, stored2, "refresh_token"), "the newest refresh token is dead at glewlwyd: a refresh token was reused"
    assert cluster.credential(cred["id"])["status"] == "active"
