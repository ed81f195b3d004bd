# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of a registry *token service* (Docker token authentication spec).

The registry in front of it stays the real distribution registry, configured with
``auth: token: {realm, service, issuer, rootcertbundle}``. This server checks Basic credentials
on ``GET /token?service=...&scope=...`` (and the OAuth2 ``POST /token`` password grant) and
answers ``{"token", "access_token", "expires_in", "issued_at"}`` with a JWT signed RS256.

Distribution 2.8 finds the verifying key from the JWT header: ``x5c`` (a chain that must verify
against ``rootcertbundle``), ``jwk``, or ``kid`` (a libtrust fingerprint looked up among the
bundle's keys). We send ``x5c`` holding a self-signed signing certificate and give the registry
that same certificate as ``rootcertbundle``: the leaf is then itself a trusted root, which both
2.8 and later releases accept, with no libtrust fingerprint to compute.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import secrets
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .pki import CertificateAuthority

SERVICE = "airgap-test-registry"
ISSUER = "airgap-test-token-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_scope(scope: str) -> dict | None:
    """``repository:ns/name:pull,push`` → access entry; None when malformed."""
    head, sep, actions = scope.rpartition(":")
    rtype, sep2, name = head.partition(":")
    if not sep or not sep2 or not rtype or not name:
        return None
    # A type may carry a class, "repository(plugin):name:pull"; the class is not part of the type.
    rtype = rtype.split("(", 1)[0]
    return {"type": rtype, "name": name, "actions": [a for a in actions.split(",") if a]}


class TokenServer:
    """HTTPS token endpoint on 127.0.0.1 for a fixed set of users.

    ``users``: username → password. Every authenticated user is granted every requested action
    (``deny`` narrows that: a set of (username, repository name) pairs given nothing).
    ``requests`` counts token requests, ``issued`` keeps each issued token's claims.
    """

    def __init__(self, users: dict[str, str], *, ca: CertificateAuthority, workdir: str,
                 service: str = SERVICE, issuer: str = ISSUER, lifetime: int = 300):
        self.users = dict(users)
        self.ca = ca
        self.workdir = workdir
        self.service = service
        self.issuer = issuer
        self.lifetime = lifetime
        self.deny: set[tuple[str, str]] = set()
        self.requests = 0
        self.issued: list[dict] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_cert_path = os.path.join(workdir, "token-signing.crt")
        self._signing_cert_der = self._make_signing_cert()

    def _make_signing_cert(self) -> bytes:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airgap test token signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        with open(self.signing_cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return cert.public_bytes(serialization.Encoding.DER)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else 0

    @property
    def realm(self) -> str:
        return f"https://127.0.0.1:{self.port}/token"

    def registry_auth_config(self) -> dict:
        """The ``auth.token`` section of the registry's config."""
        return {
            "realm": self.realm,
            "service": self.service,
            "issuer": self.issuer,
            "rootcertbundle": self.signing_cert_path,
        }

    # -- tokens ---------------------------------------------------------------------------------
    def make_token(self, subject: str, access: list[dict]) -> tuple[str, dict]:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self._signing_cert_der).decode()]}
        claims = {
            "iss": self.issuer, "sub": subject, "aud": self.service,
            "exp": now + self.lifetime, "nbf": now - 1, "iat": now,
            "jti": secrets.token_hex(8), "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature), claims

    def grant(self, username: str, scopes: list[str]) -> list[dict]:
        access = []
        for scope in scopes:
            for part in scope.split(" "):
                entry = parse_scope(part) if part else None
                if entry and (username, entry["name"]) not in self.deny:
                    access.append(entry)
        return access

    def check_basic(self, header: str | None) -> str | None:
        """The user name when ``header`` holds valid Basic credentials, else None."""
        if not header or not header.lower().startswith("basic "):
            return None
        try:
            user, sep, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if sep and user in self.users and secrets.compare_digest(self.users[user], password):
            return user
        return None

    # -- server ---------------------------------------------------------------------------------
    def start(self) -> "TokenServer":
        server = self
        pair = self.ca.issue_server_cert(self.workdir, "tokenserver")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet
                pass

            def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _issue(self, user: str | None, scopes: list[str]) -> None:
                with server._lock:
                    server.requests += 1
                if user is None:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                                {"WWW-Authenticate": 'Basic realm="airgap-test-token"'})
                    return
                token, claims = server.make_token(user, server.grant(user, scopes))
                with server._lock:
                    server.issued.append(claims)
                issued_at = datetime.datetime.fromtimestamp(claims["iat"], datetime.timezone.utc)
                self._reply(200, {
                    "token": token, "access_token": token, "expires_in": server.lifetime,
                    "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                })

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/token":
                    self._reply(404, {"error": "not found"})
                    return
                query = urllib.parse.parse_qs(url.query)
                self._issue(server.check_basic(self.headers.get("Authorization")), query.get("scope", []))

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if url.path != "/token":
                    self._reply(404, {"error": "not found"})
                    return
                user = None
                if form.get("grant_type") == ["password"]:
                    name = (form.get("username") or [""])[0]
                    password = (form.get("password") or [""])[0]
                    if name in server.users and secrets.compare_digest(server.users[name], password):
                        user = name
                self._issue(user, form.get("scope", []))

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pair.cert_path, pair.key_path)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="tokenserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
