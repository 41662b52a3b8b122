"""Helpers for the web (cookie session + CSRF) end-to-end tests.

* a small HTML tree (`parse_dom`) with `find_all(tag, cls=..., attrs=...)` and `text`;
* `Web`: one browser-like `requests.Session` against one server that never follows
  redirects by itself, with form submission (hidden fields, CSRF token and the
  clicked button's name/value included) and sign-in;
* `ConnectionCenter`: the parsed `/connections` page;
* `WebStack`: a running `latchkey serve` on a port chosen here, with an admin key
  and console users made by the CLI (`latchkey users create --password-stdin`);
* the sandbox provider's consent step (`--demo`).

Nothing here prints a secret: failures describe what is wrong, not the values.
"""

from __future__ import annotations

import re
import secrets
import socket
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import requests

from conftest import (
    Database,
    LatchkeyServer,
    _make_database,
    api_session,
    binary_path,
    mint_admin_key,
    poll_until,
)

HTTP_TIMEOUT = 20
REDIRECTS = (301, 302, 303, 307, 308)
SESSION_COOKIE = "latchkey_session"


def check(condition, message: str) -> None:
    """`assert` for values that are secrets: pytest's assertion rewriting would print the
    operands of a failing `assert` (tokens, passwords, session ids); this prints the message only."""
    if not condition:
        raise AssertionError(message)


# --------------------------------------------------------------------------
# HTML tree

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
# elements that an open element of the same kind closes implicitly
SELF_CLOSING_SIBLINGS = {"li", "p", "option", "tr", "td", "th", "dt", "dd"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Element | None"):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list["Element | str"] = []

    # -- tree

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, attrs: dict[str, str | bool] | None = None) -> list["Element"]:
        """Descendants (and self) matching: tag name, a class, attributes (True = present)."""
        out = []
        for el in self.iter():
            if tag and el.tag != tag:
                continue
            if cls and cls not in el.classes:
                continue
            if attrs and not all((name in el.attrs) if want is True else el.attrs.get(name) == want for name, want in attrs.items()):
                continue
            out.append(el)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, attrs: dict[str, str | bool] | None = None) -> "Element | None":
        found = self.find_all(tag, cls, attrs)
        return found[0] if found else None

    def by_id(self, ident: str) -> "Element | None":
        return self.find(attrs={"id": ident})

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def closest(self, tag: str) -> "Element | None":
        for node in self.ancestors():
            if node.tag == tag:
                return node
        return None

    # -- content

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    @property
    def raw_text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child.raw_text if isinstance(child, Element) else child)
        return "".join(parts)

    @property
    def text(self) -> str:
        """Visible-ish text, whitespace collapsed (script/style content excluded)."""
        if self.tag in ("script", "style", "template"):
            return ""
        parts = []
        for child in self.children:
            parts.append(child.text if isinstance(child, Element) else child)
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def __repr__(self) -> str:
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items() if k in ("id", "class", "action", "name", "data-integration"))
        return f"<{self.tag} {shown}>"


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        if tag in SELF_CLOSING_SIBLINGS:
            # <li>a<li>b : the second li closes the first (nearest open one, same container)
            for i in range(len(self.stack) - 1, 0, -1):
                open_tag = self.stack[i].tag
                if open_tag == tag:
                    del self.stack[i:]
                    break
                if open_tag in ("ul", "ol", "table", "tbody", "dl", "select", "div", "form", "section", "main"):
                    break
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        el = Element(tag, {k: (v if v is not None else "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_dom(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# --------------------------------------------------------------------------
# forms


def form_fields(form: Element, button: Element | None = None) -> dict[str, str]:
    """What a browser would submit for `form` (successful controls), plus the clicked button."""
    data: dict[str, str] = {}
    for el in form.iter():
        name = el.get("name")
        if not name or "disabled" in el.attrs:
            continue
        if el.tag == "input":
            kind = (el.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in el.attrs:
                continue
            data[name] = el.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif el.tag == "textarea":
            data[name] = el.raw_text
        elif el.tag == "select":
            options = el.find_all("option")
            chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
            if chosen is not None:
                data[name] = chosen.get("value", chosen.text)
    if button is not None and button.get("name"):
        data[button.get("name")] = button.get("value", "")
    return data


def submit_buttons(form: Element) -> list[Element]:
    out = []
    for el in form.iter():
        if el.tag == "button" and (el.get("type") or "submit").lower() == "submit":
            out.append(el)
        elif el.tag == "input" and (el.get("type") or "").lower() in ("submit", "image"):
            out.append(el)
    return out


def button_label(button: Element) -> str:
    if button.tag == "input":
        return button.get("value", "") or button.get("aria-label", "")
    return button.text or button.get("aria-label", "")


def csrf_of(form: Element) -> str | None:
    el = form.find("input", attrs={"name": "csrf_token"})
    return el.get("value") if el is not None else None


# --------------------------------------------------------------------------
# HTTP


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_cookie_headers(response: requests.Response) -> list[str]:
    """Every raw Set-Cookie header of a response (requests folds them otherwise)."""
    headers = response.raw.headers if response.raw is not None else None
    if headers is not None and hasattr(headers, "getlist"):
        return list(headers.getlist("Set-Cookie"))
    value = response.headers.get("Set-Cookie")
    return [value] if value else []


def cookie_attributes(header: str) -> tuple[str, str, dict[str, str]]:
    """`name=value; Attr; Attr=x` → (name, value, {attr-lowercase: value})."""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name.strip(), value.strip(), attrs


def find_set_cookie(response: requests.Response, name: str) -> tuple[str, dict[str, str]] | None:
    for header in set_cookie_headers(response):
        n, v, attrs = cookie_attributes(header)
        if n == name:
            return v, attrs
    return None


@dataclass
class Page:
    response: requests.Response
    dom: Element

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    def forms(self, action: str | None = None) -> list[Element]:
        forms = self.dom.find_all("form")
        if action is None:
            return forms
        return [f for f in forms if _same_path(f.get("action") or "", action)]

    def form(self, action: str) -> Element:
        found = self.forms(action)
        assert found, f"page has no form with action {action!r} (forms: {[f.get('action') for f in self.forms()]})"
        return found[0]

    def csrf(self) -> str:
        for form in self.forms():
            token = csrf_of(form)
            if token:
                return token
        raise AssertionError("page has no form with a csrf_token field")

    def alert(self) -> Element | None:
        return self.dom.find(attrs={"role": "alert"})

    def flash(self) -> Element | None:
        el = self.dom.find(cls="flash")
        return el


def _same_path(action: str, path: str) -> bool:
    a = urllib.parse.urlsplit(action)
    b = urllib.parse.urlsplit(path)
    return a.path == b.path


class Web:
    """One browser: its cookies, against one server, redirects handed back to the test."""

    def __init__(self, base_url: str, label: str = "browser"):
        self.base_url = base_url.rstrip("/")
        self.label = label
        self.session = requests.Session()
        self.session.trust_env = False  # never through a proxy
        self.session.headers["User-Agent"] = f"latchkey-e2e ({label})"
        self.session.headers["Accept"] = "text/html,application/xhtml+xml"

    def url(self, path_or_url: str) -> str:
        return urllib.parse.urljoin(self.base_url + "/", path_or_url)

    def get(self, path_or_url: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.session.get(self.url(path_or_url), **kw)

    def post(self, path_or_url: str, data=None, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.session.post(self.url(path_or_url), data=data, **kw)

    def page(self, path_or_url: str) -> Page:
        r = self.get(path_or_url)
        return Page(r, parse_dom(r.text))

    def submit(self, form: Element, overrides: dict[str, str | None] | None = None, button: Element | None = None, base: str | None = None) -> requests.Response:
        """Submit a parsed form as a browser would; `overrides` value None drops a field."""
        data = form_fields(form, button)
        for k, v in (overrides or {}).items():
            if v is None:
                data.pop(k, None)
            else:
                data[k] = v
        action = urllib.parse.urljoin(base or (self.base_url + "/"), form.get("action") or "")
        method = (form.get("method") or "get").lower()
        if method == "post":
            return self.post(action, data=data)
        return self.get(action, params=data)

    def cookie(self, name: str) -> str | None:
        for c in self.session.cookies:
            if c.name == name:
                return c.value
        return None

    # -- sign-in

    def login_page(self, next_path: str | None = None) -> Page:
        path = "/login" if next_path is None else "/login?" + urllib.parse.urlencode({"next": next_path})
        page = self.page(path)
        assert page.status == 200, f"[{self.label}] GET {path} → HTTP {page.status}"
        return page

    def sign_in_response(self, email: str, password: str, next_path: str | None = None, form_next: str | None = None) -> requests.Response:
        page = self.login_page(next_path)
        form = page.form("/login")
        overrides = {"email": email, "password": password}
        if form_next is not None:
            overrides["next"] = form_next
        return self.submit(form, overrides)

    def sign_in(self, email: str, password: str, next_path: str | None = None) -> requests.Response:
        r = self.sign_in_response(email, password, next_path)
        assert r.status_code == 303, f"[{self.label}] POST /login with the right password → HTTP {r.status_code}, want 303"
        assert self.cookie(SESSION_COOKIE), f"[{self.label}] no {SESSION_COOKIE} cookie after signing in"
        return r

    def center(self) -> "ConnectionCenter":
        page = self.page("/connections")
        assert page.status == 200, f"[{self.label}] GET /connections → HTTP {page.status} (signed in?)"
        return ConnectionCenter(page)

    def follow(self, response: requests.Response) -> Page:
        """GET the Location of a redirect, as a browser does after a form post."""
        loc = location(response)
        assert loc, f"[{self.label}] HTTP {response.status_code} has no Location to follow"
        return self.page(loc)

    def center_after(self, response: requests.Response) -> "ConnectionCenter":
        """The Connection Center a redirect leads to (with its one-time message)."""
        page = self.follow(response)
        assert page.status == 200 and urllib.parse.urlsplit(page.response.url).path == "/connections", (
            f"[{self.label}] the redirect did not lead to the Connection Center (HTTP {page.status})"
        )
        return ConnectionCenter(page)

    def sign_out(self) -> requests.Response:
        page = self.page("/connections")
        return self.submit(page.form("/logout"))


def location(response: requests.Response) -> str | None:
    loc = response.headers.get("Location")
    if loc is None:
        return None
    return urllib.parse.urljoin(response.url, loc)


def split_location(response: requests.Response) -> tuple[str, str, dict[str, str]]:
    """(origin, path, query) of a redirect's Location, resolved against the request URL."""
    loc = location(response)
    assert loc, f"HTTP {response.status_code} has no Location header"
    parts = urllib.parse.urlsplit(loc)
    return f"{parts.scheme}://{parts.netloc}", parts.path, dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))


def assert_redirect(response: requests.Response, origin: str, path: str, statuses=(303,), what: str = "") -> dict[str, str]:
    assert response.status_code in statuses, f"{what}: HTTP {response.status_code}, want {statuses} redirect"
    got_origin, got_path, query = split_location(response)
    assert (got_origin, got_path) == (origin, path), f"{what}: redirect to {got_origin}{got_path}, want {origin}{path}"
    return query


def is_html(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").lower().startswith("text/html")


# --------------------------------------------------------------------------
# the Connection Center


@dataclass
class Card:
    el: Element

    @property
    def integration(self) -> str | None:
        return self.el.get("data-integration")

    @property
    def credential_id(self) -> str | None:
        return self.el.get("data-credential-id")

    @property
    def text(self) -> str:
        return self.el.text

    def part(self, cls: str) -> str | None:
        el = self.el.find(cls=cls)
        return el.text if el is not None else None

    def form(self, action_suffix: str) -> Element | None:
        for form in self.el.find_all("form"):
            if urllib.parse.urlsplit(form.get("action") or "").path.endswith(action_suffix):
                return form
        return None

    def button_texts(self) -> list[str]:
        return [button_label(b) for f in self.el.find_all("form") for b in submit_buttons(f)]


@dataclass
class ConnectionCenter:
    page: Page
    services: dict[str, Card] = field(default_factory=dict)
    connections: list[Card] = field(default_factory=list)

    def __post_init__(self):
        dom = self.page.dom
        for li in dom.find_all("li", cls="service"):
            key = li.get("data-integration")
            if key:
                self.services[key] = Card(li)
        self.connections = [Card(li) for li in dom.find_all("li", cls="connection")]

    @property
    def flash(self) -> str | None:
        el = self.page.flash()
        return el.text if el is not None else None

    def connections_for(self, integration: str) -> list[Card]:
        return [c for c in self.connections if c.integration == integration]

    def connection(self, credential_id: str) -> Card | None:
        return next((c for c in self.connections if c.credential_id == credential_id), None)

    def connect_form(self, integration: str) -> Element:
        card = self.services.get(integration)
        assert card is not None, f"Connection Center lists no service {integration!r} (services: {sorted(self.services)})"
        form = card.form(f"/connections/{integration}/connect")
        assert form is not None, f"service card {integration!r} has no form posting to /connections/{integration}/connect"
        assert (form.get("method") or "").lower() == "post", f"connect form for {integration!r} is not method=post"
        return form


def start_connect(web: Web, integration: str, statuses=(302, 303)) -> requests.Response:
    """Click Connect on a service card; the answer (a redirect to the provider) is returned."""
    center = web.center()
    r = web.submit(center.connect_form(integration))
    assert r.status_code in statuses, f"[{web.label}] POST /connections/{integration}/connect → HTTP {r.status_code}, want a redirect"
    return r


def disconnect_form(web: Web, credential_id: str) -> Element:
    """The Disconnect form of a connection: the card links to a confirmation page, whose form posts the Disconnect."""
    card = web.center().connection(credential_id)
    assert card is not None, f"[{web.label}] no connection card for credential {credential_id}"
    path = f"/connections/{credential_id}/disconnect"
    assert card.el.find("a", attrs={"href": path}) is not None, f"the connection card has no link to {path}"
    page = web.page(path)
    assert page.status == 200, f"[{web.label}] GET {path} → HTTP {page.status}"
    return page.form(path)


def card_action(web: Web, credential_id: str, action: str) -> requests.Response:
    """Submit a connection card's reconnect form, or a Disconnect through its confirmation page (the CSRF token
    comes from the page)."""
    if action == "disconnect":
        return web.submit(disconnect_form(web, credential_id))
    center = web.center()
    card = center.connection(credential_id)
    assert card is not None, f"[{web.label}] no connection card for credential {credential_id}"
    form = card.form(f"/connections/{credential_id}/{action}")
    assert form is not None, f"connection card has no form posting to /connections/{credential_id}/{action}"
    return web.submit(form)


# --------------------------------------------------------------------------
# sandbox provider (--demo)


def sandbox_decide(web: Web, authorize_url: str, decision: str = "allow") -> requests.Response:
    """On the sandbox consent page, press the button with id `decision` (allow | deny).

    Returns the sandbox's answer to that (a redirect to /connect/callback), not followed."""
    page = web.page(authorize_url)
    assert page.status == 200, f"[{web.label}] sandbox consent page → HTTP {page.status}"
    button = page.dom.by_id(decision)
    assert button is not None, f"sandbox consent page has no element id={decision!r}"
    form = button.closest("form")
    assert form is not None, f"sandbox consent button #{decision} is not inside a form"
    return web.submit(form, button=button, base=page.response.url)


def sandbox_connect(web: Web) -> requests.Response:
    """Connect the sandbox fully; returns the callback's answer."""
    r = start_connect(web, "sandbox")
    decided = sandbox_decide(web, location(r), "allow")
    assert decided.status_code in REDIRECTS, f"sandbox Allow → HTTP {decided.status_code}, want a redirect to the callback"
    callback = location(decided)
    assert urllib.parse.urlsplit(callback).path == "/connect/callback", "sandbox Allow does not redirect to /connect/callback"
    return web.get(callback)


# --------------------------------------------------------------------------
# a running server with users


def users_create(db: Database, cwd, email: str, password: str | None = None, name: str | None = None, admin: bool = False,
                 role: str | None = None) -> str:
    """`latchkey users create`; returns the user id (the last line of stdout)."""
    args = [str(binary_path()), "users", "create", "--email", email, *db.cli_args]
    if name:
        args += ["--name", name]
    if admin:
        args.append("--admin")
    if role:
        args += ["--role", role]
    if password is not None:
        args.append("--password-stdin")
    proc = subprocess.run(args, cwd=cwd, env=db.env, input=(password + "\n") if password is not None else None,
                          stdin=None if password is not None else subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"`latchkey users create --email {email}` exited {proc.returncode}\n--- stderr ---\n{proc.stderr[-3000:]}")
    lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, "`latchkey users create` printed no user id"
    if password is not None and password in proc.stdout + proc.stderr:
        raise AssertionError("`latchkey users create --password-stdin` echoed the password")
    return lines[-1]


@dataclass
class User:
    email: str
    password: str
    id: str


class WebStack:
    """`latchkey serve` on a port picked here (so the redirect URI is known before start)."""

    def __init__(self, db: Database, cwd: Path, extra_args: list[str] | None = None, public_url: str | None = None):
        self.db = db
        self.cwd = Path(cwd)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or self.base_url
        args = [*db.cli_args, "--port", str(self.port), "--public-url", self.public_url, *(extra_args or [])]
        self.server = LatchkeyServer(self.cwd, args=args, env=db.server_env())
        self._admin_key: str | None = None
        self._api: requests.Session | None = None

    def start(self, timeout: float = 60) -> "WebStack":
        self.server.start()
        self.server.base_url = self.base_url
        self.server.port = self.port

        def ready():
            if not self.server.alive():
                raise AssertionError(f"latchkey serve exited (code {self.server.proc.returncode})\n{self.server.stderr_tail()}")
            return requests.get(self.base_url + "/readyz", timeout=5).status_code == 200

        poll_until(ready, timeout, what=f"/readyz on port {self.port}")
        return self

    def stop(self) -> None:
        self.server.stop()

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def admin_key(self) -> str:
        if self._admin_key is None:
            self._admin_key = mint_admin_key(self.db, self.cwd)
        return self._admin_key

    @property
    def api(self) -> requests.Session:
        if self._api is None:
            self._api = api_session(self.admin_key)
            self._api.trust_env = False
        return self._api

    def new_user(self, prefix: str = "user", name: str | None = None) -> User:
        email = f"{prefix}-{secrets.token_hex(4)}@example.test"
        password = "pw-" + secrets.token_urlsafe(18)
        uid = users_create(self.db, self.cwd, email, password, name=name)
        return User(email, password, uid)

    def web(self, label: str = "browser") -> Web:
        return Web(self.base_url, label)

    def signed_in(self, user: User, label: str | None = None) -> Web:
        web = self.web(label or user.email.split("@")[0])
        web.sign_in(user.email, user.password)
        return web

    # -- admin API

    def credentials(self, integration: str | None = None) -> list[dict]:
        params = {"limit": 100}
        if integration:
            params["integration"] = integration
        items: list[dict] = []
        cursor = None
        for _ in range(50):
            if cursor:
                params["cursor"] = cursor
            r = self.api.get(self.url("/api/v1/credentials"), params=params, timeout=HTTP_TIMEOUT)
            assert r.status_code == 200, f"GET /api/v1/credentials → HTTP {r.status_code}"
            body = r.json()
            items += body.get("items", [])
            cursor = body.get("nextCursor")
            if not cursor:
                break
        if integration:
            items = [c for c in items if c.get("integration") in (None, integration)]
        return items

    def reveal(self, credential_id: str) -> dict:
        r = self.api.post(self.url(f"/api/v1/credentials/{credential_id}/reveal"), timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, f"POST /api/v1/credentials/{{id}}/reveal → HTTP {r.status_code}"
        body = r.json()
        return body.get("secret", body) if isinstance(body, dict) else {}



# --------------------------------------------------------------------------
# cheap accessibility facts


def started_stack(tmp_path_factory, name: str, kind: str = "sqlite", extra_args=("--demo",)):
    """A module fixture's body: `latchkey serve` (a `WebStack`) on a database of its own, started, yielded, stopped
    and its database dropped at the end. `yield from started_stack(...)` in a fixture."""
    workdir = tmp_path_factory.mktemp(name)
    gen = _make_database(kind, workdir)
    stack = WebStack(next(gen), workdir, extra_args=list(extra_args))
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        gen.close()


def accessibility_problems(html: str) -> list[str]:
    """Basic, checkable facts: lang, title, a <main> landmark, labelled controls, named buttons,
    images with alt, unique ids."""
    dom = parse_dom(html)
    problems = []
    root = dom.find("html")
    if root is None or not (root.get("lang") or "").strip():
        problems.append("<html> has no lang attribute")
    title = dom.find("title")
    if title is None or not title.text:
        problems.append("the page has no <title>")
    if dom.find("main") is None and dom.find(attrs={"role": "main"}) is None:
        problems.append("the page has no <main> landmark")
    labelled = {el.get("for") for el in dom.find_all("label") if el.get("for")}
    seen_ids: dict[str, int] = {}
    for el in dom.iter():
        if el.get("id"):
            seen_ids[el.get("id")] = seen_ids.get(el.get("id"), 0) + 1
        kind = (el.get("type") or "").lower()
        if el.tag in ("input", "select", "textarea") and not (el.tag == "input" and kind in ("hidden", "submit", "button", "reset", "image")):
            if not ((el.get("id") and el.get("id") in labelled) or el.closest("label") is not None
                    or el.get("aria-label") or el.get("aria-labelledby")):
                problems.append(f"form control {el!r} (name={el.get('name')!r}) has no label")
        if el.tag == "button" or (el.tag == "input" and kind in ("submit", "button", "reset")):
            if not (button_label(el) or el.get("aria-label") or el.get("aria-labelledby")):
                problems.append(f"button {el!r} has no accessible name")
        if el.tag == "img" and "alt" not in el.attrs:
            problems.append(f"image {el.get('src')!r} has no alt text")
    problems += [f"id {ident!r} is used {n} times" for ident, n in seen_ids.items() if n > 1]
    return problems
