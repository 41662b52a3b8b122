"""Single sign-on in a real browser with glewlwyd (Tests/peers/glewlwyd) as the OpenID Connect provider of an
`oidc` integration with sign-in turned on: headless Chromium presses *Sign in with Glewlwyd* on Latchkey's sign-in
page, signs in at glewlwyd (its own origin) and comes back signed in. glewlwyd signs its ID tokens with an RSA key
made by provision.py (`--jwt-type rsa`), so Latchkey checks them against glewlwyd's JWKS; `--email-verified` makes
them say the address is confirmed, which just-in-time accounts require.

- a person glewlwyd knows gets an account just in time and lands in the Connection Center; signed out and in again,
  the same account;
- a person with a password links glewlwyd from Settings (a POST on the signed-in pages) and then signs in with it.

One glewlwyd (users alice and bob) and one `latchkey serve --allow-private-network` per database kind.
Screenshots go to <artifacts>/screenshots/sso-glewlwyd-<test>-NN-<step>.png.
"""

from __future__ import annotations

import time
import urllib.parse

import pytest
import requests

from conftest import _make_database
from peers import Glewlwyd, chromium_for_test, chromium_problem, glewlwyd_problem, need_peer, wait_until
from webtools import WebStack

KEY = "glewlwyd"
# The same glewlwyd as a plain OAuth provider whose user-info says who the person is (social sign-in).
SOCIAL_KEY = "glewlwyd-oauth"
STEP_TIMEOUT = 20
SESSION_COOKIE = "latchkey_session"
USERS = {"alice": "alice-password-1", "bob": "bob-password-1"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(glewlwyd_problem(), "glewlwyd (the single sign-on provider)")
    glewlwyd = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-sso-state")).start()
    workdir = tmp_path_factory.mktemp(f"latchkey-sso-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    try:
        for username, password in USERS.items():
            doc = glewlwyd.provision([stack.public_url + "/login/sso/callback"], "--jwt-type", "rsa", "--email-verified",
                                     "--username", username, "--password", password)
        stack.start()
        body = {"provider": "oidc", "key": KEY, "displayName": "Glewlwyd", "scopes": ["openid"],
                "clientId": doc["client"]["client_id"], "clientSecret": doc["client"]["client_secret"],
                "settings": {"discoveryURL": doc["discovery_url"]}}
        r = stack.api.post(stack.url("/api/v1/integrations"), json=body, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations → HTTP {r.status_code}: {r.text[:300]}"
        r = stack.api.put(stack.url(f"/api/v1/sign-in/providers/{KEY}"), timeout=20,
                          json={"enabled": True, "createUsers": True, "allowedDomains": ["example.test"]})
        assert r.status_code == 200, f"PUT /api/v1/sign-in/providers/{KEY} → HTTP {r.status_code}: {r.text[:300]}"
        assert r.json()["kind"] == "oidc"
        social = {"provider": "oauth2", "key": SOCIAL_KEY, "displayName": "Glewlwyd OAuth", "scopes": ["read"],
                  "clientId": doc["client"]["client_id"], "clientSecret": doc["client"]["client_secret"],
                  "settings": {"authorizationURL": doc["authorization_endpoint"], "tokenURL": doc["token_endpoint"],
                               "userInfoURL": doc["userinfo_endpoint"]}}
        r = stack.api.post(stack.url("/api/v1/integrations"), json=social, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations ({SOCIAL_KEY}) → HTTP {r.status_code}: {r.text[:300]}"
        r = stack.api.put(stack.url(f"/api/v1/sign-in/providers/{SOCIAL_KEY}"), timeout=20,
                          json={"enabled": True, "createUsers": False, "allowedDomains": []})
        assert r.status_code == 200, f"PUT /api/v1/sign-in/providers/{SOCIAL_KEY} → HTTP {r.status_code}: {r.text[:300]}"
        assert r.json()["kind"] == "social"
        yield stack, glewlwyd
    finally:
        stack.stop()
        gen.close()
        glewlwyd.stop()


@pytest.fixture
def browser(request):
    return chromium_for_test(request, "sso-glewlwyd")


def _css(scope, selector: str):
    from selenium.webdriver.common.by import By

    return scope.find_elements(By.CSS_SELECTOR, selector)


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _at_glewlwyd_until_back(driver, shots, stack: WebStack, username: str) -> None:
    """Play the person at glewlwyd's pages (sign in, grant, continue) until the browser is back at Latchkey."""
    from selenium.common.exceptions import StaleElementReferenceException

    state = {"signed_in": False, "granted": False}
    end = time.monotonic() + 3 * STEP_TIMEOUT
    while _origin(driver.current_url) != _origin(stack.public_url):
        assert time.monotonic() < end, f"still at glewlwyd ({_path(driver)!r}) after signing in and consenting"
        try:
            fields = [el for el in _css(driver, "#username") if el.is_displayed()]
            if fields and not state["signed_in"]:
                shots.take(driver, "glewlwyd-login")
                fields[0].send_keys(username)
                _css(driver, "#password")[0].send_keys(USERS[username])
                _css(driver, "#loginbut")[0].click()
                state["signed_in"] = True
                continue
            boxes = [b for b in _css(driver, "input[type=checkbox][id^=grant-]") if b.is_displayed() and b.is_enabled() and not b.is_selected()]
            grant = [b for b in _css(driver, "button") if b.is_displayed() and b.text.strip() == "Grant access"]
            if boxes and grant and not state["granted"]:
                for box in boxes:
                    box.click()
                grant[0].click()
                state["granted"] = True
                time.sleep(0.5)
                continue
            go = [b for b in _css(driver, "button") if b.is_displayed() and b.is_enabled() and b.text.strip() == "Continue"]
            if go and not boxes:
                here = driver.current_url
                go[0].click()
                wait_until(lambda: driver.current_url != here, timeout=STEP_TIMEOUT, what="glewlwyd's Continue")
                continue
        except StaleElementReferenceException:
            pass
        time.sleep(0.2)


def _sign_in_with_glewlwyd(driver, shots, stack: WebStack, username: str, key: str = KEY, name: str = "Glewlwyd") -> None:
    driver.get(stack.url("/login?next=/connections"))
    buttons = _css(driver, f'a.sso-provider[data-integration="{key}"]')
    assert buttons and buttons[0].text == f"Sign in with {name}", f"the sign-in page shows no Sign in with {name} button"
    shots.take(driver, "sign-in-page")
    buttons[0].click()
    wait_until(lambda: _origin(driver.current_url) != _origin(stack.public_url) or _path(driver) == "/connections",
               timeout=STEP_TIMEOUT, what="the button to lead to glewlwyd")
    _at_glewlwyd_until_back(driver, shots, stack, username)
    wait_until(lambda: _path(driver) == "/connections", timeout=STEP_TIMEOUT,
               what=f"back at the Connection Center (at {_path(driver)!r}: {_css(driver, 'body')[0].text[:300]!r})")
    shots.take(driver, "connection-center")


def _sign_in_with_password(driver, stack: WebStack, user) -> None:
    driver.get(stack.url("/login?next=/connections"))
    _css(driver, "input[name=email]")[0].send_keys(user.email)
    _css(driver, "input[name=password]")[0].send_keys(user.password)
    _css(driver, "#sign-in")[0].click()
    wait_until(lambda: _path(driver) == "/connections", what="signing in with the password")


def _users(stack: WebStack) -> list[dict]:
    r = stack.api.get(stack.url("/api/v1/users"), timeout=20)
    assert r.status_code == 200
    body = r.json()
    return body.get("items", body.get("users", [])) if isinstance(body, dict) else body


def _last_sign_in(stack: WebStack) -> dict:
    r = stack.api.get(stack.url("/api/v1/audit"), params={"action": "user.sign_in", "limit": 200}, timeout=20)
    assert r.status_code == 200
    body = r.json()
    events = [e for e in body.get("items", body.get("events", [])) if e.get("action") == "user.sign_in"]
    assert events, "no user.sign_in event"
    return max(events, key=lambda e: e.get("seq", 0))


def test_sign_in_creates_the_account_then_finds_it_again(world, browser):
    stack, _ = world
    driver, shots = browser
    _sign_in_with_glewlwyd(driver, shots, stack, "alice")
    alice = [u for u in _users(stack) if u.get("email") == "alice@example.test"]
    assert len(alice) == 1, "signing in with glewlwyd did not create alice's account"
    first = _last_sign_in(stack)
    assert first["target"] == alice[0]["id"] and first["details"]["method"] == "oidc"

    # Signed out (the session cookie gone) and in again: the same account.
    driver.delete_cookie(SESSION_COOKIE)
    _sign_in_with_glewlwyd(driver, shots, stack, "alice")
    assert len([u for u in _users(stack) if u.get("email") == "alice@example.test"]) == 1, "a second account was made"
    again = _last_sign_in(stack)
    assert again["target"] == alice[0]["id"] and again.get("seq") != first.get("seq")


def test_a_password_user_links_glewlwyd_and_signs_in_with_it(world, browser):
    stack, _ = world
    driver, shots = browser
    user = stack.new_user("linker")
    _sign_in_with_password(driver, stack, user)
    # Settings › Linked accounts offers a button per sign-in provider of the organization.
    driver.get(stack.url("/settings/identities"))
    _css(driver, f"button.sso-link[data-integration='{KEY}']")[0].click()
    wait_until(lambda: _origin(driver.current_url) != _origin(stack.public_url), timeout=STEP_TIMEOUT,
               what="the link to lead to glewlwyd")
    _at_glewlwyd_until_back(driver, shots, stack, "bob")
    wait_until(lambda: _path(driver) == "/settings/identities", timeout=STEP_TIMEOUT,
               what=f"back at Settings after linking (at {_path(driver)!r})")
    r = stack.api.get(stack.url("/api/v1/audit"), params={"limit": 200}, timeout=20)
    events = r.json().get("items", r.json().get("events", []))
    assert any(e.get("action") == "identity.link" and e.get("target") == user.id for e in events), "no identity.link event"

    driver.delete_cookie(SESSION_COOKIE)
    _sign_in_with_glewlwyd(driver, shots, stack, "bob")
    last = _last_sign_in(stack)
    assert last["target"] == user.id and last["details"]["method"] == "oidc", "glewlwyd did not sign the linked person in"
    assert not [u for u in _users(stack) if u.get("email") == "bob@example.test"], "an account was made for bob"


def test_a_password_user_links_a_plain_oauth_provider_and_signs_in_by_its_user_info(world, browser):
    """Social sign-in: no id_token, the provider's user-info names the person (glewlwyd as a plain OAuth server)."""
    stack, _ = world
    driver, shots = browser
    user = stack.new_user("social")
    _sign_in_with_password(driver, stack, user)
    driver.get(stack.url("/settings/identities"))
    links = _css(driver, f"button.sso-link[data-integration='{SOCIAL_KEY}']")
    assert links, "Linked accounts offers no button for the OAuth provider"
    links[0].click()
    wait_until(lambda: _origin(driver.current_url) != _origin(stack.public_url), timeout=STEP_TIMEOUT,
               what="the link to lead to glewlwyd")
    _at_glewlwyd_until_back(driver, shots, stack, "alice")
    wait_until(lambda: _path(driver) == "/settings/identities", timeout=STEP_TIMEOUT,
               what=f"back at Settings after linking (at {_path(driver)!r})")
    assert "Glewlwyd OAuth" in _css(driver, "body")[0].text, "Linked accounts does not list the provider"

    driver.delete_cookie(SESSION_COOKIE)
    _sign_in_with_glewlwyd(driver, shots, stack, "alice", key=SOCIAL_KEY, name="Glewlwyd OAuth")
    last = _last_sign_in(stack)
    assert last["target"] == user.id and last["details"]["method"] == "social", "the OAuth provider did not sign the linked person in"
