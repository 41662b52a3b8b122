"""Passkeys in a real browser: headless Chromium with a virtual authenticator (CTAP2, built in, resident keys,
user verification) against `latchkey serve`, on SQLite and PostgreSQL.

A person signs in with their password, adds a passkey on Settings → Passkeys, signs out, and signs in again with
the passkey alone (no email typed) into the Connection Center. A copy of the authenticator whose signature counter
is behind (a cloned key) is refused and audited. Once the authenticator forgets its credential, the passkey button
fails with a plain message in the page's alert box. WebAuthn needs a secure context: the public URL
is `http://localhost:<port>`, which browsers count as one.

Screenshots: <artifacts>/screenshots/passkeys-<test>-NN-<step>.png.
"""

from __future__ import annotations

import urllib.parse

import pytest

from conftest import LatchkeyServer
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import WebStack, accessibility_problems


@pytest.fixture
def stack(database, tmp_path):
    need_peer(chromium_problem(), "headless Chromium")
    stack = WebStack(database, tmp_path)
    # The relying party is the public URL's host; localhost is a secure context for the browser.
    stack.public_url = f"http://localhost:{stack.port}"
    args = [*database.cli_args, "--port", str(stack.port), "--public-url", stack.public_url]
    stack.server = LatchkeyServer(stack.cwd, args=args, env=database.server_env())
    stack.start()
    stack.base_url = stack.public_url
    try:
        yield stack
    finally:
        stack.stop()


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _one(driver, selector: str, what: str):
    found = _css(driver, selector)
    assert found, f"no {what} on {_path(driver)} ({selector})"
    return found[0]


def _wait_path(driver, path: str, what: str) -> None:
    wait_until(lambda: _path(driver) == path, what=f"{what} (at {_path(driver)!r}, want {path!r})")


def _virtual_authenticator(driver) -> str:
    from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions

    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True, has_user_verification=True,
        is_user_verified=True))
    return driver.virtual_authenticator_id


def _alert(driver) -> str:
    def shown():
        boxes = [box for box in _css(driver, "#passkey-error") if box.is_displayed() and box.text.strip()]
        return boxes[0].text.strip() if boxes else None

    return wait_until(shown, what=f"the passkey error box on {_path(driver)}")


def _sign_in_with_a_copy(driver, stack, credential) -> None:
    """Replace the device's credential by a copy whose signature counter starts over, sign out, press the button."""
    from selenium.webdriver.common.virtual_authenticator import Credential

    copy = credential.to_dict()
    copy["signCount"] = 0
    driver.remove_all_credentials()
    driver.add_credential(Credential.from_dict(copy))
    _one(driver, "form[action='/logout'] button", "sign-out button").click()
    _wait_path(driver, "/login", "sign-out leads to the sign-in page")
    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "#passkey-sign-in", "passkey sign-in button").click()


def test_a_passkey_added_in_settings_signs_in_without_a_password(request, stack):
    user = stack.new_user("passkey", name="Pat Passkey")
    driver, shots = chromium_for_test(request, "passkeys")
    _virtual_authenticator(driver)

    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "#email", "email field").send_keys(user.email)
    _one(driver, "#password", "password field").send_keys(user.password)
    _one(driver, "#sign-in", "sign-in button").click()
    _wait_path(driver, "/connections", "password sign-in leads to the Connection Center")

    driver.get(stack.url("/settings/passkeys"))
    shots.take(driver, "settings")
    assert not accessibility_problems(driver.page_source), accessibility_problems(driver.page_source)
    add = _one(driver, "#add-passkey", "add-passkey button")
    assert add.is_displayed(), "the script shows the add button in a browser that can use passkeys"
    assert not _one(driver, "#passkey-unavailable", "no-JavaScript note").is_displayed()
    _one(driver, "#passkey-name", "passkey name field").send_keys("Test laptop")
    add.click()
    wait_until(lambda: "Passkey “Test laptop” added." in driver.page_source, what="the added passkey's message")
    shots.take(driver, "added")
    assert "<h3>Test laptop</h3>" in driver.page_source
    credentials = driver.get_credentials()
    assert len(credentials) == 1 and credentials[0].is_resident_credential, "one discoverable credential on the device"

    _one(driver, "form[action='/logout'] button", "sign-out button").click()
    _wait_path(driver, "/login", "sign-out leads to the sign-in page")
    driver.get(stack.url("/login?next=/connections"))
    button = _one(driver, "#passkey-sign-in", "passkey sign-in button")
    assert button.is_displayed()
    shots.take(driver, "sign-in-page")
    button.click()
    _wait_path(driver, "/connections", "passkey sign-in leads to the Connection Center")
    shots.take(driver, "signed-in")
    driver.get(stack.url("/settings/passkeys"))
    assert "last used never" not in driver.page_source, "the passkey's last use is shown"

    # A copy of the authenticator whose signature counter is behind the server's (a cloned key): refused, audited.
    [credential] = driver.get_credentials()
    assert credential.sign_count > 0, "the virtual authenticator counts its signatures"
    _sign_in_with_a_copy(driver, stack, credential)
    message = _alert(driver)
    shots.take(driver, "cloned-refused")
    assert "may have been copied" in message, message
    assert _path(driver) == "/login"
    r = stack.api.get(stack.url("/api/v1/audit"), params={"action": "user.sign_in", "limit": 200}, timeout=20)
    assert r.status_code == 200
    refusals = [e for e in r.json().get("items", r.json().get("events", []))
                if e.get("action") == "user.sign_in" and e.get("result") == "failure"]
    assert any(e["details"].get("reason") == "possible_cloned_authenticator" for e in refusals), refusals

    # The device forgets the passkey: the next sign-in fails in plain words.
    driver.remove_all_credentials()
    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "#passkey-sign-in", "passkey sign-in button").click()
    message = _alert(driver)
    shots.take(driver, "no-passkey")
    assert message.startswith("No passkey was used"), message
    assert _path(driver) == "/login"


def test_without_javascript_the_page_says_passkeys_need_it(request, stack):
    user = stack.new_user("nojs")
    driver, shots = chromium_for_test(request, "passkeys", javascript=False)
    driver.get(stack.url("/login"))
    note = _one(driver, "#passkey-unavailable", "passkey note")
    assert note.is_displayed() and "needs JavaScript" in note.text
    assert not _one(driver, "#passkey-sign-in", "passkey sign-in button").is_displayed()
    _one(driver, "#email", "email field").send_keys(user.email)
    _one(driver, "#password", "password field").send_keys(user.password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) != "/login", what="password sign-in without JavaScript")
    driver.get(stack.url("/settings/passkeys"))
    shots.take(driver, "settings")
    assert "Adding a passkey needs JavaScript" in _one(driver, "#passkey-unavailable", "passkey note").text
    assert not _one(driver, "#add-passkey", "add-passkey button").is_displayed()
