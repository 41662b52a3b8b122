"""Sign-in per tenant, sessions and linked accounts as a person sees them: headless Chromium against
`latchkey serve --demo`.

A second tenant made with `latchkey tenants create` (which prints its sign-in page) gets a person through
`latchkey users create --tenant`; Chromium signs in on that tenant's page and sees only that tenant's services, and
is told it is signed in elsewhere on the default tenant's page. On Settings › Sessions a person ends the session of
another browser, then signs out everywhere. On Settings › Linked accounts unlinking the last way to sign in is refused
with the reason. SQLite and PostgreSQL.

Screenshots: <artifacts>/screenshots/identity-<test>-NN-<step>.png.
"""

from __future__ import annotations

import subprocess
import urllib.parse

import pytest
import requests

from conftest import _make_database, binary_path, run_cli
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import WebStack, location, users_create

HTTP_TIMEOUT = 20
PASSWORD = "identity-pages-password-1"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp(f"latchkey-identity-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--demo"])
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        gen.close()


def _env(stack: WebStack) -> dict[str, str]:
    return {**stack.db.env, "LATCHKEY_PUBLIC_URL": stack.public_url}


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _sign_in(driver, stack: WebStack, email: str, page: str = "/login") -> None:
    from selenium.webdriver.common.by import By

    driver.get(stack.url(page))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(lambda: _path(driver) != "/login", what="signing in")


def _signed_out(web) -> bool:
    """Whether a page of a signed-in person sends this browser to sign in."""
    target = location(web.get("/connections")) or ""
    return urllib.parse.urlsplit(target).path == "/login"


def _body(driver) -> str:
    """The page's text, or "" while the browser is between two pages."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_a_tenant_signs_in_on_its_own_page_and_sees_only_its_own_services(stack, request):
    from selenium.webdriver.common.by import By

    created = run_cli(["tenants", "create", "beta", "--name", "Beta Inc", *stack.db.cli_args], stack.cwd, _env(stack))
    sign_in_url = f"{stack.public_url}/login?tenant=beta"
    assert sign_in_url in created.stdout, f"`tenants create` does not print the sign-in page: {created.stdout!r}"
    listed = run_cli(["tenants", "list", *stack.db.cli_args], stack.cwd, _env(stack))
    assert any(line.startswith("beta\t") and line.endswith(sign_in_url) for line in listed.stdout.splitlines()), listed.stdout
    # `users create --tenant` adds Bo to Beta, and says where Bo signs in.
    proc = subprocess.run([str(binary_path()), "users", "create", "--email", "bo@beta.test", "--name", "Bo Beta", "--tenant", "beta",
                           "--password-stdin", *stack.db.cli_args], cwd=stack.cwd, env=_env(stack), input=PASSWORD + "\n",
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"They sign in at {sign_in_url}" in proc.stderr, proc.stderr[-500:]
    # Beta's own service (its admin key made by the CLI for that tenant); the demo's sandbox is the default tenant's.
    beta_key = run_cli(["keys", "create-admin", "--tenant", "beta", *stack.db.cli_args], stack.cwd, stack.db.env).stdout.strip()
    r = requests.post(stack.url("/api/v1/integrations"), json={"provider": "openai", "key": "openai"},
                      headers={"Authorization": f"Bearer {beta_key}"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, f"POST /api/v1/integrations for beta → HTTP {r.status_code}: {r.text[:300]}"
    users_create(stack.db, stack.cwd, "dana@example.test", PASSWORD, name="Dana Default")

    driver, shots = chromium_for_test(request, "identity")
    driver.get(stack.url("/login?tenant=beta"))
    assert "Sign in to Beta Inc" in _body(driver)
    shots.take(driver, "beta-sign-in")
    _sign_in(driver, stack, "bo@beta.test", page="/login?tenant=beta")
    driver.get(stack.url("/connections"))
    center = _body(driver)
    assert "OpenAI" in center and "Sandbox" not in center, f"beta's Connection Center shows other tenants' services: {center[:600]!r}"
    shots.take(driver, "beta-connections")
    # The default tenant's sign-in page does not pass Bo on as someone of that tenant.
    driver.get(stack.url("/login"))
    page = _body(driver)
    assert "You are signed in to another organization" in page and "bo@beta.test" in page, page[:600]
    shots.take(driver, "signed-in-elsewhere")
    driver.find_element(By.ID, "sign-out-first").click()
    wait_until(lambda: _path(driver) == "/login", what="signing out")
    _sign_in(driver, stack, "dana@example.test")
    driver.get(stack.url("/connections"))
    center = _body(driver)
    assert "Sandbox" in center and "OpenAI" not in center, f"the default tenant's Connection Center: {center[:600]!r}"


def test_a_person_ends_another_session_then_signs_out_everywhere(stack, request):
    from selenium.webdriver.common.by import By

    email = "sessions@example.test"
    users_create(stack.db, stack.cwd, email, PASSWORD, name="Sam Sessions")
    phone = stack.web("phone")
    phone.sign_in(email, PASSWORD)
    tablet = stack.web("tablet")
    tablet.sign_in(email, PASSWORD)

    driver, shots = chromium_for_test(request, "identity")
    _sign_in(driver, stack, email)
    driver.get(stack.url("/settings"))
    driver.find_element(By.LINK_TEXT, "Sessions").click()
    wait_until(lambda: _path(driver) == "/settings/sessions", what="the sessions page")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.web-session")
    assert len(rows) == 3, f"{len(rows)} sessions listed, want 3"
    current = [row for row in rows if row.get_attribute("data-current") == "true"]
    assert len(current) == 1 and "this browser" in current[0].text
    shots.take(driver, "sessions")
    # End the phone's session (the e2e browsers say who they are in the User-Agent).
    phone_row = next(row for row in rows if "latchkey-e2e" in row.text and row.get_attribute("data-current") != "true")
    phone_row.find_element(By.CSS_SELECTOR, "a.end-session").click()
    wait_until(lambda: _path(driver).endswith("/end"), what="the confirmation page")
    assert "End this session?" in _body(driver)
    driver.find_element(By.ID, "confirm-end").click()
    wait_until(lambda: "That session has ended" in _body(driver), what="the session to end")
    assert len(driver.find_elements(By.CSS_SELECTOR, "tr.web-session")) == 2
    ended = [web for web in (phone, tablet) if _signed_out(web)]
    assert len(ended) == 1, "ending one session signed out not exactly one other browser"
    still = tablet if ended[0] is phone else phone
    shots.take(driver, "one-ended")

    driver.find_element(By.ID, "end-all").click()
    wait_until(lambda: _path(driver) == "/settings/sessions/end-all", what="the confirmation page")
    assert "revokes" in _body(driver)
    shots.take(driver, "end-all-confirm")
    driver.find_element(By.ID, "confirm-end-all").click()
    wait_until(lambda: _path(driver) == "/login", what="signing out everywhere")
    assert "You are signed out" in _body(driver)
    driver.get(stack.url("/connections"))
    assert _path(driver) == "/login", "this browser is still signed in after signing out everywhere"
    assert _signed_out(still), "another browser is still signed in"


def test_the_last_way_to_sign_in_cannot_be_unlinked(stack, request):
    from selenium.webdriver.common.by import By

    email = "linked@example.test"
    users_create(stack.db, stack.cwd, email, PASSWORD, name="Lin Linked")
    driver, shots = chromium_for_test(request, "identity")
    _sign_in(driver, stack, email)
    driver.get(stack.url("/settings/identities"))
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.identity")
    assert len(rows) == 1 and "Password" in rows[0].text and "primary" in rows[0].text and email in rows[0].text
    shots.take(driver, "linked-accounts")
    rows[0].find_element(By.CSS_SELECTOR, "a.unlink").click()
    wait_until(lambda: _path(driver).endswith("/unlink"), what="the unlink page")
    alert = driver.find_element(By.ID, "unlink-error")
    assert "This is your last way to sign in" in alert.text
    assert not driver.find_elements(By.ID, "confirm-unlink"), "the last way to sign in offers an Unlink button"
    shots.take(driver, "unlink-refused")
    # Posted anyway (a page from before): refused with the same reason, and the password still signs in.
    web = stack.web("old-page")
    web.sign_in(email, PASSWORD)
    unlink_path = _path(driver)
    r = web.post(unlink_path, data={"csrf_token": web.page("/settings/identities").csrf()})
    assert r.status_code == 409 and "This is your last way to sign in" in r.text, f"HTTP {r.status_code}"
    stack.web("again").sign_in(email, PASSWORD)
