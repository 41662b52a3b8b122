"""The peer of Latchkey's `/oauth/token` in `Benchmarks/oauth/token.sh`: a small OAuth 2.1 authorization server on Authlib.

Authlib's authorization-code grant with PKCE (S256 required) and its refresh-token grant, refresh tokens rotated on every
use (the old one revoked at once), one public client (`token_endpoint_auth_method` `none`), one user who is always signed
in and always consents, everything in memory. Served by gunicorn (see token.sh for the workers); import it with
`--preload` so that the seeded codes and refresh tokens are made once, before the workers fork, and every worker has them.

Environment:
  PEER_SEED_DIR   where `codes.txt` ("code verifier" per line) and `refresh.txt` (a refresh token per line) are written
  PEER_CODES      how many authorization codes to mint before the run (default 0)
  PEER_REFRESH    how many refresh tokens to mint before the run (default 0)
"""

import base64
import hashlib
import os
import secrets
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask

CLIENT_ID = "bench-client"
REDIRECT_URI = "http://127.0.0.1:9/callback"
SCOPE = "tools"
USER = {"id": "bench-user"}
CODE_LIFETIME = 600
ACCESS_LIFETIME = 3600

CODES = {}
ACCESS_TOKENS = {}
REFRESH_TOKENS = {}


class Client(ClientMixin):
    """The one registered client: public, PKCE, code and refresh grants."""

    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return REDIRECT_URI

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s == SCOPE)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri == REDIRECT_URI

    def check_client_secret(self, client_secret):
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "none"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


CLIENT = Client()


class Code(AuthorizationCodeMixin):
    __slots__ = ("code", "code_challenge", "code_challenge_method", "scope", "expires_at")

    def __init__(self, code, challenge, method, scope):
        self.code = code
        self.code_challenge = challenge
        self.code_challenge_method = method
        self.scope = scope
        self.expires_at = time.time() + CODE_LIFETIME

    def get_redirect_uri(self):
        return REDIRECT_URI

    def get_scope(self):
        return self.scope


class Token(TokenMixin):
    __slots__ = ("access_token", "refresh_token", "scope", "expires_at", "revoked")

    def __init__(self, data):
        self.access_token = data["access_token"]
        self.refresh_token = data.get("refresh_token")
        self.scope = data.get("scope", "")
        self.expires_at = time.time() + data.get("expires_in", ACCESS_LIFETIME)
        self.revoked = False

    def check_client(self, client):
        return client.get_client_id() == CLIENT_ID

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return ACCESS_LIFETIME

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return USER

    def get_client(self):
        return CLIENT


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        CODES[code] = Code(code, data.get("code_challenge"), data.get("code_challenge_method"), request.payload.scope or SCOPE)

    def query_authorization_code(self, code, client):
        item = CODES.get(code)
        if item is not None and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code):
        CODES.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return USER


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        token = REFRESH_TOKENS.get(refresh_token)
        if token is not None and not token.revoked:
            return token
        return None

    def authenticate_user(self, refresh_token):
        return USER

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True
        REFRESH_TOKENS.pop(refresh_token.refresh_token, None)
        ACCESS_TOKENS.pop(refresh_token.access_token, None)


def save_token(data, request=None):
    token = Token(data)
    ACCESS_TOKENS[token.access_token] = token
    if token.refresh_token:
        REFRESH_TOKENS[token.refresh_token] = token


app = Flask(__name__)
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": ACCESS_LIFETIME, "refresh_token": ACCESS_LIFETIME}
server = AuthorizationServer(app, query_client=lambda client_id: CLIENT if client_id == CLIENT_ID else None, save_token=save_token)
server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
server.register_grant(RefreshTokenGrant)


@app.get("/authorize")
def authorize():
    # The user is signed in and consents: the code goes straight back to the client.
    return server.create_authorization_response(grant_user=USER)


@app.post("/token")
def token():
    return server.create_token_response()


@app.get("/healthz")
def healthz():
    return "ok"


def seed():
    """Mints the codes and refresh tokens of the run, as the grants would have stored them, and lists them."""
    directory = os.environ.get("PEER_SEED_DIR")
    if not directory:
        return
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with open(os.path.join(directory, "codes.txt"), "w") as out:
        for _ in range(int(os.environ.get("PEER_CODES", "0"))):
            code = secrets.token_urlsafe(36)
            CODES[code] = Code(code, challenge, "S256", SCOPE)
            out.write(f"{code} {verifier}\n")
    with open(os.path.join(directory, "refresh.txt"), "w") as out:
        for _ in range(int(os.environ.get("PEER_REFRESH", "0"))):
            data = {"access_token": secrets.token_urlsafe(32), "refresh_token": secrets.token_urlsafe(36), "scope": SCOPE}
            save_token(data)
            out.write(f"{data['refresh_token']}\n")


seed()
