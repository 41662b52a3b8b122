"""Shared fixtures for the end-to-end suite.

The suite drives the real `latchkey` executable the way an operator would:
it starts `latchkey serve` in a temporary directory, reads what the server
prints, talks to it over HTTP and runs the other CLI commands next to it.

Binary: `$LATCHKEY_BIN` when set, else `<repo>/.build/debug/latchkey`.
PostgreSQL: `$LATCHKEY_TEST_DATABASE_URL` (each test gets its own schema);
without it the PostgreSQL variants are skipped, or fail when
`LATCHKEY_REQUIRE_PEERS=1`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = Path(__file__).resolve().parent

DEFAULT_DEADLINE = 60.0
POLL_INTERVAL = 0.1

LISTENING_RE = re.compile(r"Latchkey is listening on (https?://127\.0\.0\.1:(\d+))")
SETUP_RE = re.compile(r"(https?://127\.0\.0\.1:\d+/setup\?token=([A-Za-z0-9_\-]+))")
ADMIN_KEY_RE = re.compile(r"^lk_live_[A-Za-z0-9_\-]{20,}$")


# --------------------------------------------------------------------------
# binary


def binary_path() -> Path:
    configured = os.environ.get("LATCHKEY_BIN")
    if configured:
        return Path(configured)
    return REPO_ROOT / ".build" / "debug" / "latchkey"


def _binary_problem() -> str | None:
    path = binary_path()
    if not path.is_file():
        return f"latchkey binary not found at {path} (build it, or set LATCHKEY_BIN)"
    if not os.access(path, os.X_OK):
        return f"latchkey binary at {path} is not executable"
    return None


def pytest_report_header(config):
    problem = _binary_problem()
    if problem:
        bar = "#" * 78
        return [bar, f"#  SKIPPING the whole latchkey e2e suite: {problem}", bar]
    return [f"latchkey e2e binary: {binary_path()}"]


def pytest_collection_modifyitems(config, items):
    problem = _binary_problem()
    if not problem:
        return
    marker = pytest.mark.skip(reason=f"LATCHKEY E2E SUITE SKIPPED: {problem}")
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    problem = _binary_problem()
    if problem:
        terminalreporter.write_sep("#", f"latchkey e2e suite SKIPPED: {problem}", red=True, bold=True)


# --------------------------------------------------------------------------
# environment


def base_env(**extra: str) -> dict[str, str]:
    """A minimal environment: PATH and HOME only, plus what the test adds.

    Nothing from the caller's LATCHKEY_* variables leaks into the servers.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME") or os.path.expanduser("~"),
    }
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def random_master_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Deadline:
    def __init__(self, seconds: float = DEFAULT_DEADLINE):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())


def poll_until(condition, timeout: float = DEFAULT_DEADLINE, interval: float = POLL_INTERVAL, what: str = "condition"):
    """Call `condition()` until it returns a truthy value; return that value."""
    deadline = Deadline(timeout)
    last_error = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        if deadline.expired():
            detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# assertions that never show secret values
#
# pytest's assertion rewriting prints the operands of a failing `assert`; these
# functions raise plain AssertionErrors with a description only.


def pytest_configure(config):
    # Long tracebacks print the arguments of every frame, which may be secrets.
    if getattr(config.option, "tbstyle", "auto") == "auto":
        config.option.tbstyle = "short"


def assert_absent(haystack: str, needle: str, what: str) -> None:
    if needle and needle in haystack:
        raise AssertionError(what)


def assert_secret_equal(actual, expected, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: the value differs from the one stored")


def check_admin_key(key: str, what: str) -> None:
    if not ADMIN_KEY_RE.match(key or ""):
        raise AssertionError(f"{what}: not exactly one lk_live_ key")


# --------------------------------------------------------------------------
# servers

_LIVE_SERVERS: list["LatchkeyServer"] = []
_LIVE_LOCK = threading.Lock()


class LatchkeyServer:
    """One `latchkey serve` process, its output and its address."""

    def __init__(self, cwd: Path, args: list[str] | None = None, env: dict[str, str] | None = None, binary: Path | None = None):
        self.cwd = Path(cwd)
        self.args = list(args or [])
        self.env = dict(env) if env is not None else base_env()
        self.binary = Path(binary) if binary else binary_path()
        self.proc: subprocess.Popen | None = None
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._cond = threading.Condition()
        self._readers: list[threading.Thread] = []
        self.base_url: str | None = None
        self.port: int | None = None
        self.setup_url: str | None = None
        self.setup_token: str | None = None
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.returncode: int | None = None

    # -- process

    def start(self) -> "LatchkeyServer":
        assert self.proc is None, "server already started"
        self.cwd.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.binary), "serve", *self.args]
        if "--port" not in self.args and "LATCHKEY_PORT" not in self.env:
            cmd += ["--port", "0"]
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        with _LIVE_LOCK:
            _LIVE_SERVERS.append(self)
        for stream, sink in ((self.proc.stdout, self.stdout_lines), (self.proc.stderr, self.stderr_lines)):
            t = threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
            t.start()
            self._readers.append(t)
        return self

    def _pump(self, stream, sink: list[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._cond:
                sink.append(line.rstrip("\n"))
                if sink is self.stdout_lines:
                    self._parse(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _parse(self, line: str) -> None:
        m = LISTENING_RE.search(line)
        if m and self.base_url is None:
            self.base_url = m.group(1)
            self.port = int(m.group(2))
        m = SETUP_RE.search(line)
        if m and self.setup_url is None:
            self.setup_url = m.group(1)
            self.setup_token = m.group(2)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for_stdout(self, pattern: str | re.Pattern, timeout: float = DEFAULT_DEADLINE) -> re.Match:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = Deadline(timeout)
        with self._cond:
            while True:
                for line in self.stdout_lines:
                    m = rx.search(line)
                    if m:
                        return m
                if self.proc.poll() is not None and not any(t.is_alive() for t in self._readers):
                    raise AssertionError(
                        f"latchkey exited (code {self.proc.returncode}) before printing {rx.pattern!r}\n"
                        f"--- stderr (last lines) ---\n{self.stderr_tail()}"
                    )
                if deadline.expired():
                    raise AssertionError(f"latchkey did not print {rx.pattern!r} within {timeout:.0f}s")
                self._cond.wait(timeout=min(POLL_INTERVAL, deadline.remaining()) or POLL_INTERVAL)

    def wait_listening(self, timeout: float = DEFAULT_DEADLINE) -> str:
        self.wait_for_stdout(LISTENING_RE, timeout)
        return self.base_url

    def wait_ready(self, timeout: float = DEFAULT_DEADLINE) -> "LatchkeyServer":
        self.wait_listening(timeout)

        def ready():
            if not self.alive():
                raise AssertionError(f"latchkey exited (code {self.proc.returncode}) before /readyz\n{self.stderr_tail()}")
            r = requests.get(self.url("/readyz"), timeout=5)
            return r.status_code == 200

        poll_until(ready, timeout, what="/readyz to answer 200")
        self.ready_at = time.monotonic()
        return self

    def start_and_wait(self, timeout: float = DEFAULT_DEADLINE) -> "LatchkeyServer":
        return self.start().wait_ready(timeout)

    @property
    def startup_seconds(self) -> float | None:
        if self.started_at is None or self.ready_at is None:
            return None
        return self.ready_at - self.started_at

    def wait_exit(self, timeout: float = DEFAULT_DEADLINE) -> int:
        """Wait for the process to end by itself (for start-up failures)."""
        assert self.proc is not None
        deadline = Deadline(timeout)
        while self.proc.poll() is None:
            if self.base_url is not None:
                self.stop()
                raise AssertionError("latchkey started listening although it was expected to refuse to start")
            if deadline.expired():
                self.stop()
                raise AssertionError(f"latchkey neither exited nor listened within {timeout:.0f}s")
            time.sleep(POLL_INTERVAL)
        self._join_readers()
        self.returncode = self.proc.returncode
        return self.returncode

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait, then SIGKILL. Safe to call more than once."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        self._join_readers()
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self) -> int:
        """SIGKILL: a crash, as far as the server can tell."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._join_readers()
        self.returncode = self.proc.returncode
        return self.returncode

    def _join_readers(self) -> None:
        for t in self._readers:
            t.join(timeout=10)
        with _LIVE_LOCK:
            if self in _LIVE_SERVERS:
                _LIVE_SERVERS.remove(self)

    # -- output

    @property
    def stdout_text(self) -> str:
        with self._cond:
            return "\n".join(self.stdout_lines)

    @property
    def stderr_text(self) -> str:
        with self._cond:
            return "\n".join(self.stderr_lines)

    @property
    def output(self) -> str:
        return self.stdout_text + "\n" + self.stderr_text

    def stderr_tail(self, n: int = 25) -> str:
        with self._cond:
            return "\n".join(self.stderr_lines[-n:])

    # -- http

    def url(self, path: str) -> str:
        assert self.base_url, "server is not listening yet"
        return self.base_url + path


def stop_all_servers() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE_SERVERS)
    for server in servers:
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - teardown must go on
            if server.proc and server.proc.poll() is None:
                server.proc.kill()


@pytest.fixture
def servers():
    """Factory: `servers(cwd, args=[...], env={...})` → a started, not yet ready server.

    Every server made here is stopped (SIGTERM, then SIGKILL) at teardown.
    """
    made: list[LatchkeyServer] = []

    def make(cwd, args=None, env=None) -> LatchkeyServer:
        server = LatchkeyServer(cwd, args=args, env=env)
        made.append(server)
        return server

    yield make
    for server in made:
        try:
            server.stop()
        except Exception:  # noqa: BLE001
            if server.proc and server.proc.poll() is None:
                server.proc.kill()


@pytest.fixture(autouse=True, scope="session")
def _stop_leftover_servers():
    yield
    stop_all_servers()


# --------------------------------------------------------------------------
# CLI


def run_cli(args: list[str], cwd, env: dict[str, str] | None = None, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
    """Run `latchkey ARGS...`; with check, a non-zero exit fails the test (stderr shown, stdout not)."""
    proc = subprocess.run(
        [str(binary_path()), *args],
        cwd=cwd,
        env=env if env is not None else base_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"`latchkey {' '.join(args[:3])} …` exited {proc.returncode}\n--- stderr ---\n{proc.stderr[-4000:]}")
    return proc


def mint_admin_key(db: "Database", cwd, name: str | None = None) -> str:
    args = ["keys", "create-admin", *db.cli_args]
    if name:
        args += ["--name", name]
    proc = run_cli(args, cwd, db.env)
    key = proc.stdout.strip()
    check_admin_key(key, "keys create-admin stdout")
    assert_absent(proc.stderr, key, "keys create-admin repeated the key on stderr")
    return key


def keys_status(db: "Database", cwd) -> dict:
    proc = run_cli(["keys", "status", "--json", *db.cli_args], cwd, db.env, timeout=120)
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------
# databases


class Database:
    """Where a test's data lives, and how to point servers and CLI commands at it."""

    def __init__(self, kind: str, data_dir: Path, url: str | None = None, master_key: str | None = None):
        self.kind = kind
        self.data_dir = Path(data_dir)
        self.url = url
        self.master_key = master_key

    @property
    def cli_args(self) -> list[str]:
        if self.kind == "postgres":
            return ["--database-url", self.url]
        return ["--data-dir", str(self.data_dir)]

    @property
    def env(self) -> dict[str, str]:
        extra = {}
        if self.master_key:
            extra["LATCHKEY_MASTER_KEY"] = self.master_key
        return base_env(**extra)

    def server_env(self, **extra: str) -> dict[str, str]:
        env = self.env
        env.update({k: v for k, v in extra.items() if v is not None})
        return env

    def __repr__(self) -> str:
        return f"Database({self.kind})"


def postgres_base_url() -> str | None:
    return os.environ.get("LATCHKEY_TEST_DATABASE_URL") or None


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}schema={schema}"


def _psql_url(url: str) -> str:
    """The URL without our `schema` parameter, for psql."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "schema"]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _drop_schema(url: str, schema: str) -> None:
    psql = shutil.which("psql")
    if not psql:
        return
    try:
        subprocess.run(
            [psql, "-X", "-q", _psql_url(url), "-c", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            env=base_env(PGCONNECT_TIMEOUT="10"),
        )
    except Exception:  # noqa: BLE001 - cleanup is best effort
        pass


def _require_postgres() -> str:
    url = postgres_base_url()
    if url:
        return url
    reason = "PostgreSQL variant needs LATCHKEY_TEST_DATABASE_URL (e.g. postgres://latchkey:latchkey@127.0.0.1:5432/latchkey_test?sslmode=disable)"
    if os.environ.get("LATCHKEY_REQUIRE_PEERS") == "1":
        pytest.fail(f"LATCHKEY_REQUIRE_PEERS=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _make_database(kind: str, tmp_path: Path):
    if kind == "sqlite":
        yield Database("sqlite", tmp_path / "data")
        return
    url = _require_postgres()
    schema = "e2e_" + secrets.token_hex(6)
    db = Database("postgres", tmp_path / "data", url=_with_schema(url, schema), master_key=random_master_key())
    try:
        yield db
    finally:
        # Servers must be gone before their schema is dropped.
        stop_all_servers()
        _drop_schema(url, schema)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    yield from _make_database(request.param, tmp_path)


@pytest.fixture
def sqlite_database(tmp_path):
    yield from _make_database("sqlite", tmp_path)


@pytest.fixture
def postgres_database(tmp_path):
    yield from _make_database("postgres", tmp_path)


# --------------------------------------------------------------------------
# HTTP utilities


def api_session(key: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {key}"
    s.headers["Accept"] = "application/json"
    return s


def error_of(response: requests.Response) -> dict:
    """The `error` object of a JSON error response (asserting the envelope)."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), (
        f"error response is not JSON (HTTP {response.status_code}, Content-Type {response.headers.get('Content-Type')!r})"
    )
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), "error body lacks the `error` object"
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], "error has no code"
    assert isinstance(err.get("message"), str) and err["message"], "error has no message"
    return err


class FormParser(HTMLParser):
    """Collects <form> elements with their inputs, and elements by id."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._capture: str | None = None
        self.by_id: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"), "method": (a.get("method") or "get").lower(), "inputs": {}}
            self.forms.append(self._form)
        elif tag in ("input", "textarea", "select") and self._form is not None and a.get("name"):
            self._form["inputs"][a["name"]] = {"type": a.get("type", "text"), "value": a.get("value", "")}
        if a.get("id"):
            self.by_id[a["id"]] = {"tag": tag, "attrs": a, "text": ""}
            self._capture = a["id"]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        self._capture = None

    def handle_data(self, data):
        if self._capture:
            self.by_id[self._capture]["text"] += data


def parse_html(text: str) -> FormParser:
    p = FormParser()
    p.feed(text)
    p.close()
    return p


def complete_setup(server: LatchkeyServer, email="admin@example.com", name="Ada Admin", password="correct horse battery staple") -> str:
    """Create the first administrator through the /setup page; return the admin API key shown."""
    assert server.setup_url, "server printed no setup link"
    web = requests.Session()
    page = web.get(server.setup_url, timeout=10)
    assert page.status_code == 200, f"GET setup page → {page.status_code}"
    form = parse_html(page.text).forms[0]
    action = urllib.parse.urljoin(server.setup_url, form["action"])
    data = {
        "csrf": form["inputs"]["csrf"]["value"],
        "email": email,
        "name": name,
        "password": password,
        "confirm": password,
    }
    done = web.post(action, data=data, timeout=30)
    assert done.status_code == 200, f"POST setup → {done.status_code}"
    el = parse_html(done.text).by_id.get("admin-key")
    assert el is not None and "secret" in el["attrs"].get("class", "").split(), "success page has no <p class=secret id=admin-key>"
    key = el["text"].strip()
    check_admin_key(key, "admin-key element of the setup success page")
    return key
