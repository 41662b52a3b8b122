"""The banner of a credential that needs reconnecting, in Chromium: on the Connection Center (with a Reconnect
button that goes through the provider and clears it) and on the administrator's overview (a link to the card)."""

from __future__ import annotations

import urllib.parse

import pytest

from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import accessibility_problems, started_stack, users_create, User


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    yield from started_stack(tmp_path_factory, "latchkey-reauth")


@pytest.fixture
def browser(request):
    return chromium_for_test(request, "reauth")


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _css(driver, selector: str):
    return driver.find_elements("css selector", selector)


def _one(driver, selector: str, what: str):
    found = _css(driver, selector)
    assert found, f"no {what} on {_path(driver)} ({selector})"
    return found[0]


def _accessible(driver, what: str) -> None:
    problems = accessibility_problems(driver.page_source)
    assert not problems, f"{what}: accessibility problems: {problems}"


def test_a_credential_needing_reconnection_shows_a_banner_until_reconnected(demo, browser):
    driver, shots = browser
    email, password = "rae-admin@example.test", "pw-reauth-banner-test-1"
    user = User(email, password, users_create(demo.db, demo.cwd, email, password, name="Rae Admin", admin=True))

    # A sandbox account whose refresh token the sandbox does not know: the next refresh is refused for good.
    created = demo.api.post(demo.url("/api/v1/credentials"), json={
        "integration": "sandbox", "externalUserId": user.id, "type": "oauth2", "accessToken": "stale-access-token-1",
        "refreshToken": "stale-refresh-token-1", "expiresAt": "2020-01-01T00:00:00Z"}, timeout=20)
    assert created.status_code == 201, created.text[:300]
    cred_id = created.json()["id"]
    token = demo.api.post(demo.url("/api/v1/credentials/token"), json={"integration": "sandbox", "externalUserId": user.id}, timeout=20)
    assert token.status_code == 409 and token.json()["error"]["code"] == "needs_reauth", token.text[:300]

    driver.get(demo.url("/login?next=/connections"))
    _one(driver, "input[name=email]", "email field").send_keys(email)
    _one(driver, "input[name=password]", "password field").send_keys(password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/connections", what="the Connection Center after sign-in")
    banner = _one(driver, "#reauth-banner", "re-authorization banner")
    shots.take(driver, "connection-center-banner")
    assert banner.get_attribute("role") == "alert"
    assert banner.is_displayed()
    line = _one(driver, f'#reauth-banner li[data-credential-id="{cred_id}"]', "the credential's line in the banner")
    assert "stopped working" in line.text and "sign in again" in line.text, line.text
    assert "stale-" not in driver.page_source, "a token reached the page"
    _accessible(driver, "Connection Center with the banner")

    # The overview says it too, with a link to the card.
    driver.get(demo.url("/admin"))
    wait_until(lambda: _path(driver) == "/admin", what="the overview")
    link = _one(driver, "#reauth-banner a.reconnect-link", "Reconnect link on the overview")
    shots.take(driver, "overview-banner")
    _accessible(driver, "overview with the banner")
    link.click()
    wait_until(lambda: _path(driver) == "/connections", what="the link leads to the Connection Center")
    assert urllib.parse.urlsplit(driver.current_url).fragment == f"connection-{cred_id}"
    assert _css(driver, f"#connection-{cred_id}"), "the link's target card is not on the page"

    # Reconnect from the banner: through the sandbox's consent page and back; the banner is gone.
    _one(driver, "#reauth-banner button.reconnect-now", "Reconnect button in the banner").click()
    wait_until(lambda: _path(driver) == "/sandbox/authorize", what="Reconnect leads to the sandbox consent page")
    shots.take(driver, "sandbox-consent")
    _one(driver, "#allow", "allow button").click()
    wait_until(lambda: _path(driver) == "/connections", what="back on the Connection Center")
    shots.take(driver, "reconnected")
    assert not _css(driver, "#reauth-banner"), "the banner is still shown after reconnecting"
    status = demo.api.get(demo.url(f"/api/v1/credentials/{cred_id}"), timeout=20).json()["status"]
    assert status == "active", status
    driver.get(demo.url("/admin"))
    wait_until(lambda: _path(driver) == "/admin", what="the overview")
    assert not _css(driver, "#reauth-banner"), "the overview still shows the banner"
