"""Connecting an account at a real, independently written OAuth server: glewlwyd.

The module starts one glewlwyd (Tests/peers/glewlwyd, PKCE required, redirect URI
`{Latchkey public URL}/connect/callback`) and, per database (SQLite; PostgreSQL when the
suite has one), one `latchkey serve --allow-private-network` with an `oidc` integration
`glewlwyd` made through the admin API. A signed-in `requests.Session` plays the
person's browser at Latchkey; the harness's `login_and_consent.py` plays it at
glewlwyd, and the callback URL it prints is then opened with the same session.

Each test signs in its own console user, so the tests do not depend on one another.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest

from conftest import _make_database, assert_absent
from peers import Glewlwyd, glewlwyd_problem, need_peer, query_of, with_query, without_query
from webtools import (
    WebStack,
    assert_redirect,
    button_label,
    card_action,
    check,
    is_html,
    location,
    parse_dom,
    start_connect,
    submit_buttons,
)

KEY = "glewlwyd"
DISPLAY = "Glewlwyd"
SCOPES = ["openid", "read"]


# --------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def glewlwyd(tmp_path_factory):
    need_peer(glewlwyd_problem(), "glewlwyd (the OAuth server these tests connect to)")
    server = Glewlwyd(tmp_path_factory.mktemp("glewlwyd-state")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, glewlwyd, tmp_path_factory):
    workdir = tmp_path_factory.mktemp(f"latchkey-glewlwyd-{request.param}")
    gen = _make_database(request.param, workdir)
    db = next(gen)
    stack = WebStack(db, workdir, extra_args=["--allow-private-network"])
    try:
        # glewlwyd only redirects to registered URIs: register this server's callback.
        doc = glewlwyd.provision([stack.public_url + "/connect/callback"], "--pkce-required")
        stack.start()
        r = stack.api.post(stack.url("/api/v1/integrations"), json=_integration_body(doc, KEY, DISPLAY), timeout=20)
        assert r.status_code == 201, f"POST /api/v1/integrations (oidc, glewlwyd) → HTTP {r.status_code}: {r.text[:500]}"
        assert_absent(r.text, doc["client"]["client_secret"], "POST /api/v1/integrations echoed the client secret")
        stack.glewlwyd_doc = doc
        yield stack
    finally:
        stack.stop()
        gen.close()  # drops the PostgreSQL schema


def _integration_body(doc: dict, key: str, display: str, secret: str | None = None) -> dict:
    return {
        "provider": "oidc",
        "key": key,
        "displayName": display,
        "clientId": doc["client"]["client_id"],
        "clientSecret": secret if secret is not None else doc["client"]["client_secret"],
        "scopes": SCOPES,
        "settings": {"discoveryURL": doc["discovery_url"]},
    }


# --------------------------------------------------------------------------
# helpers


def _connect(stack: WebStack, glewlwyd: Glewlwyd, web, integration: str = KEY, via=None):
    """Click Connect (or submit `via`), consent at glewlwyd; return (authorization URL, callback URL)."""
    r = via() if via else start_connect(web, integration)
    auth_url = location(r)
    assert auth_url and auth_url.startswith(glewlwyd.doc["authorization_endpoint"]), (
        f"connect did not redirect to glewlwyd's authorization endpoint (got {without_query(auth_url or '')!r})"
    )
    callback = glewlwyd.consent(auth_url)
    assert without_query(callback) == stack.public_url + "/connect/callback", (
        f"glewlwyd redirected to {without_query(callback)!r}, not Latchkey's callback"
    )
    q = query_of(callback)
    assert q.get("code") and q.get("state") == query_of(auth_url).get("state"), (
        f"glewlwyd's redirect has no code or another state (error={q.get('error')!r} {q.get('error_description')!r})"
    )
    return auth_url, callback


def _finish(stack: WebStack, web, callback: str) -> None:
    r = web.get(callback)
    assert_redirect(r, stack.base_url, "/connections", statuses=(302, 303), what="GET /connect/callback after consent")


def _connected(stack: WebStack, glewlwyd: Glewlwyd, web) -> str:
    """Connect fully; returns the credential id shown in the Connection Center."""
    _, callback = _connect(stack, glewlwyd, web)
    _finish(stack, web, callback)
    cards = web.center().connections_for(KEY)
    assert len(cards) == 1, f"Connection Center shows {len(cards)} Glewlwyd connections after connecting, want 1"
    assert cards[0].credential_id, "connection card has no data-credential-id"
    return cards[0].credential_id


def _ids(stack: WebStack, integration: str = KEY) -> set[str]:
    return {c["id"] for c in stack.credentials(integration)}


def _assert_error_page(r, what: str, lowest: int = 400, highest: int = 499, secrets_=()) -> None:
    assert lowest <= r.status_code <= highest, f"{what}: HTTP {r.status_code}, want {lowest}..{highest} with an error page"
    assert is_html(r), f"{what}: not an HTML page (Content-Type {r.headers.get('Content-Type')!r})"
    text = re.sub(r"<[^>]+>", " ", r.text)
    assert len(text.split()) >= 3, f"{what}: the error page has no human message"
    for marker in ("Traceback", "Fatal error", "SQLITE_", "PSQLError", "Swift/", ".swift:"):
        assert marker not in r.text, f"{what}: the error page shows internals ({marker!r})"
    for name, value in secrets_:
        assert_absent(r.text, value, f"{what}: the error page shows the {name}")


def _try_again(page_text: str):
    """The 'Try again' link or button on an error page, as (kind, element)."""
    dom = parse_dom(page_text)
    for a in dom.find_all("a"):
        if re.search(r"try again", a.text, re.I) and a.get("href"):
            return "link", a
    for form in dom.find_all("form"):
        for b in submit_buttons(form):
            if re.search(r"try again", button_label(b), re.I):
                return "form", form
    return None, None


# --------------------------------------------------------------------------
# tests


def glewlwyd_discovery(stack) -> str:
    return stack.glewlwyd_doc["discovery_url"]


def test_integration_admin_api(stack):
    api = stack.api
    listed = api.get(stack.url("/api/v1/integrations"), timeout=20)
    assert listed.status_code == 200, f"GET /api/v1/integrations → HTTP {listed.status_code}"
    keys = [i.get("key") for i in listed.json().get("items", [])]
    assert KEY in keys, f"GET /api/v1/integrations does not list {KEY!r} (keys: {keys})"

    one = api.get(stack.url(f"/api/v1/integrations/{KEY}"), timeout=20)
    assert one.status_code == 200, f"GET /api/v1/integrations/{KEY} → HTTP {one.status_code}"
    body = one.json()
    assert body.get("key") == KEY and body.get("provider") == "oidc", f"integration body: key {body.get('key')!r}, provider {body.get('provider')!r}"
    assert body.get("displayName") == DISPLAY, f"displayName {body.get('displayName')!r}"
    for r in (listed, one):
        assert_absent(r.text, "test-secret", "the integration API shows the client secret")

    patched = api.patch(stack.url(f"/api/v1/integrations/{KEY}"), json={"displayName": "Glewlwyd (renamed)"}, timeout=20)
    assert patched.status_code == 200, f"PATCH /api/v1/integrations/{KEY} → HTTP {patched.status_code}"
    assert api.get(stack.url(f"/api/v1/integrations/{KEY}"), timeout=20).json().get("displayName") == "Glewlwyd (renamed)"
    back = api.patch(stack.url(f"/api/v1/integrations/{KEY}"), json={"displayName": DISPLAY}, timeout=20)
    assert back.status_code == 200

    temp_body = {"provider": "oidc", "key": "temp-oidc", "displayName": "Temp", "clientId": "x", "clientSecret": "y",
                 "scopes": ["openid"], "settings": {"discoveryURL": glewlwyd_discovery(stack)}}
    temp = api.post(stack.url("/api/v1/integrations"), json=temp_body, timeout=20)
    assert temp.status_code == 201, f"POST /api/v1/integrations (temp-oidc) → HTTP {temp.status_code}"
    gone = api.delete(stack.url("/api/v1/integrations/temp-oidc"), timeout=20)
    assert gone.status_code in (200, 204), f"DELETE /api/v1/integrations/temp-oidc → HTTP {gone.status_code}"
    assert api.get(stack.url("/api/v1/integrations/temp-oidc"), timeout=20).status_code == 404, "a deleted integration is still there"

    bad = api.post(stack.url("/api/v1/integrations"), json={"provider": "no-such-provider", "key": "nope"}, timeout=20)
    assert 400 <= bad.status_code < 500 and bad.headers.get("Content-Type", "").startswith("application/json"), (
        f"unknown provider → HTTP {bad.status_code}, want a 4xx JSON error"
    )
    assert api.get(stack.url("/api/v1/integrations/no-such-integration"), timeout=20).status_code == 404


def test_connect_stores_the_account_and_a_working_token(stack, glewlwyd):
    user = stack.new_user("connect")
    web = stack.signed_in(user)

    center = web.center()
    card = center.services.get(KEY)
    assert card is not None, f"the Connection Center does not offer {KEY!r} (services: {sorted(center.services)})"
    labels = card.button_texts()
    assert any(t.startswith("Connect") for t in labels), f"the {KEY} card has no button starting with 'Connect' ({labels})"
    assert not center.connections_for(KEY), "a new user already has a Glewlwyd connection"

    r = start_connect(web, KEY)
    assert r.status_code == 303, f"POST /connections/{KEY}/connect → HTTP {r.status_code}, want 303"
    # The state's binding to this browser is checked by test_callback_in_another_browser_is_rejected.
    auth_url = location(r)
    assert without_query(auth_url) == glewlwyd.doc["authorization_endpoint"], f"authorization URL {without_query(auth_url)!r}"
    q = query_of(auth_url)
    assert q.get("response_type") == "code", f"response_type={q.get('response_type')!r}"
    assert q.get("client_id") == glewlwyd.doc["client"]["client_id"], f"client_id={q.get('client_id')!r}"
    assert q.get("redirect_uri") == stack.public_url + "/connect/callback", f"redirect_uri={q.get('redirect_uri')!r}, want exactly {stack.public_url}/connect/callback"
    assert len(q.get("state", "")) >= 16, "state is missing or shorter than 16 characters"
    assert q.get("code_challenge_method") == "S256", f"code_challenge_method={q.get('code_challenge_method')!r}, want S256"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", q.get("code_challenge", "")), "code_challenge is not a base64url SHA-256 (43 characters)"
    assert q.get("nonce"), "no nonce although scope openid is requested"
    assert set(SCOPES) <= set(q.get("scope", "").split()), f"scope={q.get('scope')!r}, want {SCOPES}"

    callback = glewlwyd.consent(auth_url)
    cq = query_of(callback)
    assert without_query(callback) == stack.public_url + "/connect/callback" and cq.get("code") and cq.get("state") == q["state"], (
        f"glewlwyd did not redirect to the callback with a code (error={cq.get('error')!r})"
    )
    done = web.get(callback)
    assert_redirect(done, stack.base_url, "/connections", what="GET /connect/callback")
    _assert_no_secret(done.text + (done.headers.get("Location") or ""), [("authorization code", cq["code"])], "callback answer")

    center = web.center_after(done)
    assert center.flash and f"{DISPLAY} connected" in center.flash, f"flash after connecting: {center.flash!r}, want '{DISPLAY} connected'"
    flash_el = center.page.flash()
    assert flash_el.get("role") == "status", "the flash message is not role=status"
    cards = center.connections_for(KEY)
    assert len(cards) == 1, f"{len(cards)} Glewlwyd connections listed, want 1"
    conn = cards[0]
    cred_id = conn.credential_id
    assert cred_id, "the connection card has no data-credential-id"
    assert DISPLAY in conn.text, "the connection card does not name the service"
    account = conn.part("account")
    assert account and "alice" in account.lower(), f"account shown: {account!r}, want glewlwyd's user alice"
    assert conn.part("status"), "the connection card has no status"
    assert re.search(r"\bread\b", conn.text, re.I), "the connection card does not show the permissions (scope read)"
    assert conn.el.find("time") is not None or re.search(r"\b20\d\d\b|today|ago|just now", conn.text, re.I), "the connection card shows no connected date"
    assert conn.el.find("a", attrs={"href": f"/connections/{cred_id}/disconnect"}) is not None, "no Disconnect link on the card"
    assert conn.form(f"/connections/{cred_id}/reconnect") is not None, "no reconnect form on the card"
    buttons = conn.button_texts()
    assert any(b.startswith("Reconnect") for b in buttons), f"card buttons: {buttons}"

    again = web.center()
    assert not again.flash, f"GET /connections (no action just done) shows a message: {again.flash!r}"

    items = [c for c in stack.credentials(KEY) if c["id"] == cred_id]
    assert len(items) == 1, "GET /api/v1/credentials?integration=glewlwyd does not list the new credential"
    meta = items[0]
    assert meta.get("status") == "active", f"credential status {meta.get('status')!r}"
    assert "alice" in (meta.get("providerAccount") or "").lower(), f"providerAccount {meta.get('providerAccount')!r}"
    assert "read" in (meta.get("scopes") or []), f"scopes {meta.get('scopes')!r}"

    secret = stack.reveal(cred_id)
    access, refresh = secret.get("accessToken"), secret.get("refreshToken")
    check(access and refresh, "reveal has no accessToken or no refreshToken")
    info = glewlwyd.userinfo(access)
    check(info.status_code == 200 and info.json().get("sub"), f"glewlwyd userinfo with the stored access token → HTTP {info.status_code}")

    _assert_no_secret(center.page.text, [("access token", access), ("refresh token", refresh)], "Connection Center")
    _assert_no_secret(stack.server.output, [("access token", access), ("refresh token", refresh), ("authorization code", cq["code"]),
                                            ("client secret", glewlwyd.doc["client"]["client_secret"])], "server log")


def _assert_no_secret(haystack: str, secrets_: list[tuple[str, str]], where: str) -> None:
    for name, value in secrets_:
        assert_absent(haystack, value, f"the {name} appears in the {where}")


def test_replayed_callback_is_rejected_and_stores_nothing(stack, glewlwyd):
    user = stack.new_user("replay")
    web = stack.signed_in(user)
    _, callback = _connect(stack, glewlwyd, web)
    _finish(stack, web, callback)
    cred_id = web.center().connections_for(KEY)[0].credential_id
    before = _ids(stack)
    access = stack.reveal(cred_id).get("accessToken")

    replay = web.get(callback)
    _assert_error_page(replay, "the same callback URL a second time", secrets_=[("authorization code", query_of(callback)["code"])])
    assert _ids(stack) == before, "a replayed callback changed the stored credentials"
    assert [c.credential_id for c in web.center().connections_for(KEY)] == [cred_id]
    # glewlwyd revokes what a code issued when the code is replayed: still working means
    # Latchkey refused the replayed state before going to the token endpoint.
    check(glewlwyd.userinfo(access).status_code == 200, "the stored token stopped working: the replayed code reached glewlwyd")
    check(stack.reveal(cred_id).get("accessToken") == access, "the replay changed the stored token")


def test_callback_in_another_browser_is_rejected(stack, glewlwyd):
    user = stack.new_user("binding")
    first = stack.signed_in(user, "first browser")
    second = stack.signed_in(user, "second browser")
    before = _ids(stack)

    _, callback = _connect(stack, glewlwyd, first)
    r = second.get(callback)
    _assert_error_page(r, "callback opened in another browser of the same user")
    assert _ids(stack) == before, "a callback from another browser stored a credential"
    assert not second.center().connections_for(KEY) and not first.center().connections_for(KEY)


def test_provider_error_and_denial_show_a_friendly_page(stack, glewlwyd):
    user = stack.new_user("denied")
    web = stack.signed_in(user)
    before = _ids(stack)

    # A real error redirect from glewlwyd: prompt=none without a glewlwyd session.
    r = start_connect(web, KEY)
    auth_url = with_query(location(r), prompt="none")
    rc, out, err = glewlwyd.login_and_consent(auth_url)
    assert rc == 0 and query_of(out).get("error"), f"glewlwyd gave no error redirect for prompt=none (exit {rc}: {err[-300:]})"
    assert without_query(out) == stack.public_url + "/connect/callback"
    page = web.get(out)
    _assert_error_page(page, f"callback with error={query_of(out)['error']}")

    # The person says no (glewlwyd has no deny button: call the callback as it would).
    r = start_connect(web, KEY)
    state = query_of(location(r))["state"]
    denied = web.get("/connect/callback?" + urllib.parse.urlencode({"error": "access_denied", "state": state}))
    _assert_error_page(denied, "callback with error=access_denied")
    assert _ids(stack) == before, "an error or a denial stored a credential"
    assert not web.center().connections_for(KEY)

    kind, el = _try_again(denied.text)
    assert kind, "the denial page has no 'Try again' link or button"
    if kind == "link":
        retry = web.get(urllib.parse.urljoin(denied.url, el.get("href")))
    else:
        retry = web.submit(el, base=denied.url)
    assert retry.status_code < 400, f"'Try again' → HTTP {retry.status_code}"
    if retry.status_code in (302, 303) and location(retry).startswith(glewlwyd.doc["authorization_endpoint"]):
        # Trying again really works: finish it.
        _finish(stack, web, glewlwyd.consent(location(retry)))
        assert len(web.center().connections_for(KEY)) == 1, "connecting after 'Try again' did not work"


def test_token_endpoint_failure_shows_an_error_page(stack, glewlwyd):
    key = "glewlwyd-wrong-secret"
    r = stack.api.post(stack.url("/api/v1/integrations"), json=_integration_body(glewlwyd.doc, key, "Glewlwyd wrong secret", secret="not-the-secret"), timeout=20)
    assert r.status_code == 201, f"POST /api/v1/integrations ({key}) → HTTP {r.status_code}"
    user = stack.new_user("badsecret")
    web = stack.signed_in(user)
    _, callback = _connect(stack, glewlwyd, web, integration=key)
    page = web.get(callback)
    _assert_error_page(page, "callback when glewlwyd's token endpoint refuses the client", highest=599,
                       secrets_=[("authorization code", query_of(callback)["code"])])
    assert page.status_code != 500, "a refused token exchange answers 500"
    assert not stack.credentials(key), "a failed token exchange stored a credential"
    assert not web.center().connections_for(key)


def test_reconnect_updates_the_same_credential(stack, glewlwyd):
    user = stack.new_user("reconnect")
    web = stack.signed_in(user)
    cred_id = _connected(stack, glewlwyd, web)
    first_token = stack.reveal(cred_id).get("accessToken")

    # Reconnect button on the card.
    _, callback = _connect(stack, glewlwyd, web, via=lambda: card_action(web, cred_id, "reconnect"))
    _finish(stack, web, callback)
    cards = web.center().connections_for(KEY)
    assert [c.credential_id for c in cards] == [cred_id], f"after Reconnect: cards {[c.credential_id for c in cards]}, want only {cred_id}"
    second_token = stack.reveal(cred_id).get("accessToken")
    check(second_token and second_token != first_token, "Reconnect did not store the new access token")

    # Connect again on the service card: same glewlwyd account → same credential.
    _, callback = _connect(stack, glewlwyd, web)
    _finish(stack, web, callback)
    cards = web.center().connections_for(KEY)
    assert [c.credential_id for c in cards] == [cred_id], "connecting the same account again added a second credential"
    third_token = stack.reveal(cred_id).get("accessToken")
    check(third_token not in (first_token, second_token), "the credential was not updated in place")
    check(glewlwyd.userinfo(third_token).status_code == 200, "the updated access token does not work at glewlwyd")


def test_disconnect_deletes_and_revokes_at_the_provider(stack, glewlwyd):
    user = stack.new_user("disconnect")
    web = stack.signed_in(user)
    cred_id = _connected(stack, glewlwyd, web)
    refresh = stack.reveal(cred_id).get("refreshToken")
    check(refresh, "no refresh token stored")
    check(glewlwyd.introspect(refresh, "refresh_token").get("active") is True, "the stored refresh token is not active at glewlwyd")

    r = card_action(web, cred_id, "disconnect")
    assert_redirect(r, stack.base_url, "/connections", what="POST /connections/{id}/disconnect")
    center = web.center_after(r)
    assert center.flash and re.search(rf"{DISPLAY} account \S*alice\S* disconnected\.", center.flash, re.I), f"flash after disconnecting: {center.flash!r}"
    assert center.connection(cred_id) is None, "the disconnected credential is still listed"
    assert KEY in center.services, "after disconnecting, the service is no longer offered"

    assert cred_id not in _ids(stack), "the disconnected credential is still listed by the API"
    gone = stack.api.get(stack.url(f"/api/v1/credentials/{cred_id}"), timeout=20)
    assert gone.status_code == 404, f"GET /api/v1/credentials/{{id}} after disconnect → HTTP {gone.status_code}"
    check(glewlwyd.introspect(refresh, "refresh_token").get("active") is False, "the refresh token is still active at glewlwyd: not revoked")
