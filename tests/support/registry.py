# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real CNCF distribution registry (Debian ``docker-registry``) for tests and the demo.

Each instance listens on 127.0.0.1 on a free port, stores blobs in its own directory, and can
serve plain HTTP or TLS (throwaway CA from :mod:`tests.support.pki`), with no auth, htpasswd
(bcrypt via ``htpasswd -B``) or token auth (the registry stays real; only the auth service is
the test double in :mod:`tests.support.tokenserver`).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import yaml

from .pki import CertificateAuthority, default_ca, issue_client_cert
from .process import log_tail, terminate

REGISTRY_BIN = "/usr/bin/docker-registry"
AUTH_MODES = (None, "htpasswd", "token")


class RegistryError(RuntimeError):
    """The registry could not be started or stopped."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def htpasswd_line(username: str, password: str) -> str:
    """One bcrypt htpasswd line (the registry accepts bcrypt only)."""
    out = subprocess.run(
        ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True
    ).stdout
    return out.strip() + "\n"


class Endpoint:
    """What a client sees of a registry: address, TLS trust, credentials, and skopeo flags.

    Shared by :class:`RegistryServer` and the fault proxy in front of one, so a test can hand
    either to the code under test.
    """

    port: int = 0
    tls: bool = False
    auth: str | None = None
    username: str | None = None
    password: str | None = None
    ca_path: str | None = None
    cert_dir: str | None = None
    client_cert: str | None = None  # mutual TLS: the PEM pair a client must present
    client_key: str | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def skopeo_args(self, side: str | None = None) -> list[str]:
        """skopeo flags for this registry: ``side`` 'src' / 'dest' for ``copy``, None for ``inspect``."""
        if side not in (None, "src", "dest"):
            raise ValueError("side must be 'src', 'dest' or None")
        prefix = f"--{side}-" if side else "--"
        args: list[str] = []
        if self.auth:
            args.append(f"{prefix}creds={self.username}:{self.password}")
        if self.tls:
            args.append(f"{prefix}cert-dir={self.cert_dir}")
        else:
            args.append(f"{prefix}tls-verify=false")
        return args

    def auth_entry(self) -> dict:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {self.host: {"auth": token}}

    def write_auth_file(self, path: str) -> str:
        """Write a podman-style auth.json for this registry (merging into an existing file)."""
        data: dict = {"auths": {}}
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            data.setdefault("auths", {})
        if self.auth:
            data["auths"].update(self.auth_entry())
        with open(path, "w") as f:
            json.dump(data, f, indent=2)
        os.chmod(path, 0o600)
        return path


def registry_options(*endpoints: Endpoint) -> list[dict]:
    """The collection's ``registries`` option for these endpoints: the CA of a TLS one, plain
    HTTP (``tls_verify: false``) otherwise, and credentials where the endpoint has them."""
    out = []
    for endpoint in endpoints:
        entry: dict = {"host": endpoint.host}
        if endpoint.tls:
            entry["ca_path"] = endpoint.ca_path
        else:
            entry["tls_verify"] = False
        if endpoint.username:
            entry.update(username=endpoint.username, password=endpoint.password)
        if endpoint.client_cert:
            entry.update(client_cert=endpoint.client_cert, client_key=endpoint.client_key)
        out.append(entry)
    return out


class RegistryServer(Endpoint):
    """One ``docker-registry serve`` process.

    ``tls``: serve HTTPS with a certificate from ``ca`` (default: the process-wide test CA).
    ``auth``: None, "htpasswd" or "token".
    ``workdir``: where config, storage, certs and logs go (default: a temp dir removed by
    :meth:`stop`; a given workdir is kept).
    ``detach``: start the process in its own session, so it outlives the command that started
    it and a Ctrl-C there does not reach it (the demo lab).
    """

    def __init__(self, tls: bool = False, auth: str | None = None, *, workdir: str | None = None,
                 ca: CertificateAuthority | None = None, username: str = "tester",
                 password: str | None = None, detach: bool = False, mtls: bool = False):
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be one of {AUTH_MODES}, not {auth!r}")
        if mtls and not tls:
            raise ValueError("mtls=True needs tls=True")
        if auth == "token" and not tls:
            # Clients send Basic credentials to the token realm; keep them off plain HTTP.
            raise ValueError("auth='token' needs tls=True")
        self.tls = tls
        self.auth = auth
        self.detach = detach
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="airgap-registry-")
        os.makedirs(self.workdir, exist_ok=True)
        self.storage_dir = os.path.join(self.workdir, "storage")
        self.config_path = os.path.join(self.workdir, "config.yml")
        self.log_path = os.path.join(self.workdir, "registry.log")
        self.username = username if auth else None
        self.password = (password or secrets.token_urlsafe(12)) if auth else None
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.token_server = None
        self.ca: CertificateAuthority | None = None
        self.ca_path: str | None = None
        self.cert_dir: str | None = None
        if tls:
            self.ca = ca or default_ca()
            self.ca_path = self.ca.cert_path
            # skopeo's --cert-dir takes every *.crt as a CA and pairs *.key with *.cert, so
            # this dir holds the CA certificate and nothing else.
            self.cert_dir = os.path.join(self.workdir, "certs.d")
            os.makedirs(self.cert_dir, exist_ok=True)
            shutil.copyfile(self.ca.cert_path, os.path.join(self.cert_dir, "ca.crt"))
        self.mtls = mtls
        if mtls:
            # in the cert dir, as skopeo (and podman's certs.d) pair client.cert with client.key
            pair = issue_client_cert(self.ca, self.cert_dir)
            self.client_cert, self.client_key = pair.cert_path, pair.key_path

    # -- lifecycle ------------------------------------------------------------------------------
    def _config(self) -> dict:
        config: dict = {
            "version": 0.1,
            "log": {"level": "warn", "formatter": "text", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": self.storage_dir},
                "delete": {"enabled": True},
                # Upload purging walks storage on a timer; no use for short-lived test registries.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": self.host,
                "secret": secrets.token_hex(16),
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.tls:
            pair = self.ca.issue_server_cert(self.workdir, "registry")
            config["http"]["tls"] = {"certificate": pair.cert_path, "key": pair.key_path}
            if self.mtls:
                config["http"]["tls"]["clientcas"] = [self.ca_path]
        if self.auth == "htpasswd":
            path = os.path.join(self.workdir, "htpasswd")
            with open(path, "w") as f:
                f.write(htpasswd_line(self.username, self.password))
            config["auth"] = {"htpasswd": {"realm": "airgap-test", "path": path}}
        elif self.auth == "token":
            from .tokenserver import TokenServer

            self.token_server = TokenServer(
                {self.username: self.password}, ca=self.ca, workdir=self.workdir
            )
            self.token_server.start()
            config["auth"] = {"token": self.token_server.registry_auth_config()}
        return config

    def start(self, timeout: float = 20.0) -> "RegistryServer":
        if self.process is not None:
            return self
        if not os.path.exists(REGISTRY_BIN):
            raise RegistryError(f"{REGISTRY_BIN} is missing: install the Debian package docker-registry")
        os.makedirs(self.storage_dir, exist_ok=True)
        # free_port() can race with another process; a bind failure shows as an early exit.
        for _attempt in range(5):
            self.port = free_port()
            with open(self.config_path, "w") as f:
                yaml.safe_dump(self._config(), f)
            log = open(self.log_path, "ab")
            try:
                self.process = subprocess.Popen(
                    [REGISTRY_BIN, "serve", self.config_path],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=self.detach,
                )
            finally:
                log.close()
            if self._wait_ready(timeout):
                return self
            self._kill()
            if self.token_server is not None:
                self.token_server.stop()
                self.token_server = None
        raise RegistryError(f"registry did not start; see {self.log_path}:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                status = self.http_status("/v2/")
            except OSError:
                time.sleep(0.05)
                continue
            return status in (200, 401)
        return False

    def http_status(self, path: str) -> int:
        """Status of one GET on the registry, without credentials."""
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_path)
            if self.client_cert:
                ctx.load_cert_chain(self.client_cert, self.client_key)
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=5, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()

    def _kill(self) -> None:
        proc, self.process = self.process, None
        terminate(proc)

    def stop(self) -> None:
        self._kill()
        if self.token_server is not None:
            self.token_server.stop()
            self.token_server = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RegistryServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RegistryServer({self.url}, auth={self.auth})"

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def describe(self) -> dict:
        """What a client needs to reach this registry (no process handle), e.g. for lab.json."""
        return {
            "host": self.host, "url": self.url, "tls": self.tls, "auth": self.auth,
            "username": self.username, "password": self.password, "ca_path": self.ca_path,
            "cert_dir": self.cert_dir, "storage_dir": self.storage_dir, "workdir": self.workdir,
            "log_path": self.log_path, "pid": self.process.pid if self.process else None,
        }


def skopeo_inspect(registry: Endpoint, ref: str, raw: bool = False, config: bool = False):
    """``skopeo inspect`` of ``ref`` on ``registry`` with its flags.

    ``ref`` is ``HOST/REPO:TAG`` / ``HOST/REPO@DIGEST``, or ``REPO:TAG`` / ``REPO@DIGEST``
    taken relative to ``registry.host``. Returns the parsed JSON of skopeo's image summary;
    with ``raw=True`` the manifest bytes exactly as the registry serves them (``config=True``:
    the config blob bytes).
    """
    if ref.startswith("docker://"):
        ref = ref[len("docker://"):]
    if not ref.startswith(registry.host + "/"):
        ref = f"{registry.host}/{ref}"
    args = ["skopeo", "inspect", *registry.skopeo_args()]
    if config:
        args.append("--config")
    if raw or config:
        args.append("--raw")
    proc = subprocess.run([*args, f"docker://{ref}"], capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"skopeo inspect docker://{ref} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout if (raw or config) else json.loads(proc.stdout)
