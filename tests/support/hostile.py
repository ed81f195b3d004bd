# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test double of a *hostile* registry, and of the foreign host it points clients at.

A :class:`HostileServer` listens on 127.0.0.1 only. Every request is answered by ``server.handler``
(a function of the :class:`Received` request returning a :class:`Reply`), which a test sets to
play one attack: an upload ``Location`` or ``Link`` on another host, a redirect from https to
http, a token realm elsewhere, an endless manifest or error body. Everything the server receives
(method, path, headers, whether over TLS, whether the client offered a certificate) is kept in
``server.received`` so that a test can assert what never reached it.

With ``tls=True`` the same port answers both TLS and plain http (the first byte of each
connection decides), so a redirect to ``http://`` the same host:port reaches it too.

Bounded: bodies are generated lazily and their bytes counted in ``bytes_sent`` (a test checks
that a client stopped reading early); requests bodies are read up to 64 MiB; the server stops
itself after ``lifetime`` seconds and answers 503 after ``max_requests`` requests.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable

from .pki import CertificateAuthority

MAX_REQUEST_BODY = 64 << 20


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict  # lower-cased names
    tls: bool
    client_cert: bool  # the client offered a certificate in the TLS handshake
    body_size: int = 0

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Reply:
    """What to answer: ``body`` is bytes or an iterable of chunks (generated lazily); without
    ``content_length`` the body ends when the connection closes."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    content_length: bool = True


def endless(total: int, chunk: bytes = b"x" * 65536) -> Iterable[bytes]:
    """``total`` bytes of filler, one chunk at a time (never held in memory at once)."""
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class HostileServer:
    """A scripted HTTP(S) server on 127.0.0.1; see the module docstring."""

    def __init__(self, handler: Callable[[Received], Reply] | None = None, *, tls: bool = False,
                 ca: CertificateAuthority | None = None, request_client_cert: bool = False,
                 lifetime: float = 60.0, max_requests: int = 200):
        self.handler = handler or (lambda request: Reply(404))
        self.tls = tls
        self.received: list[Received] = []
        self.handshake_failures = 0
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._lifetime = lifetime
        self._max_requests = max_requests
        self._httpd: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None
        self._workdir = tempfile.mkdtemp(prefix="hostile-")
        self.ca = ca
        self._context = None
        if tls:
            self.ca = ca or CertificateAuthority(os.path.join(self._workdir, "ca"))
            pair = self.ca.issue_server_cert(self._workdir, "hostile")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(pair.cert_path, pair.key_path)
            if request_client_cert:
                context.verify_mode = ssl.CERT_OPTIONAL
                context.load_verify_locations(cafile=self.ca.cert_path)
            self._context = context

    # -- addresses ------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def ca_path(self) -> str | None:
        return self.ca.cert_path if self.ca is not None else None

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.received]

    def authorizations(self) -> list[str]:
        """Every Authorization header received (any scheme, any path)."""
        with self._lock:
            return [r.authorization for r in self.received if r.authorization]

    # -- life -----------------------------------------------------------------------------------
    def start(self) -> "HostileServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet
                pass

            def _body_size(self) -> int:
                size = 0
                if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
                    while size <= MAX_REQUEST_BODY:
                        length = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if length == 0:
                            self.rfile.readline()
                            break
                        self.rfile.read(length + 2)
                        size += length
                    return size
                length = int(self.headers.get("Content-Length") or 0)
                remaining = min(length, MAX_REQUEST_BODY)
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    size += len(chunk)
                return size

            def _any(self):
                tls = isinstance(self.connection, ssl.SSLSocket)
                offered = bool(tls and self.connection.getpeercert())
                request = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                   tls, offered)
                request.body_size = self._body_size()
                with server._lock:
                    server.received.append(request)
                    count = len(server.received)
                reply = Reply(503) if count > server._max_requests else server.handler(request)
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                body = reply.body
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(body, (bytes, bytearray)):
                    if "Content-Length" not in reply.headers:
                        self.send_header("Content-Length", str(len(body)))
                    chunks: Iterable[bytes] = [bytes(body)] if self.command != "HEAD" else []
                elif reply.content_length:
                    raise ValueError("a generated body is sent without Content-Length; give the header in headers")
                else:
                    chunks = body
                if not reply.content_length or not isinstance(body, (bytes, bytearray)):
                    if "Content-Length" not in reply.headers:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        with server._lock:
                            server.bytes_sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address):
                request.settimeout(10)
                if server._context is not None:
                    try:
                        first = request.recv(1, socket.MSG_PEEK)
                    except OSError:
                        return
                    if first == b"\x16":  # a TLS ClientHello
                        try:
                            request = server._context.wrap_socket(request, server_side=True)
                        except (ssl.SSLError, OSError):
                            with server._lock:
                                server.handshake_failures += 1
                            return
                Handler(request, client_address, self)

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="hostile", daemon=True).start()
        self._timer = threading.Timer(self._lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
