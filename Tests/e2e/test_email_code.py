"""Email sign-in codes and the TOTP second factor, as a person meets them in headless Chromium against the real
binary.

An `aiosmtpd` sink on 127.0.0.1 plays the mail server (`--smtp-host 127.0.0.1 --smtp-starttls off`): the person
asks for a code on the sign-in page, the test reads the mail from the sink and types the code in; a second code
guessed wrong five times no longer works, even the right one. Then a person turns on two-factor sign-in in
Settings with the key the page shows (codes computed here, RFC 6238 in a few lines of hmac), signs out, and signs in
with the password and a code; an emailed code, which stands in for the password, signs in without the second factor.
Every step is screenshotted (email-code-<test>-NN-<step>.png).
"""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import re
import struct
import threading
import time
import urllib.parse

import pytest

from peers import chromium_for_test, need_peer, wait_until
from webtools import WebStack, accessibility_problems, free_port

try:
    import aiosmtpd.controller as aiosmtpd_controller
except ImportError as missing:  # a missing mail sink fails under LATCHKEY_REQUIRE_PEERS=1, as any other peer
    aiosmtpd_controller = None
    AIOSMTPD_PROBLEM: str | None = f"cannot import aiosmtpd ({missing}); pip install aiosmtpd"
else:
    AIOSMTPD_PROBLEM = None


class Sink:
    """Keeps every message the server hands over."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_message(self, after: int, to: str) -> email.message.Message:
        """The first message after the first `after` ones, for `to`."""
        def arrived():
            with self.lock:
                return next((m for m in self.messages[after:] if m["To"] == to), None)
        return wait_until(arrived, timeout=20, what=f"a message to {to}")


@pytest.fixture
def mail_stack(database, tmp_path):
    need_peer(AIOSMTPD_PROBLEM, "the aiosmtpd mail sink")
    sink = Sink()
    port = free_port()
    controller = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    stack = WebStack(database, tmp_path, extra_args=[
        "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-starttls", "off", "--smtp-from", "latchkey@example.test",
    ])
    try:
        stack.start()
        yield stack, sink
    finally:
        stack.stop()
        controller.stop()


def totp(secret: str, offset: int = 0) -> str:
    """RFC 6238 with SHA-1, 6 digits, 30-second steps; `offset` steps from now."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int(time.time() // 30) + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[start:start + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _at(driver, path: str, what: str) -> None:
    wait_until(lambda: _path(driver) == path, what=f"{what} (at {_path(driver)!r}, want {path!r})")


def _one(driver, selector: str):
    found = driver.find_elements("css selector", selector)
    assert found, f"no {selector} on {_path(driver)}"
    return found[0]


def _type(driver, selector: str, text: str) -> None:
    field = _one(driver, selector)
    field.clear()
    field.send_keys(text)


def _accessible(driver) -> None:
    problems = accessibility_problems(driver.page_source)
    assert not problems, f"{_path(driver)}: {problems}"


def _ask_for_code(driver, shots, stack, sink, address: str) -> str:
    driver.get(stack.url("/login"))
    _accessible(driver)
    _one(driver, "#email-code").click()
    _at(driver, "/login/email", "the link leads to the page that asks for the address")
    _accessible(driver)
    before = sink.count()
    _type(driver, "#email", address)
    shots.take(driver, "ask-for-code")
    _one(driver, "#send-code").click()
    _at(driver, "/login/email/code", "asking leads to the code page")
    assert "If there is an account for that address, we sent a code" in driver.page_source
    _accessible(driver)
    message = sink.wait_message(before, address)
    assert message["Subject"] == "Your sign-in code"
    body = message.get_payload(decode=True).decode()
    assert "It works once, for 10 minutes." in body, body
    found = re.search(r"\b(\d{6})\b", body)
    assert found, f"no 6-digit code in the message: {body!r}"
    return found.group(1)


def test_email_code_signs_in_and_dies_after_five_wrong_guesses(mail_stack, request):
    stack, sink = mail_stack
    user = stack.new_user("mail")
    driver, shots = chromium_for_test(request, "email-code")

    code = _ask_for_code(driver, shots, stack, sink, user.email)
    assert _one(driver, "#email").get_attribute("value") == user.email, "the code page keeps the address"
    _type(driver, "#code", code)
    shots.take(driver, "enter-code")
    _one(driver, "#check-code").click()
    _at(driver, "/connections", "the right code signs in")
    shots.take(driver, "signed-in")

    # An address without an account gets the same answer and no mail.
    driver.delete_all_cookies()
    driver.get(stack.url("/login/email"))
    before = sink.count()
    _type(driver, "#email", "nobody@example.test")
    _one(driver, "#send-code").click()
    _at(driver, "/login/email/code", "an unknown address leads to the same code page")
    assert "If there is an account for that address, we sent a code" in driver.page_source

    # A second code, guessed wrong five times, is dead: the right one no longer works.
    code = _ask_for_code(driver, shots, stack, sink, user.email)
    wrong = "000000" if code != "000000" else "111111"
    for expected in ["try 4 more times", "try 3 more times", "try 2 more times", "try once more", "it no longer works after so many tries"]:
        _type(driver, "#code", wrong)
        _one(driver, "#check-code").click()
        wait_until(lambda: expected in driver.page_source, what=f"the wrong code is refused: {expected!r}")
    shots.take(driver, "code-dead")
    _type(driver, "#code", code)
    _one(driver, "#check-code").click()
    wait_until(lambda: "There is no code for that address that still works" in driver.page_source, what="the dead code is refused")
    assert _path(driver) == "/login/email/code"
    assert sink.count() == before + 1, "the unknown address got no mail"
    # The codes appear in no log line.
    for message in sink.messages:
        body = message.get_payload(decode=True).decode()
        for sent in re.findall(r"\b\d{6}\b", body):
            assert not re.search(rf"\b{sent}\b", stack.server.output), "a sign-in code is in the server's output"


def test_totp_second_factor_in_chromium(mail_stack, request):
    stack, sink = mail_stack
    user = stack.new_user("totp")
    driver, shots = chromium_for_test(request, "email-code")

    driver.get(stack.url("/login"))
    _type(driver, "input[name=email]", user.email)
    _type(driver, "input[name=password]", user.password)
    _one(driver, "#sign-in").click()
    _at(driver, "/connections", "the password signs in")
    driver.get(stack.url("/settings/two-factor"))
    secret = _one(driver, "#totp-secret").text.strip()
    uri = _one(driver, "#totp-uri").get_attribute("href")
    assert uri.startswith("otpauth://totp/") and f"secret={secret.replace(' ', '')}" in uri, uri
    shots.take(driver, "two-factor-setup")
    _type(driver, "#code", totp(secret))
    _one(driver, "#enable-two-factor").click()
    wait_until(lambda: "Two-factor sign-in is on." in driver.page_source, what="two-factor sign-in turned on")
    shots.take(driver, "two-factor-on")
    _one(driver, "#sign-out").click()
    _at(driver, "/login", "signing out leads to the sign-in page")

    _type(driver, "input[name=email]", user.email)
    _type(driver, "input[name=password]", user.password)
    _one(driver, "#sign-in").click()
    _at(driver, "/login/two-factor", "a password sign-in with two-factor on asks for the code")
    driver.get(stack.url("/connections"))
    _at(driver, "/login", "no session before the code")
    driver.get(stack.url("/login/two-factor"))
    _accessible(driver)
    shots.take(driver, "two-factor-code")
    # The next step's code: the one used to turn it on is never accepted again.
    _type(driver, "#code", totp(secret, offset=1))
    _one(driver, "#check-code").click()
    _at(driver, "/connections", "password and code sign in")
    shots.take(driver, "signed-in")

    # Two-factor guards the password only: an emailed code signs the same person in without it (README).
    _one(driver, "#sign-out").click()
    _at(driver, "/login", "signing out leads to the sign-in page")
    code = _ask_for_code(driver, shots, stack, sink, user.email)
    _type(driver, "#code", code)
    _one(driver, "#check-code").click()
    _at(driver, "/connections", "an email code signs in without the authenticator's code")
