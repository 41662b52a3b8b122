"""The console's Apps page in a real browser, against the real binary and a real OAuth server.

An administrator signs in, creates an app and reads its `lk_app_…` key once (the copy button
runs under the console's CSP), the key works on `POST /api/v1/connect/sessions`, the key is not
shown again, *Regenerate key* needs its confirmation and stops the old key at once, the app's
own OAuth client is set (its secret never comes back in the page), the branding preview shows
the app's name and colour, the end users are listed with their credential counts, and a
**shared** account is connected on the app's Connection by OAuth at glewlwyd (another origin):
the app's key then gets that shared token for an end user with none of their own, and the end
user's own token for one who has it. SQLite and PostgreSQL. Screenshots (one at a phone's width,
390 px) go to <artifacts>/screenshots/console-apps-<test>-NN-<step>.png.
"""

from __future__ import annotations


import pytest
import requests

from conftest import _make_database
from peers import Glewlwyd, chromium_for_test, chromium_problem, glewlwyd_problem, need_peer, wait_until
from test_app_connect_glewlwyd import _consent
from test_browser_connect_glewlwyd import Console, _arrive_at_glewlwyd, _css, _one, _origin, _path
from webtools import WebStack, users_create

KEY = "glewlwyd"
STEP_TIMEOUT = 20
PASSWORD = "admin-password-for-apps-1"


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server these tests connect to)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-console-apps-state")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, glewlwyd, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"latchkey-console-apps-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    try:
        doc = glewlwyd.provision([stack.public_url + "/connect/callback"], "--pkce-required")
        stack.start()
        body = {"provider": "oidc", "key": KEY, "displayName": "Glewlwyd", "scopes": ["openid", "read"],
                "settings": {"discoveryURL": doc["discovery_url"]},
                "clientId": doc["client"]["client_id"], "clientSecret": doc["client"]["client_secret"]}
        r = stack.api.post(stack.url("/api/v1/integrations"), json=body, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations → HTTP {r.status_code}: {r.text[:300]}"
        email = "apps-admin@example.test"
        users_create(stack.db, stack.cwd, email, PASSWORD, name="Apps Admin", admin=True)
        yield stack, doc, email
    finally:
        stack.stop()
        gen.close()


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "console-apps")
    return driver, shots, Console(driver)


def _sign_in(driver, stack: WebStack, email: str) -> None:
    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "input[name=email]", "email field").send_keys(email)
    _one(driver, "input[name=password]", "password field").send_keys(PASSWORD)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/connections", what="signing in")


def _session(stack: WebStack, key: str, user: str) -> requests.Response:
    return requests.post(stack.url("/api/v1/connect/sessions"), json={"externalUserId": user, "integration": KEY},
                         headers={"Authorization": f"Bearer {key}"}, timeout=20)


def _token(stack: WebStack, key: str, user: str) -> requests.Response:
    return requests.post(stack.url("/api/v1/credentials/token"), json={"integration": KEY, "externalUserId": user},
                         headers={"Authorization": f"Bearer {key}"}, timeout=20)


def _read_key(driver, what: str) -> str:
    wait_until(lambda: _css(driver, "#app-key"), timeout=STEP_TIMEOUT, what=f"the key on {what}")
    key = _one(driver, "#app-key", f"the key on {what}").text.strip()
    assert key.startswith("lk_app_"), f"{what} shows {key[:10]!r}…, not an lk_app_ key"
    return key


def test_an_admin_manages_an_app_and_connects_its_shared_account(world, glewlwyd, browser):
    stack, doc, email = world
    driver, shots, console = browser
    _sign_in(driver, stack, email)
    _one(driver, 'nav a[href="/admin/apps"]', "the Apps link in the navigation").click()
    wait_until(lambda: _path(driver) == "/admin/apps", what="the Apps page")
    shots.take(driver, "apps")

    # Create: the key once, with a copy button that our own script shows.
    _one(driver, "#name", "name field").send_keys("DerekApp")
    _one(driver, "#displayName", "display name field").send_keys("Derek")
    _one(driver, "#accentColor", "accent colour field").send_keys("#aa3300")
    _one(driver, "#origins", "origins field").send_keys("https://derek.example")
    _one(driver, "#create-app", "Create app").click()
    key = _read_key(driver, "the created page")
    wait_until(lambda: _one(driver, "#copy-key", "copy button").is_displayed(), what="the copy button to show (our script ran)")
    shots.take(driver, "key-once")
    console.assert_no_csp_violation("the key page")
    r = _session(stack, key, "user_sarah_123")
    assert r.status_code == 201, f"the new key on POST /api/v1/connect/sessions → HTTP {r.status_code}: {r.text[:200]}"

    # Not again: neither on the app's page nor on the list.
    _one(driver, "#continue", "Continue to the app").click()
    wait_until(lambda: _path(driver).startswith("/admin/apps/"), what="the app's page")
    app_path = _path(driver)
    assert key not in driver.page_source, "the app's page shows the key again"
    driver.get(stack.url("/admin/apps"))
    assert key not in driver.page_source, "the Apps list shows the key again"
    assert any("DerekApp" in row.text for row in _css(driver, "tr.app")), "DerekApp is not listed"
    driver.get(stack.url(app_path))

    # Branding preview.
    preview = _one(driver, "#branding-preview", "the branding preview")
    assert "Derek" in _one(preview, "#preview-name", "preview name").text
    style = (_one(preview, "#preview-button", "preview button").get_attribute("style") or "").replace(" ", "").lower()
    assert "aa3300" in style or "170,51,0" in style, f"the preview button's style is {style!r}, not the accent colour"

    # Regenerate: the confirmation is required; the old key stops at once, the new one works.
    _one(driver, "#regenerate", "Regenerate key").click()
    wait_until(lambda: _path(driver).endswith("/regenerate"), what="the confirmation page")
    _one(driver, "#confirm-button", "the confirm button").click()  # the box is required: nothing is sent
    assert _path(driver).endswith("/regenerate") and not _css(driver, "#app-key"), "regenerated without the confirmation"
    assert _session(stack, key, "user_sarah_123").status_code == 201, "the key stopped without the confirmation"
    _one(driver, "#confirm", "the confirmation box").click()
    _one(driver, "#confirm-button", "the confirm button").click()
    new_key = _read_key(driver, "the regenerated page")
    assert new_key != key
    shots.take(driver, "regenerated")
    old = _session(stack, key, "user_sarah_123")
    assert old.status_code in (401, 403), f"the old key still answers HTTP {old.status_code}"
    assert _session(stack, new_key, "user_sarah_123").status_code == 201, "the new key does not work"
    key = new_key

    # The app's own OAuth client for glewlwyd: the secret is written, never shown.
    driver.get(stack.url(app_path))
    form = _one(driver, f'form.app-config[data-integration="{KEY}"]', "the glewlwyd OAuth client form")
    secret = doc["client"]["client_secret"]
    _one(form, "input[name=clientId]", "client id").send_keys(doc["client"]["client_id"])
    _one(form, "input[name=clientSecret]", "client secret").send_keys(secret)
    _one(form, "button[type=submit]", "Save client").click()
    wait_until(lambda: "client for" in " ".join(e.text for e in _css(driver, ".flash")).lower(), what="the client to be saved")
    form = _one(driver, f'form.app-config[data-integration="{KEY}"]', "the glewlwyd OAuth client form")
    assert _one(form, ".secret-state", "secret state").text == "set"
    assert secret not in driver.page_source, "the client secret came back in the page"

    # A Connection for glewlwyd, an end user's own credential under it (by the admin API), and the counts.
    # (The connect session above created the app's Connection on first use; otherwise it is added here.)
    if not _css(driver, f'.app-connection[data-integration="{KEY}"]'):
        _one(driver, "#add-connection", "Add connection").click()
        wait_until(lambda: _css(driver, f'.app-connection[data-integration="{KEY}"]'), what="the new connection")
    tile = _one(driver, f'.app-connection[data-integration="{KEY}"]', "the glewlwyd connection")
    connection_id = tile.get_attribute("data-connection-id")
    r = stack.api.post(stack.url("/api/v1/credentials"), json={
        "integration": KEY, "connectionId": connection_id, "externalUserId": "user_sarah_123",
        "type": "oauth2", "accessToken": "sarah-own-token"}, timeout=20)
    assert r.status_code == 201, f"POST /api/v1/credentials → HTTP {r.status_code}: {r.text[:200]}"
    driver.get(stack.url(app_path))
    sarah = _one(driver, 'tr.end-user[data-external-id="user_sarah_123"]', "Sarah in the end users")
    assert [_one(sarah, f".{c}", c).text for c in ("n-active", "n-expired", "n-reauth")] == ["1", "0", "0"]

    # Connect the shared account by OAuth at glewlwyd.
    tile = _one(driver, f'.app-connection[data-integration="{KEY}"]', "the glewlwyd connection")
    wait_until(lambda: _css(tile, "button.connect-shared"), what="Connect shared account")
    _one(tile, "button.connect-shared", "Connect shared account").click()
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Connect shared account")
    _consent(driver, shots, glewlwyd, {_origin(stack.public_url)})
    wait_until(lambda: _path(driver) == app_path, timeout=STEP_TIMEOUT, what=f"back on the app's page (at {_path(driver)!r})")
    wait_until(lambda: "shared credential connected" in " ".join(e.text for e in _css(driver, ".flash")).lower(),
               timeout=STEP_TIMEOUT, what="the 'shared credential connected' message")
    shots.take(driver, "shared-connected")
    console.assert_no_csp_violation("connecting the shared account")
    tile = _one(driver, f'.app-connection[data-integration="{KEY}"]', "the glewlwyd connection")
    assert _css(tile, ".shared-account"), "the connection shows no shared account"

    shared = [c for c in stack.credentials(KEY) if c.get("connectionId") == connection_id and not c.get("externalUserId")]
    assert len(shared) == 1, f"{len(shared)} shared credentials on the connection, want 1"
    shared_token = stack.reveal(shared[0]["id"]).get("accessToken")
    assert shared_token

    # The app's key: the shared token for an end user without their own, and Sarah's own for her.
    tom = _token(stack, key, "user_tom_456")
    assert tom.status_code == 200, f"token for an end user without their own → HTTP {tom.status_code}: {tom.text[:200]}"
    assert tom.json().get("accessToken") == shared_token, "the end user without a credential did not get the shared token"
    own = _token(stack, key, "user_sarah_123")
    assert own.status_code == 200 and own.json().get("accessToken") == "sarah-own-token", "Sarah did not get her own token"

    # The Apps page at a phone's width.
    driver.set_window_size(390, 844)
    driver.get(stack.url("/admin/apps"))
    shots.take(driver, "apps-390px")
    driver.get(stack.url(app_path))
    shots.take(driver, "app-390px")
    console.assert_no_csp_violation("the Apps pages")
