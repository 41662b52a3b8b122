#!/usr/bin/env python3
"""A small OAuth 2.0 provider for refresh tests (Python standard library only).

It serves the refresh-token grant the way a strict real provider does, counts every
call, and can be told to misbehave, so a test can prove that Latchkey refreshes a
credential exactly once however many callers and instances ask at the same time.

Run it in its own process, so that it outlives the Latchkey servers a test kills:

    python3 fake_oauth_provider.py --port 0 --state-file /tmp/x/fake.json

`--port 0` picks a free port. Once listening it writes the state file (JSON with
`pid`, `port`, `url` and, after every change, the token registry, so a restarted
provider with the same state file keeps its tokens). Tests use `FakeProviderProcess`
below, which starts it and wraps the control endpoints.

Endpoints
  POST /token       grant_type=refresh_token (client_secret_basic or client_secret_post);
                    a new access token (`expires_in` 3600 unless configured) and, when
                    rotation is on, a new refresh token; the old one is then rotated out,
                    and presenting it again is reuse: 400 invalid_grant, and (like
                    glewlwyd) the whole family is revoked. Unknown or revoked refresh
                    token: 400 invalid_grant. Bad client: 401 invalid_client.
  POST /revoke      RFC 7009; revoking a refresh token revokes its family.
  GET  /userinfo    Bearer access token → {"sub": ...} or 401.
  GET  /authorize   not supported here (400).
  GET  /items       the sandbox provider's to-do list API (catalog dataset `sandbox.items`):
                    Bearer token required; `limit` (capped at the configured page size) items
                    from `cursor` (an offset), with `next_cursor` while more are left.

Control endpoints (JSON in, JSON out; rules and counters are per client id, or for
every client when `clientId` is left out):
  GET  /_control/state[?clientId=C]     counters, configuration, held requests
  POST /_control/reset {clientId?}      forget tokens, counters, rules
  POST /_control/seed {clientId, clientSecret, refreshToken, scope?, accessToken?}
                                        register a client and a refresh-token family
  POST /_control/config {clientId?, rotate?, expiresIn?}
                                        expiresIn: seconds, or a list used one per issued
                                        token (the last value then sticks)
  POST /_control/hold {clientId?, count?}
                                        the next `count` (default: all, until release)
                                        refresh requests block without being processed
  POST /_control/release {clientId?}    lets held requests go on; one whose client has
                                        hung up meanwhile is dropped unprocessed (its
                                        refresh token stays valid)
  POST /_control/hold_revocations {clientId?, after?, count?, tokenPrefix?}
                                        revocations whose token starts with `tokenPrefix`
                                        (any token by default): the first `after` (default
                                        0) go through, the next `count` (default: all, until
                                        release) block without being processed; one whose
                                        client hangs up is dropped unprocessed (counted in
                                        `revokesAbandoned`, the token stays valid). Every
                                        processed revocation counts in `revokedTokens` by token.
  POST /_control/fail {clientId?, count?, status?, error?, body?, hang?, retryAfter?}
                                        the next `count` (default 1; null = until reset)
                                        refresh requests fail: `status` (500, 503, 429 …)
                                        with `error` as the OAuth error (or `body` as the
                                        raw body), or `hang` seconds and then a dropped
                                        connection. {"error": "invalid_grant"} alone
                                        answers 400 invalid_grant.
  POST /_control/items {count?, pageSize?, holdPage?}
                                        serve `count` items in pages of at most `pageSize`
                                        (default 10); requests for page `holdPage` (1 is the
                                        first) block without being answered until released;
                                        one whose client hangs up is dropped (counted in
                                        `itemsAbandoned`). Requests count in `itemPages` by
                                        page number, answered pages in `itemPagesServed`.
  POST /_control/release_items          stops holding pages and lets held requests go on
  POST /_control/shutdown
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ALL = "*"
DEFAULT_EXPIRES_IN = 3600


# --------------------------------------------------------------------------
# state


def _new_counters() -> dict:
    return {
        "tokenRequests": 0,  # every POST /token
        "refreshRequests": 0,  # grant_type=refresh_token with a good client
        "processed": 0,  # refreshes that issued new tokens
        "byRefreshToken": {},  # refresh token -> how often it was presented
        "reuse": 0,  # rotated-out refresh token presented again
        "invalidGrant": 0,  # unknown / revoked / rotated-out → 400 invalid_grant
        "clientAuthFailures": 0,
        "injectedFailures": 0,
        "held": 0,  # requests that were held
        "abandoned": 0,  # held requests whose client was gone at release
        "authMethods": {},
        "revocations": 0,
        "revokeRequests": 0,  # every POST /revoke with a good client
        "revokesHeld": 0,
        "revokesAbandoned": 0,  # held revocations whose client hung up: not processed
        "revokedTokens": {},  # token -> how often a revocation of it was processed
        "userinfo": 0,
        "itemRequests": 0,  # every GET /items with a token
        "itemPages": {},  # page number -> requests for it
        "itemPagesServed": {},  # page number -> answers sent
        "itemsHeld": 0,
        "itemsAbandoned": 0,  # held page requests whose client hung up
    }


class Registry:
    """Clients, token families and counters; every method holds the lock."""

    def __init__(self, state_file: Path | None):
        self.lock = threading.Condition()
        self.state_file = state_file
        self.meta: dict = {}
        self.reset_all()

    def reset_all(self) -> None:
        self.clients: dict[str, str] = {}
        self.refresh_tokens: dict[str, dict] = {}  # rt -> {client, family, status, index, scope}
        self.access_tokens: dict[str, dict] = {}  # at -> {client, family, expires, fromRefreshToken}
        self.families: dict[str, dict] = {}  # family -> {client, current, revoked, issued}
        self.config: dict[str, dict] = {}  # client or ALL -> {rotate, expiresIn}
        self.holds: dict[str, int | None] = {}  # client or ALL -> remaining (None = all)
        self.fails: dict[str, list[dict]] = {}  # client or ALL -> queue
        self.revoke_holds: dict[str, dict] = {}  # client or ALL -> {after, count, tokenPrefix}
        self.revoke_held: list["HeldRequest"] = []
        self.counters: dict[str, dict] = {ALL: _new_counters()}
        self.held: list["HeldRequest"] = []
        self.log: list[dict] = []
        self.items: dict = {"count": 0, "pageSize": 10, "holdPage": None}
        self.items_held: list["HeldRequest"] = []

    # -- persistence

    def snapshot(self) -> dict:
        return {
            "clients": self.clients,
            "refreshTokens": self.refresh_tokens,
            "accessTokens": self.access_tokens,
            "families": self.families,
            "config": self.config,
        }

    def load(self, doc: dict) -> None:
        reg = doc.get("registry") or {}
        self.clients = dict(reg.get("clients") or {})
        self.refresh_tokens = dict(reg.get("refreshTokens") or {})
        self.access_tokens = dict(reg.get("accessTokens") or {})
        self.families = dict(reg.get("families") or {})
        self.config = dict(reg.get("config") or {})

    def save(self) -> None:
        if not self.state_file:
            return
        doc = dict(self.meta, registry=self.snapshot(), savedAt=time.time())
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.state_file)

    # -- counters

    def count(self, client: str | None, name: str, key: str | None = None, by: int = 1) -> None:
        for scope in (ALL, client) if client and client != ALL else (ALL,):
            c = self.counters.setdefault(scope, _new_counters())
            if key is None:
                c[name] += by
            else:
                c[name][key] = c[name].get(key, 0) + by

    def setting(self, client: str, name: str, default):
        for scope in (client, ALL):
            value = self.config.get(scope, {}).get(name)
            if value is not None:
                return value
        return default

    def next_expires_in(self, client: str) -> int:
        for scope in (client, ALL):
            cfg = self.config.get(scope, {})
            value = cfg.get("expiresIn")
            if value is None:
                continue
            if isinstance(value, list):
                if not value:
                    continue
                first = value[0]
                if len(value) > 1:
                    cfg["expiresIn"] = value[1:]
                return int(first)
            return int(value)
        return DEFAULT_EXPIRES_IN

    def take_rule(self, table: dict, client: str):
        """Pop one use of the client's rule (or the global one); None when there is none."""
        for scope in (client, ALL):
            if scope in table:
                return scope
        return None

    def take_hold(self, client: str) -> bool:
        scope = self.take_rule(self.holds, client)
        if scope is None:
            return False
        remaining = self.holds[scope]
        if remaining is not None:
            remaining -= 1
            if remaining <= 0:
                del self.holds[scope]
            else:
                self.holds[scope] = remaining
        return True

    def take_revoke_hold(self, client: str, token: str) -> bool:
        scope = self.take_rule(self.revoke_holds, client)
        if scope is None:
            return False
        rule = self.revoke_holds[scope]
        if not token.startswith(rule.get("tokenPrefix") or ""):
            return False
        if rule["after"] > 0:
            rule["after"] -= 1
            return False
        if rule["count"] is not None:
            rule["count"] -= 1
            if rule["count"] <= 0:
                del self.revoke_holds[scope]
        return True

    def take_failure(self, client: str) -> dict | None:
        scope = self.take_rule(self.fails, client)
        if scope is None:
            return None
        queue = self.fails[scope]
        rule = queue[0]
        if rule.get("count") is not None:
            rule["count"] -= 1
            if rule["count"] <= 0:
                queue.pop(0)
        if not queue:
            del self.fails[scope]
        return rule

    # -- tokens

    def seed(self, client: str, secret: str, refresh_token: str, scope: str, access_token: str | None) -> dict:
        self.clients[client] = secret
        family = "fam-" + secrets.token_hex(4)
        self.families[family] = {"client": client, "current": refresh_token, "revoked": False, "issued": 0}
        self.refresh_tokens[refresh_token] = {"client": client, "family": family, "status": "active", "index": 0, "scope": scope}
        if access_token:
            self.access_tokens[access_token] = {"client": client, "family": family, "expires": 0, "fromRefreshToken": None}
        return {"family": family}

    def revoke_family(self, family: str) -> None:
        fam = self.families.get(family)
        if not fam:
            return
        fam["revoked"] = True
        for rt, info in self.refresh_tokens.items():
            if info["family"] == family and info["status"] != "rotated":
                info["status"] = "revoked"
        for info in self.access_tokens.values():
            if info["family"] == family:
                info["expires"] = 0

    def refresh(self, client: str, refresh_token: str) -> tuple[int, dict]:
        """Process one refresh: (HTTP status, JSON body)."""
        info = self.refresh_tokens.get(refresh_token)
        self.count(client, "byRefreshToken", refresh_token)
        if info is None or info["client"] != client:
            self.count(client, "invalidGrant")
            return 400, {"error": "invalid_grant", "error_description": "unknown refresh token"}
        if info["status"] == "rotated":
            # Reuse of a rotated-out token: a stolen-token signal; revoke the whole family.
            self.count(client, "reuse")
            self.count(client, "invalidGrant")
            self.revoke_family(info["family"])
            self.save()
            return 400, {"error": "invalid_grant", "error_description": "refresh token reused"}
        if info["status"] != "active":
            self.count(client, "invalidGrant")
            return 400, {"error": "invalid_grant", "error_description": "refresh token revoked"}
        fam = self.families[info["family"]]
        fam["issued"] += 1
        expires_in = self.next_expires_in(client)
        access_token = f"at-{info['family']}-{fam['issued']}-{secrets.token_urlsafe(12)}"
        self.access_tokens[access_token] = {
            "client": client,
            "family": info["family"],
            "expires": time.time() + expires_in,
            "fromRefreshToken": refresh_token,
        }
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, "scope": info["scope"]}
        if self.setting(client, "rotate", False):
            new_rt = f"rt-{info['family']}-{fam['issued']}-{secrets.token_urlsafe(12)}"
            info["status"] = "rotated"
            self.refresh_tokens[new_rt] = {
                "client": client,
                "family": info["family"],
                "status": "active",
                "index": info["index"] + 1,
                "scope": info["scope"],
            }
            fam["current"] = new_rt
            body["refresh_token"] = new_rt
        self.count(client, "processed")
        self.log.append({"at": time.time(), "client": client, "refreshToken": refresh_token, "accessToken": access_token,
                         "newRefreshToken": body.get("refresh_token")})
        self.save()
        return 200, body

    def state(self, client: str | None) -> dict:
        scope = client or ALL
        fams = {k: v for k, v in self.families.items() if client is None or v["client"] == client}
        return {
            "counters": json.loads(json.dumps(self.counters.get(scope, _new_counters()))),
            "families": fams,
            "currentRefreshTokens": [f["current"] for f in fams.values() if not f["revoked"]],
            "refreshTokens": {k: v for k, v in self.refresh_tokens.items() if client is None or v["client"] == client},
            "issued": [e for e in self.log if client is None or e["client"] == client],
            "held": [h.describe() for h in self.held if client is None or h.client == client],
            "heldRevocations": [h.describe() for h in self.revoke_held if client is None or h.client == client],
            "heldItems": [h.describe() for h in self.items_held],
            "items": dict(self.items),
            "config": {"rotate": self.setting(scope, "rotate", False), "raw": self.config},
        }


class HeldRequest:
    def __init__(self, client: str, refresh_token: str, peer: tuple[str, int]):
        self.client = client
        self.refresh_token = refresh_token
        self.peer = peer
        self.released = False
        self.since = time.time()

    def describe(self) -> dict:
        return {"clientId": self.client, "peerPort": self.peer[1], "since": self.since, "refreshToken": self.refresh_token}


# --------------------------------------------------------------------------
# HTTP


def _client_gone(sock: socket.socket) -> bool:
    """True when the peer has closed the connection (EOF or reset)."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return data == b""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOAuth/1.0"
    registry: Registry  # set on the class by make_server

    def log_message(self, fmt, *args):  # quiet by default
        if os.environ.get("FAKE_OAUTH_VERBOSE"):
            sys.stderr.write("fake-oauth: " + (fmt % args) + "\n")

    # -- helpers

    def _send(self, status: int, body, headers: dict | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(raw)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self) -> dict:
        raw = self._body()
        if not raw:
            return {}
        return json.loads(raw)

    def _query(self) -> dict:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))

    def _client_auth(self, form: dict) -> tuple[str | None, str | None, str]:
        header = self.headers.get("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
                return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password), "client_secret_basic"
            except Exception:  # noqa: BLE001
                return None, None, "client_secret_basic"
        if "client_id" in form:
            return form.get("client_id"), form.get("client_secret"), "client_secret_post" if "client_secret" in form else "none"
        return None, None, "none"

    # -- routes

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        reg = self.registry
        if path == "/_control/state":
            with reg.lock:
                self._send(200, reg.state(self._query().get("clientId")))
        elif path == "/userinfo":
            token = (self.headers.get("Authorization") or "")[7:].strip()
            with reg.lock:
                reg.count(None, "userinfo")
                info = reg.access_tokens.get(token)
                ok = info is not None and info["expires"] > time.time()
            if ok:
                self._send(200, {"sub": "user-" + info["family"], "family": info["family"]})
            else:
                self._send(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        elif path == "/items":
            self._items()
        elif path == "/healthz":
            self._send(200, {"ok": True})
        elif path == "/authorize":
            self._send(400, {"error": "unsupported_response_type", "error_description": "this fake only refreshes"})
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_control/"):
            return self._control(path[len("/_control/"):])
        if path == "/token":
            return self._token()
        if path == "/revoke":
            return self._revoke()
        self._body()
        self._send(404, {"error": "not_found"})

    def _items(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            return self._send(401, {"error": "invalid_token"}, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        query = self._query()
        reg = self.registry
        with reg.lock:
            cfg = reg.items
            try:
                size = max(1, min(int(query.get("limit") or cfg["pageSize"]), cfg["pageSize"]))
                start = max(0, int(query.get("cursor") or 0))
            except ValueError:
                return self._send(400, {"error": "invalid_request", "error_description": "limit and cursor are numbers"})
            page = start // size + 1
            reg.count(None, "itemRequests")
            reg.count(None, "itemPages", str(page))
            if cfg.get("holdPage") == page:
                reg.count(None, "itemsHeld")
                held = HeldRequest("items", f"page-{page}", self.client_address)
                reg.items_held.append(held)
                reg.lock.notify_all()
                while not held.released and not _client_gone(self.connection):
                    reg.lock.wait(timeout=0.2)
                if held in reg.items_held:
                    reg.items_held.remove(held)
                if _client_gone(self.connection):
                    reg.count(None, "itemsAbandoned")
                    self.close_connection = True
                    return None
            end = min(start + size, int(cfg["count"]))
            body: dict = {"items": [{"id": f"item-{i:04d}", "title": f"Item {i}", "done": i % 3 == 0} for i in range(start, end)]}
            if end < int(cfg["count"]):
                body["next_cursor"] = str(end)
            reg.count(None, "itemPagesServed", str(page))
        self._send(200, body)

    def _revoke(self):
        form = dict(urllib.parse.parse_qsl(self._body().decode(errors="replace")))
        client, secret, _ = self._client_auth(form)
        reg = self.registry
        with reg.lock:
            if client is None or reg.clients.get(client) != secret:
                return self._send(401, {"error": "invalid_client"})
            token = form.get("token", "")
            reg.count(client, "revokeRequests")
            if reg.take_revoke_hold(client, token):
                reg.count(client, "revokesHeld")
                held = HeldRequest(client, token, self.client_address)
                reg.revoke_held.append(held)
                reg.lock.notify_all()
                while not held.released and not _client_gone(self.connection):
                    reg.lock.wait(timeout=0.2)
                if held in reg.revoke_held:
                    reg.revoke_held.remove(held)
                if _client_gone(self.connection):
                    reg.count(client, "revokesAbandoned")
                    self.close_connection = True
                    return None
            reg.count(client, "revocations")
            reg.count(client, "revokedTokens", token)
            if token in reg.refresh_tokens and reg.refresh_tokens[token]["client"] == client:
                reg.revoke_family(reg.refresh_tokens[token]["family"])
            elif token in reg.access_tokens and reg.access_tokens[token]["client"] == client:
                reg.access_tokens[token]["expires"] = 0
            reg.save()
        self._send(200, b"")

    def _token(self):
        form = dict(urllib.parse.parse_qsl(self._body().decode(errors="replace")))
        reg = self.registry
        client, secret, method = self._client_auth(form)
        with reg.lock:
            reg.count(client if client in reg.clients else None, "tokenRequests")
            if client is None or client not in reg.clients or reg.clients[client] != secret:
                reg.count(client if client in reg.clients else None, "clientAuthFailures")
                return self._send(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="fake"'})
            reg.count(client, "authMethods", method)
            if form.get("grant_type") != "refresh_token":
                return self._send(400, {"error": "unsupported_grant_type"})
            refresh_token = form.get("refresh_token") or ""
            reg.count(client, "refreshRequests")

            if reg.take_hold(client):
                reg.count(client, "held")
                held = HeldRequest(client, refresh_token, self.client_address)
                reg.held.append(held)
                reg.lock.notify_all()
                while not held.released:
                    reg.lock.wait(timeout=0.5)
                if held in reg.held:
                    reg.held.remove(held)
                if _client_gone(self.connection):
                    reg.count(client, "abandoned")
                    self.close_connection = True
                    return None

            rule = reg.take_failure(client)
            if rule is not None:
                reg.count(client, "injectedFailures")
        if rule is not None:
            return self._fail(rule)
        with reg.lock:
            status, body = reg.refresh(client, refresh_token)
        self._send(status, body)

    def _fail(self, rule: dict):
        if rule.get("hang") is not None:
            end = time.monotonic() + float(rule["hang"])
            while time.monotonic() < end and not _client_gone(self.connection):
                time.sleep(0.1)
            return self._drop()
        status = int(rule.get("status") or (400 if rule.get("error") else 500))
        headers = {}
        if rule.get("retryAfter") is not None:
            headers["Retry-After"] = rule["retryAfter"]
        if "body" in rule:
            return self._send(status, (rule["body"] or "").encode(), headers)
        error = rule.get("error") or ("temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request")
        self._send(status, {"error": error, "error_description": f"injected failure ({status})"}, headers)

    def _control(self, action: str):
        try:
            doc = self._json()
        except ValueError:
            return self._send(400, {"error": "body is not JSON"})
        reg = self.registry
        client = doc.get("clientId") or ALL
        with reg.lock:
            if action == "reset":
                for held in reg.held + reg.revoke_held + reg.items_held:
                    if client == ALL or held.client == client:
                        held.released = True
                reg.lock.notify_all()
                if client == ALL:
                    reg.reset_all()
                else:
                    reg.counters.pop(client, None)
                    reg.holds.pop(client, None)
                    reg.revoke_holds.pop(client, None)
                    reg.fails.pop(client, None)
                    reg.config.pop(client, None)
                reg.save()
                return self._send(200, {"ok": True})
            if action == "seed":
                if client == ALL or not doc.get("refreshToken"):
                    return self._send(400, {"error": "clientId and refreshToken are required"})
                out = reg.seed(client, doc.get("clientSecret", ""), doc["refreshToken"], doc.get("scope", "read"),
                               doc.get("accessToken"))
                reg.save()
                return self._send(200, out)
            if action == "config":
                cfg = reg.config.setdefault(client, {})
                for name in ("rotate", "expiresIn"):
                    if name in doc:
                        cfg[name] = doc[name]
                reg.save()
                return self._send(200, {"ok": True, "config": cfg})
            if action == "hold":
                reg.holds[client] = doc.get("count")
                return self._send(200, {"ok": True})
            if action == "hold_revocations":
                reg.revoke_holds[client] = {"after": int(doc.get("after") or 0), "count": doc.get("count"),
                                            "tokenPrefix": doc.get("tokenPrefix") or ""}
                return self._send(200, {"ok": True})
            if action == "release":
                reg.holds.pop(client, None)
                reg.revoke_holds.pop(client, None)
                n = 0
                for held in reg.held + reg.revoke_held:
                    if client == ALL or held.client == client:
                        held.released = True
                        n += 1
                reg.lock.notify_all()
                return self._send(200, {"released": n})
            if action == "fail":
                rule = {k: doc.get(k) for k in ("status", "error", "hang", "retryAfter") if doc.get(k) is not None}
                if "body" in doc:
                    rule["body"] = doc["body"]
                rule["count"] = doc.get("count", 1)
                reg.fails.setdefault(client, []).append(rule)
                return self._send(200, {"ok": True})
            if action == "items":
                for name in ("count", "pageSize", "holdPage"):
                    if name in doc:
                        reg.items[name] = doc[name]
                return self._send(200, {"ok": True, "items": reg.items})
            if action == "release_items":
                reg.items["holdPage"] = None
                for held in reg.items_held:
                    held.released = True
                reg.lock.notify_all()
                return self._send(200, {"released": len(reg.items_held)})
            if action == "shutdown":
                self._send(200, {"ok": True})
                threading.Thread(target=self.server.shutdown, daemon=True).start()
                return None
        self._send(404, {"error": f"unknown control action {action!r}"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(port: int = 0, state_file: Path | None = None) -> Server:
    registry = Registry(state_file)
    if state_file and state_file.is_file():
        try:
            registry.load(json.loads(state_file.read_text()))
        except (OSError, ValueError):
            pass
    handler = type("BoundHandler", (Handler,), {"registry": registry})
    server = Server(("127.0.0.1", port), handler)
    host, bound = server.server_address[:2]
    registry.meta = {"pid": os.getpid(), "port": bound, "url": f"http://{host}:{bound}"}
    with registry.lock:
        registry.save()
    server.registry = registry
    return server


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Fake OAuth 2.0 provider for refresh tests")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--state-file", type=Path, default=None,
                    help="JSON file written once listening (pid, port, url) and after every change (tokens)")
    args = ap.parse_args(argv)
    server = make_server(args.port, args.state_file)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"fake OAuth provider listening on {server.registry.meta['url']}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


# --------------------------------------------------------------------------
# client side, for the tests


class FakeProviderProcess:
    """Starts `fake_oauth_provider.py` as its own process and drives its control endpoints."""

    def __init__(self, workdir: Path, port: int = 0):
        self.workdir = Path(workdir)
        self.port_wanted = port
        self.state_file = self.workdir / "fake-oauth-state.json"
        self.proc = None
        self.url: str | None = None
        self.port: int | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self, timeout: float = 20) -> "FakeProviderProcess":
        import subprocess

        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.state_file.exists() and self.port_wanted == 0:
            self.state_file.unlink()
        log = open(self.workdir / "fake-oauth.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", str(self.port_wanted), "--state-file", str(self.state_file)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"fake OAuth provider exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                doc = json.loads(self.state_file.read_text())
                if doc.get("pid") == self.proc.pid:
                    self.url, self.port = doc["url"], doc["port"]
                    if self.get("/healthz").get("ok"):
                        return self
            except (OSError, ValueError, urllib.error.URLError, KeyError):
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("fake OAuth provider did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                self.proc.kill()
                self.proc.wait(timeout=10)

    def restart(self) -> "FakeProviderProcess":
        """Stop and start again on the same port with the same tokens."""
        port = self.port
        self.stop()
        self.port_wanted = port
        return self.start()

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n".join((self.workdir / "fake-oauth.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- HTTP

    def _call(self, method: str, path: str, doc: dict | None = None) -> dict:
        data = None if doc is None else json.dumps(doc).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"fake provider {method} {path} → HTTP {e.code}: {e.read()[:300]!r}") from None
        return json.loads(raw) if raw else {}

    def get(self, path: str) -> dict:
        return self._call("GET", path)

    def post(self, path: str, doc: dict | None = None) -> dict:
        return self._call("POST", path, doc or {})

    # -- control

    def state(self, client: str | None = None) -> dict:
        q = "?" + urllib.parse.urlencode({"clientId": client}) if client else ""
        return self.get("/_control/state" + q)

    def counters(self, client: str | None = None) -> dict:
        return self.state(client)["counters"]

    def reset(self, client: str | None = None) -> None:
        self.post("/_control/reset", {"clientId": client} if client else {})

    def seed(self, client: str, secret: str, refresh_token: str, scope: str = "read") -> dict:
        return self.post("/_control/seed", {"clientId": client, "clientSecret": secret, "refreshToken": refresh_token, "scope": scope})

    def configure(self, client: str | None = None, **settings) -> None:
        self.post("/_control/config", dict(settings, clientId=client))

    def hold(self, client: str | None = None, count: int | None = None) -> None:
        self.post("/_control/hold", {"clientId": client, "count": count})

    def release(self, client: str | None = None) -> int:
        return self.post("/_control/release", {"clientId": client})["released"]

    def fail(self, client: str | None = None, count: int | None = 1, **rule) -> None:
        self.post("/_control/fail", dict(rule, clientId=client, count=count))

    def held(self, client: str | None = None) -> list[dict]:
        return self.state(client)["held"]

    def hold_revocations(self, client: str | None = None, after: int = 0, count: int | None = None, token_prefix: str = "") -> None:
        self.post("/_control/hold_revocations", {"clientId": client, "after": after, "count": count, "tokenPrefix": token_prefix})

    def held_revocations(self, client: str | None = None) -> list[dict]:
        return self.state(client)["heldRevocations"]

    def serve_items(self, count: int, page_size: int = 10, hold_page: int | None = None) -> None:
        self.post("/_control/items", {"count": count, "pageSize": page_size, "holdPage": hold_page})

    def held_items(self) -> list[dict]:
        return self.state()["heldItems"]

    def release_items(self) -> int:
        return self.post("/_control/release_items")["released"]

    def endpoints(self) -> dict:
        return {
            "authorizationURL": self.url + "/authorize",
            "tokenURL": self.url + "/token",
            "revocationURL": self.url + "/revoke",
        }


if __name__ == "__main__":
    sys.exit(main())
