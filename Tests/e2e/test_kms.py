"""The master key as an AWS KMS data key, against moto's KMS server: first start, restart, rotate-master, and a KMS
that cannot be reached (at start: refused, naming the endpoint; during rotate-master: nothing changes, the next run
goes through). No AWS secret, session token or signature in anything printed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import api_session, assert_absent, assert_secret_equal, base_env, check_admin_key, poll_until, run_cli
from peers import need_peer

SECRET = "kms-e2e-secret-canary-3f9a"
TOKEN = "kms-e2e-token-canary-77c1"
CANNOT_START = "latchkey: cannot start:"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Moto:
    """moto's server on a free loopback port."""

    def __init__(self, tmp_path):
        binary = shutil.which("moto_server")
        need_peer(None if binary else "moto_server not found (pip install 'moto[server]')", "moto KMS server")
        self.binary = binary
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/"
        self.log = open(tmp_path / "moto.log", "w")  # noqa: SIM115
        self.proc = None

    def start(self) -> "Moto":
        self.proc = subprocess.Popen([self.binary, "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)

        def answers():
            try:
                return requests.get(self.endpoint, timeout=1).status_code < 500
            except requests.RequestException:
                return False

        poll_until(answers, timeout=30, what="moto_server answering")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def create_key(self) -> str:
        boto3 = pytest.importorskip("boto3")
        kms = boto3.client(
            "kms", endpoint_url=self.endpoint, region_name="eu-west-1", aws_access_key_id="AKIDMOTO", aws_secret_access_key="moto-secret"
        )
        return kms.create_key(Description="latchkey e2e")["KeyMetadata"]["KeyId"]


@pytest.fixture
def moto(tmp_path):
    server = Moto(tmp_path).start()
    yield server
    server.stop()
    server.log.close()


def _env(moto: Moto, key_id: str, endpoint: str | None = None) -> dict[str, str]:
    return base_env(
        LATCHKEY_KMS_KEY_ID=key_id,
        AWS_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="AKIDLATCHKEYE2E",
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_SESSION_TOKEN=TOKEN,
        LATCHKEY_KMS_ENDPOINT=endpoint or moto.endpoint,
    )


def _no_secrets(text: str, what: str) -> None:
    for canary in (SECRET, TOKEN, "Signature="):
        assert_absent(text, canary, f"{what} shows an AWS secret or signature")


def test_kms_master_key_survives_restart_and_rotate_master(tmp_path, servers, database, moto):
    db = database
    key_id = moto.create_key()
    env = _env(moto, key_id)

    first = servers(tmp_path, args=db.cli_args, env=env).start_and_wait()
    assert "KMS-wrapped form is stored" in first.stdout_text
    assert not (db.data_dir / "master.key").exists(), "a key file was written although KMS holds the master key"
    minted = run_cli(["keys", "create-admin", *db.cli_args], tmp_path, env)
    admin_key = minted.stdout.strip()
    check_admin_key(admin_key, "keys create-admin stdout")
    api = api_session(admin_key)
    created = api.post(first.url("/api/v1/credentials"), json={"integration": "github", "type": "oauth2", "accessToken": "kms-kept"}, timeout=10)
    assert created.status_code == 201, created.text
    credential = created.json()["id"]
    assert first.stop() == 0

    # A restart decrypts the stored blob with KMS and reads the credential back.
    second = servers(tmp_path, args=db.cli_args, env=env).start_and_wait()
    revealed = api.post(second.url(f"/api/v1/credentials/{credential}/reveal"), timeout=10)
    assert revealed.status_code == 200, revealed.text
    assert_secret_equal(revealed.json()["secret"].get("accessToken"), "kms-kept", "access token after a restart under KMS")
    assert second.stop() == 0

    # rotate-master while KMS cannot be reached (moto keeps its keys in memory, so the outage is a closed port):
    # refused, nothing changed; with KMS reachable the next run goes through.
    closed = f"http://127.0.0.1:{_free_port()}/"
    down = run_cli(["keys", "rotate-master", *db.cli_args], tmp_path, _env(moto, key_id, endpoint=closed), check=False)
    assert down.returncode != 0
    assert f"AWS KMS at {closed.rstrip('/')} could not be reached" in down.stderr, down.stderr
    _no_secrets(down.stdout + down.stderr, "a failed rotate-master")
    rotated = run_cli(["keys", "rotate-master", *db.cli_args], tmp_path, env)
    assert "KMS-wrapped form replaced the old one" in rotated.stdout
    _no_secrets(minted.stdout + minted.stderr + rotated.stdout + rotated.stderr, "the CLI")

    third = servers(tmp_path, args=db.cli_args, env=env).start_and_wait()
    revealed = api.post(third.url(f"/api/v1/credentials/{credential}/reveal"), timeout=10)
    assert revealed.status_code == 200, revealed.text
    assert_secret_equal(revealed.json()["secret"].get("accessToken"), "kms-kept", "access token after rotate-master under KMS")
    for server in (first, second, third):
        _no_secrets(server.output, "the server's output")


def test_unreachable_kms_at_start_is_refused_naming_the_endpoint(tmp_path, servers, sqlite_database, moto):
    db = sqlite_database
    key_id = moto.create_key()
    servers(tmp_path, args=db.cli_args, env=_env(moto, key_id)).start_and_wait().stop()

    closed = f"http://127.0.0.1:{_free_port()}/"
    server = servers(tmp_path, args=db.cli_args, env=_env(moto, key_id, endpoint=closed)).start()
    started = time.monotonic()
    assert server.wait_exit() != 0
    assert time.monotonic() - started < 60
    lines = [line for line in server.stderr_lines if line.startswith(CANNOT_START)]
    assert lines, server.stderr_tail()
    message = lines[-1]
    assert closed.rstrip("/") in message and "could not be reached" in message, message
    assert "LATCHKEY_KMS_ENDPOINT" in message and "AWS_REGION" in message, message
    assert server.base_url is None
    _no_secrets(server.output, "the refused start")
