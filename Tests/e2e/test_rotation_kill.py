"""Data-key rotation survives a crash in the middle of the background re-wrap.

10,000 credentials are imported, `latchkey keys rotate` adds data-key version 2,
the server is SIGKILLed while it re-wraps, and a restarted server finishes the
job from its saved progress. Every secret must come back byte for byte, and the
audit chain must still verify. Sealed values besides credentials (here an
integration's OAuth client secret) move too, so data-key version 1 can then be
retired; before that, retiring it is refused.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import assert_secret_equal, keys_status, mint_admin_key, poll_until, run_cli

# LATCHKEY_E2E_ROTATION_COUNT may lower this for a quick local run.
COUNT = int(os.environ.get("LATCHKEY_E2E_ROTATION_COUNT", "10000"))
WORKERS = 4

REWRAP_ENV = {
    "LATCHKEY_REWRAP_BATCH_SIZE": "100",
    "LATCHKEY_REWRAP_PAUSE_MS": "25",
    "LATCHKEY_KEYRING_POLL_MS": "100",
}


class Phases:
    def __init__(self, label: str):
        self.label = label
        self.t = time.monotonic()

    def done(self, what: str) -> None:
        now = time.monotonic()
        print(f"[{self.label}] {what}: {now - self.t:.2f}s", flush=True)
        self.t = now


def _parallel(fn, items, key: str):
    """Run fn(session, item) over items with WORKERS threads, one requests.Session per thread."""
    local = threading.local()

    def call(item):
        s = getattr(local, "session", None)
        if s is None:
            s = local.session = requests.Session()
            s.headers["Authorization"] = f"Bearer {key}"
            s.headers["Accept"] = "application/json"
        return fn(s, item)

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(call, items))


def test_rotation_rewrap_survives_sigkill(tmp_path, servers, database):
    phases = Phases(database.kind)
    env = database.server_env(**REWRAP_ENV)
    server = servers(tmp_path, args=database.cli_args, env=env).start_and_wait()
    key = mint_admin_key(database, tmp_path)
    phases.done("start + create-admin")

    # ---- import
    url = server.url("/api/v1/credentials")
    payloads = [
        {
            "integration": "github" if i % 2 else "slack",
            "externalUserId": f"user-{i % 500}",
            "type": "oauth2",
            "accessToken": f"at-{i}-{secrets.token_urlsafe(24)}",
            "refreshToken": f"rt-{i}-{secrets.token_urlsafe(24)}",
            "label": f"import {i}",
        }
        for i in range(COUNT)
    ]

    def create(session, payload):
        r = session.post(url, json=payload, timeout=30)
        assert r.status_code == 201, f"import → HTTP {r.status_code}"
        body = r.json()
        assert body["keyVersion"] == 1
        return body["id"], (payload["accessToken"], payload["refreshToken"])

    expected = dict(_parallel(create, payloads, key))
    assert len(expected) == COUNT, "duplicate ids handed out"
    phases.done(f"import {COUNT} credentials ({WORKERS} workers)")

    # A sealed value besides credentials: an integration's OAuth client secret.
    admin = requests.Session()
    admin.headers["Authorization"] = f"Bearer {key}"
    r = admin.post(server.url("/api/v1/integrations"), json={"provider": "gitlab", "key": "gitlab", "clientId": "gl-client",
                                                            "clientSecret": "gl-secret", "scopes": ["read_user"]}, timeout=30)
    assert r.status_code == 201, f"POST /api/v1/integrations → HTTP {r.status_code}: {r.text[:300]}"

    status = keys_status(database, tmp_path)
    assert status["activeVersion"] == 1
    assert int(status["rowsByVersion"].get("1", 0)) >= COUNT

    # ---- rotate, then crash mid re-wrap
    run_cli(["keys", "rotate", *database.cli_args], tmp_path, database.env)
    phases.done("keys rotate")

    def partially_rewrapped():
        st = keys_status(database, tmp_path)
        rw = st.get("rewrap")
        assert not (rw and rw.get("finished")), "the re-wrap finished before the test could interrupt it"
        if rw and rw.get("targetVersion") == 2 and 0 < rw.get("done", 0) < rw.get("total", 0):
            return st
        return None

    seen = poll_until(partially_rewrapped, timeout=60, what="the running server to start re-wrapping")
    server.kill()
    phases.done(f"re-wrap started (saw {seen['rewrap']['done']}/{seen['rewrap']['total']}), SIGKILL")

    after_kill = keys_status(database, tmp_path)
    assert after_kill["activeVersion"] == 2
    assert sorted(after_kill["versions"]) == [1, 2]
    rw = after_kill.get("rewrap")
    assert rw, "no re-wrap progress recorded after the crash"
    assert rw["targetVersion"] == 2
    assert not rw.get("finished"), "re-wrap claims to be finished after the crash"
    assert 0 < rw["done"] < rw["total"], f"expected partial progress, got {rw['done']}/{rw['total']}"
    assert int(after_kill["rowsByVersion"].get("1", 0)) > 0, "no rows left on version 1 although the re-wrap was interrupted"
    assert int(after_kill["rowsByVersion"].get("2", 0)) > 0, "no rows on version 2 although progress was recorded"
    print(f"[{database.kind}] after SIGKILL: rewrap {rw['done']}/{rw['total']}, rows {after_kill['rowsByVersion']}", flush=True)
    refused = run_cli(["keys", "retire", "1", *database.cli_args], tmp_path, database.env, check=False)
    assert refused.returncode != 0 and "still seals" in refused.stderr, "retiring a key still in use was not refused"

    # ---- restart and let it finish
    server = servers(tmp_path, args=database.cli_args, env=env).start_and_wait()
    phases.done("restart")

    # Old-version rows stay readable while the re-wrap runs.
    sample = list(expected.items())[-50:]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    for cred_id, (access, refresh) in sample:
        r = api.post(server.url(f"/api/v1/credentials/{cred_id}/reveal"), timeout=30)
        assert r.status_code == 200, f"reveal during re-wrap → HTTP {r.status_code}"
        secret = r.json()["secret"]
        assert_secret_equal(secret.get("accessToken"), access, "access token read during the re-wrap")
        assert_secret_equal(secret.get("refreshToken"), refresh, "refresh token read during the re-wrap")

    # New writes use the new version at once.
    fresh = api.post(server.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "after-rotation"}, timeout=30)
    assert fresh.status_code == 201 and fresh.json()["keyVersion"] == 2, "new credential not written under the new data key"

    def finished():
        st = keys_status(database, tmp_path)
        rw = st.get("rewrap") or {}
        if rw.get("finished") and int(st["rowsByVersion"].get("1", 0)) == 0:
            return st
        return None

    final = poll_until(finished, timeout=240, interval=0.25, what="the re-wrap to finish after the restart")
    phases.done("re-wrap finished after restart")
    assert final["rewrap"]["targetVersion"] == 2
    assert final["rewrap"]["done"] == final["rewrap"]["total"]
    assert int(final["rowsByVersion"].get("2", 0)) >= COUNT + 1
    # Nothing uses version 1 any more, in any table: it can go, and everything below runs without it.
    run_cli(["keys", "retire", "1", *database.cli_args], tmp_path, database.env)
    assert keys_status(database, tmp_path)["versions"] == [2]

    # ---- every secret, exactly
    reveal_base = server.url("/api/v1/credentials/")

    def reveal(session, item):
        cred_id, (access, refresh) = item
        r = session.post(f"{reveal_base}{cred_id}/reveal", timeout=30)
        if r.status_code != 200:
            return cred_id, f"HTTP {r.status_code}"
        body = r.json()
        if body["credential"]["keyVersion"] != 2:
            return cred_id, f"keyVersion {body['credential']['keyVersion']}"
        s = body["secret"]
        if s.get("accessToken") != access or s.get("refreshToken") != refresh:
            return cred_id, "secret differs"
        return None

    problems = [p for p in _parallel(reveal, list(expected.items()), key) if p]
    phases.done(f"reveal {COUNT} credentials")
    assert not problems, f"{len(problems)} credentials wrong after rotation, first: {problems[:5]}"

    server.stop()
    verify = run_cli(["audit", "verify", *database.cli_args], tmp_path, database.env, timeout=300, check=False)
    phases.done("audit verify")
    assert verify.returncode == 0, f"audit verify exit {verify.returncode}: {verify.stderr[-2000:]}"
    assert "is intact" in verify.stdout + verify.stderr
