"""A Connection's reference-data sync in the console, in Chromium: the administrator opens the connection's page
from *Connections and health*, sees the sandbox's dataset waiting, presses *Sync now*, and sees the run's health
(jobs ok, records, last success, next run) once the server's sync service ran it. The same health is in
`GET /api/v1/connections/{id}`."""

from __future__ import annotations

import urllib.parse

import pytest

from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import REDIRECTS, WebStack, accessibility_problems, sandbox_connect, started_stack, users_create

HTTP_TIMEOUT = 20
EMAIL, PASSWORD = "sync-admin@example.test", "pw-sync-health-test-1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    yield from started_stack(tmp_path_factory, "latchkey-sync-health")


@pytest.fixture
def browser(request):
    return chromium_for_test(request, "sync")


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _one(driver, selector: str, what: str):
    found = driver.find_elements("css selector", selector)
    assert found, f"no {what} on {_path(driver)} ({selector})"
    return found[0]


def _sync_health(demo: WebStack, connection: str) -> dict:
    r = demo.api.get(demo.url(f"/api/v1/connections/{connection}/sync"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text[:300]
    return next(d for d in r.json()["datasets"] if d["name"] == "sandbox.items")["health"]


def test_the_connection_page_shows_each_datasets_sync_health(demo, browser):
    driver, shots = browser
    users_create(demo.db, demo.cwd, EMAIL, PASSWORD, name="Sid Admin", admin=True)
    web = demo.web("sync-seed")
    web.sign_in(EMAIL, PASSWORD)
    connected = sandbox_connect(web)
    assert connected.status_code in REDIRECTS, f"connecting the sandbox → HTTP {connected.status_code}"
    connections = demo.api.get(demo.url("/api/v1/connections"), timeout=HTTP_TIMEOUT).json()["items"]
    connection = next(c["id"] for c in connections if c["integration"] == "sandbox")

    turned_on = demo.api.put(demo.url(f"/api/v1/connections/{connection}/sync"), json={
        "datasets": {"sandbox.items": {"enabled": True, "intervalSeconds": 3600}}, "budgetFraction": 0.5}, timeout=HTTP_TIMEOUT)
    assert turned_on.status_code == 200, turned_on.text[:300]
    assert turned_on.json()["budgetFraction"] == 0.5
    # The sync service plans the account's job at its next pass (every 5 s); its first run is up to 15 minutes away.
    wait_until(lambda: _sync_health(demo, connection)["jobs"] == 1, timeout=30, what="the job planned")

    driver.get(demo.url("/login?next=/admin/connections"))
    _one(driver, "input[name=email]", "email field").send_keys(EMAIL)
    _one(driver, "input[name=password]", "password field").send_keys(PASSWORD)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/admin/connections", what="the connections page after sign-in")
    _one(driver, f'tr[data-connection-id="{connection}"] a', "the link to the connection's page").click()
    wait_until(lambda: _path(driver) == f"/admin/connections/{connection}", what="the connection's page")
    row = _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"]', "the dataset's health row")
    assert "every hour" in row.text, row.text
    assert "1 waiting" in row.text and "0 ok" in row.text, row.text
    assert _one(driver, "#budget-share", "the budget share").text == "50%"
    shots.take(driver, "waiting")
    problems = accessibility_problems(driver.page_source)
    assert not problems, f"connection page: accessibility problems: {problems}"

    _one(driver, "#sync-now", "Sync now button").click()
    # The form posts and comes back to the same page: wait for the answer's flash, not for the path.
    flash = wait_until(lambda: driver.find_elements("css selector", ".flash"), what="the flash after Sync now")
    assert _path(driver) == f"/admin/connections/{connection}", _path(driver)
    assert "1 sync job runs at the next pass" in flash[0].text, flash[0].text

    def synced() -> bool:
        driver.refresh()
        return "1 ok" in _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"]', "the dataset's health row").text

    wait_until(synced, timeout=60, what="the run's health on the page")
    row = _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"]', "the dataset's health row")
    shots.take(driver, "synced")
    assert _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"] .records', "records").text == "2"
    assert _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"] .last-success', "last success").text.endswith("UTC")
    assert _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"] .next-run', "next run").text.endswith("UTC")
    assert _one(driver, 'tr.dataset-health[data-dataset="sandbox.items"] .last-error', "last error").text == ""

    # The API tells the same.
    shown = demo.api.get(demo.url(f"/api/v1/connections/{connection}"), timeout=HTTP_TIMEOUT)
    assert shown.status_code == 200, shown.text[:300]
    sync = {item["dataset"]: item for item in shown.json()["sync"]}
    health = sync["sandbox.items"]["health"]
    assert health["ok"] == 1 and health["records"] == 2 and health["lastSuccessAt"] and health["nextRunAt"], health
    audit = demo.api.get(demo.url("/api/v1/audit"), params={"action": "connection.sync_run"}, timeout=HTTP_TIMEOUT)
    assert audit.status_code == 200 and len(audit.json()["items"]) == 1, audit.text[:300]


def test_a_tool_answers_from_the_synced_items_and_says_what_to_do_when_the_dataset_is_off(demo):
    """`sandbox.find_item` through the real binary: the account's items come from what the sync stored (started with
    `POST …/sync/run`), the call is audited as a data read, and with the dataset off the answer says to turn it on
    rather than reading as "no such item"."""
    users_create(demo.db, demo.cwd, "sync-tools@example.test", PASSWORD, name="Tia Tools", admin=True)
    web = demo.web("sync-tools")
    web.sign_in("sync-tools@example.test", PASSWORD)
    assert sandbox_connect(web).status_code in REDIRECTS
    connections = demo.api.get(demo.url("/api/v1/connections"), timeout=HTTP_TIMEOUT).json()["items"]
    connection = next(c["id"] for c in connections if c["integration"] == "sandbox")
    credentials = demo.api.get(demo.url("/api/v1/credentials"), params={"integration": "sandbox"}, timeout=HTTP_TIMEOUT)
    assert credentials.status_code == 200, credentials.text[:300]
    mine = [c for c in credentials.json()["items"] if c["integration"] == "sandbox"]
    assert mine, credentials.text[:300]
    credential = mine[-1]["id"]
    invoke = demo.url("/api/v1/tools/invoke")
    call = {"tool": "sandbox.find_item", "credentialId": credential, "input": {"title": "latchkey"}}

    demo.api.put(demo.url(f"/api/v1/connections/{connection}/sync"), json={
        "datasets": {"sandbox.items": {"enabled": True, "intervalSeconds": 3600}}}, timeout=HTTP_TIMEOUT).raise_for_status()
    started = demo.api.post(demo.url(f"/api/v1/connections/{connection}/sync/run"),
                            json={"dataset": "sandbox.items", "credentialId": credential}, timeout=HTTP_TIMEOUT)
    assert started.status_code == 202, started.text[:300]
    assert started.json()["due"] == 1, started.text[:300]

    def answered():
        r = demo.api.post(invoke, json=call, timeout=HTTP_TIMEOUT)
        if r.status_code == 409 and r.json()["error"]["action"]["type"] == "wait_for_sync":
            return None
        return (r,)  # a tuple: a Response that is not 2xx is falsy

    (r,) = wait_until(answered, timeout=60, interval=0.5, what="the first sync of the account's items")
    assert r.status_code == 200, r.text[:400]
    answer = r.json()
    assert answer["result"]["items"] == [{"id": 1, "title": "Try Latchkey", "done": True}], answer
    assert answer["result"]["syncedAt"] and answer["result"]["more"] is False, answer
    assert answer["meta"]["dataset"] == "sandbox.items" and answer["meta"]["credentialId"] == credential, answer
    reads = demo.api.get(demo.url("/api/v1/audit"), params={"action": "credential.data_read"}, timeout=HTTP_TIMEOUT)
    assert reads.status_code == 200 and any(e["target"] == credential for e in reads.json()["items"]), reads.text[:300]

    demo.api.put(demo.url(f"/api/v1/connections/{connection}/sync"), json={
        "datasets": {"sandbox.items": {"enabled": False}}}, timeout=HTTP_TIMEOUT).raise_for_status()
    off = demo.api.post(invoke, json=call, timeout=HTTP_TIMEOUT)
    assert off.status_code == 409, off.text[:300]
    error = off.json()["error"]
    assert error["action"]["type"] == "enable_sync" and f"/api/v1/connections/{connection}/sync" in error["action"]["url"], error
