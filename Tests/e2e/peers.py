"""Real peers the end-to-end tests run against: glewlwyd (an OAuth 2.0 / OIDC server) and
headless Chromium (via Selenium and Debian's chromedriver).

A missing peer skips the tests that need it with a message that says what is missing,
or fails them when `LATCHKEY_REQUIRE_PEERS=1` (CI). `scripts/test` installs both.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT, base_env

GLEWLWYD_HARNESS = REPO_ROOT / "Tests" / "peers" / "glewlwyd"
CHROMEDRIVER = os.environ.get("LATCHKEY_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("LATCHKEY_CHROMIUM", "/usr/bin/chromium")


def peers_required() -> bool:
    return os.environ.get("LATCHKEY_REQUIRE_PEERS") == "1"


def need_peer(problem: str | None, what: str) -> None:
    """Skip (or, with LATCHKEY_REQUIRE_PEERS=1, fail) when a peer is missing."""
    if not problem:
        return
    message = f"{what} unavailable: {problem}"
    if peers_required():
        pytest.fail(f"LATCHKEY_REQUIRE_PEERS=1 but {message}", pytrace=False)
    pytest.skip(f"SKIPPED, {message}")


# --------------------------------------------------------------------------
# artefacts


def artifacts_dir() -> Path:
    configured = os.environ.get("LATCHKEY_ARTIFACTS_DIR")
    return Path(configured) if configured else REPO_ROOT / "artifacts"


def screenshots_dir() -> Path:
    path = artifacts_dir() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------
# glewlwyd


def glewlwyd_problem() -> str | None:
    for name in ("install.sh", "start.sh", "stop.sh", "provision.py", "login_and_consent.py", "glewlwyd.conf.in"):
        if not (GLEWLWYD_HARNESS / name).is_file():
            return f"{GLEWLWYD_HARNESS / name} is missing"
    for tool in ("glewlwyd", "sqlite3", "curl"):
        if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin"):
            return f"`{tool}` is not installed (run Tests/peers/glewlwyd/install.sh as root, or scripts/test)"
    if not Path("/usr/share/glewlwyd/webapp/login.html").is_file():
        return "glewlwyd's webapp is not installed (run Tests/peers/glewlwyd/install.sh)"
    return None


class Glewlwyd:
    """One throw-away glewlwyd (start.sh) on its own port and state directory."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.port: int | None = None
        self.doc: dict | None = None

    def _env(self, **extra) -> dict[str, str]:
        env = base_env(GLEWLWYD_PORT=str(self.port), **extra)
        return env

    def start(self, attempts: int = 3) -> "Glewlwyd":
        from webtools import free_port

        last = ""
        for _ in range(attempts):
            self.port = free_port()
            self.state_dir.mkdir(parents=True, exist_ok=True)
            p = subprocess.run([str(GLEWLWYD_HARNESS / "start.sh"), str(self.state_dir)], env=self._env(),
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                return self
            last = p.stderr[-2000:]
            if "already in use" not in last:
                break
        raise AssertionError(f"glewlwyd start.sh failed\n{last}")

    def provision(self, redirect_uris: list[str], *flags: str) -> dict:
        args = [sys.executable, str(GLEWLWYD_HARNESS / "provision.py"), "--state-dir", str(self.state_dir),
                "--port", str(self.port), *flags]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        p = subprocess.run(args, env=self._env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"glewlwyd provision.py failed (exit {p.returncode})\n{p.stderr[-2000:]}")
        self.doc = json.loads(p.stdout)
        return self.doc

    def stop(self) -> None:
        subprocess.run([str(GLEWLWYD_HARNESS / "stop.sh"), str(self.state_dir)], env=self._env(),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join((self.state_dir / "glewlwyd.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- acting as the user at glewlwyd, and as the client for introspection

    def login_and_consent(self, authorization_url: str, username: str | None = None, password: str | None = None) -> tuple[int, str, str]:
        """Run the harness's headless login + consent; (exit status, printed redirect URL, stderr)."""
        user = (self.doc or {}).get("user", {})
        args = [sys.executable, str(GLEWLWYD_HARNESS / "login_and_consent.py"), authorization_url,
                "--username", username or user.get("username", "alice"),
                "--password", password or user.get("password", "alice-password-1")]
        p = subprocess.run(args, env=self._env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    def consent(self, authorization_url: str) -> str:
        rc, out, err = self.login_and_consent(authorization_url)
        assert rc == 0 and out, f"login_and_consent.py exit {rc}: {err[-1500:]}"
        return out

    def _client_auth(self) -> tuple[str, str]:
        client = self.doc["client"]
        return client["client_id"], client["client_secret"]

    def introspect(self, token: str, hint: str | None = None) -> dict:
        form = {"token": token}
        if hint:
            form["token_type_hint"] = hint
        s = requests.Session()
        s.trust_env = False
        r = s.post(self.doc["introspection_endpoint"], data=form, auth=self._client_auth(), timeout=20)
        assert r.status_code == 200, f"glewlwyd introspection → HTTP {r.status_code}"
        return r.json()

    def userinfo(self, access_token: str) -> requests.Response:
        s = requests.Session()
        s.trust_env = False
        return s.get(self.doc["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=20)


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def without_query(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def with_query(url: str, **changes: str | None) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k not in changes]
    query += [(k, v) for k, v in changes.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


# --------------------------------------------------------------------------
# Chromium


def chromium_problem() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package `selenium` is not installed (pip install selenium, or scripts/test)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return f"{CHROMEDRIVER} is missing (apt-get install chromium chromium-driver, or scripts/test)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium, or scripts/test)"
    return None


def make_driver(javascript: bool = True, width: int = 1280, height: int = 900, console_log: bool = False,
                extra_args: tuple[str, ...] = ()):
    """Headless Chromium through Debian's chromedriver (never a downloaded one).

    With `console_log`, the pages' console messages (CSP violations among them) can be read with
    `driver.get_log("browser")`. `extra_args` are more Chromium switches (e.g. --host-resolver-rules)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--lang=en-US",
                "--proxy-server=direct://", "--proxy-bypass-list=*", *extra_args):
        opts.add_argument(arg)
    prefs = {"intl.accept_languages": "en-US,en"}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    opts.add_experimental_option("prefs", prefs)
    if console_log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=opts)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    return driver


def chromium_for_test(request, prefix: str, javascript: bool = True, console_log: bool = True, **driver_args):
    """A headless Chromium for one test, with its own series of screenshots `<prefix>-<test name>-NN-<step>.png`
    (parameters included, brackets left out, so an old series is replaced); at the end of the test a last
    screenshot is taken and the browser quits. Returns (driver, shots)."""
    need_peer(chromium_problem(), "headless Chromium")
    driver = make_driver(javascript=javascript, console_log=console_log and javascript, **driver_args)
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_")).strip("-")
    shots = Screenshots(f"{prefix}-{name}")

    def finish():
        shots.take(driver, "end")
        driver.quit()

    request.addfinalizer(finish)
    return driver, shots


class Screenshots:
    """Numbered screenshots: <artifacts>/screenshots/<prefix>-NN-<step>.png"""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.dir = screenshots_dir()
        self.count = 0
        for old in self.dir.glob(f"{prefix}-*.png"):
            old.unlink()

    def take(self, driver, step: str) -> Path:
        self.count += 1
        path = self.dir / f"{self.prefix}-{self.count:02d}-{step}.png"
        try:
            driver.save_screenshot(str(path))
        except Exception:  # noqa: BLE001 - a screenshot is evidence, not a check
            pass
        return path


def wait_until(predicate, timeout: float = 15, interval: float = 0.1, what: str = "condition"):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# nginx (the load balancer in front of several instances)


def nginx_binary() -> str | None:
    configured = os.environ.get("LATCHKEY_NGINX")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin")


def nginx_problem() -> str | None:
    if not nginx_binary():
        return "`nginx` is not installed (apt-get install --no-install-recommends nginx, or scripts/test)"
    return None
