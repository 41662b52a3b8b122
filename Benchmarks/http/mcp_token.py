"""An MCP access token from a running Latchkey, the way a person and an MCP client get one: the person signs in to the
console, a client is registered (RFC 7591), consent is given to every connected service, the code is exchanged with
PKCE. Standard library only.

    python3 mcp_token.py BASE_URL EMAIL PASSWORD     -> prints the access token
"""

import base64
import hashlib
import http.cookiejar
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(base: str, email: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def call(method, url, form=None, body=None, headers=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        request = urllib.request.Request(url if url.startswith("http") else base + url, data=data, method=method, headers=headers or {})
        if form is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    status, _, page = call("GET", "/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    status, _, _ = call("POST", "/login", {"csrf_token": csrf, "email": email, "password": password, "next": "/connections"})
    assert status == 303, f"sign-in: {status}"
    redirect = "http://127.0.0.1:9/callback"
    status, _, body = call("POST", "/oauth/register", body=json.dumps({"client_name": "benchmark", "redirect_uris": [redirect],
                                                                         "token_endpoint_auth_method": "none"}).encode(),
                           headers={"Content-Type": "application/json"})
    assert status == 201, f"register: {status} {body}"
    client = json.loads(body)["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client, "redirect_uri": redirect, "state": "s",
                                    "code_challenge": challenge, "code_challenge_method": "S256", "resource": base + "/mcp"})
    status, headers, page = call("GET", "/oauth/authorize?" + query)
    assert status == 200, f"authorize: {status} {headers.get('Location')} {page[:300]}"
    form = re.search(r'<form[^>]*action="(/oauth/authorize[^"]*)"(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields.update({name: "on" for name in re.findall(r'<input type="checkbox" name="([^"]+)"', form.group(2))})
    fields["decision"] = "approve"
    action = form.group(1).replace("&amp;", "&")
    status, headers, _ = call("POST", action, {k: v.replace("&amp;", "&") for k, v in fields.items()})
    assert status == 303, f"consent: {status}"
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)["code"][0]
    status, _, body = call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                                                    "client_id": client, "code_verifier": verifier})
    assert status == 200, f"token: {status} {body}"
    return json.loads(body)["access_token"]


if __name__ == "__main__":
    print(main(*sys.argv[1:4]))
