"""The console's admin pages for webhooks and users in a real browser, against the real binary.

An administrator lands on the overview from `/`, sets the tenant's webhook to a receiver on
127.0.0.1 (the server runs with `--allow-private-network`) and reads its signing secret once (the
copy button runs under the console's CSP), sends a test event and sees it arrive — signed with that
secret — at the receiver and as *delivered* in the deliveries list. Then the administrator makes a
member an administrator and resets their password to a generated one shown once; the member signs
in with it and lands on the overview. SQLite and PostgreSQL. Screenshots go to
<artifacts>/screenshots/console-admin-<test>-NN-<step>.png.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading

import pytest
from selenium.webdriver.support.ui import Select

from conftest import _make_database
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from test_browser_connect_glewlwyd import Console, _css, _flash, _one, _path
from webtools import WebStack, free_port, users_create

STEP_TIMEOUT = 20
PASSWORD = "admin-password-for-ops-1"
ADMIN = "ops-admin@example.test"
MEMBER = "ops-member@example.test"


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 204 and keeps every POST it gets."""

    def __init__(self):
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/latchkey"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def of_type(self, event_type: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.received if h.get("latchkey-event") == event_type]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp(f"latchkey-console-admin-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    receiver = Receiver()
    try:
        stack.start()
        users_create(stack.db, stack.cwd, ADMIN, PASSWORD, name="Ops Admin", admin=True)
        users_create(stack.db, stack.cwd, MEMBER, "member-password-1", name="Ops Member")
        yield stack, receiver
    finally:
        receiver.stop()
        stack.stop()
        gen.close()


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "console-admin")
    return driver, shots, Console(driver)


def _sign_in(driver, stack: WebStack, email: str, password: str) -> None:
    driver.get(stack.url("/login?next=/"))
    _one(driver, "input[name=email]", "email field").send_keys(email)
    _one(driver, "input[name=password]", "password field").send_keys(password)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/admin", timeout=STEP_TIMEOUT, what=f"{email} landing on the overview")


def _signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers.get("latchkey-signature", "").split(","))
    expected = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def test_an_admin_sets_the_webhook_and_sees_a_test_event_arrive(world, browser):
    stack, receiver = world
    driver, shots, console = browser
    _sign_in(driver, stack, ADMIN, PASSWORD)
    shots.take(driver, "overview")
    assert _css(driver, "#all-good"), "a fresh tenant's overview lists something needing attention"

    driver.get(stack.url("/admin/webhooks"))
    assert _css(driver, "#no-endpoint"), "a fresh tenant's webhooks page shows an endpoint"
    _one(driver, "#url", "address field").send_keys(receiver.url)
    _one(driver, "#save-url", "Set the webhook").click()
    wait_until(lambda: _css(driver, "#signing-secret"), timeout=STEP_TIMEOUT, what="the signing secret")
    secret = _one(driver, "#signing-secret", "the signing secret").text.strip()
    assert secret.startswith("whsec_"), f"the page shows {secret[:8]!r}…, not a signing secret"
    wait_until(lambda: _one(driver, "button.copy", "copy button").is_displayed(), what="the copy button to show (our script ran)")
    console.assert_no_csp_violation("the signing secret page")
    shots.take(driver, "secret-once")

    driver.get(stack.url("/admin/webhooks"))
    assert secret not in driver.page_source, "the webhooks page shows the signing secret again"
    assert receiver.url in _one(driver, "#endpoint-url", "the endpoint address").text
    _one(driver, "#send-test", "Send test event").click()
    wait_until(lambda: "test event" in _flash(driver), timeout=STEP_TIMEOUT, what="the test event's confirmation")

    wait_until(lambda: receiver.of_type("webhook.test"), timeout=STEP_TIMEOUT, what="the test event at the receiver")
    headers, body = receiver.of_type("webhook.test")[0]
    assert _signed(secret, headers, body), "the test event is not signed with the secret the page showed"
    assert json.loads(body)["type"] == "webhook.test"

    def delivered() -> bool:
        driver.get(stack.url("/admin/webhooks"))
        rows = _css(driver, 'tr.webhook-delivery[data-event-type="webhook.test"]')
        return bool(rows) and "delivered" in rows[0].text

    wait_until(delivered, timeout=STEP_TIMEOUT, interval=0.5, what="the test event listed as delivered")
    shots.take(driver, "delivered")


def test_an_admin_changes_a_role_and_resets_a_password(world, browser):
    stack, _ = world
    driver, shots, console = browser
    _sign_in(driver, stack, ADMIN, PASSWORD)
    driver.get(stack.url("/admin/users"))
    _one(driver, f'tr[data-email="{MEMBER}"] a', "the member's Manage link").click()
    wait_until(lambda: _path(driver).startswith("/admin/users/"), what="the member's page")
    member_page = _path(driver)

    Select(_one(driver, "#role", "role select")).select_by_value("admin")
    _one(driver, "#change-role", "Change the role").click()
    wait_until(lambda: "is now an administrator" in _flash(driver), timeout=STEP_TIMEOUT, what="the role change")
    shots.take(driver, "role-changed")

    # An empty field: a password is generated and shown once.
    _one(driver, "#reset-password", "Set the password").click()
    wait_until(lambda: _css(driver, "#new-password"), timeout=STEP_TIMEOUT, what="the generated password")
    password = _one(driver, "#new-password", "the generated password").text.strip()
    assert len(password) >= 12, "the generated password is too short"
    wait_until(lambda: _one(driver, "button.copy", "copy button").is_displayed(), what="the copy button to show (our script ran)")
    console.assert_no_csp_violation("the generated password page")
    shots.take(driver, "password-once")
    driver.get(stack.url(member_page))
    assert password not in driver.page_source, "the member's page shows the generated password again"

    _one(driver, "#sign-out", "Sign out").click()
    wait_until(lambda: _path(driver) == "/login", timeout=STEP_TIMEOUT, what="signing out")
    _sign_in(driver, stack, MEMBER, password)
    assert _css(driver, "#heading") and "Overview" in _one(driver, "#heading", "heading").text
