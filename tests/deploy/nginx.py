"""nginx with deploy/nginx/coterie.conf, run by a test as an unprivileged process.

The example is a site file (what Debian includes from /etc/nginx/sites-enabled); `Nginx` wraps
it in a minimal nginx.conf whose logs, pid and temporary files live in a directory of its own,
and substitutes only the ports, the upstream and the certificate paths. A self-signed
certificate for 127.0.0.1 (openssl) stands in for the real one.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.fixtures.databases import IN_CI
from tests.fixtures.live_server import free_port

from .units import DEPLOY, SYSTEMD_PATH

SITE = DEPLOY / "nginx" / "coterie.conf"
UNPRIVILEGED = "nobody"  # when the tests run as root, nginx does not


def require(program: str) -> str:
    """The path of `program`; skipped when missing, or failed when CI=true."""
    found = shutil.which(program, path=SYSTEMD_PATH)
    if found is None:
        message = f"{program} is not installed (apt-get install {program})"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return found


def render_site(text: str, substitutions: dict[str, str]) -> str:
    """`text` with each key replaced; a key the example no longer contains fails, so the test
    cannot silently stop exercising a line."""
    for installed, replacement in substitutions.items():
        assert installed in text, f"{SITE.name} no longer contains {installed!r}"
        text = text.replace(installed, replacement)
    return text


def max_body_bytes(text: str) -> int:
    """client_max_body_size of the site file, in bytes."""
    line = next(line for line in text.splitlines() if line.strip().startswith("client_max_body"))
    size = line.split()[1].rstrip(";").lower()
    factor = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(size[-1], 1)
    return int(size.rstrip("kmg")) * factor


class Nginx:
    def __init__(self, upstream_port: int) -> None:
        self.binary = require("nginx")
        self.openssl = require("openssl")
        self.upstream_port = upstream_port
        self.http_port = free_port()
        self.https_port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="coterie-nginx-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def certificate(self) -> Path:
        return self.directory / "cert.pem"

    def _configure(self) -> Path:
        key = self.directory / "key.pem"
        subprocess.run(
            [self.openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
             "-out", str(self.certificate), "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        site = render_site(
            SITE.read_text(),
            {
                "listen 80;": f"listen 127.0.0.1:{self.http_port};",
                "listen [::]:80;": f"listen [::1]:{self.http_port};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
                "listen [::]:443 ssl http2;": f"listen [::1]:{self.https_port} ssl http2;",
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{self.upstream_port};",
                "/etc/letsencrypt/live/coterie.example.com/fullchain.pem": str(self.certificate),
                "/etc/letsencrypt/live/coterie.example.com/privkey.pem": str(key),
            },
        )
        (self.directory / "coterie.conf").write_text(site)
        main = self.directory / "nginx.conf"
        here = self.directory
        temporary = "\n".join(
            f"    {kind}_temp_path {here}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main.write_text(
            f"worker_processes 1;\nerror_log {here}/error.log info;\npid {here}/nginx.pid;\n"
            "events { worker_connections 64; }\n"
            f"http {{\n    access_log {here}/access.log;\n{temporary}\n"
            f"    include {here}/coterie.conf;\n}}\n"
        )
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED)
            for path in [here, *here.iterdir()]:
                os.chown(path, user.pw_uid, user.pw_gid)
        return main

    def _command(self, main: Path, *extra: str) -> list[str]:
        prefix = str(self.directory)
        return [self.binary, "-p", prefix, "-e", f"{prefix}/error.log", "-c", str(main), *extra]

    def start(self) -> None:
        main = self._configure()
        user = UNPRIVILEGED if os.geteuid() == 0 else None
        checked = subprocess.run(
            self._command(main, "-t"), user=user, capture_output=True, text=True
        )
        assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
        self.process = subprocess.Popen(
            self._command(main, "-g", "daemon off;"), user=user, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, f"nginx exited:\n{self.error_log()}"
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, f"nginx did not listen:\n{self.error_log()}"
                time.sleep(0.05)

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
