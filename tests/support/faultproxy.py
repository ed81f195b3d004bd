# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A reverse proxy in front of one test registry that counts traffic and injects faults.

It speaks the upstream's scheme (TLS with a certificate from the same throwaway CA when the
registry is TLS, so clients keep verifying), forwards any method, and streams bodies both ways
(``Content-Length`` and chunked requests; ``Content-Length``, chunked and close-delimited
responses). Absolute ``Location`` headers that name the upstream are rewritten to the proxy.

Counters (all reset by :meth:`FaultProxy.reset`):

``upload_bytes``
    request-body bytes the proxy received on blob-upload requests (POST/PATCH/PUT under
    ``/v2/<name>/blobs/uploads/``), including bytes of requests a fault cut short.
``uploaded_by_digest``
    digest → bytes: each upload session's bytes (keyed by the session id in the upload URL),
    attributed to the digest named by the final ``PUT ...?digest=`` (or a monolithic
    ``POST ...?digest=``) when that request is forwarded.
``requests``
    ``collections.Counter`` of ``(method, kind)``, kind one of manifest / blob / upload / other.
``log``
    ``(method, path, status)`` of every request, status None when a fault dropped it.

Faults are rules matched in the order added: ``method`` (None: any), ``path`` (regex searched in
the request target, query included), skip the first ``after`` matches, then fire ``count``
times (None: forever). Actions: :func:`status`, :func:`drop_request_after`,
:func:`drop_response_after`, :func:`slow_response`, :func:`hold`, :func:`strip_headers`.
"""

from __future__ import annotations

import collections
import http.client
import re
import select
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from .registry import Endpoint, RegistryServer

CHUNK = 64 * 1024
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "host",
    # http.server already answered "100 Continue" to the client.
    "expect",
}
_PATH_KIND = re.compile(r"^/v2/(?P<name>.+?)/(?P<what>manifests|blobs/uploads|blobs)(?:/(?P<rest>[^?]*))?")


def request_kind(path: str) -> str:
    """manifest / blob / upload / other, from a registry API path."""
    m = _PATH_KIND.match(urllib.parse.urlsplit(path).path)
    if not m:
        return "other"
    return {"manifests": "manifest", "blobs": "blob", "blobs/uploads": "upload"}[m.group("what")]


def _upload_session(path: str) -> str | None:
    m = _PATH_KIND.match(urllib.parse.urlsplit(path).path)
    if m and m.group("what") == "blobs/uploads" and m.group("rest"):
        return m.group("rest").strip("/") or None
    return None


# -- fault actions ------------------------------------------------------------------------------
@dataclass
class Status:
    code: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""


@dataclass
class DropRequestAfter:
    nbytes: int


@dataclass
class DropResponseAfter:
    nbytes: int


@dataclass
class SlowResponse:
    bytes_per_second: int


@dataclass
class Hold:
    released: threading.Event
    timeout: float


@dataclass
class StripHeaders:
    names: frozenset


def status(code: int, headers: dict | None = None, body: bytes | str = b"") -> Status:
    """Answer with this status (the upstream never sees the request), e.g. 500, or 429 with
    ``{"Retry-After": "1"}``."""
    if isinstance(body, str):
        body = body.encode()
    return Status(code, dict(headers or {}), body)


def drop_request_after(nbytes: int) -> DropRequestAfter:
    """Read (and forward) ``nbytes`` of the request body, then reset both connections, no answer."""
    return DropRequestAfter(nbytes)


def slow_response(bytes_per_second: int) -> SlowResponse:
    """Forward the request, and the response body at most ``bytes_per_second`` (a slow link)."""
    return SlowResponse(bytes_per_second)


def hold(released: threading.Event, timeout: float = 60.0) -> Hold:
    """Keep the request until ``released`` is set (at most ``timeout`` seconds), then forward it."""
    return Hold(released, timeout)


def strip_headers(*names: str) -> StripHeaders:
    """Forward the request, and the response without these headers (names case-insensitive)."""
    return StripHeaders(frozenset(n.lower() for n in names))


def drop_response_after(nbytes: int) -> DropResponseAfter:
    """Forward the request, send the status, headers and ``nbytes`` of the body, then reset."""
    return DropResponseAfter(nbytes)


@dataclass
class Rule:
    action: Status | DropRequestAfter | DropResponseAfter | SlowResponse | Hold | StripHeaders
    method: str | None = None
    path: str = ""
    count: int | None = 1
    after: int = 0
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, target: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return re.search(self.path, target) is not None


class _Abort(Exception):
    """Reset the client connection now (a fault, or a dead upstream)."""


def _reset(sock) -> None:
    """Close with RST rather than FIN, as a network fault would."""
    try:
        # detach(): the handler's rfile/wfile keep the socket object open; the fd must go now.
        raw = socket.socket(fileno=sock.detach())
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
    except OSError:
        pass


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, proxy: "FaultProxy"):
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):
        # Client hang-ups and injected resets are routine here.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self):
        ctx = self.server.proxy._server_ctx
        if ctx is not None:
            # Handshake in the connection's own thread, not in the accept loop.
            self.request = ctx.wrap_socket(self.request, server_side=True)
        super().setup()
        self.upstream: http.client.HTTPConnection | None = None

    def finish(self):
        try:
            super().finish()
        finally:
            if self.upstream is not None:
                self.upstream.close()

    def log_message(self, format, *args):  # quiet
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _Abort:
            self.close_connection = True
            try:
                self.wfile.flush()
            except OSError:
                pass
            _reset(self.request)
            if self.upstream is not None:
                self.upstream.close()
                self.upstream = None
        except (OSError, http.client.HTTPException):
            self.close_connection = True

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._proxy
        raise AttributeError(name)

    # -- request body ---------------------------------------------------------------------------
    def _body_pieces(self):
        """Yield the request body in pieces, unframed."""
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while size:
                    piece = self.rfile.read(min(size, CHUNK))
                    if not piece:
                        raise _Abort()
                    size -= len(piece)
                    yield piece
                self.rfile.readline(3)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                piece = self.rfile.read(min(left, CHUNK))
                if not piece:
                    raise _Abort()
                left -= len(piece)
                yield piece

    # -- the proxy ------------------------------------------------------------------------------
    def _proxy(self):
        proxy = self.server.proxy
        method, target = self.command, self.path
        kind = request_kind(target)
        rule = proxy._take_rule(method, target, kind)
        action = rule.action if rule else None
        counts_upload = kind == "upload" and method in ("POST", "PATCH", "PUT")
        session = _upload_session(target) if counts_upload else None
        received = 0

        def count(n: int) -> None:
            nonlocal received
            received += n
            if counts_upload:
                proxy._count_upload(session, n)

        if isinstance(action, Status):
            for piece in self._body_pieces():
                count(len(piece))
            proxy._log(method, target, action.code)  # before the reply: a client that saw it finds it logged
            self._send_status(action)
            return

        if isinstance(action, Hold):
            action.released.wait(action.timeout)
        upstream = self._upstream()
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        try:
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            upstream.putheader("Host", proxy.upstream.host)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    upstream.putheader(name, value)
            if chunked:
                upstream.putheader("Transfer-Encoding", "chunked")
            upstream.endheaders()
            for piece in self._body_pieces():
                if isinstance(action, DropRequestAfter):
                    piece = piece[: max(0, action.nbytes - received)]
                if piece:
                    upstream.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                    count(len(piece))
                if isinstance(action, DropRequestAfter) and received >= action.nbytes:
                    break
            if isinstance(action, DropRequestAfter):
                proxy._log(method, target, None)
                raise _Abort()
            if chunked:
                upstream.send(b"0\r\n\r\n")
            resp = upstream.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self.upstream = None
            upstream.close()
            # The client's request may be half read: this connection cannot carry another.
            self.close_connection = True
            proxy._log(method, target, 502)
            self._send_status(status(502, body=f"fault proxy: upstream failed: {exc}\n"))
            return

        if counts_upload and method in ("PUT", "POST"):
            digest = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query).get("digest")
            if digest:
                proxy._attribute(session, digest[0], received if session is None else None)
        proxy._log(method, target, resp.status)
        self._relay_response(resp, method, kind, action)

    def _upstream(self) -> http.client.HTTPConnection:
        conn = self.upstream
        if conn is not None and conn.sock is not None and select.select([conn.sock], [], [], 0)[0]:
            # An idle keep-alive connection with something to read has been closed by the
            # registry; reusing it would turn into a 502 the test never asked for.
            conn.close()
            self.upstream = None
        if self.upstream is None:
            proxy = self.server.proxy
            if proxy.upstream.tls:
                self.upstream = http.client.HTTPSConnection(
                    "127.0.0.1", proxy.upstream.port, timeout=60, context=proxy._client_ctx
                )
            else:
                self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream.port, timeout=60)
        return self.upstream

    def _send_status(self, st: Status) -> None:
        self.send_response_only(st.code)
        headers = {k.lower(): (k, v) for k, v in st.headers.items()}
        for k, v in headers.values():
            self.send_header(k, v)
        if "content-type" not in headers:
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(st.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(st.body)

    def _relay_response(self, resp: http.client.HTTPResponse, method: str, kind: str, action) -> None:
        proxy = self.server.proxy
        self.send_response_only(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        chunked = resp.chunked
        has_body = method != "HEAD" and resp.status not in (204, 304) and not 100 <= resp.status < 200
        close_delimited = has_body and not chunked and length is None
        for name, value in resp.getheaders():
            lname = name.lower()
            if lname in HOP_BY_HOP or isinstance(action, StripHeaders) and lname in action.names:
                continue
            if lname == "location" and value.startswith(proxy.upstream.url):
                value = proxy.url + value[len(proxy.upstream.url):]
            self.send_header(name, value)
        if chunked and has_body:
            self.send_header("Transfer-Encoding", "chunked")
        if close_delimited or resp.will_close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        limit = action.nbytes if isinstance(action, DropResponseAfter) else None
        sent = 0
        if has_body:
            while True:
                piece = resp.read1(CHUNK) if limit is None else resp.read1(min(CHUNK, limit - sent))
                if not piece:
                    break
                if kind == "blob" and method == "GET":
                    # counted before the client can see the bytes, so a test that has read the
                    # whole body never reads a counter the proxy has not updated yet
                    proxy._count_download(len(piece))
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
                if isinstance(action, SlowResponse):
                    self.wfile.flush()
                    time.sleep(len(piece) / action.bytes_per_second)
                if limit is not None and sent >= limit:
                    break
            if limit is None and chunked:
                self.wfile.write(b"0\r\n\r\n")
        if limit is not None:
            raise _Abort()
        # Marks the response done even when its body was empty, so the connection can carry
        # the next request.
        resp.read()
        if resp.will_close:
            self.upstream.close()
            self.upstream = None


class FaultProxy(Endpoint):
    """Threaded reverse proxy on 127.0.0.1 in front of ``upstream`` (a :class:`RegistryServer`).

    Looks like a registry to clients: ``host``, ``url``, ``tls``, ``ca_path``, ``cert_dir``,
    ``username``/``password`` (the upstream's), ``skopeo_args()``, ``write_auth_file()``.
    """

    def __init__(self, upstream: RegistryServer):
        self.upstream = upstream
        self.tls = upstream.tls
        self.auth = upstream.auth
        self.username = upstream.username
        self.password = upstream.password
        self.ca_path = upstream.ca_path
        self.cert_dir = upstream.cert_dir
        self._server_ctx: ssl.SSLContext | None = None
        self._client_ctx: ssl.SSLContext | None = None
        if self.tls:
            pair = upstream.ca.issue_server_cert(upstream.workdir, "faultproxy")
            self._server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server_ctx.load_cert_chain(pair.cert_path, pair.key_path)
            self._client_ctx = ssl.create_default_context(cafile=upstream.ca_path)
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        if self._server is None:
            self._server = _Server(self)
            self.port = self._server.server_address[1]
            # A short poll interval: stop() waits for the loop to notice, once per test.
            self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="faultproxy", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"FaultProxy({self.url} -> {self.upstream.url})"

    # -- rules ----------------------------------------------------------------------------------
    def add_rule(self, action, method: str | None = None, path: str = "", count: int | None = 1,
                 after: int = 0) -> Rule:
        """Add a fault; returns the rule, whose ``seen`` / ``fired`` tell what happened."""
        rule = Rule(action=action, method=method, path=path, count=count, after=after)
        with self._lock:
            self._rules.append(rule)
        return rule

    def reset(self) -> None:
        """Forget every rule and zero every counter."""
        with self._lock:
            self._rules = []
            self.upload_bytes = 0
            self.download_bytes = 0
            self.uploaded_by_digest: dict[str, int] = collections.defaultdict(int)
            self.requests: collections.Counter = collections.Counter()
            self.log: list[tuple[str, str, int | None]] = []
            self._sessions: dict[str, int] = collections.defaultdict(int)

    def count(self, method: str | None = None, kind: str | None = None) -> int:
        """Requests seen, optionally only those of one method and/or kind."""
        with self._lock:
            return sum(n for (m, k), n in self.requests.items()
                       if (method is None or m == method) and (kind is None or k == kind))

    # -- used by the handler --------------------------------------------------------------------
    def _take_rule(self, method: str, target: str, kind: str) -> Rule | None:
        with self._lock:
            self.requests[(method, kind)] += 1
            for rule in self._rules:
                if not rule.matches(method, target):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                rule.fired += 1
                return rule
        return None

    def _count_upload(self, session: str | None, n: int) -> None:
        with self._lock:
            self.upload_bytes += n
            if session:
                self._sessions[session] += n

    def _count_download(self, n: int) -> None:
        with self._lock:
            self.download_bytes += n

    def _attribute(self, session: str | None, digest: str, nbytes: int | None) -> None:
        with self._lock:
            if session is not None:
                nbytes = self._sessions.pop(session, 0)
            self.uploaded_by_digest[digest] += nbytes or 0

    def _log(self, method: str, target: str, code: int | None) -> None:
        with self._lock:
            self.log.append((method, target, code))
