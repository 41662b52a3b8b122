"""An app's end users connect their own account through the hosted connect page, in a real
browser, against a real OAuth server (glewlwyd) and the real binary.

The developer's flow of the delegation document: the admin creates an app whose allowed
redirect origin is a tiny local HTTP server (standing for the app), the app creates a connect
session by app key, headless Chromium opens `connectUrl`, clicks *Connect*, signs in at
glewlwyd and consents, and lands on the app's page with `status=success`; the app reads the
session. A second end user gets their own credential. Then the popup variant: the app's page
loads `/connect.js`, opens the hosted page in a popup and gets `{sessionId, status}` back by
`postMessage`. SQLite and PostgreSQL. Screenshots go to
<artifacts>/screenshots/app-connect-<test>-NN-<step>.png.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse

import pytest
import requests

from conftest import _make_database
from peers import Glewlwyd, chromium_for_test, chromium_problem, glewlwyd_problem, need_peer, wait_until
from test_browser_connect_glewlwyd import Console, _arrive_at_glewlwyd, _glewlwyd_step, _one, _origin
from webtools import WebStack

KEY = "glewlwyd"
STEP_TIMEOUT = 20


class AppSite:
    """The app's own site on 127.0.0.1: `/back` (the redirect URL) shows its query; `/popup` has a
    button that runs `Latchkey.connect(connectUrl)` from `/connect.js` and shows the result."""

    def __init__(self, latchkey_url: str):
        latchkey = latchkey_url

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                if parts.path == "/back":
                    body = f'<!doctype html><title>App</title><pre id="query">{json.dumps(query, sort_keys=True)}</pre>'
                elif parts.path == "/popup":
                    connect_url = json.dumps(query.get("connect", ""))
                    body = (
                        f'<!doctype html><title>App</title><script src="{latchkey}/connect.js"></script>'
                        '<button id="open">Connect</button><pre id="result"></pre><script>'
                        'document.getElementById("open").addEventListener("click", function () {'
                        f"  Latchkey.connect({connect_url}).then(function (r) {{"
                        '    document.getElementById("result").textContent = JSON.stringify(r); });'
                        "});</script>"
                    )
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server these tests connect to)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-app-state")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, glewlwyd, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"latchkey-app-connect-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    site = None
    try:
        doc = glewlwyd.provision([stack.public_url + "/connect/callback"], "--pkce-required")
        stack.start()
        body = {"provider": "oidc", "key": KEY, "displayName": "Glewlwyd", "scopes": ["openid", "read"],
                "settings": {"discoveryURL": doc["discovery_url"]},
                "clientId": doc["client"]["client_id"], "clientSecret": doc["client"]["client_secret"]}
        r = stack.api.post(stack.url("/api/v1/integrations"), json=body, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations → HTTP {r.status_code}: {r.text[:300]}"
        site = AppSite(stack.public_url)
        r = stack.api.post(stack.url("/api/v1/apps"), json={
            "name": "DerekApp", "allowedRedirectOrigins": [site.origin],
            "branding": {"displayName": "Derek", "accentColor": "#aa3300", "privacyUrl": "https://derek.example/privacy"},
        }, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/apps → HTTP {r.status_code}: {r.text[:300]}"
        yield stack, site, r.json()["apiKey"]
    finally:
        if site:
            site.stop()
        stack.stop()
        gen.close()


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "app-connect", width=390, height=844)  # a phone's width
    return driver, shots, Console(driver)


def _session(stack: WebStack, app_key: str, user: str, redirect: str | None) -> dict:

    body = {"externalUserId": user, "integration": KEY, "endUser": {"displayName": user.title()}}
    if redirect:
        body["redirectUrl"] = redirect
    r = requests.post(stack.url("/api/v1/connect/sessions"), json=body, headers={"Authorization": f"Bearer {app_key}"}, timeout=20)
    assert r.status_code == 201, f"POST /api/v1/connect/sessions → HTTP {r.status_code}: {r.text[:300]}"
    created = r.json()
    assert created["connectUrl"].startswith(stack.public_url + "/connect/lk_cs_"), created["connectUrl"]
    return created


def _read(stack: WebStack, app_key: str, session_id: str) -> dict:

    r = requests.get(stack.url(f"/api/v1/connect/sessions/{session_id}"), headers={"Authorization": f"Bearer {app_key}"}, timeout=20)
    assert r.status_code == 200, f"GET /api/v1/connect/sessions/{session_id} → HTTP {r.status_code}: {r.text[:300]}"
    return r.json()


def _consent(driver, shots, glewlwyd, leaving_to: set[str]) -> None:
    """Sign in and consent at glewlwyd until the browser leaves it for one of `leaving_to`; a popup
    that connect.js closes on the way counts as having left."""
    import time

    from selenium.common.exceptions import NoSuchWindowException, StaleElementReferenceException

    state = {"signed_in": False, "granted": False}
    end = time.monotonic() + 3 * STEP_TIMEOUT
    try:
        while _origin(driver.current_url) not in leaving_to:
            assert time.monotonic() < end, f"still at glewlwyd ({driver.current_url[:80]!r}) after signing in and consenting"
            try:
                _glewlwyd_step(driver, shots, glewlwyd, state)
            except StaleElementReferenceException:
                pass
    except NoSuchWindowException:
        pass


def _connect_in_page(driver, shots, console, glewlwyd, stack, created: dict, leaving_to: set[str]) -> None:
    driver.get(created["connectUrl"])
    heading = _one(driver, "#heading", "the hosted page's heading").text
    assert "Connect Glewlwyd to Derek" in heading, f"the hosted page says {heading!r}"
    shots.take(driver, "hosted-page")
    _one(driver, "#connect", "the Connect button").click()
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Connect on the hosted page")
    _consent(driver, shots, glewlwyd, leaving_to)


def test_two_end_users_connect_through_the_hosted_page_and_land_on_the_app(world, glewlwyd, browser):
    stack, site, app_key = world
    driver, shots, console = browser
    credentials = set()
    tokens = set()
    for user in ("user_sarah_123", "user_tom_456"):
        created = _session(stack, app_key, user, site.origin + "/back")
        _connect_in_page(driver, shots, console, glewlwyd, stack, created, {site.origin})
        wait_until(lambda: _origin(driver.current_url) == site.origin, timeout=STEP_TIMEOUT, what="landing on the app's redirect URL")
        shots.take(driver, f"back-at-app-{user}")
        landed = json.loads(_one(driver, "#query", "the app's page").text)
        assert landed == {"session_id": created["id"], "status": "success"}, f"the app was told {landed}"
        console.assert_no_csp_violation(f"connecting {user}")
        read = _read(stack, app_key, created["id"])
        assert read["status"] == "completed" and read.get("credentialId"), f"the session reads {read}"
        credential = stack.api.get(stack.url(f"/api/v1/credentials/{read['credentialId']}"), timeout=20).json()
        assert credential.get("externalUserId") == user, f"the credential belongs to {credential.get('externalUserId')!r}"
        credentials.add(read["credentialId"])
        # The app gets its user's token with its own key (the admin key is not needed for any of it).
        r = requests.post(stack.url("/api/v1/credentials/token"), json={"integration": KEY, "externalUserId": user},
                          headers={"Authorization": f"Bearer {app_key}"}, timeout=20)
        assert r.status_code == 200, f"token by app key → HTTP {r.status_code}: {r.text[:300]}"
        token = r.json()
        assert token.get("credentialId") == read["credentialId"] and token.get("accessToken"), f"the token answer is {sorted(token)}"
        tokens.add(token["accessToken"])
        # The link is single use.
        driver.get(created["connectUrl"])
        assert "already used" in driver.page_source, "a used link was not refused with a clear page"
    assert len(credentials) == 2, "each end user has their own credential"
    assert len(tokens) == 2, "each end user has their own access token"


def test_the_popup_through_connect_js_resolves_with_the_outcome(world, glewlwyd, browser):
    stack, site, app_key = world
    driver, shots, console = browser
    created = _session(stack, app_key, "user_popup_789", None)
    driver.get(site.origin + "/popup?" + urllib.parse.urlencode({"connect": created["connectUrl"]}))
    opener = driver.current_window_handle
    _one(driver, "#open", "the app's Connect button").click()
    wait_until(lambda: len(driver.window_handles) == 2, timeout=STEP_TIMEOUT, what="connect.js to open the popup")
    popup = next(h for h in driver.window_handles if h != opener)
    driver.switch_to.window(popup)
    wait_until(lambda: _css_text(driver, "#heading"), timeout=STEP_TIMEOUT, what="the hosted page in the popup")
    shots.take(driver, "popup-hosted-page")
    _one(driver, "#connect", "the Connect button").click()
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Connect in the popup")
    _consent(driver, shots, glewlwyd, {_origin(stack.public_url)})
    driver.switch_to.window(opener)
    wait_until(lambda: _css_text(driver, "#result"), timeout=STEP_TIMEOUT, what="connect.js to resolve with the outcome")
    shots.take(driver, "popup-resolved")
    result = json.loads(_css_text(driver, "#result"))
    assert result == {"sessionId": created["id"], "status": "success"}, f"connect.js resolved with {result}"
    assert _read(stack, app_key, created["id"])["status"] == "completed"


def _css_text(driver, selector: str) -> str:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].text if found else ""
