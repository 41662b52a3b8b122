"""The MCP client side of the end-to-end suite: the official MCP Python SDK (PyPI `mcp`) with its OAuth provider,
and a person who signs in and consents — form posts through `webtools.Web`, as a browser without scripts sends them.

The SDK discovers everything itself (the 401's `resource_metadata`, RFC 9728, RFC 8414), registers (DCR) or
presents a Client ID Metadata Document URL, runs PKCE, exchanges the code, refreshes. The only parts supplied here
are the ones a real client hands to a person: opening the authorization URL, and receiving the redirect back.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from webtools import Element, Page, Web, button_label, form_fields, location, parse_dom, submit_buttons


@dataclass
class MemoryStorage:
    """What a client keeps between runs: its registration and its tokens."""

    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None
    history: list[OAuthToken] = field(default_factory=list)

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Redirect:
    """Where the authorization server sent the person back to, and what it carried."""

    url: str
    query: dict[str, str]


class Person:
    """Someone at a browser with a console account: signs in when asked, ticks the services to grant, allows."""

    def __init__(self, base_url: str, email: str, password: str, grant: list[str] | None = None, label: str = "person"):
        self.web = Web(base_url, label)
        self.email = email
        self.password = password
        self.grant = grant  # integration keys to tick; None ticks every selectable one
        self.redirects: list[Redirect] = []
        self.consent_pages: list[Page] = []
        self.deny = False

    def authorize(self, authorization_url: str) -> Redirect:
        """Follows `authorization_url` to the redirect back to the client, signing in and consenting on the way."""
        r = self.web.get(authorization_url)
        for _ in range(10):
            target = location(r) if r.status_code in (301, 302, 303, 307, 308) else None
            if target is None:
                page = Page(r, parse_dom(r.text))
                assert r.status_code == 200, f"[{self.web.label}] {r.url} → HTTP {r.status_code}: {r.text[:300]}"
                form = self._consent_form(page)
                self.consent_pages.append(page)
                r = self.web.submit(form, self._choices(form), button=self._button(form), base=r.url)
                continue
            if not target.startswith(self.web.base_url + "/"):
                redirect = Redirect(target, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query, keep_blank_values=True)))
                self.redirects.append(redirect)
                return redirect
            path = urllib.parse.urlsplit(target).path
            if path == "/login":
                next_path = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query)).get("next")
                r = self.web.sign_in_response(self.email, self.password, next_path)
                assert r.status_code == 303, f"[{self.web.label}] sign-in → HTTP {r.status_code}"
                continue
            r = self.web.get(target)
        raise AssertionError(f"[{self.web.label}] no redirect back to the client after 10 steps")

    @staticmethod
    def _consent_form(page: Page) -> Element:
        forms = [f for f in page.forms() if urllib.parse.urlsplit(f.get("action") or "").path.startswith("/oauth/authorize")]
        assert forms, f"the page has no consent form posting to /oauth/authorize: {page.text[:400]}"
        return forms[0]

    def _choices(self, form: Element) -> dict[str, str | None]:
        """The services ticked: every selectable checkbox, or those of `grant`."""
        choices: dict[str, str | None] = {}
        boxes = [el for el in form.iter() if el.tag == "input" and (el.get("type") or "").lower() == "checkbox" and "disabled" not in el.attrs]
        picked = [box for box in boxes if self.grant is None or box.get("value") in self.grant]
        names = {box.get("name") for box in boxes}
        for name in names:
            choices[name] = None
        data: dict[str, list[str]] = {}
        for box in picked:
            data.setdefault(box.get("name"), []).append(box.get("value", "on"))
        for name, values in data.items():
            choices[name] = ",".join(values) if len(values) > 1 and not name.endswith("[]") else values[0]
        return choices

    def _button(self, form: Element) -> Element:
        wanted = ("deny", "cancel") if self.deny else ("allow", "approve", "grant", "authorize", "continue")
        for button in submit_buttons(form):
            label = (button_label(button) + " " + (button.get("value") or "")).lower()
            if any(word in label for word in wanted):
                return button
        raise AssertionError(f"the consent form has no {wanted[0]} button: {[button_label(b) for b in submit_buttons(form)]}")


def client_metadata(redirect_uri: str, name: str = "SDK test client") -> OAuthClientMetadata:
    return OAuthClientMetadata(
        client_name=name,
        redirect_uris=[redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )


def oauth_provider(mcp_url: str, person: Person, storage: MemoryStorage, redirect_uri: str, client_metadata_url: str | None = None) -> OAuthClientProvider:
    """The SDK's OAuth provider, its browser step played by `person` (run in a thread: `requests` blocks)."""
    import anyio

    async def redirect_handler(url: str) -> None:
        await anyio.to_thread.run_sync(person.authorize, url)

    async def callback_handler() -> AuthorizationCodeResult:
        back = person.redirects[-1].query
        assert back.get("code"), f"the authorization server sent the person back without a code: {back}"
        return AuthorizationCodeResult(code=back.get("code", ""), state=back.get("state"), iss=back.get("iss"))

    return OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=client_metadata(redirect_uri),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=client_metadata_url,
    )


async def with_client(mcp_url: str, provider: OAuthClientProvider, mode: str, body):
    """Runs `body(client)` with a connected SDK client in `mode` ('legacy' or a modern version)."""
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        async with Client(streamable_http_client(mcp_url, http_client=http), mode=mode) as client:
            return await body(client)


def tool_named(tools, suffix: str):
    """The listed tool whose name ends with `suffix` (a server may prefix names with the integration)."""
    found = [t for t in tools if t.name == suffix or t.name.endswith("." + suffix) or t.name.endswith("_" + suffix) or t.name.endswith(suffix)]
    assert found, f"no tool named like {suffix!r} in {[t.name for t in tools]}"
    return found[0]


def text_of(result) -> str:
    return "\n".join(getattr(part, "text", "") for part in result.content)


__all__ = [
    "MemoryStorage",
    "Person",
    "Redirect",
    "client_metadata",
    "oauth_provider",
    "with_client",
    "tool_named",
    "text_of",
    "form_fields",
]
