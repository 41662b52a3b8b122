"""Incident response in a real browser and on the command line, against the real binary and a local OAuth
provider (fake_oauth_provider.py), on SQLite and PostgreSQL.

An administrator opens /admin/incidents, picks an integration and sees what revoking it covers (nothing has
changed yet); a wrong confirmation phrase revokes nothing; the right one revokes each credential at the provider
(the provider counts the revocations), deletes it, and shows the run's result. A forced refresh of another
integration gets new tokens from the provider; an admin key revoked on the page is refused at its next request.
`latchkey incidents revoke` does a dry run, refuses without the phrase, and revokes with `--yes`.
Screenshots go to <artifacts>/screenshots/incidents-<test>-NN-<step>.png.
"""

from __future__ import annotations

import secrets

import pytest
import requests
from selenium.webdriver.support.ui import Select

from conftest import _make_database, mint_admin_key, run_cli
from fake_oauth_provider import FakeProviderProcess
from peers import chromium_for_test, chromium_problem, need_peer, wait_until
from test_browser_connect_glewlwyd import _css, _flash, _one, _path
from webtools import WebStack, users_create

STEP_TIMEOUT = 30
PASSWORD = "incident-admin-password-1"
ADMIN = "incident-admin@example.test"


class World:
    def __init__(self, stack: WebStack, fake: FakeProviderProcess):
        self.stack, self.fake = stack, fake

    def integration(self, prefix: str, users: list[str]) -> tuple[str, str, dict[str, str]]:
        """A generic OAuth integration at the fake with one imported credential per user; returns its key, its
        client id, and each user's refresh token."""
        key = f"{prefix}-{secrets.token_hex(3)}"
        client, secret = "client-" + key, "secret-" + secrets.token_urlsafe(12)
        tokens = {}
        for user in users:
            tokens[user] = "rt-" + secrets.token_urlsafe(16)
            self.fake.seed(client, secret, tokens[user])
        body = {"provider": "oauth2", "key": key, "clientId": client, "clientSecret": secret, "scopes": ["read"],
                "settings": self.fake.endpoints()}
        r = self.stack.api.post(self.stack.url("/api/v1/integrations"), json=body, timeout=30)
        assert r.status_code == 201, f"POST /api/v1/integrations → {r.status_code}: {r.text[:300]}"
        for user in users:
            cred = {"integration": key, "externalUserId": user, "type": "oauth2", "accessToken": "at-" + secrets.token_urlsafe(12),
                    "refreshToken": tokens[user], "expiresAt": "2030-01-01T00:00:00Z", "scopes": ["read"]}
            r = self.stack.api.post(self.stack.url("/api/v1/credentials"), json=cred, timeout=30)
            assert r.status_code == 201, f"POST /api/v1/credentials → {r.status_code}: {r.text[:300]}"
        return key, client, tokens

    def credentials(self, key: str) -> list[dict]:
        r = self.stack.api.get(self.stack.url("/api/v1/credentials"), params={"integration": key, "limit": 100}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return r.json()["items"]


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    p = FakeProviderProcess(tmp_path_factory.mktemp("incidents-fake-oauth")).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request, tmp_path_factory, fake):
    need_peer(chromium_problem(), "headless Chromium")
    workdir = tmp_path_factory.mktemp(f"latchkey-incidents-{request.param}")
    gen = _make_database(request.param, workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--allow-private-network"])
    try:
        stack.start()
        users_create(stack.db, stack.cwd, ADMIN, PASSWORD, name="Incident Admin", admin=True)
        yield World(stack, fake)
    finally:
        stack.stop()
        gen.close()


@pytest.fixture
def browser(request):
    driver, shots = chromium_for_test(request, "incidents")
    return driver, shots


def _sign_in(driver, stack: WebStack) -> None:
    driver.get(stack.url("/login?next=/admin/incidents"))
    _one(driver, "input[name=email]", "email field").send_keys(ADMIN)
    _one(driver, "input[name=password]", "password field").send_keys(PASSWORD)
    _one(driver, "#sign-in", "sign-in button").click()
    wait_until(lambda: _path(driver) == "/admin/incidents", timeout=STEP_TIMEOUT, what="the incidents page after sign-in")


def test_an_admin_revokes_an_integration_after_a_dry_run_and_the_phrase(world, browser):
    driver, shots = browser
    stack, fake = world.stack, world.fake
    key, client, _ = world.integration("leaked", ["alice", "bob"])
    other, other_client, _ = world.integration("kept", ["carol"])
    _sign_in(driver, stack)
    shots.take(driver, "page")

    _one(driver, "#scope-integration", "integration scope").click()
    Select(_one(driver, "#revoke-integration", "integration list")).select_by_value(key)
    _one(driver, "#preview-revoke", "Show what would be revoked").click()
    wait_until(lambda: _css(driver, "#preview-total"), timeout=STEP_TIMEOUT, what="the dry run's counts")
    assert "2 credentials" in _one(driver, "#preview-total", "total").text
    rows = [r.get_attribute("data-integration") for r in _css(driver, "tr.preview-count")]
    assert rows == [key], f"the dry run lists {rows}"
    assert _one(driver, "#phrase", "phrase").text == key
    assert len(world.credentials(key)) == 2 and fake.counters(client).get("revocations", 0) == 0, "the dry run changed something"
    shots.take(driver, "dry-run")

    _one(driver, "#confirm", "confirmation field").send_keys("yes please")
    _one(driver, "#confirm-revoke", "Revoke and delete").click()
    wait_until(lambda: _css(driver, "#confirm-error"), timeout=STEP_TIMEOUT, what="the wrong phrase refused")
    assert "phrase did not match" in _one(driver, "#confirm-error", "error").text
    assert len(world.credentials(key)) == 2 and fake.counters(client).get("revocations", 0) == 0, "a wrong phrase revoked something"
    shots.take(driver, "wrong-phrase")

    _one(driver, "#confirm", "confirmation field").send_keys(key)
    _one(driver, "#confirm-revoke", "Revoke and delete").click()
    wait_until(lambda: _path(driver).startswith("/admin/incidents/jobs/"), timeout=STEP_TIMEOUT, what="the run's page")
    assert _one(driver, "#job-status", "status").text == "done"
    assert _one(driver, "#job-processed", "deleted").text == "2 of 2"
    assert _one(driver, "#job-revoked", "revoked").text == "2"
    shots.take(driver, "done")
    assert fake.counters(client)["revocations"] >= 2, f"the provider saw {fake.counters(client)} "
    assert world.credentials(key) == [], "credentials of the revoked integration are left"
    assert len(world.credentials(other)) == 1, "another integration's credential went too"

    # The run is listed, and its page reads the same later.
    driver.get(stack.url("/admin/incidents"))
    assert _css(driver, "tr.incident-job"), "the run is not listed"

    # A forced refresh of the other integration: a new token from the provider.
    Select(_one(driver, "#refresh-integration", "refresh list")).select_by_value(other)
    _one(driver, "#refresh-all", "Refresh now").click()
    wait_until(lambda: "refreshed" in _flash(driver), timeout=STEP_TIMEOUT, what="the refresh's counts")
    assert f"{other}: 1 refreshed, 0 failed" in _flash(driver)
    assert fake.counters(other_client).get("processed", 0) == 1, f"the provider saw {fake.counters(other_client)}"
    shots.take(driver, "refreshed")


def test_an_admin_key_revoked_on_the_page_is_refused_at_its_next_request(world, browser):
    driver, shots = browser
    stack = world.stack
    spare = mint_admin_key(stack.db, stack.cwd, name="leaked-" + secrets.token_hex(3))
    spare_api = requests.Session()
    spare_api.trust_env = False
    spare_api.headers["Authorization"] = f"Bearer {spare}"
    assert spare_api.get(stack.url("/api/v1/admin-keys"), timeout=30).status_code == 200
    key_id = next(k["id"] for k in stack.api.get(stack.url("/api/v1/admin-keys"), timeout=30).json()["items"]
                  if spare.startswith(k["prefix"]) and not k.get("revokedAt"))
    _sign_in(driver, stack)
    _one(driver, f"#revoke-key-{key_id}", "Revoke now").click()
    wait_until(lambda: "was revoked" in _flash(driver), timeout=STEP_TIMEOUT, what="the key revoked")
    shots.take(driver, "key-revoked")
    assert spare_api.get(stack.url("/api/v1/admin-keys"), timeout=30).status_code == 401
    assert not _css(driver, f"#revoke-key-{key_id}"), "the revoked key is still offered"


def test_the_command_line_does_a_dry_run_refuses_without_the_phrase_and_revokes_with_yes(world):
    stack = world.stack
    key, client, _ = world.integration("cli", ["dave", "erin", "frank"])
    env = dict(stack.db.env, LATCHKEY_ALLOW_PRIVATE_NETWORK="1")
    dry = run_cli(["incidents", "revoke", "--integration", key, "--dry-run", *stack.db.cli_args], stack.cwd, env)
    assert "3 credentials in scope" in dry.stdout and f"{key}\t3" in dry.stdout
    assert len(world.credentials(key)) == 3
    refused = run_cli(["incidents", "revoke", "--integration", key, *stack.db.cli_args], stack.cwd, env, check=False)
    assert refused.returncode != 0 and f'type "{key}" to confirm' in refused.stderr
    assert len(world.credentials(key)) == 3
    done = run_cli(["incidents", "revoke", "--integration", key, "--yes", *stack.db.cli_args], stack.cwd, env)
    assert "done. Deleted 3 of 3; revoked at the provider 3" in done.stdout, done.stdout
    assert world.credentials(key) == []
    assert world.fake.counters(client)["revocations"] >= 3
