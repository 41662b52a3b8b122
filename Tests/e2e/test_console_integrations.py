"""The console's Integrations pages in a real browser, against the real binary.

An administrator chooses *Generic OAuth 2.0* (a plain form: no script needed), reads how to
register the OAuth app with the exact redirect URI (its copy button runs under the console's
CSP), adds the integration with a mistake in the key — the problem is said beside the field and
in an announced summary, what was typed stays but the secret does not — corrects it, opens the
integration from the list, changes its scopes and disables it: the list then carries a
*Disabled* badge, and the API agrees. The same flow works with JavaScript off. SQLite and
PostgreSQL. Screenshots (one at a phone's width, 390 px) go to
<artifacts>/screenshots/console-integrations-<test>-NN-<step>.png.
"""

from __future__ import annotations


import pytest

from conftest import _make_database
from peers import chromium_for_test, wait_until
from test_browser_connect_glewlwyd import Console, _css, _one, _path
from webtools import WebStack, users_create

STEP_TIMEOUT = 20
PASSWORD = "admin-password-for-integrations-1"
EMAIL = "integrations-admin@example.test"
SECRET = "corp-client-secret-value-1"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"latchkey-console-integrations-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir)
    try:
        stack.start()
        users_create(stack.db, stack.cwd, EMAIL, PASSWORD, name="Integrations Admin", admin=True)
        yield stack
    finally:
        stack.stop()
        gen.close()


def _browser(request, javascript: bool):
    return chromium_for_test(request, "console-integrations", javascript=javascript)


def _sign_in(driver, stack: WebStack) -> None:
    driver.get(stack.url("/login?next=/connections"))
    _one(driver, "input[name=email]", "email field").send_keys(EMAIL)
    _one(driver, "input[name=password]", "password field").send_keys(PASSWORD)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/connections", what="signing in")


def _choose(driver, stack: WebStack, provider: str) -> None:
    from selenium.webdriver.support.ui import Select

    driver.get(stack.url("/admin/integrations"))
    Select(_one(driver, "select#provider", "the service list")).select_by_value(provider)
    _one(driver, "#choose-service", "Continue").click()
    wait_until(lambda: _path(driver) == "/admin/integrations/new", what=f"the form for {provider}")


def _fill(driver, values: dict[str, str]) -> None:
    for field, value in values.items():
        element = _one(driver, f"#{field}", f"the {field} field")
        element.clear()
        element.send_keys(value)


def _flash(driver) -> str:
    return " ".join(e.text for e in _css(driver, ".flash"))


def _add_with_a_mistake_then_correct_it(driver, shots, stack: WebStack, key: str) -> None:
    _choose(driver, stack, "oauth2")
    assert not _css(driver, "#setting-discoveryURL"), "the generic OAuth 2.0 form asks for a discovery URL"
    redirect = _one(driver, "#redirect-uri", "the redirect URI").text.strip()
    assert redirect == stack.public_url + "/connect/callback", f"the page says to register {redirect!r}"
    shots.take(driver, "new-oauth2")
    typed = {"key": "Corp SSO", "displayName": "Corp sign-in", "clientId": "corp-client", "clientSecret": SECRET,
             "setting-authorizationURL": "https://id.corp.example/authorize", "setting-tokenURL": "https://id.corp.example/token"}
    _fill(driver, typed)
    _one(driver, "#add-integration", "Add").click()
    wait_until(lambda: _css(driver, "#key-error"), timeout=STEP_TIMEOUT, what="the problem beside the key")
    assert "lowercase letters" in _one(driver, "#key-error", "the key's problem").text
    assert _one(driver, "#key", "key").get_attribute("aria-invalid") == "true"
    summary = _one(driver, '#form-problems[role="alert"]', "the summary of problems").text
    assert "lowercase letters" in summary and "clientId" not in summary, f"the summary says {summary!r}"
    assert _one(driver, "#clientId", "client id").get_attribute("value") == "corp-client", "the client id was not kept"
    assert _one(driver, "#setting-tokenURL", "token URL").get_attribute("value") == typed["setting-tokenURL"]
    assert _one(driver, "#clientSecret", "client secret").get_attribute("value") == "", "the secret was put back"
    assert SECRET not in driver.page_source, "the secret came back in the page"
    shots.take(driver, "mistake")

    _fill(driver, {"key": key, "clientSecret": SECRET})
    _one(driver, "#add-integration", "Add").click()
    # The form posts to /admin/integrations, the list's address too: wait for the list's message.
    wait_until(lambda: f"Integration {key} added." in _flash(driver), timeout=STEP_TIMEOUT, what="back on the list")
    assert _css(driver, f'tr[data-integration="{key}"]'), f"{key} is not listed"


def _edit_and_disable(driver, shots, stack: WebStack, key: str) -> None:
    from selenium.webdriver.support.ui import Select

    _one(driver, f'tr[data-integration="{key}"] td a[href="/admin/integrations/{key}"]', "the row's link").click()
    wait_until(lambda: _path(driver) == f"/admin/integrations/{key}", what="the integration's page")
    assert "A client secret is stored" in _one(driver, "#secret-state", "the secret's state").text
    assert SECRET not in driver.page_source, "the edit page shows the secret"
    shots.take(driver, "edit")
    _fill(driver, {"scopes": "read write"})
    Select(_one(driver, "select#status", "status")).select_by_value("disabled")
    _one(driver, "#save-integration", "Save changes").click()
    wait_until(lambda: "Saved the changes" in _flash(driver), timeout=STEP_TIMEOUT, what="the changes to be saved")
    assert _css(driver, "#disabled-badge"), "the page has no Disabled badge"
    driver.get(stack.url("/admin/integrations"))
    badges = [e.text for e in _css(driver, f'tr[data-integration="{key}"] .status.warn')]
    assert badges == ["Disabled"], f"the list's badges for {key}: {badges}"
    r = stack.api.get(stack.url(f"/api/v1/integrations/{key}"), timeout=20)
    assert r.status_code == 200, f"GET /api/v1/integrations/{key} → HTTP {r.status_code}"
    body = r.json()
    assert body["enabled"] is False and body["scopes"] == ["read", "write"] and body["hasClientSecret"] is True, body
    assert body["settings"].get("tokenURL") == "https://id.corp.example/token", body


def test_an_admin_adds_a_generic_oauth_integration_corrects_a_mistake_edits_and_disables_it(stack, request):
    driver, shots = _browser(request, javascript=True)
    console = Console(driver)
    _sign_in(driver, stack)
    _choose(driver, stack, "oauth2")
    wait_until(lambda: _one(driver, "button[data-copy=redirect-uri]", "copy button").is_displayed(),
               what="the copy button to show (our script ran)")
    console.assert_no_csp_violation("the new integration page")
    _add_with_a_mistake_then_correct_it(driver, shots, stack, "corp-sso")
    _edit_and_disable(driver, shots, stack, "corp-sso")
    driver.set_window_size(390, 844)
    driver.get(stack.url("/admin/integrations"))
    shots.take(driver, "integrations-390px")
    driver.get(stack.url("/admin/integrations/corp-sso"))
    shots.take(driver, "edit-390px")
    console.assert_no_csp_violation("the integration pages")


def test_the_same_flow_works_without_javascript(stack, request):
    driver, shots = _browser(request, javascript=False)
    _sign_in(driver, stack)
    _add_with_a_mistake_then_correct_it(driver, shots, stack, "corp-nojs")
    _edit_and_disable(driver, shots, stack, "corp-nojs")
