"""The OAuth authorization server of /mcp against the real binary: discovery, dynamic
registration, sign-in and consent in headless Chromium with the client's redirect page on
another origin (a second local port), code → token → refresh → revoke → introspect, and a
restart that keeps the registered client and its tokens.

The consent form posts to Latchkey and is answered with a 303 to the client: Chromium checks
that redirect against the page's `form-action`, so only a real browser crossing origins proves
the flow. Screenshots: <artifacts>/screenshots/oauth-<test>-NN-<step>.png.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
import urllib.parse

import pytest
import requests

from conftest import LatchkeyServer, _make_database
from peers import Screenshots, chromium_problem, make_driver, need_peer, wait_until
from webtools import WebStack, free_port

HTTP_TIMEOUT = 10


class ClientPage:
    """The client's redirect page on its own origin: answers every GET with a small HTML page."""

    def __init__(self):
        self.port = free_port()
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                hits.append(self.path)
                body = b"<!doctype html><html lang=en><title>Client</title><h1>Back at the client</h1></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/callback"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["sqlite", "postgres"])
def stack(request, tmp_path):
    need_peer(chromium_problem(), "headless Chromium")
    gen = _make_database(request.param, tmp_path)
    web = WebStack(next(gen), tmp_path, extra_args=["--demo"])
    try:
        web.start()
        yield web
    finally:
        web.stop()
        gen.close()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _token(stack, **form) -> requests.Response:
    return requests.post(stack.url("/oauth/token"), data=form, timeout=HTTP_TIMEOUT)


def test_register_consent_in_chromium_token_refresh_restart_revoke(stack, request):
    # Discovery: one issuer, the /mcp resource.
    metadata = requests.get(stack.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    issuer = metadata["issuer"]
    assert issuer == stack.public_url
    resource = requests.get(stack.url("/.well-known/oauth-protected-resource/mcp"), timeout=HTTP_TIMEOUT).json()
    assert resource["resource"] == issuer + "/mcp" and resource["authorization_servers"] == [issuer]

    # A person with nothing connected yet: the consent page offers "connect first", which comes back.
    user = stack.new_user("oauth", name="Olga Oauth")

    with ClientPage() as client_page:
        registered = requests.post(
            metadata["registration_endpoint"].replace(issuer, stack.base_url),
            json={"redirect_uris": [client_page.redirect_uri], "client_name": "E2E Client", "token_endpoint_auth_method": "none"},
            timeout=HTTP_TIMEOUT,
        )
        assert registered.status_code == 201, registered.text
        client_id = registered.json()["client_id"]
        verifier, challenge = _pkce()
        state = secrets.token_urlsafe(12)
        authorize = stack.url("/oauth/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": client_page.redirect_uri, "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256", "scope": "claudeai", "resource": issuer + "/mcp",
        }))

        driver = make_driver()
        shots = Screenshots(f"oauth-{stack.db.kind}-consent")
        try:
            driver.get(authorize)
            wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/login", what="the sign-in page")
            shots.take(driver, "sign-in")
            driver.find_element("css selector", "input[name=email]").send_keys(user.email)
            driver.find_element("css selector", "input[name=password]").send_keys(user.password)
            driver.find_element("css selector", "#sign-in").click()
            wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/oauth/authorize", what="back at the consent page")
            shots.take(driver, "consent-nothing-connected")
            assert not driver.find_elements("css selector", "button[name=decision][value=approve]"), "Allow offered with nothing to share"
            driver.find_element("link text", "connect first").click()
            wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/connections", what="the Connection Center")
            shots.take(driver, "connect-first")
            card = driver.find_element("css selector", 'li.service[data-integration="sandbox"]')
            card.find_element("css selector", "form[action$='/connections/sandbox/connect'] button").click()
            wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/sandbox/authorize", what="the sandbox consent page")
            driver.find_element("css selector", "#allow").click()
            wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path == "/oauth/authorize", what="back at the consent page after connecting")
            shots.take(driver, "consent")
            assert "E2E Client" in driver.page_source
            box = driver.find_element("css selector", "input[name='service.sandbox']")
            assert box.is_selected(), "the connected sandbox service is not offered ticked"
            driver.find_element("css selector", "button[name=decision][value=approve]").click()
            wait_until(lambda: driver.current_url.startswith(client_page.redirect_uri), what="the redirect to the client's origin")
            shots.take(driver, "client")
            back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))
        finally:
            driver.quit()
        assert back.get("state") == state and back.get("iss") == issuer, back
        assert client_page.hits, "the client's page was never reached"
        code = back["code"]

    issued = _token(stack, grant_type="authorization_code", code=code, code_verifier=verifier, client_id=client_id,
                    redirect_uri=client_page.redirect_uri)
    assert issued.status_code == 200, issued.text
    assert issued.headers.get("Cache-Control") == "no-store"
    tokens = issued.json()
    assert tokens["access_token"].startswith("lk_at_") and tokens["scope"] == "mcp:tools"
    # The code a second time: refused.
    replay = _token(stack, grant_type="authorization_code", code=code, code_verifier=verifier, client_id=client_id)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    again = _reauthorize(stack, user, client_id)
    rotated = _token(stack, grant_type="refresh_token", refresh_token=again["refresh_token"], client_id=client_id)
    assert rotated.status_code == 200, rotated.text

    # A restart keeps the client and its tokens.
    stack.stop()
    stack.server = LatchkeyServer(stack.cwd, args=stack.server.args, env=stack.server.env)
    stack.start()
    after = _token(stack, grant_type="refresh_token", refresh_token=rotated.json()["refresh_token"], client_id=client_id)
    assert after.status_code == 200, after.text
    access = after.json()["access_token"]
    introspect = stack.api.post(stack.url("/oauth/introspect"), data={"token": access}, timeout=HTTP_TIMEOUT)
    assert introspect.status_code == 200 and introspect.json()["active"] is True, introspect.text
    assert introspect.json()["client_id"] == client_id and introspect.json()["aud"] == issuer + "/mcp"

    revoked = requests.post(stack.url("/oauth/revoke"), data={"token": after.json()["refresh_token"], "client_id": client_id},
                            timeout=HTTP_TIMEOUT)
    assert revoked.status_code == 200, revoked.text
    gone = stack.api.post(stack.url("/oauth/introspect"), data={"token": access}, timeout=HTTP_TIMEOUT)
    assert gone.json() == {"active": False}
    # An unknown client is told to register again.
    unknown = _token(stack, grant_type="refresh_token", refresh_token="x", client_id="lk_dc_unknown")
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"


def _reauthorize(stack, user, client_id: str) -> dict:
    """Signs in with form posts (no browser) and approves a second authorization; returns its tokens."""
    web = requests.Session()
    web.trust_env = False
    registered = requests.get(stack.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT).json()
    assert registered["issuer"] == stack.public_url
    verifier, challenge = _pkce()
    fields = {
        "response_type": "code", "client_id": client_id, "state": "s2", "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    login = web.get(stack.url("/login"), timeout=HTTP_TIMEOUT)
    csrf = _hidden(login.text, "csrf_token")
    signed = web.post(stack.url("/login"), data={"email": user.email, "password": user.password, "csrf_token": csrf, "next": "/connections"},
                      allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert signed.status_code == 303, signed.text
    consent = web.get(stack.url("/oauth/authorize?" + urllib.parse.urlencode(fields)), timeout=HTTP_TIMEOUT)
    assert consent.status_code == 200, consent.text
    assert consent.headers.get("X-Frame-Options") == "DENY"
    assert consent.headers.get("Referrer-Policy") == "no-referrer"
    approved = web.post(stack.url("/oauth/authorize"), data={**fields, "csrf_token": _hidden(consent.text, "csrf_token"),
                                                             "service.sandbox": "on", "decision": "approve"},
                        allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert approved.status_code == 303, approved.text
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(approved.headers["Location"]).query))["code"]
    issued = _token(stack, grant_type="authorization_code", code=code, code_verifier=verifier, client_id=client_id)
    assert issued.status_code == 200, issued.text
    return issued.json()


def _hidden(html: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
