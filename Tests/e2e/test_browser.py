"""The pages as a person sees them: headless Chromium (Debian's chromium + chromium-driver,
driven by Selenium) against `latchkey serve --demo`.

Sign in through the form, open the Connection Center, connect the built-in sandbox
provider (Allow on its consent page), see it listed, label it, connect a second account and
make it the default, disconnect through the confirmation page; the Deny path shows a
friendly page with "Try again". A second browser with JavaScript switched off does the
same sign-in and connect, because every page must work as plain HTML forms.

Every step is screenshotted to <artifacts>/screenshots/ (artifacts/ at the repository
root, or $LATCHKEY_ARTIFACTS_DIR), one numbered series per test: browser-<test>-NN-<step>.png
and nojs-<test>-NN-<step>.png.
"""

from __future__ import annotations

import json
import re
import urllib.parse

import pytest

from conftest import _make_database
from peers import Screenshots, chromium_problem, make_driver, need_peer, wait_until
from webtools import WebStack, accessibility_problems


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp("latchkey-browser")
    gen = _make_database("sqlite", workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--demo"])
    try:
        stack.start()
        # A second service beside the sandbox, so the Connection Center has tiles side by side to align.
        r = stack.api.post(stack.url("/api/v1/integrations"), json={"provider": "openai", "key": "openai"}, timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations (openai) → HTTP {r.status_code}: {r.text[:300]}"
        yield stack
    finally:
        stack.stop()
        gen.close()


def _driver(request, javascript: bool, prefix: str):
    need_peer(chromium_problem(), "headless Chromium")
    driver = make_driver(javascript=javascript)
    # one series per test: <prefix>-<test name>-NN-<step>.png
    shots = Screenshots(f"{prefix}-{request.node.name.removeprefix('test_').replace('_', '-')}")

    def finish():
        shots.take(driver, "end")
        driver.quit()

    request.addfinalizer(finish)
    return driver, shots


@pytest.fixture
def browser(request):
    return _driver(request, True, "browser")


@pytest.fixture
def nojs_browser(request):
    return _driver(request, False, "nojs")


# --------------------------------------------------------------------------
# helpers


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _wait_path(driver, path: str, what: str) -> None:
    wait_until(lambda: _path(driver) == path, what=f"{what} (at {_path(driver)!r}, want {path!r})")


def _css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def _one(driver, selector: str, what: str):
    found = _css(driver, selector)
    assert found, f"no {what} on {_path(driver)} ({selector})"
    return found[0]


def _click_button_in_form(scope, action_suffix: str, what: str):
    from selenium.webdriver.common.by import By

    for form in scope.find_elements(By.TAG_NAME, "form"):
        action = urllib.parse.urlsplit(form.get_attribute("action") or "").path
        if action.endswith(action_suffix):
            buttons = form.find_elements(By.CSS_SELECTOR, "button, input[type=submit]")
            assert buttons, f"the {what} form has no submit button"
            buttons[0].click()
            return buttons[0]
    raise AssertionError(f"no form posting to …{action_suffix} ({what})")


def _check_page(driver, what: str) -> None:
    assert driver.title.strip(), f"{what}: the page has no title"
    problems = accessibility_problems(driver.page_source)
    assert not problems, f"{what}: accessibility problems: {problems}"


def _sign_in(driver, shots, stack, user, check: bool = True) -> None:
    driver.get(stack.url("/connections"))
    _wait_path(driver, "/login", "GET /connections signed out goes to the sign-in page")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))
    assert query.get("next") == "/connections", f"sign-in page URL has next={query.get('next')!r}, want /connections"
    shots.take(driver, "sign-in")
    if check:
        _check_page(driver, "sign-in page")
    _one(driver, "input[name=email]", "email field").send_keys(user.email)
    _one(driver, "input[name=password]", "password field").send_keys(user.password)
    _one(driver, "#sign-in", "sign-in button").click()
    _wait_path(driver, "/connections", "signing in leads to the Connection Center")
    shots.take(driver, "connection-center")
    if check:
        _check_page(driver, "Connection Center")


def _connect_sandbox(driver, shots, decision: str = "allow", check: bool = True, account: str | None = None) -> None:
    card = _one(driver, 'li.service[data-integration="sandbox"]', "sandbox service card")
    _click_button_in_form(card, "/connections/sandbox/connect", "sandbox connect")
    _wait_path(driver, "/sandbox/authorize", "Connect leads to the sandbox consent page")
    shots.take(driver, "sandbox-consent")
    if check:
        _check_page(driver, "sandbox consent page")
    if account is not None:
        field = _one(driver, "#account", "sandbox account field")
        field.clear()
        field.send_keys(account)
    _one(driver, f"#{decision}", f"{decision} button").click()


def _call_sandbox_tool(driver, shots, conn, cred_id: str, tool: str) -> None:
    from selenium.webdriver.support.ui import Select

    select = conn.find_elements("css selector", "form.try-tool select[name=tool]")
    assert select, "the sandbox connection offers no tool to try"
    Select(select[0]).select_by_value(tool)
    _click_button_in_form(conn, f"/connections/{cred_id}/tools", "try a tool")
    _wait_path(driver, f"/connections/{cred_id}/tools", "calling a tool shows its result")
    shots.take(driver, "tool-result")
    _check_page(driver, "tool result page")
    assert not _css(driver, "#tool-error"), f"the tool failed: {_one(driver, '#tool-error', 'error').text}"
    result = json.loads(_one(driver, "#tool-result", "the tool's JSON result").text)
    items = result.get("items")
    assert isinstance(items, list) and items, f"sandbox.list_items returned no items: {result!r}"
    assert all(set(item) <= {"id", "title", "done"} for item in items), f"the result kept fields the tool drops: {items!r}"
    assert "HTTP 200" in _one(driver, "#tool-meta", "how the call went").text


def _flash(driver) -> str:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        found = _css(driver, ".flash")
        return found[0].text if found else ""
    except StaleElementReferenceException:  # the page was being replaced (a form posted from the same path)
        return ""


def _check_tiles_align(driver, selector: str) -> None:
    """Tiles side by side in a row have the same height, and their last button sits at the same height."""
    rows: dict[int, list] = {}
    for tile in _css(driver, selector):
        rows.setdefault(round(tile.rect["y"]), []).append(tile)
    assert any(len(tiles) > 1 for tiles in rows.values()), "no two tiles side by side"
    for tiles in rows.values():
        if len(tiles) < 2:
            continue
        heights = {round(t.rect["height"]) for t in tiles}
        assert len(heights) == 1, f"tiles in one row have different heights: {sorted(heights)}"
        bottoms = {round(t.find_elements("css selector", "button")[-1].rect["y"]) for t in tiles}
        assert len(bottoms) == 1, f"the buttons of tiles in one row are not aligned: {sorted(bottoms)}"


def _disconnect_confirmed(driver, shots, cred_id: str, check: bool = True) -> None:
    """Disconnect on the card leads to a confirmation page; its red button posts the Disconnect."""
    conn = _one(driver, f'li.connection[data-credential-id="{cred_id}"]', "connection card")
    link = conn.find_elements("css selector", f'a.danger[href$="/connections/{cred_id}/disconnect"]')
    assert link, "the connection card has no destructive-looking Disconnect link"
    assert not conn.find_elements("css selector", f'form[action$="/connections/{cred_id}/disconnect"]'), (
        "the card still disconnects without asking"
    )
    link[0].click()
    _wait_path(driver, f"/connections/{cred_id}/disconnect", "Disconnect leads to a confirmation page")
    shots.take(driver, "confirm-disconnect")
    if check:
        _check_page(driver, "Disconnect confirmation page")
    heading = _one(driver, "h1", "confirmation heading").text
    assert re.match(r"Disconnect Sandbox account .+\?$", heading), f"confirmation heading: {heading!r}"
    _one(driver, "#confirm-disconnect.danger", "red Disconnect button").click()
    _wait_path(driver, "/connections", "confirming leads back to the Connection Center")


# --------------------------------------------------------------------------
# tests


def test_sign_in_connect_and_disconnect_the_sandbox(demo, browser):
    driver, shots = browser
    user = demo.new_user("browser", name="Bea Browser")
    _sign_in(driver, shots, demo, user)
    assert not _css(driver, 'li.connection[data-integration="sandbox"]'), "a new user already has a sandbox connection"
    card = _one(driver, 'li.service[data-integration="sandbox"]', "sandbox service card")
    assert re.search(r"\bConnect", card.text), "the sandbox card has no Connect button"
    assert card.find_elements("css selector", ".badge"), "the sandbox card shows no logo or monogram"
    docs = card.find_elements("css selector", "a.docs")
    assert docs and (docs[0].get_attribute("href") or "").startswith("https://"), "the sandbox card has no documentation link"
    assert len(_css(driver, "li.service")) >= 2, "the Connection Center offers fewer than two services"
    _check_tiles_align(driver, "li.service")

    _connect_sandbox(driver, shots, "allow")
    _wait_path(driver, "/connections", "Allow leads back to the Connection Center")
    wait_until(lambda: "connected" in _flash(driver).lower(), what="the 'connected' message")
    shots.take(driver, "connected")
    flash = _one(driver, ".flash", "flash message")
    assert flash.get_attribute("role") == "status", "the flash message is not role=status"
    assert "disconnected" not in flash.text.lower()
    conn = _one(driver, 'li.connection[data-integration="sandbox"]', "sandbox connection card")
    account = conn.find_elements("css selector", ".account")
    assert account and account[0].text.strip(), "the sandbox connection shows no provider account"
    status = conn.find_elements("css selector", ".status")
    assert status and status[0].text.strip(), "the sandbox connection shows no status"
    cred_id = conn.get_attribute("data-credential-id")
    assert cred_id, "the connection card has no data-credential-id"
    _check_page(driver, "Connection Center with a connection")

    # Call a tool on the connected account, as an agent would through POST /api/v1/tools/invoke.
    _call_sandbox_tool(driver, shots, conn, cred_id, "sandbox.list_items")
    _one(driver, "#back", "link back to the Connection Center").click()
    _wait_path(driver, "/connections", "the tool's page leads back to the Connection Center")

    # The message belongs to the action: the Connection Center on its own shows none (a refresh).
    driver.get(demo.url("/connections"))
    _wait_path(driver, "/connections", "GET /connections")
    assert not _flash(driver), f"GET /connections (no action just done) shows a message: {_flash(driver)!r}"

    # Date and time connected, and when it was last used (the tool call above used it).
    conn = _one(driver, f'li.connection[data-credential-id="{cred_id}"]', "sandbox connection card")
    connected = conn.find_elements("css selector", "time.connected")
    assert connected and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", connected[0].text), "no connected date and time"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", connected[0].get_attribute("datetime") or ""), "no ISO datetime"
    last_used = conn.find_elements("css selector", ".last-used")
    assert last_used and last_used[0].text.strip(), "the card does not say when the account was last used"

    # A label of the person's own.
    field = _one(driver, f"#label-{cred_id}", "label field")
    field.clear()
    field.send_keys("Work sandbox")
    _click_button_in_form(conn, f"/connections/{cred_id}/label", "save the label")
    _wait_path(driver, "/connections", "saving the label leads back to the Connection Center")
    wait_until(lambda: "labelled" in _flash(driver), what="the 'labelled' message")
    shots.take(driver, "labelled")
    conn = _one(driver, f'li.connection[data-credential-id="{cred_id}"]', "sandbox connection card")
    assert "Work sandbox" in conn.find_element("css selector", "h3").text, "the label is not shown on the card"

    # A second sandbox account; the first stays the default until the person chooses the other.
    _connect_sandbox(driver, shots, "allow", check=False, account="second@example.com")
    _wait_path(driver, "/connections", "Allow (second account) leads back to the Connection Center")
    wait_until(lambda: "connected" in _flash(driver).lower(), what="the 'connected' message (second account)")
    cards = _css(driver, 'li.connection[data-integration="sandbox"]')
    assert len(cards) == 2, f"{len(cards)} sandbox accounts listed, want 2"
    other_id = next(c.get_attribute("data-credential-id") for c in cards if c.get_attribute("data-credential-id") != cred_id)
    first = _one(driver, f'li.connection[data-credential-id="{cred_id}"]', "first sandbox card")
    assert "Used by default" in first.text, "the first account does not say it is used by default"
    assert "· default" not in driver.find_element("css selector", "main").text, "the page still says '· default'"
    other = _one(driver, f'li.connection[data-credential-id="{other_id}"]', "second sandbox card")
    shots.take(driver, "two-accounts")
    _click_button_in_form(other, f"/connections/{other_id}/default", "use by default")
    _wait_path(driver, "/connections", "Use by default leads back to the Connection Center")
    wait_until(lambda: "used by default" in _flash(driver), what="the 'used by default' message")
    shots.take(driver, "default-chosen")
    assert "Used by default" in _one(driver, f'li.connection[data-credential-id="{other_id}"]', "second card").text
    first = _one(driver, f'li.connection[data-credential-id="{cred_id}"]', "first sandbox card")
    assert first.find_elements("css selector", f'form[action$="/connections/{cred_id}/default"]'), "the first account offers no 'Use by default'"
    _check_page(driver, "Connection Center with two accounts")

    # Disconnect, through the confirmation page; the message names the account.
    link = _one(driver, f'li.connection[data-credential-id="{cred_id}"] a.disconnect', "Disconnect link")
    background = link.value_of_css_property("background-color")
    assert re.match(r"rgba?\(185, 28, 28", background), f"the Disconnect button does not look destructive ({background})"
    _disconnect_confirmed(driver, shots, cred_id)
    wait_until(lambda: "disconnected" in _flash(driver).lower(), what="the 'disconnected' message")
    assert re.match(r"Sandbox account .+ disconnected\.", _flash(driver)), f"the message does not name the account: {_flash(driver)!r}"
    shots.take(driver, "disconnected")
    assert not _css(driver, f'li.connection[data-credential-id="{cred_id}"]'), "the disconnected sandbox is still listed"
    driver.get(demo.url("/connections"))
    assert not _flash(driver), f"the 'disconnected' message came back on reload: {_flash(driver)!r}"
    _disconnect_confirmed(driver, shots, other_id, check=False)
    assert not _css(driver, 'li.connection[data-integration="sandbox"]'), "a disconnected sandbox account is still listed"
    assert _css(driver, 'li.service[data-integration="sandbox"]'), "the sandbox is no longer offered after disconnecting"

    _one(driver, "#sign-out", "sign-out button").click()
    _wait_path(driver, "/login", "signing out leads to the sign-in page")
    shots.take(driver, "signed-out")
    driver.get(demo.url("/connections"))
    _wait_path(driver, "/login", "after signing out, the Connection Center asks to sign in again")


def test_deny_shows_a_friendly_page_with_try_again(demo, browser):
    driver, shots = browser
    user = demo.new_user("denier")
    _sign_in(driver, shots, demo, user, check=False)
    _connect_sandbox(driver, shots, "deny", check=False)
    wait_until(lambda: _path(driver) != "/sandbox/authorize", what="leaving the consent page after Deny")
    shots.take(driver, "denied")
    body = _one(driver, "body", "page body").text
    assert re.search(r"try again", body, re.I), "the page after Deny offers no 'Try again'"
    assert not re.search(r"traceback|exception|stack trace", body, re.I), "the page after Deny shows internals"
    assert "connected" not in _flash(driver).lower(), "a denied connect says it connected"
    _check_page(driver, "denial page")

    retry = [el for el in _css(driver, "a, button, input[type=submit]")
             if re.search(r"try again", el.text or el.get_attribute("value") or "", re.I)]
    assert retry, "no clickable 'Try again'"
    denied_at = driver.current_url
    retry[0].click()
    wait_until(lambda: driver.current_url != denied_at, what="'Try again' to load a page")
    shots.take(driver, "try-again")
    heading = (_css(driver, "h1") or [None])[0]
    assert _path(driver) in ("/sandbox/authorize", "/connections"), (
        f"'Try again' led to {_path(driver)!r} ({heading.text if heading else 'no heading'!r}), "
        "want the sandbox consent page or the Connection Center"
    )
    if _path(driver) == "/sandbox/authorize":
        _one(driver, "#allow", "allow button").click()
        _wait_path(driver, "/connections", "Allow after Try again")
        wait_until(lambda: "connected" in _flash(driver).lower(), what="the 'connected' message after trying again")
        shots.take(driver, "connected-after-retry")
    driver.get(demo.url("/connections"))
    assert len(_css(driver, 'li.connection[data-integration="sandbox"]')) <= 1


def test_pages_work_without_javascript(demo, nojs_browser):
    driver, shots = nojs_browser
    driver.get("data:text/html,<html><head><title>javascript off</title></head><body>"
               "<script>document.title='javascript on'</script></body></html>")
    assert driver.title == "javascript off", "the browser for this test still runs JavaScript"

    user = demo.new_user("nojs")
    _sign_in(driver, shots, demo, user, check=False)
    _connect_sandbox(driver, shots, "allow", check=False)
    _wait_path(driver, "/connections", "Allow leads back to the Connection Center (no JavaScript)")
    shots.take(driver, "connected")
    assert "connected" in _flash(driver).lower(), "no 'connected' message without JavaScript"
    conn = _one(driver, 'li.connection[data-integration="sandbox"]', "sandbox connection card (no JavaScript)")
    cred_id = conn.get_attribute("data-credential-id")
    _disconnect_confirmed(driver, shots, cred_id, check=False)
    shots.take(driver, "disconnected")
    assert not _css(driver, f'li.connection[data-credential-id="{cred_id}"]'), "disconnect did not work without JavaScript"
