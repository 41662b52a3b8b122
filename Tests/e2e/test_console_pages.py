"""Every console page in headless Chromium, at a desktop's and a phone's width, in the light and the dark
colour scheme: a screenshot of each, no sideways scrolling, and an accessibility scan (axe-core, bundled by
PyPI's axe-selenium-python) without serious or critical violations. Each page also works with JavaScript
switched off: its heading and its forms are there, and the admin key form mints a key.

The real binary (SQLite, `--demo` for the sandbox provider) with an administrator and a member, and data
seeded through the API (an integration, a connected account, an app with an end user, a webhook, the audit
events all this writes) so that no page is empty. The pages checked are a fixed list that must exist PLUS
every page reached by following the links and GET forms of the navigation and of the pages (a bounded crawl,
so a page added later is covered without touching this file). Links into /assets, /api, /oauth, /connect and downloads
are not followed; one page per shape (`/admin/apps/{id}`) is checked.

Screenshots: <artifacts>/console/<role>-<page>-<width>-<scheme>.png; the scan's findings, each with its rule,
page and selector, in <artifacts>/console/accessibility.json.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field

import pytest
import requests

from conftest import _make_database
from peers import artifacts_dir, chromium_problem, make_driver, need_peer, wait_until
from test_oauth_server import _pkce
from webtools import REDIRECTS, WebStack, form_fields, location, parse_dom, sandbox_connect, users_create

HTTP_TIMEOUT = 20
PASSWORD = "console-pages-password-1"
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
MAX_PAGES = 40
BLOCKING_IMPACTS = ("serious", "critical")
NOT_FOLLOWED = ("/assets", "/api", "/oauth", "/connect", "/sandbox", "/logout", "/.well-known", "/mcp")

# Pages that must be there now, per role (`{app}`: the seeded app's id; `{connection}`: the sandbox's connection).
REQUIRED = {
    "admin": ["/admin", "/admin/integrations", "/admin/integrations/new?provider=github", "/admin/integrations/github",
              "/admin/connections", "/admin/connections/{connection}", "/admin/apps", "/admin/apps/{app}", "/admin/users",
              "/admin/webhooks", "/admin/keys", "/admin/incidents", "/admin/audit", "/connections", "/settings/authorized-apps",
              "/settings/passkeys", "/settings/two-factor", "/link", "/settings", "/settings/identities", "/settings/sessions",
              "/admin/sign-in"],
    "member": ["/connections", "/settings/authorized-apps", "/settings/passkeys", "/settings/two-factor", "/link", "/settings",
               "/settings/identities", "/settings/sessions"],
}
# Linked from the navigation and being built at the same time as this check: checked like every other page
# when they answer, not yet required. Move them into REQUIRED once they are in.
BEING_BUILT: tuple[str, ...] = ()

ID_SEGMENT = re.compile(r"^([0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|[0-9a-fA-F]{16,}|[0-9]+|lk_[A-Za-z0-9_]+)$")


@dataclass
class Seeded:
    stack: WebStack
    admin_email: str
    member_email: str
    app_id: str
    consent_url: str
    connection_id: str = ""


@dataclass
class Visit:
    """A page to check: its URL (path and query), its name in the screenshots, and how the report names it
    (without a one-time token)."""
    path: str
    name: str
    shown: str = ""

    def __post_init__(self):
        self.shown = self.shown or self.path


def _known_false_positive(rule: str, node: dict) -> bool:
    """The bundled axe-core (3.1) does not know that HTML allows `autocomplete="username"` on an email field
    (the token password managers look for on a sign-in form); later axe-core versions accept it."""
    html = node.get("html", "")
    return rule == "autocomplete-valid" and 'type="email"' in html and 'autocomplete="username"' in html


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.problems.append(text)


def axe_problem() -> str | None:
    try:
        import axe_selenium_python  # noqa: F401
    except ImportError:
        return "PyPI's axe-selenium-python is not installed (scripts/test installs it)"
    return None


def console_dir():
    path = artifacts_dir() / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------
# the server and its data


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(axe_problem(), "the accessibility scan (axe-core)")
    workdir = tmp_path_factory.mktemp("latchkey-console-pages")
    gen = _make_database("sqlite", workdir)
    stack = WebStack(next(gen), workdir, extra_args=["--demo"])
    try:
        stack.start()
        admin_email = "pages-admin@example.test"
        member_email = "pages-member@example.test"
        users_create(stack.db, stack.cwd, admin_email, PASSWORD, name="Ada Admin", admin=True)
        users_create(stack.db, stack.cwd, member_email, PASSWORD, name="Max Member")
        app_id = _seed(stack, member_email)
        consent_url = _consent_url(stack)
        yield Seeded(stack, admin_email, member_email, app_id, consent_url, _sandbox_connection(stack))
    finally:
        stack.stop()
        gen.close()


def _api(stack: WebStack, method: str, path: str, want: int, **kw) -> dict:
    r = stack.api.request(method, stack.url(path), timeout=HTTP_TIMEOUT, **kw)
    # Only an error's body is shown: a success may carry a key or a signing secret.
    assert r.status_code == want, f"{method} {path} → HTTP {r.status_code}, want {want}: {r.text[:300] if r.status_code >= 400 else ''}"
    return r.json() if r.content else {}


def _seed(stack: WebStack, member_email: str) -> str:
    """An OAuth integration beside the sandbox, a connected account, an app with an end user, a webhook."""
    _api(stack, "POST", "/api/v1/integrations", 201, json={
        "provider": "github", "key": "github", "clientId": "pages-client", "clientSecret": "pages-secret-" + secrets.token_hex(8)})
    member = stack.web("member-seed")
    member.sign_in(member_email, PASSWORD)
    connected = sandbox_connect(member)
    assert connected.status_code in REDIRECTS, f"connecting the sandbox → HTTP {connected.status_code}"
    app = _api(stack, "POST", "/api/v1/apps", 201, json={"name": "Derek's Dashboard", "description": "Reports for Derek"})
    app_id = app.get("id") or app.get("app", {}).get("id")
    key = app.get("apiKey") or app.get("key")
    assert app_id and key, f"POST /api/v1/apps answered no id or key (fields: {sorted(app)})"
    r = requests.post(stack.url("/api/v1/connect/sessions"), json={"externalUserId": "user_sarah_123", "integration": "sandbox"},
                      headers={"Authorization": f"Bearer {key}"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, f"POST /api/v1/connect/sessions → HTTP {r.status_code}: {r.text[:200]}"
    _api(stack, "PUT", "/api/v1/webhooks", 201, json={"url": stack.url("/hook-that-is-not-there")})
    return app_id


def _sandbox_connection(stack: WebStack) -> str:
    """The console's sandbox connection, with its to-do items synced (so that its page shows a dataset's health)."""
    items = _api(stack, "GET", "/api/v1/connections", 200)["items"]
    connection = next(c["id"] for c in items if c["integration"] == "sandbox")
    _api(stack, "PUT", f"/api/v1/connections/{connection}/sync", 200, json={"datasets": {"sandbox.items": {"enabled": True}}})
    return connection


def _consent_url(stack: WebStack) -> str:
    """The authorization server's consent page for a registered MCP client (shown to a signed-in person)."""
    redirect = "http://127.0.0.1:9/callback"
    r = requests.post(stack.url("/oauth/register"), json={
        "redirect_uris": [redirect], "client_name": "Pages Client", "token_endpoint_auth_method": "none"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, f"POST /oauth/register → HTTP {r.status_code}: {r.text[:200]}"
    _, challenge = _pkce()
    return "/oauth/authorize?" + urllib.parse.urlencode({
        "response_type": "code", "client_id": r.json()["client_id"], "redirect_uri": redirect, "state": "pages",
        "code_challenge": challenge, "code_challenge_method": "S256"})


# --------------------------------------------------------------------------
# which pages


def shape(path: str) -> str:
    """`/admin/apps/3f2c…` → `/admin/apps/{id}`: one page of each kind is enough."""
    return "/".join("{id}" if ID_SEGMENT.match(part) else part for part in path.split("/"))


def page_name(role: str, path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", shape(urllib.parse.urlsplit(path).path).replace("{id}", "id").lower()).strip("-")
    return f"{role}-{slug or 'home'}"


def followed(path: str) -> bool:
    return not any(path == prefix or path.startswith(prefix + "/") for prefix in NOT_FOLLOWED)


def crawl(stack: WebStack, email: str | None, start: list[str], findings: Findings) -> list[str]:
    """Same-origin pages reached from `start` by GET links (requests, no browser): one per shape, at most
    MAX_PAGES. A link to a page that is not there is a finding."""
    web = stack.web("crawl")
    if email:
        web.sign_in(email, PASSWORD)
    origin = urllib.parse.urlsplit(stack.base_url)
    queue = list(start)
    seen: set[str] = set()
    pages: list[str] = []
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        path = urllib.parse.urlsplit(url).path
        if shape(path) in seen:
            continue
        seen.add(shape(path))
        r = web.get(url)
        hops = 0
        while r.status_code in REDIRECTS and hops < 5:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(stack.base_url + path, location(r) or "/"))
            if (target.scheme, target.netloc) != (origin.scheme, origin.netloc) or not followed(target.path):
                break
            url = target.path + (f"?{target.query}" if target.query else "")
            path = target.path
            r = web.get(url)
            hops += 1
        if r.status_code != 200:
            if path in BEING_BUILT and r.status_code == 404:
                continue
            if r.status_code not in REDIRECTS:
                findings.add(f"{url}: HTTP {r.status_code} (a link leads to a page that does not answer)")
            continue
        if url not in pages:
            pages.append(url)
        dom = parse_dom(r.text)
        hrefs = [a.get("href") for a in dom.find_all("a") if "download" not in a.attrs]
        # A GET form (e.g. "choose the service") leads to a page too: submitted with what it holds at first.
        for form in dom.find_all("form"):
            if (form.get("method") or "get").lower() == "get":
                query = urllib.parse.urlencode(form_fields(form))
                hrefs.append((form.get("action") or path) + (f"?{query}" if query else ""))
        for href in hrefs:
            if not href or href.startswith(("#", "mailto:")):
                continue
            target = urllib.parse.urlsplit(urllib.parse.urljoin(stack.base_url + path, href))
            if (target.scheme, target.netloc) != (origin.scheme, origin.netloc) or not followed(target.path):
                continue
            if shape(target.path) not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


# --------------------------------------------------------------------------
# the checks in Chromium


def _emulate(driver, width: int, scheme: str) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": 900 if width > 600 else 844, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def _sign_in(driver, stack: WebStack, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(stack.url("/login"))
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(lambda: urllib.parse.urlsplit(driver.current_url).path != "/login", what="signing in")


def _load(driver, url: str) -> None:
    driver.get(url)
    wait_until(lambda: driver.execute_script("return document.readyState") == "complete", what=f"{url} to load")


def check_in_chromium(driver, base_url: str, visits: list[Visit], findings: Findings) -> dict[str, int]:
    """Both widths, both schemes: screenshot, overflow, axe. Returns the number of forms of each page."""
    from axe_selenium_python import Axe

    forms: dict[str, int] = {}
    for width in WIDTHS:
        for scheme in SCHEMES:
            _emulate(driver, width, scheme)
            for visit in visits:
                where = f"{visit.shown} at {width} px, {scheme}"
                _load(driver, base_url + visit.path)
                driver.save_screenshot(str(console_dir() / f"{visit.name}-{width}-{scheme}.png"))
                if width == WIDTHS[0] and scheme == SCHEMES[0]:
                    forms[visit.path] = len(driver.find_elements("css selector", "main form"))
                scroll, inner = driver.execute_script(
                    "return [document.documentElement.scrollWidth, window.innerWidth]")
                if scroll > width or inner != width:
                    wide = driver.execute_script(
                        "const w = arguments[0]; return Array.from(document.querySelectorAll('body *'))"
                        ".filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 3)"
                        ".map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + String(e.className).trim().split(/\\s+/).join('.') : ''))",
                        width)
                    findings.add(f"{where}: scrolls sideways (content {scroll} px wide, viewport {inner} px; widest: {wide})")
                axe = Axe(driver)
                axe.inject()
                results = axe.run()
                for violation in results.get("violations", []):
                    if violation.get("impact") not in BLOCKING_IMPACTS:
                        continue
                    nodes = [n for n in violation.get("nodes", []) if not _known_false_positive(violation["id"], n)]
                    if not nodes:
                        continue
                    targets = [", ".join(node.get("target", [])) for node in nodes]
                    findings.violations.append({"page": visit.shown, "width": width, "scheme": scheme, "rule": violation["id"],
                                                "impact": violation["impact"], "selectors": targets})
                    findings.add(f"{where}: {violation['impact']} {violation['id']} ({violation.get('help', '')}) at {targets[:5]}")
    return forms


FOCUS_CHECK = """
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.getAttribute('href') ? '[href="' + el.getAttribute('href') + '"]' : '');
return [name + ' (element ' + Array.prototype.indexOf.call(document.querySelectorAll('*'), el) + ')', style.outlineStyle, parseFloat(style.outlineWidth) || 0];
"""


def check_focus(driver, base_url: str, visits: list[Visit], findings: Findings) -> None:
    """Tabbing through a page, every control it reaches shows a focus outline of at least 2 px."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _emulate(driver, WIDTHS[0], "light")
    for visit in visits:
        _load(driver, base_url + visit.path)
        # Start at the top (the first link), also on a page whose form takes the focus itself.
        driver.execute_script("const first = document.querySelector('a[href]'); if (first) first.focus();")
        seen = set()
        for _ in range(60):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            focused = driver.execute_script(FOCUS_CHECK)
            if focused is None or focused[0] in seen:
                break
            seen.add(focused[0])
            name, style, width = focused
            if style == "none" or width < 2:
                findings.add(f"{visit.shown}: {name} shows no visible focus (outline {style} {width} px)")
        if not seen:
            findings.add(f"{visit.shown}: the Tab key reaches no control (the page's links and forms?)")


def check_phone_menu(driver, base_url: str, role: str, path: str, findings: Findings) -> None:
    """At a phone's width the navigation folds into a Menu button that opens without JavaScript."""
    from selenium.webdriver.common.by import By

    _emulate(driver, 390, "light")
    _load(driver, base_url + path)
    if any(a.is_displayed() for a in driver.find_elements(By.CSS_SELECTOR, 'nav[aria-label="Main"] a')):
        findings.add(f"{path} at 390 px: the full navigation is shown instead of the menu button")
    summary = driver.find_elements(By.CSS_SELECTOR, "header details.menu > summary")
    if not summary or not summary[0].is_displayed():
        findings.add(f"{path} at 390 px: no Menu button")
        return
    summary[0].click()
    links = [a for a in driver.find_elements(By.CSS_SELECTOR, "header details.menu nav a") if a.is_displayed()]
    driver.save_screenshot(str(console_dir() / f"{role}-menu-open-390-light-nojs.png"))
    if not links:
        findings.add(f"{path} at 390 px: the Menu button opens no links without JavaScript")
    elif not any(a.get_attribute("aria-current") == "page" for a in links):
        findings.add(f"{path} at 390 px: the menu does not mark the page shown (aria-current)")
    _emulate(driver, WIDTHS[0], "light")


def check_without_javascript(driver, base_url: str, visits: list[Visit], forms: dict[str, int], findings: Findings) -> None:
    from selenium.webdriver.common.by import By

    for visit in visits:
        _load(driver, base_url + visit.path)
        driver.save_screenshot(str(console_dir() / f"{visit.name}-nojs.png"))
        headings = [h.text.strip() for h in driver.find_elements(By.CSS_SELECTOR, "main h1")]
        if not any(headings):
            findings.add(f"{visit.shown} without JavaScript: no main heading")
        count = len(driver.find_elements(By.CSS_SELECTOR, "main form"))
        if visit.path in forms and count != forms[visit.path]:
            findings.add(f"{visit.shown} without JavaScript: {count} forms, {forms[visit.path]} with it")


def report(findings: Findings, role: str) -> None:
    out = console_dir() / "accessibility.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[role] = findings.violations
    out.write_text(json.dumps(existing, indent=2, sort_keys=True))
    if findings.problems:
        pytest.fail(f"{len(findings.problems)} problems on the {role}'s pages:\n" + "\n".join(findings.problems), pytrace=False)


def _visits(role: str, paths: list[str]) -> list[Visit]:
    return [Visit(path, page_name(role, path)) for path in paths]


# --------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("role", ["admin", "member"])
def test_every_page_at_both_widths_in_both_schemes_is_accessible_and_works_without_javascript(site, role):
    stack = site.stack
    email = site.admin_email if role == "admin" else site.member_email
    findings = Findings()
    required = [p.replace("{app}", site.app_id).replace("{connection}", site.connection_id) for p in REQUIRED[role]]
    start = required + (list(BEING_BUILT) if role == "admin" else [])
    pages = crawl(stack, email, start, findings)
    for path in required:
        assert path in pages, f"the {role}'s page {path} was not reached (problems: {findings.problems})"
    if role == "member":
        pages.append(site.consent_url)
    visits = _visits(role, pages)
    print(f"the {role}'s pages: {[v.path for v in visits]}")
    assert len({v.name for v in visits}) == len(visits), f"two pages share a screenshot name: {[v.name for v in visits]}"

    driver = make_driver()
    try:
        _sign_in(driver, stack, email)
        forms = check_in_chromium(driver, stack.base_url, visits, findings)
        check_focus(driver, stack.base_url, visits, findings)
    finally:
        driver.quit()
    plain = make_driver(javascript=False)
    try:
        _sign_in(plain, stack, email)
        check_without_javascript(plain, stack.base_url, visits, forms, findings)
        check_phone_menu(plain, stack.base_url, role, required[0], findings)
        if role == "admin":
            _mint_a_key_without_javascript(plain, stack, findings)
    finally:
        plain.quit()
    report(findings, role)


def _mint_a_key_without_javascript(driver, stack: WebStack, findings: Findings) -> None:
    from selenium.webdriver.common.by import By

    _load(driver, stack.url("/admin/keys"))
    driver.find_element(By.ID, "key-name").send_keys("no-script sync")
    driver.find_element(By.ID, "create-key").click()
    wait_until(lambda: driver.find_elements(By.ID, "new-key") or driver.find_elements(By.CSS_SELECTOR, "[role=alert]"),
               what="the answer to the key form")
    shown = driver.find_elements(By.ID, "new-key")
    if not shown or not shown[0].text.strip().startswith("lk_live_"):
        findings.add("/admin/keys without JavaScript: the form did not mint a key")
        return
    key = shown[0].text.strip()
    r = requests.get(stack.url("/api/v1/credentials"), headers={"Authorization": f"Bearer {key}"}, timeout=HTTP_TIMEOUT)
    if r.status_code != 200:
        findings.add(f"the key minted without JavaScript does not work: GET /api/v1/credentials → HTTP {r.status_code}")


def test_public_pages_at_both_widths_in_both_schemes(sqlite_database, tmp_path, servers):
    """The pages before anyone signs in: the setup page (before setup), the sign-in page and a missing page."""
    need_peer(chromium_problem(), "headless Chromium")
    need_peer(axe_problem(), "the accessibility scan (axe-core)")
    workdir = tmp_path / "public"
    workdir.mkdir()
    server = servers(workdir, args=sqlite_database.cli_args, env=sqlite_database.server_env()).start_and_wait()
    assert server.setup_url, "the server printed no setup link"
    setup = urllib.parse.urlsplit(server.setup_url)
    visits = [Visit(setup.path + "?" + setup.query, "public-setup", "/setup?token=…"), Visit("/login", "public-login"),
              Visit("/no-such-page", "public-not-found")]
    findings = Findings()
    driver = make_driver()
    try:
        forms = check_in_chromium(driver, server.base_url, visits, findings)
        check_focus(driver, server.base_url, visits, findings)
    finally:
        driver.quit()
    plain = make_driver(javascript=False)
    try:
        check_without_javascript(plain, server.base_url, visits, forms, findings)
    finally:
        plain.quit()
    report(findings, "public")
