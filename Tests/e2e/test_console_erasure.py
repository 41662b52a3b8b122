"""A person's data in the console and on the command line, in a real browser against the real binary.

An administrator opens a member's page on `/admin/users`, downloads their data (the JSON export, with no secret in
it), then erases them: the confirmation page refuses a mistyped email and erases once the email is typed; the member
is gone from the list and cannot sign in, and the console's audit page shows "erased" where their identifiers were.
`latchkey users erase --yes` erases another member, and `audit verify` still finds the chain intact. SQLite and PostgreSQL. Screenshots go to
<artifacts>/screenshots/console-erasure-<test>-NN-<step>.png.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import _make_database, binary_path
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from test_browser_connect_glewlwyd import Console, _css, _flash, _one, _path
from webtools import WebStack, users_create

STEP_TIMEOUT = 20
PASSWORD = "admin-password-for-erasure-1"
ADMIN = "erasure-admin@example.test"
MEMBER = "erasure-member@example.test"
MEMBER_PASSWORD = "member-password-for-erasure-1"
OTHER = "erasure-other@example.test"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp(f"latchkey-console-erasure-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir)
    try:
        stack.start()
        users_create(stack.db, stack.cwd, ADMIN, PASSWORD, name="Erasure Admin", admin=True)
        member = users_create(stack.db, stack.cwd, MEMBER, MEMBER_PASSWORD, name="Erasure Member")
        other = users_create(stack.db, stack.cwd, OTHER, "other-password-for-erasure-1", name="Other Member")
        yield stack, member, other
    finally:
        stack.stop()
        gen.close()


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "console-erasure")
    return driver, shots, Console(driver)


def _cli(stack: WebStack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary_path()), *args, *stack.db.cli_args], cwd=stack.cwd, env=stack.db.env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_an_admin_exports_and_erases_a_member(world, browser):
    stack, member, _ = world
    driver, shots, console = browser
    driver.get(stack.url("/login?next=/"))
    _one(driver, "input[name=email]", "email field").send_keys(ADMIN)
    _one(driver, "input[name=password]", "password field").send_keys(PASSWORD)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/admin", timeout=STEP_TIMEOUT, what="landing on the overview")

    # The audit log reads the member's identifiers (sealed under their key at rest) in clear while they exist.
    driver.get(stack.url("/admin/audit?action=user.create"))
    wait_until(lambda: MEMBER in driver.page_source, timeout=STEP_TIMEOUT, what="the member's email on the audit page")

    driver.get(stack.url(f"/admin/users/{member}"))
    wait_until(lambda: _css(driver, "#erase-user"), timeout=STEP_TIMEOUT, what="the member's page with its erase link")
    shots.take(driver, "member-page")

    # The export link gives the member's data as JSON, with this browser's session.
    href = _one(driver, "#export-user", "Export their data").get_attribute("href")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(href, headers={"Cookie": cookies})) as answer:
        assert "attachment" in answer.headers.get("Content-Disposition", "")
        text = answer.read().decode()
    export = json.loads(text)
    assert export["kind"] == "user" and export["profile"]["email"] == MEMBER
    assert MEMBER_PASSWORD not in text and "$2b$" not in text, "the export holds the password or its hash"

    _one(driver, "#erase-user", "Erase link").click()
    wait_until(lambda: _path(driver).endswith("/erase"), timeout=STEP_TIMEOUT, what="the erase confirmation")
    _one(driver, "#confirm-email", "confirmation field").send_keys("someone-else@example.test")
    _one(driver, "#confirm-erase", "Erase for good").click()
    wait_until(lambda: _css(driver, "#confirm-error"), timeout=STEP_TIMEOUT, what="the refused confirmation")
    shots.take(driver, "confirmation-refused")
    _one(driver, "#confirm-email", "confirmation field").send_keys(MEMBER)
    _one(driver, "#confirm-erase", "Erase for good").click()
    wait_until(lambda: "was erased" in _flash(driver), timeout=STEP_TIMEOUT, what="the erasure")
    assert _path(driver) == "/admin/users"
    assert not _css(driver, f'tr[data-email="{MEMBER}"]'), "the erased member is still listed"
    console.assert_no_csp_violation("the users page after an erasure")
    shots.take(driver, "erased")

    # Their page and their export are gone.
    for path in (f"/admin/users/{member}", f"/admin/users/{member}/export"):
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(urllib.request.Request(stack.url(path), headers={"Cookie": cookies}))
        assert gone.value.code == 404, f"{path} answered {gone.value.code} after the erasure"

    # Crypto-shredding: the events written about them now read "erased" (their key is gone), nothing of them is left.
    driver.get(stack.url("/admin/audit?action=user.create"))
    wait_until(lambda: "email=erased" in driver.page_source, timeout=STEP_TIMEOUT, what="the member's email shown as erased")
    assert MEMBER not in driver.page_source and member not in driver.page_source, "the audit page still shows the erased member"
    shots.take(driver, "audit-erased")


def test_the_cli_erases_a_member_and_the_chain_still_verifies(world):
    stack, _, other = world
    refused = _cli(stack, "users", "erase", "nobody@example.test", "--yes")
    assert refused.returncode != 0 and "no user" in refused.stderr
    erased = _cli(stack, "users", "erase", OTHER, "--yes")
    assert erased.returncode == 0, erased.stderr
    assert f"Erased {OTHER}" in erased.stdout
    listed = _cli(stack, "users", "list")
    assert OTHER not in listed.stdout and other not in listed.stdout
    again = _cli(stack, "users", "erase", other, "--yes")
    assert again.returncode != 0 and "gone for good" in again.stderr
    verified = _cli(stack, "audit", "verify")
    assert verified.returncode == 0 and "is intact" in verified.stdout, verified.stdout + verified.stderr
