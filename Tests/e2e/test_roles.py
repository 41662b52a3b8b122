"""Roles as an administrator and an auditor see them: headless Chromium against `latchkey serve --demo`.

`latchkey users create --role auditor` makes an auditor; in Chromium they land on the administration, read every
administration page under a read-only notice with no form that changes anything, and can still check the audit chain
and sign out. An administrator makes a member an auditor with the role select on the user's page. An auditor's key
(`latchkey keys create-admin --role auditor`) reads the API and is refused (403) every change.

Screenshots: <artifacts>/screenshots/roles-<test>-NN-<step>.png.
"""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from conftest import run_cli
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from webtools import WebStack, started_stack, users_create

HTTP_TIMEOUT = 20
PASSWORD = "roles-pages-password-1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    yield from started_stack(tmp_path_factory, "latchkey-roles")


def _path(driver) -> str:
    return urllib.parse.urlsplit(driver.current_url).path


def _sign_in(driver, stack: WebStack, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(stack.url("/login"))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(lambda: _path(driver) != "/login", what="signing in")


def _text(driver, tag: str = "body") -> str:
    """The text of the page's `tag`, or "" while the browser is between two pages."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.TAG_NAME, tag).text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def _visible_post_forms(driver) -> list[str]:
    """The actions of the forms inside <main> that post and are shown."""
    return driver.execute_script(
        "return [...document.querySelectorAll('main form[method=post]')]"
        ".filter(f => f.offsetParent !== null).map(f => f.getAttribute('action'));"
    )


def _role_of(stack: WebStack, key: str, email: str) -> str:
    r = requests.get(stack.url("/api/v1/users"), headers={"Authorization": f"Bearer {key}"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text[:300]
    return next(u["role"] for u in r.json()["items"] if u["email"] == email)


def _admin_key(stack: WebStack) -> str:
    return run_cli(["keys", "create-admin", "--name", "roles-test", *stack.db.cli_args], stack.cwd, stack.db.env).stdout.strip()


def test_an_auditor_reads_the_administration_and_changes_nothing(stack, request):
    from selenium.webdriver.common.by import By

    users_create(stack.db, stack.cwd, "ana@roles.test", PASSWORD, name="Ana Auditor", role="auditor")
    wrong = run_cli(["users", "create", "--email", "x@roles.test", "--role", "owner", *stack.db.cli_args], stack.cwd,
                    stack.db.env, check=False)
    assert wrong.returncode != 0 and "--role is admin, auditor or member" in wrong.stderr, wrong.stderr[-500:]

    driver, shots = chromium_for_test(request, "roles")
    _sign_in(driver, stack, "ana@roles.test")
    driver.get(stack.url("/"))
    assert _path(driver) == "/admin", f"/ takes an auditor to {driver.current_url}"
    for path in ["/admin/users", "/admin/integrations", "/admin/apps", "/admin/keys", "/admin/webhooks", "/admin/audit"]:
        driver.get(stack.url(path))
        notice = driver.find_element(By.ID, "read-only")
        assert notice.is_displayed() and "change nothing" in notice.text
        shown = _visible_post_forms(driver)
        if path == "/admin/audit":
            assert shown == ["/admin/audit/verify"], f"{path} shows forms {shown}"
        else:
            assert shown == [], f"{path} shows forms that change something: {shown}"
    shots.take(driver, "audit-read-only")
    driver.find_element(By.ID, "verify-chain").click()
    wait_until(lambda: driver.find_elements(By.ID, "chain-status"), what="the chain check")
    assert "intact" in driver.find_element(By.ID, "chain-status").text.lower()
    # The add-user form sent anyway (shown again and submitted by script, with the page's CSRF token) is refused in words.
    driver.get(stack.url("/admin/users"))
    driver.execute_script(
        """
        const form = document.querySelector('main form[action="/admin/users"]');
        form.style.display = 'block';
        form.querySelector('#email').value = 'eve@roles.test';
        form.querySelector('#name').value = 'Eve';
        form.querySelector('#password').value = 'a-long-password-1';
        form.submit();
        """
    )
    wait_until(lambda: "You are an auditor" in _text(driver), what="the refusal")
    shots.take(driver, "refused")
    assert "eve@roles.test" not in requests.get(stack.url("/api/v1/users"), headers={"Authorization": f"Bearer {_admin_key(stack)}"},
                                                timeout=HTTP_TIMEOUT).text
    # Their own settings are theirs: no read-only notice there, and signing out works.
    driver.get(stack.url("/settings"))
    assert not driver.find_elements(By.ID, "read-only")
    driver.find_element(By.ID, "sign-out").click()
    wait_until(lambda: _path(driver) in ("/login", "/"), what="signing out")


def test_an_administrator_makes_a_member_an_auditor_and_an_auditors_key_only_reads(stack, request):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    users_create(stack.db, stack.cwd, "root@roles.test", PASSWORD, name="Root Admin", admin=True)
    bob = users_create(stack.db, stack.cwd, "bob@roles.test", PASSWORD, name="Bob Member")
    key = run_cli(["keys", "create-admin", "--name", "compliance", "--role", "auditor", *stack.db.cli_args], stack.cwd,
                  stack.db.env).stdout.strip()
    assert key.startswith("lk_live_")
    listed = run_cli(["keys", "list-admin", *stack.db.cli_args], stack.cwd, stack.db.env).stdout
    assert any("\tcompliance\tauditor\t" in line for line in listed.splitlines()), listed

    driver, shots = chromium_for_test(request, "roles")
    _sign_in(driver, stack, "root@roles.test")
    driver.get(stack.url(f"/admin/users/{bob}"))
    assert driver.find_element(By.ID, "user-role").text == "Member"
    Select(driver.find_element(By.ID, "role")).select_by_value("auditor")
    driver.find_element(By.ID, "change-role").click()
    wait_until(lambda: "is now an auditor" in _text(driver, "main"), what="the role change")
    assert driver.find_element(By.ID, "user-role").text == "Auditor"
    shots.take(driver, "made-auditor")
    assert _role_of(stack, key, "bob@roles.test") == "auditor"

    auth = {"Authorization": f"Bearer {key}"}
    for path in ["/api/v1/integrations", "/api/v1/audit", "/api/v1/apps"]:
        r = requests.get(stack.url(path), headers=auth, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"GET {path} with an auditor's key → {r.status_code}: {r.text[:200]}"
    r = requests.post(stack.url("/api/v1/integrations"), json={"provider": "openai", "key": "openai-2"}, headers=auth,
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", r.text[:300]
    assert key not in r.text
    r = requests.post(stack.url("/api/v1/credentials/token"), json={"integration": "sandbox"}, headers=auth,
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 403, r.text[:300]
