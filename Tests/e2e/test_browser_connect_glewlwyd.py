"""Connect in a real browser to a provider on another origin: headless Chromium clicks
*Connect* in the Connection Center, lands on glewlwyd (Tests/peers/glewlwyd, on its own
port, so another origin), signs in there and consents, comes back through
`/connect/callback` and sees the account listed. Also *Reconnect*, and a denial whose
*Try again* button leads to glewlwyd again.

Chromium applies a page's CSP `form-action` to the redirect that follows a form POST, so
a Connection Center that allowed only `'self'` kept the browser on /connections (an HTTP
client in a test never notices). Every browser console message is collected and any CSP
violation fails the test.

One glewlwyd and one `latchkey serve --allow-private-network` (SQLite) per module, with
three integrations of glewlwyd: generic `oidc` (endpoints from its discovery document) and
generic `oauth2` (endpoints set by the admin), and an `oauth2` one whose authorization endpoint
has a host name no CSP source can name (the browser maps it to 127.0.0.1), reached through
Latchkey's own continue page. Screenshots go to
<artifacts>/screenshots/glewlwyd-browser-<test>-NN-<step>.png.
"""

from __future__ import annotations

import re
import time
import urllib.parse

import pytest

from conftest import _make_database
from peers import Glewlwyd, chromium_for_test, chromium_problem, glewlwyd_problem, need_peer, query_of, wait_until
from webtools import WebStack

OIDC = "glewlwyd"
OAUTH2 = "glewlwyd-oauth2"
# glewlwyd under a host name with an underscore: a valid URL that no CSP source can name. Only the
# browser goes there (mapped to 127.0.0.1); Latchkey talks to glewlwyd at 127.0.0.1.
UNNAMED = "glewlwyd-unnamed"
UNNAMED_HOST = "glewlwyd_peer.test"
GLEWLWYD_SESSION_COOKIE = "GLEWLWYD2_SESSION_ID"
STEP_TIMEOUT = 20


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server these tests connect to)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-browser-state")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(glewlwyd, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("latchkey-glewlwyd-browser")
    gen = _make_database("sqlite", workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    try:
        doc = glewlwyd.provision([stack.public_url + "/connect/callback"], "--pkce-required")
        stack.start()
        client = {"clientId": doc["client"]["client_id"], "clientSecret": doc["client"]["client_secret"]}
        bodies = [
            {"provider": "oidc", "key": OIDC, "displayName": "Glewlwyd", "scopes": ["openid", "read"],
             "settings": {"discoveryURL": doc["discovery_url"]}, **client},
            {"provider": "oauth2", "key": OAUTH2, "displayName": "Glewlwyd OAuth", "scopes": ["read"],
             "settings": {"authorizationURL": doc["authorization_endpoint"], "tokenURL": doc["token_endpoint"],
                          "userInfoURL": doc["userinfo_endpoint"], "revocationURL": doc["revocation_endpoint"]}, **client},
            {"provider": "oauth2", "key": UNNAMED, "displayName": "Glewlwyd elsewhere", "scopes": ["read"],
             "settings": {"authorizationURL": doc["authorization_endpoint"].replace("127.0.0.1", UNNAMED_HOST, 1),
                          "tokenURL": doc["token_endpoint"], "userInfoURL": doc["userinfo_endpoint"]}, **client},
        ]
        for body in bodies:
            r = stack.api.post(stack.url("/api/v1/integrations"), json=body, timeout=20)
            assert r.status_code == 201, f"POST /api/v1/integrations ({body['key']}) → HTTP {r.status_code}: {r.text[:300]}"
        yield stack
    finally:
        stack.stop()
        gen.close()


class Console:
    """Every console message of the browser (Chromium's `goog:loggingPrefs` browser log)."""

    def __init__(self, driver):
        self.driver = driver
        self.messages: list[str] = []

    def read(self) -> list[str]:
        try:
            self.messages += [entry.get("message", "") for entry in self.driver.get_log("browser")]
        except Exception:  # noqa: BLE001 - a closed window has no log left to read
            pass
        return self.messages

    def csp_violations(self) -> list[str]:
        return [m for m in self.read() if "Content Security Policy" in m or "Content-Security-Policy" in m]

    def assert_no_csp_violation(self, what: str) -> None:
        found = self.csp_violations()
        assert not found, f"{what}: the browser reported a CSP violation: {found[0][:400]}"


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "glewlwyd-browser", extra_args=(f"--host-resolver-rules=MAP {UNNAMED_HOST} 127.0.0.1",))
    return driver, shots, Console(driver)


# --------------------------------------------------------------------------
# helpers


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _css(scope, selector: str):
    from selenium.webdriver.common.by import By

    return scope.find_elements(By.CSS_SELECTOR, selector)


def _one(scope, selector: str, what: str):
    found = _css(scope, selector)
    assert found, f"no {what} ({selector})"
    return found[0]


def _flash(driver) -> str:
    found = _css(driver, ".flash")
    return found[0].text if found else ""


def _click_form_button(scope, action_suffix: str, what: str) -> None:
    for form in _css(scope, "form"):
        if urllib.parse.urlsplit(form.get_attribute("action") or "").path.endswith(action_suffix):
            buttons = _css(form, "button, input[type=submit]")
            assert buttons, f"the {what} form has no button"
            buttons[0].click()
            return
    raise AssertionError(f"no form posting to …{action_suffix} ({what})")


def _sign_in(driver, shots, stack: WebStack, user) -> None:
    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "input[name=email]", "email field").send_keys(user.email)
    _one(driver, "input[name=password]", "password field").send_keys(user.password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/connections", what="signing in leads to the Connection Center")
    shots.take(driver, "connection-center")


def _arrive_at_glewlwyd(driver, console: Console, glewlwyd: Glewlwyd, what: str) -> None:
    """The click must take the browser to glewlwyd's origin; a blocked form leaves it where it was."""
    targets = {glewlwyd.doc["base_url"], glewlwyd.doc["base_url"].replace("127.0.0.1", UNNAMED_HOST, 1)}
    end = time.monotonic() + STEP_TIMEOUT
    while _origin(driver.current_url) not in targets:
        console.assert_no_csp_violation(what)
        if time.monotonic() >= end:
            raise AssertionError(f"{what}: the browser stayed on {_path(driver)!r} instead of going to glewlwyd")
        time.sleep(0.1)


def _sign_in_and_consent_at_glewlwyd(driver, shots, glewlwyd: Glewlwyd, stack: WebStack) -> None:
    """Play the person at glewlwyd's own pages (a JavaScript app): sign in, tick the scopes, grant,
    continue; done when the browser is back on Latchkey's origin."""
    from selenium.common.exceptions import StaleElementReferenceException

    state = {"signed_in": False, "granted": False}
    end = time.monotonic() + 3 * STEP_TIMEOUT
    while _origin(driver.current_url) != _origin(stack.public_url):
        if time.monotonic() >= end:
            raise AssertionError(f"still at glewlwyd ({_path(driver)!r}) after signing in and consenting")
        try:
            _glewlwyd_step(driver, shots, glewlwyd, state)
        except StaleElementReferenceException:
            pass  # glewlwyd's page re-rendered under us: look again


def _glewlwyd_step(driver, shots, glewlwyd: Glewlwyd, state: dict) -> None:
    """One action on glewlwyd's current screen, if it is ready for one."""
    user = glewlwyd.doc["user"]
    fields = [el for el in _css(driver, "#username") if el.is_displayed()]
    if fields and not state["signed_in"]:
        shots.take(driver, "glewlwyd-login")
        fields[0].send_keys(user["username"])
        _one(driver, "#password", "glewlwyd password field").send_keys(user["password"])
        _one(driver, "#loginbut", "glewlwyd login button").click()
        state["signed_in"] = True
        return
    boxes = [b for b in _css(driver, "input[type=checkbox][id^=grant-]") if b.is_displayed() and b.is_enabled() and not b.is_selected()]
    grant = [b for b in _css(driver, "button") if b.is_displayed() and b.text.strip() == "Grant access"]
    if boxes and grant and not state["granted"]:
        shots.take(driver, "glewlwyd-consent")
        for box in boxes:
            box.click()
        grant[0].click()
        state["granted"] = True
        time.sleep(0.5)
        return
    go = [b for b in _css(driver, "button") if b.is_displayed() and b.is_enabled() and b.text.strip() == "Continue"]
    if go and not boxes:
        shots.take(driver, "glewlwyd-continue")
        here = driver.current_url
        go[0].click()
        wait_until(lambda: driver.current_url != here, timeout=STEP_TIMEOUT, what="glewlwyd's Continue to leave its page")
        return
    time.sleep(0.2)


def _back_at_connections(driver, shots, console: Console, word: str, what: str) -> None:
    wait_until(lambda: _path(driver) == "/connections", timeout=STEP_TIMEOUT,
               what=f"{what}: back at the Connection Center (at {_path(driver)!r})")
    wait_until(lambda: word in _flash(driver).lower(), timeout=STEP_TIMEOUT, what=f"{what}: the '{word}' message")
    shots.take(driver, word)
    console.assert_no_csp_violation(what)


def _card(driver, key: str):
    cards = _css(driver, f'li.connection[data-integration="{key}"]')
    assert len(cards) == 1, f"{len(cards)} {key} connections listed, want 1"
    return cards[0]


def _connect(driver, shots, console: Console, glewlwyd: Glewlwyd, stack: WebStack, key: str) -> str:
    """Connect `key` from the Connection Center through glewlwyd; returns the credential id listed."""
    card = _one(driver, f'li.service[data-integration="{key}"]', f"{key} service card")
    _click_form_button(card, f"/connections/{key}/connect", f"Connect {key}")
    _arrive_at_glewlwyd(driver, console, glewlwyd, f"Connect {key}")
    shots.take(driver, "at-glewlwyd")
    _sign_in_and_consent_at_glewlwyd(driver, shots, glewlwyd, stack)
    _back_at_connections(driver, shots, console, "connected", f"Connect {key}")
    card = _card(driver, key)
    account = _one(card, ".account", "account on the connection card").text
    assert "alice" in account.lower(), f"the {key} card shows account {account!r}, want glewlwyd's alice"
    cred_id = card.get_attribute("data-credential-id")
    assert cred_id, "the connection card has no data-credential-id"
    return cred_id


# --------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("key", [OIDC, OAUTH2])
def test_connect_goes_to_glewlwyd_and_back(stack, glewlwyd, browser, key):
    driver, shots, console = browser
    _sign_in(driver, shots, stack, stack.new_user("chromium-connect"))
    assert not _css(driver, f'li.connection[data-integration="{key}"]'), "a new user already has a connection"
    cred_id = _connect(driver, shots, console, glewlwyd, stack, key)
    assert cred_id in {c["id"] for c in stack.credentials(key)}, "the API does not list the credential the page shows"
    console.assert_no_csp_violation("the whole connect")


def test_reconnect_goes_to_glewlwyd_and_back(stack, glewlwyd, browser):
    driver, shots, console = browser
    _sign_in(driver, shots, stack, stack.new_user("chromium-reconnect"))
    cred_id = _connect(driver, shots, console, glewlwyd, stack, OIDC)
    first = stack.reveal(cred_id).get("accessToken")

    # Without its session glewlwyd asks to sign in again, so the browser visibly lands there.
    driver.delete_cookie(GLEWLWYD_SESSION_COOKIE)
    _click_form_button(_card(driver, OIDC), f"/connections/{cred_id}/reconnect", "Reconnect")
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Reconnect")
    shots.take(driver, "reconnect-at-glewlwyd")
    _sign_in_and_consent_at_glewlwyd(driver, shots, glewlwyd, stack)
    _back_at_connections(driver, shots, console, "reconnected", "Reconnect")
    assert _card(driver, OIDC).get_attribute("data-credential-id") == cred_id, "Reconnect listed another credential"
    assert stack.reveal(cred_id).get("accessToken") != first, "Reconnect did not store glewlwyd's new token"


def test_denial_then_try_again_goes_to_glewlwyd(stack, glewlwyd, browser):
    driver, shots, console = browser
    _sign_in(driver, shots, stack, stack.new_user("chromium-denied"))
    card = _one(driver, f'li.service[data-integration="{OIDC}"]', "glewlwyd service card")
    _click_form_button(card, f"/connections/{OIDC}/connect", "Connect")
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Connect")
    shots.take(driver, "at-glewlwyd")

    # glewlwyd has no deny button: send the browser back the way a provider reports a refusal.
    authorize = query_of(driver.current_url).get("callback_url") or driver.current_url
    state = query_of(authorize).get("state")
    assert state, "the authorization request at glewlwyd carries no state"
    driver.get(stack.url("/connect/callback?" + urllib.parse.urlencode({"error": "access_denied", "state": state})))
    wait_until(lambda: _css(driver, "#try-again"), timeout=STEP_TIMEOUT, what="a 'Try again' button after the denial")
    shots.take(driver, "denied")
    body = _one(driver, "body", "page body").text
    assert not re.search(r"traceback|exception|fatal", body, re.I), "the denial page shows internals"
    assert not _css(driver, f'li.connection[data-integration="{OIDC}"]')

    _one(driver, "#try-again", "Try again button").click()
    _arrive_at_glewlwyd(driver, console, glewlwyd, "Try again")
    shots.take(driver, "try-again-at-glewlwyd")
    _sign_in_and_consent_at_glewlwyd(driver, shots, glewlwyd, stack)
    _back_at_connections(driver, shots, console, "connected", "Connect after Try again")
    _card(driver, OIDC)
    console.assert_no_csp_violation("denial and Try again")


def test_a_provider_no_policy_can_name_is_reached_through_a_page_of_our_own(stack, glewlwyd, browser):
    driver, shots, console = browser
    _sign_in(driver, shots, stack, stack.new_user("chromium-unnamed"))
    cred_id = _connect(driver, shots, console, glewlwyd, stack, UNNAMED)
    assert cred_id in {c["id"] for c in stack.credentials(UNNAMED)}, "the API does not list the credential the page shows"
    console.assert_no_csp_violation("connect through the intermediate page")
