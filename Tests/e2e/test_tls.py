"""TLS: `serve --tls-cert/--tls-key` (HTTPS, reload on SIGHUP, a bad pair refused) and the nginx example of the
README in front of plain latchkey (HSTS and Secure cookies when the public URL is https).

Certificates are made at test time with the `openssl` command; nginx is started on loopback by the test.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT, base_env, poll_until
from peers import need_peer, nginx_binary, nginx_problem
from refresh_cluster import free_port

HSTS = "max-age=31536000"


def make_certificate(directory: Path, name: str, serial: int) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 and its key, as `{name}.crt` and `{name}.key`."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-set_serial", str(serial)],
        check=True, capture_output=True,
    )
    return cert, key


def served_certificate(port: int) -> str:
    """The PEM of the certificate the server answers a new connection with."""
    return ssl.get_server_certificate(("127.0.0.1", port))


def same_certificate(pem_a: str, pem_b: str) -> bool:
    body = lambda pem: re.sub(r"-----[A-Z ]+-----|\s", "", pem)  # noqa: E731
    return body(pem_a) == body(pem_b)


def openssl_problem() -> str | None:
    return None if shutil.which("openssl") else "`openssl` is not installed"


def start_https(servers, workdir: Path, cert: Path, key: Path):
    server = servers(workdir, args=["--tls-cert", str(cert), "--tls-key", str(key)], env=base_env()).start()
    base = server.wait_listening()
    assert base.startswith("https://"), f"listening line does not say https: {base}"
    poll_until(lambda: requests.get(base + "/readyz", verify=str(cert), timeout=5).status_code == 200, what="/readyz over https")
    return server


def test_https_with_the_given_certificate_reloaded_on_sighup(tmp_path, servers):
    need_peer(openssl_problem(), "openssl")
    live = tmp_path / "live"
    first_cert, first_key = make_certificate(tmp_path / "made", "first", 0x1001)
    live.mkdir()
    cert, key = live / "cert.pem", live / "key.pem"
    shutil.copy(first_cert, cert)
    shutil.copy(first_key, key)
    server = start_https(servers, tmp_path / "work", cert, key)

    health = requests.get(server.url("/healthz"), verify=str(first_cert), timeout=5)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert health.headers.get("Strict-Transport-Security") == HSTS
    # The sign-in page sets cookies: all Secure, since the default public URL is https with TLS.
    assert server.setup_url and server.setup_url.startswith("https://"), server.setup_url
    page = requests.get(server.url("/login"), verify=str(first_cert), timeout=5)
    cookies = page.raw.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies), cookies
    # Without the certificate as a trust root the connection is refused by the client.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url("/healthz"), timeout=5)
    assert same_certificate(served_certificate(server.port), first_cert.read_text())

    # Renewed: the same files, new content, SIGHUP. Same process, same port, new certificate.
    second_cert, second_key = make_certificate(tmp_path / "made", "second", 0x1002)
    shutil.copy(second_cert, cert)
    shutil.copy(second_key, key)
    server.proc.send_signal(signal.SIGHUP)
    poll_until(lambda: same_certificate(served_certificate(server.port), second_cert.read_text()), what="the new certificate served")
    assert server.alive()
    assert requests.get(server.url("/healthz"), verify=str(second_cert), timeout=5).status_code == 200

    # A broken renewal (a key that is not the certificate's) is refused: the second certificate stays, the log says why.
    third_cert, third_key = make_certificate(tmp_path / "made", "third", 0x1003)
    shutil.copy(third_cert, cert)
    server.proc.send_signal(signal.SIGHUP)
    poll_until(lambda: "TLS certificate not reloaded" in server.output, what="the refused reload in the log")
    assert "does not belong to the certificate" in server.output
    assert server.alive()
    assert same_certificate(served_certificate(server.port), second_cert.read_text())
    for secret in (second_key.read_text(), third_key.read_text()):
        line = secret.splitlines()[1]
        assert line not in server.output, "a private key reached the log"


def test_a_pair_that_cannot_be_served_is_refused_at_start(tmp_path, servers):
    need_peer(openssl_problem(), "openssl")
    cert, _ = make_certificate(tmp_path / "made", "one", 0x2001)
    _, other_key = make_certificate(tmp_path / "made", "two", 0x2002)
    cases = [
        (["--tls-cert", str(cert), "--tls-key", str(other_key)], "does not belong to the certificate"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(other_key)], "does not exist"),
        (["--tls-cert", str(cert)], "--tls-cert needs --tls-key"),
    ]
    for index, (args, message) in enumerate(cases):
        server = servers(tmp_path / f"work{index}", args=args, env=base_env()).start()
        code = server.wait_exit()
        assert code != 0, f"{args}: exited 0"
        assert message in server.stderr_text, f"{args}: {server.stderr_tail()}"


# --------------------------------------------------------------------------
# nginx in front, from the README


def readme_nginx_example() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    m = re.search(r"<!-- nginx-example -->\s*```nginx\n(.*?)```\s*<!-- /nginx-example -->", text, re.S)
    assert m, "README.md has no nginx example between <!-- nginx-example --> markers"
    return m.group(1)


def nginx_conf(example: str, prefix: Path, port: int, upstream: int, cert: Path, key: Path) -> str:
    """The README's server block with this machine's port, certificate and upstream, inside a minimal nginx.conf."""
    replacements = {
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "/etc/ssl/latchkey/fullchain.pem": str(cert),
        "/etc/ssl/latchkey/privkey.pem": str(key),
        "http://127.0.0.1:8080": f"http://127.0.0.1:{upstream}",
    }
    for old, new in replacements.items():
        assert old in example, f"the README's nginx example no longer contains {old!r}"
        example = example.replace(old, new)
    temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n    access_log {prefix}/access.log;\n{temp}\n{example}}}\n")


def test_the_readme_nginx_example_terminates_tls_in_front_of_latchkey(tmp_path, servers):
    need_peer(nginx_problem(), "nginx")
    need_peer(openssl_problem(), "openssl")
    cert, key = make_certificate(tmp_path / "made", "edge", 0x3001)
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    server = servers(tmp_path / "work", args=["--public-url", public, "--trusted-proxies", "127.0.0.1"], env=base_env())
    server.start_and_wait()

    prefix = tmp_path / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    if os.geteuid() == 0:
        for p in (tmp_path, prefix, prefix / "tmp", cert.parent):
            os.chmod(p, 0o755)
        os.chmod(key, 0o644)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(readme_nginx_example(), prefix, port, server.port, cert, key))
    log = open(prefix / "stderr.log", "ab")
    nginx = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log"), "-g", "daemon off;"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    try:
        def up():
            if nginx.poll() is not None:
                raise AssertionError("nginx exited:\n" + (prefix / "error.log").read_text(errors="replace")[-2000:])
            try:
                return requests.get(public + "/readyz", verify=str(cert), timeout=2).status_code == 200
            except requests.RequestException:
                return False

        poll_until(up, what="latchkey through nginx")
        health = requests.get(public + "/healthz", verify=str(cert), timeout=5)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert health.headers.get("Strict-Transport-Security") == HSTS
        # The setup link is the public https one; through nginx the sign-in page sets Secure cookies only, with HSTS.
        assert server.setup_url and server.setup_url.startswith(public + "/setup?token="), server.setup_url
        assert requests.get(server.setup_url, verify=str(cert), timeout=5).status_code == 200
        page = requests.get(public + "/login", verify=str(cert), timeout=5)
        assert page.status_code == 200
        assert page.headers.get("Strict-Transport-Security") == HSTS
        cookies = page.raw.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies), cookies
        # An error page too.
        missing = requests.get(public + "/no-such-page", verify=str(cert), timeout=5)
        assert missing.status_code == 404 and missing.headers.get("Strict-Transport-Security") == HSTS
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=15)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait(timeout=15)
