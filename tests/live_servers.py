"""Real servers for the multi-process and production-front tests: gunicorn (and nginx) in
subprocesses, with production settings, on a database that holds the test's committed rows."""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECRET = "live-server-test-" + "k" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_database_url(directory: Path) -> str:
    """A DATABASE_URL for other processes that sees what the test committed (use it with
    ``transactional_db``): PostgreSQL's test database itself, or a file copy of SQLite's
    in-memory test database."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        path = directory / "live.sqlite3"
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return f"sqlite:///{path}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def production_env(database_url: str, **extra: str) -> dict:
    """The environment of deploy/customer-hub.env for a test server: production settings
    (DEBUG off, limits shared), plain HTTP on 127.0.0.1, no Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "HUB_", "REDIS_", "GUNICORN_"))
    }
    for line in (DEPLOY / "customer-hub.env").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            env[name.strip()] = value.strip()
    env.update(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://localhost",
        DATABASE_URL=database_url,
        DJANGO_SECURE_COOKIES="0",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_CONN_MAX_AGE="0",
    )
    env.update(extra)
    return env


def unit_exec_start() -> list[str]:
    """deploy/systemd/customer-hub.service's ExecStart, with this virtual environment's
    gunicorn in place of the installed one."""
    unit = (DEPLOY / "systemd" / "customer-hub.service").read_text()
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    command = shlex.split(line.partition("=")[2])
    assert Path(command[0]).name == "gunicorn", command
    return [str(Path(sys.executable).with_name("gunicorn")), *command[1:]]


class Process:
    """A subprocess with its output in a log file; always stopped by ``stop``."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, port: int, path: str = "/healthz", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            try:
                if get(port, path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path} in {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


def gunicorn(name: str, port: int, env: dict, log_dir: Path, *options: str) -> Process:
    """gunicorn as deploy/systemd/customer-hub.service starts it, on ``port``."""
    command = [*unit_exec_start(), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "3"]
    return Process(name, [*command, *options], env, log_dir)


def _client_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 10,
    source: str | None = None,
    tls: bool = False,
) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 request; (status, headers, body). ``source``: the local address to send
    from (any of 127.0.0.0/8), so that a proxy sees distinct clients."""
    source_address = (source, 0) if source else None
    if tls:
        conn = http.client.HTTPSConnection(
            "127.0.0.1",
            port,
            timeout=timeout,
            source_address=source_address,
            context=_client_context(),
        )
    else:
        conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout, source_address=source_address
        )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get(port: int, path: str, **kwargs) -> tuple[int, dict, bytes]:
    return request(port, "GET", path, **kwargs)


class SlowClients:
    """``count`` clients that each start a request and then send one more header line every
    ``interval`` seconds, never finishing it (a slowloris); closed on exit."""

    def __init__(
        self, port: int, count: int, interval: float = 2.0, tls: bool = False, stagger: float = 0
    ):
        self.port, self.count, self.interval, self.tls = port, count, interval, tls
        self.stagger = stagger
        self.sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        context = _client_context() if self.tls else None
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            if context is not None:
                sock = context.wrap_socket(sock, server_hostname="localhost")
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            self.sockets.append(sock)
            time.sleep(self.stagger)
        self._thread.start()
        return self

    def _trickle(self) -> None:
        line = 0
        while not self._stop.wait(self.interval):
            line += 1
            for sock in self.sockets:
                # A server may give up on a slow client: that is its right.
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def nginx(
    directory: Path, *, http_port: int, https_port: int, upstream_port: int, static_root: Path
) -> Process:
    """nginx with deploy/nginx/customer-hub.conf, its ports, certificate, static directory and
    upstream replaced (each replacement must apply: the test runs the file it claims to)."""
    cert, key = self_signed_certificate(directory)
    site = (DEPLOY / "nginx" / "customer-hub.conf").read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;\n": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;\n": "",
        "/etc/letsencrypt/live/hub.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/hub.example.com/privkey.pem": str(key),
        "/srv/customer-hub/app/staticfiles/": f"{static_root}/",
    }
    for old, new in replacements.items():
        assert site.count(old) == 1, f"deploy/nginx/customer-hub.conf: {old!r} is not there once"
        site = site.replace(old, new)
    (directory / "customer-hub.conf").write_text(site)
    # As root, nginx's workers would run as "nobody", who cannot read the test's directory.
    user = "user root;" if os.geteuid() == 0 else ""
    main = f"""
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/customer-hub.conf;
}}
"""
    (directory / "nginx.conf").write_text(main)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [
        binary,
        "-p",
        str(directory),
        "-c",
        str(directory / "nginx.conf"),
        "-g",
        "daemon off;",
    ]
    return Process("nginx", command, os.environ.copy(), directory)
