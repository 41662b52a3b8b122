"""Web security of the console pages, through HTTP against `latchkey serve --demo`:

* CSRF: every web POST without a token, with a garbage token or with another session's
  token answers 403 and changes nothing;
* the session cookie's flags (HttpOnly, SameSite=Lax, Secure only for an https public URL),
  a new session id at sign-in, and a dead session after sign-out;
* sign-in throttling: repeated wrong passwords make the next attempt wait (growing, with
  Retry-After), the right one is refused meanwhile from a new browser but not from the owner's;
* open redirects through `next` are ignored;
* isolation: Bob cannot see or act on Alice's credential (404) nor finish her connect.
"""

from __future__ import annotations

import re
import secrets
import time
import urllib.parse

import pytest
import requests

from conftest import _make_database
from webtools import (
    SESSION_COOKIE,
    User,
    Web,
    WebStack,
    assert_redirect,
    check,
    disconnect_form,
    find_set_cookie,
    form_fields,
    is_html,
    location,
    parse_dom,
    sandbox_connect,
    sandbox_decide,
    set_cookie_headers,
    start_connect,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("latchkey-websec")
    gen = _make_database("sqlite", workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--demo"])
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        gen.close()


@pytest.fixture(scope="module")
def alice(demo) -> User:
    return demo.new_user("alice", name="Alice")


@pytest.fixture(scope="module")
def bob(demo) -> User:
    return demo.new_user("bob", name="Bob")


def _signed_out(web: Web) -> bool:
    r = web.get("/connections")
    return r.status_code in (302, 303) and urllib.parse.urlsplit(location(r)).path == "/login"


def _sandbox_ids(demo: WebStack) -> set[str]:
    return {c["id"] for c in demo.credentials("sandbox")}


# --------------------------------------------------------------------------
# CSRF


def test_login_post_needs_its_own_csrf_token(demo, alice):
    web = demo.web("a")
    form = web.login_page().form("/login")
    good = {"email": alice.email, "password": alice.password}
    other_token = demo.web("b").login_page().csrf()

    for label, token in (("no token", None), ("garbage token", "x" * 43), ("another browser's token", other_token)):
        r = web.submit(form, {**good, "csrf_token": token})
        assert r.status_code == 403, f"POST /login with {label} → HTTP {r.status_code}, want 403"
        session = find_set_cookie(r, SESSION_COOKIE)
        check(session is None or not session[0], f"POST /login with {label} set a session")
        assert _signed_out(web), f"POST /login with {label} signed the browser in"

    r = web.submit(form, good)
    assert r.status_code == 303, f"POST /login with its own token → HTTP {r.status_code}"


def test_logout_post_needs_a_csrf_token(demo, alice):
    web = demo.signed_in(alice, "a")
    other = demo.signed_in(alice, "b").center().page.csrf()
    form = web.center().page.form("/logout")
    for label, token in (("no token", None), ("garbage token", "x" * 43), ("another session's token", other)):
        r = web.submit(form, {"csrf_token": token})
        assert r.status_code == 403, f"POST /logout with {label} → HTTP {r.status_code}, want 403"
        assert not _signed_out(web), f"POST /logout with {label} signed the user out"
    web.get("/logout")
    assert not _signed_out(web), "GET /logout signed the user out (sign-out must be a POST with a token)"

    cookie = web.cookie(SESSION_COOKIE)
    r = web.submit(web.center().page.form("/logout"))
    assert_redirect(r, demo.base_url, "/login", what="POST /logout")
    assert _signed_out(web), "still signed in after POST /logout"
    stolen = demo.web("old cookie")
    stolen.session.cookies.set(SESSION_COOKIE, cookie, domain="127.0.0.1", path="/")
    assert _signed_out(stolen), "the session cookie still works after signing out (not invalidated on the server)"


def test_connect_post_needs_a_csrf_token(demo, alice, bob):
    web = demo.signed_in(alice, "alice")
    other = demo.signed_in(bob, "bob").center().page.csrf()
    form = web.center().connect_form("sandbox")
    for label, token in (("no token", None), ("garbage token", "x" * 43), ("another user's token", other)):
        r = web.submit(form, {"csrf_token": token})
        assert r.status_code == 403, f"POST /connections/sandbox/connect with {label} → HTTP {r.status_code}, want 403"
        assert "/sandbox/authorize" not in (r.headers.get("Location") or ""), f"{label}: redirected to the provider anyway"


def test_disconnect_and_reconnect_posts_need_a_csrf_token(demo, alice, bob):
    web = demo.signed_in(alice, "alice")
    done = sandbox_connect(web)
    assert_redirect(done, demo.base_url, "/connections", what="sandbox connect (Allow)")
    cred_id = web.center().connections_for("sandbox")[0].credential_id
    other = demo.signed_in(bob, "bob").center().page.csrf()
    try:
        for action in ("disconnect", "reconnect"):
            card = web.center().connection(cred_id)
            form = disconnect_form(web, cred_id) if action == "disconnect" else card.form(f"/connections/{cred_id}/{action}")
            assert form is not None, f"no {action} form on the card"
            for label, token in (("no token", None), ("garbage token", "x" * 43), ("another user's token", other)):
                r = web.submit(form, {"csrf_token": token})
                assert r.status_code == 403, f"POST /connections/{{id}}/{action} with {label} → HTTP {r.status_code}, want 403"
            assert web.center().connection(cred_id) is not None, f"a refused {action} removed the connection"
            assert cred_id in _sandbox_ids(demo), f"a refused {action} removed the credential"
    finally:
        if web.center().connection(cred_id) is not None:
            web.submit(disconnect_form(web, cred_id))


def test_sandbox_consent_post_needs_a_csrf_token(demo, alice, bob):
    web = demo.signed_in(alice, "alice")
    auth_url = location(start_connect(web, "sandbox"))
    page = web.page(auth_url)
    assert page.status == 200, f"sandbox consent page → HTTP {page.status}"
    allow = page.dom.by_id("allow")
    assert allow is not None, "sandbox consent page has no #allow"
    form = allow.closest("form")
    if (form.get("method") or "get").lower() != "post":
        pytest.skip("the sandbox consent form is not a POST form (nothing to protect with a token)")
    other = demo.signed_in(bob, "bob").center().page.csrf()
    before = _sandbox_ids(demo)
    for label, token in (("no token", None), ("garbage token", "x" * 43), ("another user's token", other)):
        r = web.submit(form, {"csrf_token": token}, button=allow, base=page.response.url)
        assert r.status_code == 403, f"POST /sandbox/authorize with {label} → HTTP {r.status_code}, want 403"
    assert _sandbox_ids(demo) == before


# --------------------------------------------------------------------------
# cookies, sessions


def test_session_cookie_flags_and_a_new_session_at_sign_in(demo, alice):
    web = demo.web()
    web.login_page()
    before = web.cookie(SESSION_COOKIE)
    r = web.sign_in(alice.email, alice.password)
    found = find_set_cookie(r, SESSION_COOKIE)
    assert found, "POST /login sets no latchkey_session cookie"
    value, attrs = found
    assert "httponly" in attrs, "latchkey_session is not HttpOnly"
    assert attrs.get("samesite", "").lower() == "lax", f"latchkey_session SameSite={attrs.get('samesite')!r}, want Lax"
    assert "secure" not in attrs, "latchkey_session is Secure although the public URL is http (the browser would drop it)"
    check(len(value) >= 32, "the session id is shorter than 32 characters")
    check(value != before, "the session id did not change at sign-in (session fixation)")
    check(alice.password not in " ".join(set_cookie_headers(r)), "a cookie carries the password")


def test_session_cookie_is_secure_with_an_https_public_url(tmp_path):
    gen = _make_database("sqlite", tmp_path)
    stack = WebStack(next(gen), tmp_path, public_url="https://latchkey.example.test")
    try:
        stack.start()
        user = stack.new_user("secure")
        # requests keeps Secure cookies away from http://127.0.0.1, so carry them by hand.
        s = requests.Session()
        s.trust_env = False
        page = s.get(stack.url("/login"), timeout=20, allow_redirects=False)
        assert page.status_code == 200, f"GET /login → HTTP {page.status_code}"
        jar = {}
        for header in set_cookie_headers(page):
            name, _, rest = header.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0].strip()
        form = next(f for f in parse_dom(page.text).find_all("form") if (f.get("action") or "").endswith("/login"))
        data = {**form_fields(form), "email": user.email, "password": user.password}
        r = requests.post(stack.url("/login"), data=data, allow_redirects=False, timeout=20,
                          headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {})
        assert r.status_code == 303, f"POST /login (https public URL) → HTTP {r.status_code}"
        found = find_set_cookie(r, SESSION_COOKIE)
        assert found, "POST /login sets no latchkey_session cookie"
        attrs = found[1]
        assert "secure" in attrs, "latchkey_session is not Secure although the public URL is https"
        assert "httponly" in attrs and attrs.get("samesite", "").lower() == "lax", "latchkey_session lost HttpOnly or SameSite=Lax"
    finally:
        stack.stop()
        gen.close()


def test_wrong_password_shows_the_form_again_without_telling_which_part(demo, alice):
    web = demo.web()
    wrong = web.sign_in_response(alice.email, "not-the-password")
    unknown = web.sign_in_response(f"nobody-{secrets.token_hex(3)}@example.test", "not-the-password")
    for label, r in (("wrong password", wrong), ("unknown email", unknown)):
        assert r.status_code == 401, f"POST /login with a {label} → HTTP {r.status_code}, want 401"
        dom = parse_dom(r.text)
        alert = dom.find(attrs={"role": "alert"})
        assert alert is not None and alert.text, f"{label}: no role=alert message"
        assert any((f.get("action") or "").endswith("/login") for f in dom.find_all("form")), f"{label}: the sign-in form is not shown again"
        assert "not-the-password" not in r.text, f"{label}: the page repeats the password"
    assert parse_dom(wrong.text).find(attrs={"role": "alert"}).text == parse_dom(unknown.text).find(attrs={"role": "alert"}).text, (
        "the message for a wrong password differs from the one for an unknown email (tells which accounts exist)"
    )
    assert _signed_out(web)


def test_repeated_wrong_passwords_are_throttled(tmp_path):
    gen = _make_database("sqlite", tmp_path)
    stack = WebStack(next(gen), tmp_path, extra_args=["--demo"])
    try:
        stack.start()
        user = stack.new_user("throttled")
        # The owner signed in from this browser before, so it is known for the account.
        owner = stack.web()
        owner.sign_in(user.email, user.password)
        owner.sign_out()
        assert _signed_out(owner)

        web = stack.web()
        statuses, waits = [], []
        token = None
        r = None
        for _ in range(30):
            page = web.page("/login")
            if page.status == 200:
                token = page.csrf()
            r = web.post("/login", data={"email": user.email, "password": "wrong-" + secrets.token_hex(4), "csrf_token": token or ""})
            statuses.append(r.status_code)
            waits.append(int(r.headers.get("Retry-After", "0")))
            # Stop once a refusal says to wait long enough for the checks below to run inside the wait; before that,
            # do what a well-behaved client does and honour Retry-After (1 s, then 2 s).
            if r.status_code == 429:
                if waits[-1] >= 4:
                    break
                time.sleep(waits[-1])
        assert r is not None and r.status_code == 429, f"30 wrong passwords in a row were never throttled (statuses {statuses})"
        assert statuses[:3] == [401, 401, 401], f"the first three wrong passwords answered {statuses[:3]}, want 401"
        assert set(statuses) == {401, 429}, f"wrong passwords answered {sorted(set(statuses))}, want 401 or 429"
        failed_waits = [w for s, w in zip(statuses, waits) if s == 401 and w > 0]
        assert failed_waits and failed_waits == sorted(failed_waits) and failed_waits[-1] > failed_waits[0], (
            f"the waits after failures do not grow: {failed_waits}"
        )
        assert is_html(r), "the 429 answer is not an HTML page"
        assert "Try again in" in r.text, "the 429 page does not say when to try again"

        page = web.page("/login")
        if page.status == 200:
            token = page.csrf()
        r = web.post("/login", data={"email": user.email, "password": user.password, "csrf_token": token or ""})
        assert r.status_code == 429, f"the right password from a new browser while throttled → HTTP {r.status_code}, want 429"
        assert int(r.headers.get("Retry-After", "0")) > 0, "no Retry-After on the 429 answer"
        assert not web.cookie(SESSION_COOKIE) or _signed_out(web), "the right password signed in while throttled"
        assert _signed_out(web)

        # The owner, at the browser that signed in before, is not locked out by the attacker.
        owner.sign_in(user.email, user.password)
        assert not _signed_out(owner)
    finally:
        stack.stop()
        gen.close()


# --------------------------------------------------------------------------
# open redirects

EVIL_NEXT = [
    "https://evil.example/",
    "http://evil.example/connections",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example/",
    "/\t/evil.example/",
    " //evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "data:text/html,hi",
    "http://127.0.0.1.evil.example/",
    "evil.example",
]


def _local_target(raw: str, origin: str) -> str | None:
    """The path a browser would go to, or None when the Location leaves this origin."""
    cleaned = re.sub(r"[\t\n\r]", "", raw).strip()
    if cleaned.startswith(origin + "/"):
        cleaned = cleaned[len(origin):]
    elif cleaned == origin:
        return "/"
    if not cleaned.startswith("/") or cleaned.startswith("//") or cleaned.startswith("/\\"):
        return None
    return cleaned


@pytest.mark.parametrize("evil", EVIL_NEXT)
def test_next_cannot_redirect_off_site(demo, alice, evil):
    web = demo.web()
    page = web.login_page(evil)
    form = page.form("/login")
    overrides = {"email": alice.email, "password": alice.password}
    if form.find("input", attrs={"name": "next"}) is not None:
        overrides["next"] = evil  # what a forged form would send, whatever the page kept
    r = web.submit(form, overrides)
    assert r.status_code == 303, f"sign-in with next={evil!r} → HTTP {r.status_code}"
    raw = r.headers.get("Location", "")
    target = _local_target(raw, demo.base_url)
    assert target is not None, f"next={evil!r}: redirected off the site (Location {raw!r})"


def test_next_keeps_a_local_path_and_signed_out_pages_ask_to_sign_in(demo, alice):
    r = demo.web().get("/connections")
    query = assert_redirect(r, demo.base_url, "/login", what="GET /connections signed out")
    assert query.get("next") == "/connections", f"GET /connections signed out → next={query.get('next')!r}"
    web = demo.web()
    r = web.sign_in_response(alice.email, alice.password, next_path="/connections")
    assert_redirect(r, demo.base_url, "/connections", what="sign-in with next=/connections")


# --------------------------------------------------------------------------
# isolation between people


def test_bob_cannot_see_or_touch_alices_credential(demo, alice, bob):
    a = demo.signed_in(alice, "alice")
    r = start_connect(a, "sandbox")
    assert r.status_code == 303, f"POST /connections/sandbox/connect → HTTP {r.status_code}, want 303"
    auth = urllib.parse.urlsplit(location(r))
    assert f"{auth.scheme}://{auth.netloc}{auth.path}" == demo.public_url + "/sandbox/authorize", f"sandbox connect redirects to {auth.path!r}"
    q = dict(urllib.parse.parse_qsl(auth.query))
    assert q.get("redirect_uri") == demo.public_url + "/connect/callback", f"redirect_uri={q.get('redirect_uri')!r}"
    assert q.get("state"), "no state"
    decided = sandbox_decide(a, location(r), "allow")
    a.get(location(decided))
    cards = a.center().connections_for("sandbox")
    assert cards, "Alice's sandbox connection is not listed"
    cred_id = cards[-1].credential_id

    b = demo.signed_in(bob, "bob")
    center = b.center()
    assert center.connection(cred_id) is None and cred_id not in center.page.text, "Bob's Connection Center shows Alice's credential"
    token = center.page.csrf()
    for action in ("disconnect", "reconnect"):
        r = b.post(f"/connections/{cred_id}/{action}", data={"csrf_token": token})
        assert r.status_code == 404, f"Bob POST /connections/<Alice's id>/{action} → HTTP {r.status_code}, want 404"
    r = b.post(f"/connections/{secrets.token_hex(16)}/disconnect", data={"csrf_token": token})
    assert r.status_code == 404, f"disconnect of an unknown id → HTTP {r.status_code}, want 404"
    assert a.center().connection(cred_id) is not None, "Alice's connection disappeared after Bob's attempts"
    assert demo.api.get(demo.url(f"/api/v1/credentials/{cred_id}"), timeout=20).status_code == 200

    # Bob opens the callback of a connect that Alice started and approved.
    before = _sandbox_ids(demo)
    r = start_connect(a, "sandbox")
    callback = location(sandbox_decide(a, location(r), "allow"))
    stolen = b.get(callback)
    assert 400 <= stolen.status_code < 500, f"Bob opening Alice's callback → HTTP {stolen.status_code}, want 4xx"
    assert not b.center().connections_for("sandbox"), "Bob got a sandbox connection from Alice's callback"
    assert _sandbox_ids(demo) == before, "Bob's use of Alice's callback stored a credential"
