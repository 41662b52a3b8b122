"""Several `latchkey serve` instances on one database behind nginx, for the refresh tests.

`Cluster` starts N instances (same database, same master key, `--allow-private-network` so
they may call a provider on loopback) and, when asked, nginx in front of them as a child
process with its own configuration in a temporary directory (listening on 127.0.0.1 only,
round robin over the instances' loopback ports). Everything is stopped by PID.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from conftest import Database, LatchkeyServer, mint_admin_key, poll_until
from peers import nginx_binary

TOKEN_PATH = "/api/v1/credentials/token"


def _session(key: str | None = None) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.headers["Accept"] = "application/json"
    if key:
        s.headers["Authorization"] = f"Bearer {key}"
    return s


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# nginx


NGINX_CONF = """\
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    client_body_buffer_size 64k;
    proxy_max_temp_file_size 0;
    upstream latchkey {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://latchkey;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_connect_timeout 5s;
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """`nginx -c CONF -p PREFIX -g 'daemon off;'` in front of the given loopback ports."""

    def __init__(self, prefix: Path, upstream_ports: list[int]):
        self.prefix = Path(prefix)
        self.upstream_ports = list(upstream_ports)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 3) -> "Nginx":
        binary = nginx_binary()
        assert binary, "nginx is not installed"
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # Workers run as an unprivileged user: let them into the temporary directory.
            for p in (self.prefix, self.prefix / "tmp"):
                os.chmod(p, 0o755)
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in self.upstream_ports)
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            conf = self.prefix / "nginx.conf"
            conf.write_text(NGINX_CONF.format(prefix=self.prefix, servers=servers, port=self.port))
            log = open(self.prefix / "stderr.log", "ab")
            self.proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(self.prefix), "-e", str(self.prefix / "error.log"),
                                          "-g", "daemon off;"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            end = time.monotonic() + 15
            while time.monotonic() < end and self.proc.poll() is None:
                try:
                    if _session().get(self.url + "/readyz", timeout=2).status_code == 200:
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            last = self.log_tail()
            self.stop()
            if "Address already in use" not in last:
                break
        raise AssertionError(f"nginx did not start\n{last}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then the master exits
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def log_tail(self, n: int = 20) -> str:
        out = []
        for name in ("stderr.log", "error.log"):
            try:
                out += (self.prefix / name).read_text(errors="replace").splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)


# --------------------------------------------------------------------------
# the cluster


class Cluster:
    def __init__(self, db: Database, workdir: Path, instances: int = 3, with_nginx: bool = True):
        self.db = db
        self.workdir = Path(workdir)
        self.count = instances
        self.with_nginx = with_nginx
        self.instances: list[LatchkeyServer] = []
        self.nginx: Nginx | None = None
        self.admin_key: str | None = None

    def start(self) -> "Cluster":
        args = [*self.db.cli_args, "--allow-private-network"]
        for i in range(self.count):
            self.instances.append(LatchkeyServer(self.workdir / f"instance-{i}", args=args, env=self.db.server_env()))
        # The first one migrates; the others then start together.
        self.instances[0].start_and_wait()
        for s in self.instances[1:]:
            s.start()
        for s in self.instances[1:]:
            s.wait_ready()
        self.admin_key = mint_admin_key(self.db, self.workdir)
        if self.with_nginx:
            self.nginx = Nginx(self.workdir / "nginx", [s.port for s in self.instances]).start()
        return self

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for s in self.instances:
            try:
                s.stop()
            except Exception:  # noqa: BLE001 - teardown goes on
                if s.proc and s.proc.poll() is None:
                    s.proc.kill()

    @property
    def entry_url(self) -> str:
        """nginx when there is one, else the first instance."""
        return self.nginx.url if self.nginx else self.instances[0].base_url

    def api(self) -> requests.Session:
        return _session(self.admin_key)

    def live(self) -> list[LatchkeyServer]:
        return [s for s in self.instances if s.alive()]

    def refresh_log(self) -> str:
        """The instances' log lines about refreshes (ids and triggers, no secrets)."""
        out = []
        for i, s in enumerate(self.instances):
            for line in (s.stdout_text + "\n" + s.stderr_text).splitlines():
                if "refresh" in line.lower() or "lease" in line.lower():
                    out.append(f"instance {i}: {line[:300]}")
        return "\n".join(out[-40:])

    def diagnostics(self) -> str:
        parts = []
        for i, s in enumerate(self.instances):
            parts.append(f"--- instance {i} (port {s.port}, {'alive' if s.alive() else f'exit {s.returncode}'}) stderr ---\n{s.stderr_tail(15)}")
        if self.nginx:
            parts.append(f"--- nginx ---\n{self.nginx.log_tail(10)}")
        return "\n".join(parts)

    # -- admin API

    def create_integration(self, key: str, client_id: str, client_secret: str, settings: dict, provider: str = "oauth2",
                           scopes: list[str] | None = None) -> dict:
        body = {"provider": provider, "key": key, "clientId": client_id, "clientSecret": client_secret,
                "scopes": scopes or ["read"], "settings": settings}
        r = self.api().post(self.entry_url + "/api/v1/integrations", json=body, timeout=30)
        assert r.status_code == 201, f"POST /api/v1/integrations ({provider}, {key}) → HTTP {r.status_code}: {r.text[:400]}"
        return r.json()

    def import_credential(self, integration: str, user: str, access_token: str, refresh_token: str,
                          expires_at: str = "2020-01-01T00:00:00Z", scopes: list[str] | None = None) -> dict:
        body = {"integration": integration, "externalUserId": user, "type": "oauth2", "accessToken": access_token,
                "refreshToken": refresh_token, "expiresAt": expires_at, "scopes": scopes or ["read"]}
        r = self.api().post(self.entry_url + "/api/v1/credentials", json=body, timeout=30)
        assert r.status_code == 201, f"POST /api/v1/credentials ({integration}, {user}) → HTTP {r.status_code}: {r.text[:400]}"
        return r.json()

    def expire(self, cred_id: str, expires_at: str = "2020-01-01T00:00:00Z") -> dict:
        """Move the stored access token's expiry into the past (PATCH), which forces the next refresh."""
        r = self.api().patch(self.entry_url + f"/api/v1/credentials/{cred_id}", json={"expiresAt": expires_at}, timeout=30)
        assert r.status_code == 200, f"PATCH /api/v1/credentials/{{id}} expiresAt → HTTP {r.status_code}: {r.text[:300]}"
        return r.json()

    def credential(self, cred_id: str, base: str | None = None) -> dict:
        r = self.api().get((base or self.entry_url) + f"/api/v1/credentials/{cred_id}", timeout=30)
        assert r.status_code == 200, f"GET /api/v1/credentials/{{id}} → HTTP {r.status_code}: {r.text[:300]}"
        return r.json()

    def reveal(self, cred_id: str, base: str | None = None) -> dict:
        r = self.api().post((base or self.entry_url) + f"/api/v1/credentials/{cred_id}/reveal", timeout=30)
        assert r.status_code == 200, f"POST /api/v1/credentials/{{id}}/reveal → HTTP {r.status_code}: {r.text[:300]}"
        return r.json()


# --------------------------------------------------------------------------
# callers


class TokenCall:
    def __init__(self, status: int, body, upstream: str | None, seconds: float, error: str | None = None):
        self.status, self.body, self.upstream, self.seconds, self.error = status, body, upstream, seconds, error

    @property
    def token(self) -> str | None:
        return self.body.get("accessToken") if isinstance(self.body, dict) else None

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def describe(self) -> str:
        """Status and error code only: never the token."""
        if self.error:
            return f"request failed: {self.error}"
        return f"HTTP {self.status} code={self.error_code!r} via {self.upstream} in {self.seconds:.2f}s"


def token_call(key: str, base: str, body: dict, timeout: float = 90, session: requests.Session | None = None) -> TokenCall:
    s = session or _session(key)
    t = time.monotonic()
    try:
        r = s.post(base + TOKEN_PATH, json=body, timeout=timeout)
    except requests.RequestException as exc:
        return TokenCall(0, None, None, time.monotonic() - t, f"{type(exc).__name__}: {exc}")
    try:
        doc = r.json()
    except ValueError:
        doc = {"raw": r.text[:200]}
    return TokenCall(r.status_code, doc, r.headers.get("X-Upstream"), time.monotonic() - t)


def concurrent_token_calls(key: str, bases: list[str], body: dict, callers: int, timeout: float = 90) -> list[TokenCall]:
    """`callers` threads released together by a barrier, each with its own connection, spread over `bases`."""
    barrier = threading.Barrier(callers)
    sessions = [_session(key) for _ in range(callers)]

    def one(i: int) -> TokenCall:
        barrier.wait(timeout=30)
        return token_call(key, bases[i % len(bases)], body, timeout, sessions[i])

    with ThreadPoolExecutor(max_workers=callers) as pool:
        return list(pool.map(one, range(callers)))


def summarize(calls: list[TokenCall]) -> str:
    counts: dict[str, int] = {}
    for c in calls:
        d = c.describe().split(" via ")[0].split(" in ")[0]
        counts[d] = counts.get(d, 0) + 1
    return ", ".join(f"{n}× {d}" for d, n in sorted(counts.items()))


def ensure(ok, message: str) -> None:
    """An assertion that shows only its message (pytest would print the tokens compared)."""
    if not ok:
        raise AssertionError(message)


def counts(counters: dict) -> str:
    """The fake provider's counters without the refresh tokens themselves."""
    keys = ("refreshRequests", "processed", "reuse", "invalidGrant", "injectedFailures", "held", "abandoned", "clientAuthFailures")
    return ", ".join(f"{k}={counters.get(k)}" for k in keys)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


# --------------------------------------------------------------------------
# which process holds a TCP connection


def pid_with_local_port(pids: list[int], port: int) -> int | None:
    """The PID among `pids` that owns a TCP socket bound locally to 127.0.0.1:`port`."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local = fields[1]
            if int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    if not inodes:
        return None
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return pid
        except OSError:
            continue
    return None


def wait_for(predicate, timeout: float, what: str):
    return poll_until(predicate, timeout=timeout, interval=0.05, what=what)
