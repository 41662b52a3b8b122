"""The Slack flow of the vault scoping document (Flow 2), end to end against the real binary, the bot played by
this test: a Slack user asks the bot, is told to link, links on the web, asks again and the tool runs as them.

An administrator creates the bot (an app, `lk_app_…` key) on `latchkey serve --demo` (the built-in sandbox
provider). The bot resolves Slack `T1/U2` → `link_required` with a code and the absolute `/link` address. In
headless Chromium Alice opens that address, is sent to sign in (password) and comes back, types the code → linked.
The bot resolves again → Alice; it invokes a tool naming the identity → `not_connected`, pointing at her Connection
Center; Alice connects the sandbox there as `alice@sandbox.example`; the bot invokes again (tool and proxy) → the
result is her sandbox account. Negative: the used code again, code guessing (five wrong codes make the person wait).
An expired code and a WEAK session trying to link are proven in the Swift suite (LinkCodeTests, with a test clock
and a session made WEAK), as the server has no clock option and no app sign-in yet. SQLite and PostgreSQL.
Screenshots go to <artifacts>/screenshots/slack-flow-<test>-NN-<step>.png.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
import requests

from conftest import _make_database
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import WebStack, accessibility_problems

SLACK = {"provider": "slack", "subject": "T1/U2", "displayName": "Alice"}
IDENTITY = {"provider": "slack", "subject": "T1/U2"}
CODE = re.compile(r"^[A-HJKMNP-Z]{3}-[0-9]{3}$")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp(f"latchkey-slack-flow-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--demo"])
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        gen.close()


def _bot(stack: WebStack) -> requests.Session:
    r = stack.api.post(stack.url("/api/v1/apps"), json={"name": "Slack bot"}, timeout=20)
    assert r.status_code == 201, f"POST /api/v1/apps → HTTP {r.status_code}: {r.text[:300]}"
    key = r.json()["apiKey"]
    assert key.startswith("lk_app_")
    bot = requests.Session()
    bot.trust_env = False
    bot.headers["Authorization"] = f"Bearer {key}"
    return bot


def _link_required(stack: WebStack, r: requests.Response) -> str:
    assert r.status_code == 403, f"HTTP {r.status_code}, want 403 link_required: {r.text[:300]}"
    error = r.json()["error"]
    assert error["code"] == "link_required"
    code = error["linkCode"]
    assert CODE.match(code), f"link code {code!r}"
    assert error["action"] == {"type": "link", "url": stack.public_url + "/link"}
    assert error["message"] == f"Link your Slack account first: visit {stack.public_url}/link and enter code {code}."
    return code


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _one(driver, selector: str, what: str):
    found = driver.find_elements("css selector", selector)
    assert found, f"no {what} on {_path(driver)} ({selector})"
    return found[0]


def _type_code(driver, code: str) -> None:
    """Types the code on /link and posts it; returns once the answer's page has replaced this one."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    field = _one(driver, "input#code", "code field")
    field.clear()
    field.send_keys(code)
    _one(driver, "form[action='/link'] button[type=submit]", "Link account button").click()

    def replaced() -> bool:
        try:
            field.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):  # gone, or its document is being replaced
            return True

    wait_until(replaced, what="the page after posting the code")


def _invoke(stack: WebStack, bot: requests.Session) -> requests.Response:
    return bot.post(stack.url("/api/v1/tools/invoke"), json={"tool": "sandbox.get_profile", "identity": IDENTITY}, timeout=30)


def test_a_slack_user_links_and_the_tool_runs_as_them(stack, request):
    driver, shots = chromium_for_test(request, "slack-flow")
    bot = _bot(stack)
    alice = stack.new_user("alice", name="Alice")

    # 1. The Slack user asks the bot; the bot asks Latchkey who that is.
    code = _link_required(stack, bot.post(stack.url("/api/v1/identities/resolve"), json=SLACK, timeout=20))

    # 2. Alice opens the link the bot showed her: sign in first, then back on /link.
    driver.get(stack.public_url + "/link")
    wait_until(lambda: _path(driver) == "/login", what="a signed-out person is sent to sign in")
    shots.take(driver, "sign-in")
    _one(driver, "input[name=email]", "email field").send_keys(alice.email)
    _one(driver, "input[name=password]", "password field").send_keys(alice.password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/link", what="signing in leads back to /link")
    shots.take(driver, "link-page")
    problems = accessibility_problems(driver.page_source)
    assert not problems, f"/link: accessibility problems: {problems}"
    _type_code(driver, code.lower())
    wait_until(lambda: driver.find_elements("css selector", "#link-done"), what="the linked message")
    shots.take(driver, "linked")
    assert "Your Slack account Alice (T1/U2) is now linked" in _one(driver, "#link-done", "linked message").text

    # 3. The bot asks again: it is Alice.
    r = bot.post(stack.url("/api/v1/identities/resolve"), json=SLACK, timeout=20)
    assert r.status_code == 200, f"resolve after linking → HTTP {r.status_code}: {r.text[:300]}"
    assert r.json()["user"]["email"] == alice.email
    assert r.json()["identity"]["subject"] == "T1/U2"

    # 4. The bot calls a tool as her: nothing connected yet, and the answer says where she connects.
    r = _invoke(stack, bot)
    assert r.status_code == 409, f"tool before connecting → HTTP {r.status_code}: {r.text[:300]}"
    error = r.json()["error"]
    assert error["code"] == "not_connected"
    assert error["action"]["url"] == stack.public_url + "/connections"

    # 5. Alice connects the sandbox in her Connection Center, as alice@sandbox.example.
    driver.get(stack.url("/connections"))
    card = _one(driver, 'li.service[data-integration="sandbox"]', "sandbox service card")
    card.find_element("css selector", "form[action$='/connections/sandbox/connect'] button").click()
    wait_until(lambda: _path(driver) == "/sandbox/authorize", what="the sandbox consent page")
    account = _one(driver, "#account", "sandbox account field")
    account.clear()
    account.send_keys("alice@sandbox.example")
    _one(driver, "#allow", "Allow button").click()
    wait_until(lambda: _path(driver) == "/connections", what="back at the Connection Center")
    shots.take(driver, "connected")

    # 6. The bot calls the tool again, and the proxy: both as Alice's sandbox account.
    r = _invoke(stack, bot)
    assert r.status_code == 200, f"tool after connecting → HTTP {r.status_code}: {r.text[:300]}"
    assert r.json()["result"]["email"] == "alice@sandbox.example", r.text[:300]
    r = bot.get(stack.url("/api/v1/proxy/sandbox/me"),
                headers={"Latchkey-Identity-Provider": "slack", "Latchkey-Identity-Subject": "T1/U2"}, timeout=30)
    assert r.status_code == 200, f"proxy as the identity → HTTP {r.status_code}: {r.text[:300]}"
    assert r.json()["email"] == "alice@sandbox.example"

    # 7. The code cannot be used again.
    driver.get(stack.url("/link"))
    _type_code(driver, code)
    wait_until(lambda: driver.find_elements("css selector", "[role=alert]"), what="the error of a used code")
    shots.take(driver, "used-code")
    assert "That code was already used" in _one(driver, "[role=alert]", "error summary").text
    assert _one(driver, "input#code", "code field").get_attribute("aria-invalid") == "true"

    # The audit log has the link, by Alice.
    events = stack.api.get(stack.url("/api/v1/audit"), params={"action": "identity.link", "limit": 50}, timeout=20).json()["items"]
    assert any(e["result"] == "success" and e["actor"] == f"user:{alice.id}" for e in events), events


def test_guessing_codes_makes_the_person_wait(stack, request):
    driver, shots = chromium_for_test(request, "slack-flow")
    bot = _bot(stack)
    mallory = stack.new_user("mallory", name="Mallory")
    code = _link_required(stack, bot.post(stack.url("/api/v1/identities/resolve"),
                                          json={"provider": "slack", "subject": "T1/U9"}, timeout=20))
    driver.get(stack.url("/login?next=/link"))
    _one(driver, "input[name=email]", "email field").send_keys(mallory.email)
    _one(driver, "input[name=password]", "password field").send_keys(mallory.password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/link", what="signed in on /link")
    # Five wrong digits of the same letters: the code is used up, and Mallory has to wait.
    letters, digits = code[:3], int(code[4:])
    for n in range(1, 6):
        _type_code(driver, f"{letters}-{(digits + n) % 1000:03d}")
        wait_until(lambda: driver.find_elements("css selector", "[role=alert]"), what=f"wrong code {n} refused")
    assert "used up after too many wrong tries" in _one(driver, "[role=alert]", "error summary").text
    _type_code(driver, code)
    wait_until(lambda: "Too many wrong codes" in driver.page_source, what="the wait after five wrong codes")
    shots.take(driver, "too-many")
    assert "Wait 15 minutes" in _one(driver, "[role=alert]", "error summary").text
    r = bot.post(stack.url("/api/v1/identities/resolve"), json={"provider": "slack", "subject": "T1/U9"}, timeout=20)
    assert r.status_code == 403, "the guessed account must not be linked"
