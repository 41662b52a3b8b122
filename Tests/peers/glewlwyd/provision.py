#!/usr/bin/env python3
"""Provision a glewlwyd started by start.sh through its admin REST API (Python standard library only).

Creates, or updates when they already exist:
  * the scopes (default: read, write),
  * the OpenID Connect plugin instance "oidc" (authorization code + refresh token grants, PKCE S256,
    RFC 7009 revocation, RFC 7662 introspection, plain OAuth 2 requests without `openid` allowed;
    userinfo and ID tokens always carry name, email and preferred_username besides `sub`),
  * a user with every scope,
  * a confidential client (client_secret_basic and client_secret_post) with its redirect URIs.

Then prints one JSON document on stdout with every endpoint URL and the credentials, and writes the
same document to <state dir>/provision.json when a state directory is known.

Plugin settings only take effect after a reset of the plugin, which this script does when it updates
an existing plugin. The simplest way to change them is still a fresh server (stop.sh, start.sh).
"""
import argparse
import http.cookiejar
import json
import os
import secrets
import sys
import urllib.error
import urllib.request

PLUGIN_NAME = "oidc"


def parse_args(argv):
    env = os.environ
    ap = argparse.ArgumentParser(
        description="Provision a local glewlwyd for OAuth client tests and print its endpoints as JSON.")
    ap.add_argument("--port", type=int, default=None,
                    help="glewlwyd port on 127.0.0.1 (default: $GLEWLWYD_PORT, else the port recorded in "
                         "STATE_DIR/server.env, else 4593)")
    ap.add_argument("--state-dir", default=env.get("GLEWLWYD_STATE_DIR") or None,
                    help="state directory printed by start.sh; the JSON is also written to "
                         "STATE_DIR/provision.json (default: $GLEWLWYD_STATE_DIR, else none)")
    ap.add_argument("--admin-username", default="admin", help="admin user of a fresh database (default: admin)")
    ap.add_argument("--admin-password", default="password", help="(default: password)")
    ap.add_argument("--scope", dest="scopes", action="append", metavar="NAME",
                    help="scope to create; repeat for several (default: read and write)")
    ap.add_argument("--username", default="alice", help="end user to create (default: alice)")
    ap.add_argument("--password", default="alice-password-1", help="end user's password (default: alice-password-1)")
    ap.add_argument("--client-id", default="test-client", help="(default: test-client)")
    ap.add_argument("--client-secret", default="test-secret", help="(default: test-secret)")
    ap.add_argument("--redirect-uri", dest="redirect_uris", action="append", metavar="URI",
                    help="registered redirect URI; repeat for several (default: http://127.0.0.1:9999/callback)")
    ap.add_argument("--access-token-duration", type=int, default=3600, metavar="SECONDS", help="(default: 3600)")
    ap.add_argument("--refresh-token-duration", type=int, default=1209600, metavar="SECONDS",
                    help="(default: 1209600, 14 days)")
    ap.add_argument("--code-duration", type=int, default=600, metavar="SECONDS", help="(default: 600)")
    ap.add_argument("--rotate-refresh-tokens", action=argparse.BooleanOptionalAction, default=False,
                    help="refresh token rotation (refresh-token-one-use=always): every refresh returns a new "
                         "refresh token and the old one stops working (default: off, the refresh response "
                         "then has no refresh_token and the old one stays valid)")
    ap.add_argument("--refresh-token-rolling", action=argparse.BooleanOptionalAction, default=True,
                    help="each use of a refresh token extends its lifetime (default: on)")
    ap.add_argument("--pkce-required", action=argparse.BooleanOptionalAction, default=False,
                    help="reject authorization requests without code_challenge (default: off; PKCE is "
                         "still checked whenever the client sends it)")
    ap.add_argument("--jwt-type", choices=["sha", "rsa", "ec"], default="sha",
                    help="how ID tokens are signed: sha (HS256 with a random secret, the default), rsa (RS256) or "
                         "ec (ES256) with a key pair generated here (openssl), whose public key the JWKS publishes; "
                         "running provision.py again with rsa or ec generates a new key (a key rotation)")
    ap.add_argument("--email-verified", action=argparse.BooleanOptionalAction, default=False,
                    help="ID tokens and userinfo carry email_verified: true for the user (default: off)")
    ap.add_argument("--timeout", type=float, default=10, help="seconds per HTTP request (default: 10)")
    a = ap.parse_args(argv)
    if a.state_dir and not os.path.isdir(a.state_dir):
        ap.error(f"state directory not found: {a.state_dir}")
    if a.port is None:
        try:
            a.port = int(env.get("GLEWLWYD_PORT") or recorded_port(a.state_dir) or 4593)
        except ValueError:
            ap.error(f"bad GLEWLWYD_PORT: {env.get('GLEWLWYD_PORT')!r}")
    a.scopes = a.scopes or ["read", "write"]
    a.redirect_uris = a.redirect_uris or ["http://127.0.0.1:9999/callback"]
    if not 1 <= a.port <= 65535:
        ap.error("--port must be 1..65535")
    for name in ("access_token_duration", "refresh_token_duration", "code_duration"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    return a


def signing_key(jwt_type):
    """(private PEM, public PEM) of a new RSA 2048 or P-256 key pair, made with the openssl command."""
    import subprocess
    algorithm = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] if jwt_type == "rsa" else \
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    try:
        private = subprocess.run(["openssl", "genpkey", *algorithm], capture_output=True, text=True, check=True).stdout
        public = subprocess.run(["openssl", "pkey", "-pubout"], input=private, capture_output=True, text=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"provision.py: cannot generate a {jwt_type} key with openssl: {e}")
    return private, public


def recorded_port(state_dir):
    """The port start.sh recorded in STATE_DIR/server.env, or None."""
    try:
        with open(os.path.join(state_dir, "server.env")) as f:
            for line in f:
                if line.startswith("GLEWLWYD_PORT="):
                    return line.split("=", 1)[1].strip()
    except (OSError, TypeError):
        pass
    return None


class Admin:
    """JSON calls to the admin API with one session cookie; never goes through a proxy."""

    def __init__(self, base, timeout):
        self.base, self.timeout = base, timeout
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=self.timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except (urllib.error.URLError, OSError) as e:
            sys.exit(f"provision.py: cannot reach glewlwyd at {self.base}: {e} (is it started? see start.sh)")

    def must(self, method, path, body, what):
        status, raw = self.call(method, path, body)
        if status != 200:
            sys.exit(f"provision.py: {what}: {method} {path} -> HTTP {status} {raw[:500].decode(errors='replace')}")
        return raw

    def upsert(self, collection, name, body, what):
        """POST a new object, or PUT over an existing one (so the script can be run again)."""
        status, _ = self.call("GET", f"{collection}{name}")
        if status == 200:
            self.must("PUT", f"{collection}{name}", body, what + " (update)")
            return "updated"
        self.must("POST", collection, body, what)
        return "created"


def main(argv):
    a = parse_args(argv)
    base = f"http://127.0.0.1:{a.port}"
    api = "/api"
    issuer = f"{base}{api}/{PLUGIN_NAME}"
    admin = Admin(base, a.timeout)

    admin.must("POST", f"{api}/auth/", {"username": a.admin_username, "password": a.admin_password}, "admin login")

    for name in a.scopes:
        admin.upsert(f"{api}/scope/", name, {
            "name": name, "display_name": name.title(), "description": f"Scope {name}",
            "password_required": True, "password_max_age": 0, "scheme": {}}, f"scope {name}")

    plugin = {
        "module": "oidc", "name": PLUGIN_NAME, "display_name": "OpenID Connect / OAuth 2", "enabled": True,
        "parameters": {
            "iss": issuer,
            "jwt-type": a.jwt_type, "jwt-key-size": "256",
            "access-token-duration": a.access_token_duration,
            "refresh-token-duration": a.refresh_token_duration,
            "code-duration": a.code_duration,
            "refresh-token-rolling": a.refresh_token_rolling,
            "refresh-token-one-use": "always" if a.rotate_refresh_tokens else "never",
            "allow-non-oidc": True,
            "auth-type-code-enabled": True,
            "auth-type-code-revoke-replayed": True,
            "auth-type-refresh-enabled": True,
            "auth-type-token-enabled": False,
            "auth-type-id-token-enabled": True,
            "auth-type-none-enabled": False,
            "auth-type-password-enabled": False,
            "auth-type-client-enabled": False,
            "auth-type-device-enabled": False,
            "pkce-allowed": True,
            "pkce-method-plain-allowed": False,
            "pkce-required": a.pkce_required,
            "introspection-revocation-allowed": True,
            "introspection-revocation-allow-target-client": True,
            "allowed-scope": ["openid"] + [s for s in a.scopes if s != "openid"],
            # Who the user is, in userinfo and the ID token (otherwise only an opaque `sub`):
            # name, email and preferred_username (the username).
            "name-claim": "mandatory",
            "email-claim": "mandatory",
            "claims": [{"name": "preferred_username", "user-property": "username", "type": "string",
                        "mandatory": True, "on-demand": False, "scopes": []}],
        },
    }
    if a.jwt_type == "sha":
        plugin["parameters"]["key"] = secrets.token_urlsafe(48)
    else:
        plugin["parameters"]["key"], plugin["parameters"]["cert"] = signing_key(a.jwt_type)
    if a.email_verified:
        # A user property the database backend keeps, read as a boolean claim.
        status, raw = admin.call("GET", f"{api}/mod/user/database", None)
        if status != 200:
            sys.exit(f"provision.py: user backend: HTTP {status}")
        backend = json.loads(raw)
        backend.setdefault("parameters", {}).setdefault("data-format", {})["email_verified"] = {
            "multiple": False, "read": True, "write": True, "profile-read": False, "profile-write": False}
        admin.must("PUT", f"{api}/mod/user/database", backend, "user backend email_verified property")
        admin.must("PUT", f"{api}/mod/user/database/reset", None, "user backend reset")
        plugin["parameters"]["claims"].append({
            "name": "email_verified", "user-property": "email_verified", "type": "boolean",
            "boolean-value-true": "1", "boolean-value-false": "0", "mandatory": True, "on-demand": False, "scopes": []})
    if admin.upsert(f"{api}/mod/plugin/", PLUGIN_NAME, plugin, "oidc plugin") == "updated":
        admin.must("PUT", f"{api}/mod/plugin/{PLUGIN_NAME}/reset", None, "oidc plugin reset")

    admin.upsert(f"{api}/user/", a.username, {
        "username": a.username, "password": a.password, "name": a.username.title(),
        "email": f"{a.username}@example.test", "enabled": True, **({"email_verified": "1"} if a.email_verified else {}),
        "scope": ["g_profile", "openid"] + [s for s in a.scopes if s != "openid"]}, f"user {a.username}")

    auth_methods = ["client_secret_basic", "client_secret_post"]
    grant_types = ["code", "refresh_token"]
    admin.upsert(f"{api}/client/", a.client_id, {
        "client_id": a.client_id, "name": f"Test client {a.client_id}", "client_secret": a.client_secret,
        "confidential": True, "enabled": True, "redirect_uri": a.redirect_uris,
        "authorization_type": grant_types, "token_endpoint_auth_method": auth_methods,
        "scope": []}, f"client {a.client_id}")

    # Take the endpoint URLs from the server's own discovery document.
    discovery_url = f"{issuer}/.well-known/openid-configuration"
    disco = json.loads(admin.must("GET", discovery_url[len(base):], None, "discovery document"))
    if disco.get("issuer") != issuer:
        sys.exit(f"provision.py: discovery issuer {disco.get('issuer')!r} != {issuer!r}")

    doc = {
        "issuer": issuer,
        "discovery_url": discovery_url,
        "authorization_endpoint": disco["authorization_endpoint"],
        "token_endpoint": disco["token_endpoint"],
        "revocation_endpoint": disco.get("revocation_endpoint", f"{issuer}/revoke"),
        "introspection_endpoint": disco.get("introspection_endpoint", f"{issuer}/introspect"),
        "userinfo_endpoint": disco["userinfo_endpoint"],
        "jwks_uri": disco.get("jwks_uri", f"{issuer}/jwks"),
        "login_page": f"{base}/login.html",
        "base_url": base,
        "port": a.port,
        "client": {
            "client_id": a.client_id, "client_secret": a.client_secret, "redirect_uris": a.redirect_uris,
            "token_endpoint_auth_methods": auth_methods, "grant_types": ["authorization_code", "refresh_token"],
        },
        "user": {"username": a.username, "password": a.password},
        "admin": {"username": a.admin_username, "password": a.admin_password, "api": f"{base}{api}"},
        "scopes": a.scopes,
        "settings": {
            "access_token_duration": a.access_token_duration,
            "refresh_token_duration": a.refresh_token_duration,
            "code_duration": a.code_duration,
            "rotate_refresh_tokens": a.rotate_refresh_tokens,
            "refresh_token_rolling": a.refresh_token_rolling,
            "pkce_required": a.pkce_required,
            "jwt_type": a.jwt_type,
            "email_verified": a.email_verified,
        },
    }
    text = json.dumps(doc, indent=2)
    if a.state_dir:
        doc_path = os.path.join(a.state_dir, "provision.json")
        with open(doc_path, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
