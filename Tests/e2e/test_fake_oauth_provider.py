"""The fake OAuth provider the refresh tests rely on (fake_oauth_provider.py) does what they assume.

No Latchkey here: the provider is driven directly, so a failure in the refresh tests can be
told apart from a failure of the fake.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from fake_oauth_provider import FakeProviderProcess

CLIENT, SECRET = "client-a", "secret-a"


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    p = FakeProviderProcess(tmp_path_factory.mktemp("fake-oauth")).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(autouse=True)
def _reset(fake):
    fake.reset()
    yield


def refresh(fake, rt, auth=(CLIENT, SECRET), timeout=20, **extra):
    s = requests.Session()
    s.trust_env = False
    return s.post(fake.url + "/token", data={"grant_type": "refresh_token", "refresh_token": rt, **extra}, auth=auth, timeout=timeout)


def test_refresh_rotation_and_reuse_revokes_the_family(fake):
    fake.seed(CLIENT, SECRET, "rt-1")
    fake.configure(CLIENT, rotate=True)
    assert refresh(fake, "rt-1", auth=(CLIENT, "wrong")).status_code == 401
    r1 = refresh(fake, "rt-1")
    assert r1.status_code == 200, r1.text
    b1 = r1.json()
    assert b1["expires_in"] == 3600 and b1["token_type"] == "Bearer" and b1["refresh_token"] != "rt-1"
    s = requests.Session()
    s.trust_env = False
    assert s.get(fake.url + "/userinfo", headers={"Authorization": "Bearer " + b1["access_token"]}, timeout=10).status_code == 200
    r2 = refresh(fake, b1["refresh_token"])
    assert r2.status_code == 200
    newest = r2.json()["refresh_token"]
    reuse = refresh(fake, "rt-1")
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Like glewlwyd: reuse of a rotated-out token revokes the newest one too.
    assert refresh(fake, newest).status_code == 400
    c = fake.counters(CLIENT)
    assert c["processed"] == 2 and c["reuse"] == 1 and c["invalidGrant"] == 2 and c["clientAuthFailures"] == 1
    assert c["byRefreshToken"]["rt-1"] == 2
    assert fake.counters()["clientAuthFailures"] == 1


def test_refresh_without_rotation_keeps_the_token_and_expires_in_sequence(fake):
    fake.seed(CLIENT, SECRET, "rt-keep")
    fake.configure(CLIENT, rotate=False, expiresIn=[65, 3600])
    a = refresh(fake, "rt-keep").json()
    b = refresh(fake, "rt-keep").json()
    c = refresh(fake, "rt-keep").json()
    assert "refresh_token" not in a and a["expires_in"] == 65 and b["expires_in"] == 3600 and c["expires_in"] == 3600
    assert refresh(fake, "rt-unknown").json()["error"] == "invalid_grant"
    post = requests.post(fake.url + "/token", data={"grant_type": "refresh_token", "refresh_token": "rt-keep",
                                                    "client_id": CLIENT, "client_secret": SECRET}, timeout=10)
    assert post.status_code == 200
    assert fake.counters(CLIENT)["authMethods"] == {"client_secret_basic": 4, "client_secret_post": 1}


def test_injected_failures(fake):
    fake.seed(CLIENT, SECRET, "rt-f")
    fake.fail(CLIENT, count=2, status=503)
    fake.fail(CLIENT, count=1, status=429, retryAfter=1)
    fake.fail(CLIENT, count=1, error="invalid_grant")
    fake.fail(CLIENT, count=1, status=400, body="")
    assert [refresh(fake, "rt-f").status_code for _ in range(5)] == [503, 503, 429, 400, 400]
    assert refresh(fake, "rt-f").status_code == 200
    fake.fail(CLIENT, count=1, hang=1)
    t = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        refresh(fake, "rt-f")
    assert time.monotonic() - t >= 0.9
    c = fake.counters(CLIENT)
    assert c["processed"] == 1 and c["injectedFailures"] == 6


def _wait_held(fake, n=1, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        held = fake.held(CLIENT)
        if len(held) >= n:
            return held
        time.sleep(0.05)
    raise AssertionError("no held request")


def test_hold_then_release_processes_a_waiting_client(fake):
    fake.seed(CLIENT, SECRET, "rt-h")
    fake.configure(CLIENT, rotate=True)
    fake.hold(CLIENT)
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("r", refresh(fake, "rt-h")))
    t.start()
    held = _wait_held(fake)
    assert held[0]["refreshToken"] == "rt-h" and held[0]["peerPort"] > 0
    assert fake.counters(CLIENT)["processed"] == 0
    assert fake.release(CLIENT) == 1
    t.join(10)
    assert out["r"].status_code == 200 and out["r"].json()["refresh_token"]
    assert fake.counters(CLIENT)["processed"] == 1


def test_hold_then_release_drops_a_client_that_went_away(fake):
    fake.seed(CLIENT, SECRET, "rt-g")
    fake.configure(CLIENT, rotate=True)
    fake.hold(CLIENT)
    body = f"grant_type=refresh_token&refresh_token=rt-g&client_id={CLIENT}&client_secret={SECRET}".encode()
    sock = socket.create_connection(("127.0.0.1", fake.port))
    sock.sendall(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    _wait_held(fake)
    sock.close()  # the caller dies while the provider holds its request
    assert fake.release(CLIENT) == 1
    end = time.monotonic() + 10
    while fake.counters(CLIENT)["abandoned"] < 1 and time.monotonic() < end:
        time.sleep(0.05)
    c = fake.counters(CLIENT)
    assert c["abandoned"] == 1 and c["processed"] == 0
    assert refresh(fake, "rt-g").status_code == 200, "the refresh token of an abandoned request must still work"


def test_restart_keeps_the_tokens(fake):
    fake.seed(CLIENT, SECRET, "rt-p")
    fake.configure(CLIENT, rotate=True)
    rt = refresh(fake, "rt-p").json()["refresh_token"]
    fake.restart()
    assert refresh(fake, rt).status_code == 200
    assert refresh(fake, "rt-p").status_code == 400


def _items(fake, **params):
    s = requests.Session()
    s.trust_env = False
    return s.get(fake.url + "/items", params=params, headers={"Authorization": "Bearer at-x"}, timeout=20)


def test_items_are_paged_by_cursor_and_a_held_page_waits_or_is_dropped(fake):
    fake.serve_items(25, page_size=10, hold_page=2)
    assert requests.get(fake.url + "/items", timeout=10).status_code == 401
    first = _items(fake, limit=100).json()
    assert [i["id"] for i in first["items"]] == [f"item-{i:04d}" for i in range(10)] and first["next_cursor"] == "10"

    # Page 2 is held: a caller that goes away is dropped, one that waits gets it once released.
    sock = socket.create_connection(("127.0.0.1", fake.port))
    sock.sendall(b"GET /items?limit=10&cursor=10 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer at-x\r\n\r\n")
    end = time.monotonic() + 10
    while not fake.held_items() and time.monotonic() < end:
        time.sleep(0.05)
    sock.close()
    while fake.counters()["itemsAbandoned"] < 1 and time.monotonic() < end:
        time.sleep(0.05)
    assert fake.counters()["itemsAbandoned"] == 1
    out = {}
    waiter = threading.Thread(target=lambda: out.setdefault("r", _items(fake, limit=10, cursor="10")))
    waiter.start()
    while len(fake.held_items()) < 1 and time.monotonic() < end:
        time.sleep(0.05)
    assert fake.release_items() == 1
    waiter.join(timeout=10)
    assert [i["id"] for i in out["r"].json()["items"]][0] == "item-0010"
    last = _items(fake, limit=10, cursor="20").json()
    assert len(last["items"]) == 5 and "next_cursor" not in last
    c = fake.counters()
    assert c["itemPages"] == {"1": 1, "2": 2, "3": 1} and c["itemPagesServed"] == {"1": 1, "2": 1, "3": 1}
