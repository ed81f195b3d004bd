# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCI distribution (Registry API v2) client.

One :class:`RegistryClient` per registry host holds one urllib3 pool of keep-alive connections
(``maxsize=pool_size``, blocking when all are busy), so many threads can copy blobs through it at
once. It speaks the parts of the API a mirror needs: manifests (get / head / put / delete), blobs
(head, streamed get that resumes with Range after a dropped connection, monolithic and streamed
uploads, cross-repository mount), and tag listing.

Authentication follows the registry's ``WWW-Authenticate`` challenge: Basic (then sent
preemptively), or Bearer tokens from the token server named by the challenge, cached per set of
scopes until shortly before they expire. Transient failures (429, 5xx, connection refused,
reset or dropped, read time-outs) are retried with exponential backoff and jitter; a blob upload
is retried only as a whole: a new upload session fed from a fresh call of its source factory.

No exception message, log line or repr of this module contains a password, token or
Authorization header: every message is passed through :func:`auth.redact` with the client's
secrets.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import logging
import os
import random
import re
import ssl
import threading
import time
import traceback
from typing import Callable, ContextManager, Iterable, Iterator
from urllib.parse import quote, urlencode, urljoin, urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

try:
    import urllib3
    from urllib3.exceptions import HTTPError as _Urllib3Error
    from urllib3.exceptions import MaxRetryError, ProxyError
    from urllib3.exceptions import SSLError as _Urllib3SSLError
    from urllib3.exceptions import InsecureRequestWarning
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import (
    AuthStore,
    Credentials,
    redact,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AuthError,
    DigestMismatch,
    NotFound,
    RegistryError,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    ACCEPT_ALL,
    SCHEMA1_TYPES,
    Descriptor,
    Manifest,
    compute_digest,
    parse_manifest,
)

log = logging.getLogger("airgap.operatorhub.registry")

RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 60.0
# Blobs up to this size are read into memory and sent in one PUT (one request fewer); larger
# ones are streamed. Bounded so that parallel_layers uploads in flight stay within a few MiB.
SMALL_BLOB = 1 << 20
MAX_BACKOFF = 30.0
MAX_MANIFEST_BYTES = 16 << 20
MAX_REDIRECTS = 5
USER_AGENT = "airgap.operatorhub"
# A token is treated as expired this long before the server says it expires.
TOKEN_MARGIN = 10.0
DEFAULT_TOKEN_LIFETIME = 60.0
# Manifest Accept header: every supported type, and schema 1 last so that a registry that only
# has schema 1 answers with it and we can say so clearly instead of getting a bare 404.
_ACCEPT_MANIFEST = ", ".join(ACCEPT_ALL) + ", " + ", ".join(f"{t};q=0.1" for t in SCHEMA1_TYPES)
_HUB_HOSTS = ("docker.io", "index.docker.io")
DOCKER_HUB_API = "registry-1.docker.io"
_NOT_FOUND_CODES = ("MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN", "BLOB_UPLOAD_UNKNOWN")


class _Transient(Exception):
    """A failure worth retrying: ``cause`` says what happened, ``retry_after`` what the server asked."""

    def __init__(self, cause: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after
        # no connection could be made at all (name resolution, refused, connect time-out)
        self.unreachable = unreachable


# urllib3 errors that mean no connection could be made, as opposed to one that dropped
_UNREACHABLE = {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}


class _Response:
    """A fully read response."""

    def __init__(self, status: int, headers, data: bytes, url: str):
        self.status = status
        self.headers = headers
        self.data = data
        self.url = url


def api_host(host: str) -> str:
    """The host:port Registry API calls go to (the Docker Hub answers on registry-1.docker.io)."""
    host = host.strip()
    for prefix in ("https://", "http://"):
        if host.lower().startswith(prefix):
            host = host[len(prefix):]
    host = host.rstrip("/")
    return DOCKER_HUB_API if host.lower() in _HUB_HOSTS else host


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP-date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


_CHALLENGE_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str | None) -> tuple[str, dict[str, str]] | None:
    """(scheme lower-cased, params) of a WWW-Authenticate header, or None."""
    if not header:
        return None
    scheme, dummy, rest = header.strip().partition(" ")
    params = {}
    for match in _CHALLENGE_PARAM.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = value.replace('\\"', '"')
    return scheme.lower(), params


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if match and re.search(r'rel\s*=\s*"?next"?', match.group(2)):
            return match.group(1)
    return None


def _digest_algorithm(digest: str) -> str:
    algorithm = digest.split(":", 1)[0]
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise RegistryError(f"digest {digest!r} uses an unsupported algorithm: use sha256 or sha512")
    return algorithm


def _scope(repo: str, actions: str) -> str:
    return f"repository:{repo}:{actions}"


_SSL_CONTEXTS: dict[tuple, ssl.SSLContext] = {}
_SSL_CONTEXTS_LOCK = threading.Lock()


def _ssl_context_for(verify: bool, ca_path: str | None, client_cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    """One context per (verify, ca_path, client certificate) for the process: loading the system
    trust store costs tens of milliseconds, too much to pay for every registry of a run."""
    key = (verify, ca_path, client_cert)
    with _SSL_CONTEXTS_LOCK:
        context = _SSL_CONTEXTS.get(key)
        if context is None:
            context = _build_ssl_context(verify, ca_path)
            if client_cert is not None:
                try:
                    context.load_cert_chain(certfile=client_cert[0], keyfile=client_cert[1])
                except (OSError, ssl.SSLError) as exc:
                    raise RegistryError(
                        f"client certificate {client_cert[0]} with key {client_cert[1]} cannot be loaded: "
                        f"{getattr(exc, 'strerror', None) or exc}; give a PEM certificate and its unencrypted PEM key"
                    ) from None
            _SSL_CONTEXTS[key] = context
        return context


def _build_ssl_context(verify: bool, ca_path: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    # urllib3 matches the host name itself (and sends no SNI for IP addresses, which a context
    # with check_hostname would refuse under urllib3 1.26).
    context.check_hostname = False
    if ca_path:
        files = []
        if os.path.isdir(ca_path):
            files = sorted(
                os.path.join(ca_path, name) for name in os.listdir(ca_path) if name.endswith((".crt", ".pem"))
            )
        else:
            files = [ca_path]
        for path in files:
            try:
                context.load_verify_locations(cafile=path)
            except (OSError, ssl.SSLError) as exc:
                raise RegistryError(f"CA file {path} (ca_path) cannot be loaded: {exc}; give a PEM certificate") from None
    return context


class RegistryClient:
    """A client of one registry host. Thread-safe; build one per host and share it."""

    def __init__(
        self,
        host: str,
        credentials: Credentials | None = None,
        tls_verify: bool = True,
        ca_path: str | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        pool_size: int = 16,
        on_retry: Callable[[str], None] | None = None,
        client_cert: tuple[str, str] | None = None,
    ):
        if not HAS_URLLIB3:
            raise RegistryError("the Python library urllib3 is required to talk to registries: pip install urllib3")
        forced_http = host.strip().lower().startswith("http://")
        self.host = api_host(host)
        self._credentials = credentials
        self._verify = bool(tls_verify)
        self._ca_path = ca_path
        self._client_cert = tuple(client_cert) if client_cert else None
        self._retries = max(0, int(retries))
        self._backoff = max(0.0, float(backoff))
        self._timeout = urllib3.Timeout(connect=min(float(timeout), 30.0), read=float(timeout))
        self._pool_size = max(1, int(pool_size))
        self._on_retry = on_retry
        self._lock = threading.RLock()
        self._token_lock = threading.Lock()
        self._scheme: str | None = "http" if forced_http else None
        self._auth_kind: str | None = None  # None, "basic" or "bearer"
        self._bearer: dict[str, str] = {}  # realm, service of the last Bearer challenge
        self._tokens: dict[frozenset, tuple[str, float]] = {}
        self._secrets: list[str] = credentials.secrets() if credentials else []
        self._managers: dict[tuple[str, str], object] = {}
        self._unreachable: str | None = None
        self._proxy_cache: dict[tuple[str, str], str] = {}
        if not self._verify:
            # The user asked for this registry to be used without verification; say it once
            # through our own messages rather than one warning per request.
            urllib3.disable_warnings(InsecureRequestWarning)

    def __repr__(self) -> str:
        user = self._credentials.username if self._credentials else None
        return f"RegistryClient(host={self.host!r}, user={user!r}, tls_verify={self._verify})"

    # -- plumbing ----------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        with self._lock:
            secrets = list(self._secrets)
        return redact(text, secrets)

    def _remember_secret(self, secret: str) -> None:
        if secret:
            with self._lock:
                if secret not in self._secrets:
                    self._secrets.append(secret)

    def _proxy_for(self, scheme: str, netloc: str) -> str:
        key = (scheme, netloc)
        with self._lock:
            if key in self._proxy_cache:
                return self._proxy_cache[key]
        proxies = getproxies_environment()
        proxy = proxies.get(scheme) or ""
        # NO_PROXY entries match the host with or without its port
        if proxy and proxy_bypass_environment(netloc, proxies):
            proxy = ""
        with self._lock:
            self._proxy_cache[key] = proxy
        return proxy

    def _manager(self, url: str):
        parts = urlsplit(url)
        proxy = self._proxy_for(parts.scheme, parts.netloc)
        with self._lock:
            manager = self._managers.get((proxy, parts.scheme))
            if manager is None:
                kwargs = dict(
                    num_pools=16,
                    maxsize=self._pool_size,
                    block=True,
                    timeout=self._timeout,
                    retries=False,
                    headers={"User-Agent": USER_AGENT},
                )
                if parts.scheme == "https" or proxy:
                    # A plain-http registry never needs the trust store (nor its load time).
                    kwargs["ssl_context"] = _ssl_context_for(self._verify, self._ca_path, self._client_cert)
                if not self._verify:
                    # (no assert_hostname: urllib3 1.26 hands it to plain-http connections too)
                    kwargs["cert_reqs"] = "CERT_NONE"
                if proxy:
                    proxy_parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
                    proxy_headers = None
                    if proxy_parts.username is not None:
                        auth = f"{proxy_parts.username}:{proxy_parts.password or ''}"
                        self._remember_secret(proxy_parts.password or "")
                        proxy_headers = urllib3.make_headers(proxy_basic_auth=auth)
                        proxy_url = f"{proxy_parts.scheme}://{proxy_parts.hostname}"
                        if proxy_parts.port:
                            proxy_url += f":{proxy_parts.port}"
                    else:
                        proxy_url = proxy_parts.geturl()
                    manager = urllib3.ProxyManager(proxy_url, proxy_headers=proxy_headers, **kwargs)
                else:
                    manager = urllib3.PoolManager(**kwargs)
                self._managers[(proxy, parts.scheme)] = manager
        return manager

    def _base(self) -> str:
        if self._scheme is None:
            with self._lock:
                if self._scheme is None:
                    scheme = self._probe_scheme()
                    if scheme is None:
                        return f"https://{self.host}"
                    self._scheme = scheme
        return f"{self._scheme}://{self.host}"

    def _probe_scheme(self) -> str | None:
        """https, unless verification is off and the TLS handshake fails (podman's insecure
        registries: then plain http). None when the registry could not be reached at all."""
        if self._verify:
            return "https"
        try:
            response = self._send("GET", f"https://{self.host}/v2/", {}, None, stream=False)
        except _HandshakeFailed:
            log.debug("%s: TLS handshake failed with verification off; using plain http", self.host)
            return "http"
        except _Transient:
            return None
        del response
        return "https"

    def _url(self, path_or_url: str) -> str:
        if "://" in path_or_url:
            return path_or_url
        return self._base() + path_or_url

    def _short(self, url: str) -> str:
        """host/path of a URL without its query (upload state, signatures), for messages."""
        parts = urlsplit(url)
        return f"{parts.netloc}{parts.path}"

    def _send(self, method: str, url: str, headers: dict, body, stream: bool, chunked: bool = False):
        """One HTTP exchange. Returns a _Response (read) or the urllib3 response (stream=True).
        Raises _Transient for failures worth retrying, RegistryError for the others."""
        manager = self._manager(url)
        try:
            response = manager.urlopen(
                method,
                url,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=self._timeout,
                chunked=chunked,
            )
        except _Urllib3Error as exc:
            raise self._classify(exc, url) from None
        except OSError as exc:
            raise _Transient(f"connection error: {exc}") from None
        if stream:
            return response
        try:
            data = response.read(decode_content=False)
        except _Urllib3Error as exc:
            response.release_conn()
            raise self._classify(exc, url) from None
        except OSError as exc:
            response.release_conn()
            raise _Transient(f"connection error while reading the response: {exc}") from None
        length = response.headers.get("Content-Length")
        if method != "HEAD" and length and length.isdigit() and len(data) < int(length):
            response.release_conn()
            raise _Transient(f"connection dropped after {len(data)} of {length} response bytes")
        response.release_conn()
        return _Response(response.status, response.headers, data, url)

    def _classify(self, exc: Exception, url: str) -> Exception:
        reason = exc
        if isinstance(exc, MaxRetryError) and exc.reason is not None:
            reason = exc.reason
        host = urlsplit(url).netloc
        text = str(reason)
        if isinstance(reason, ProxyError):
            return _Transient(f"proxy error: {text}")
        if isinstance(reason, (_Urllib3SSLError, ssl.SSLError)) or "SSL" in type(reason).__name__:
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or isinstance(
                getattr(reason, "__context__", None), ssl.SSLCertVerificationError
            ) or "doesn't match" in text or "hostname" in text.lower() and "match" in text.lower():
                return RegistryError(
                    self._redact(
                        f"TLS verification of {host} failed: {text}; give its CA with ca_path, "
                        "or set tls_verify: false for this registry only"
                    )
                )
            if "BAD_CERTIFICATE" in text or "CERTIFICATE_REQUIRED" in text or "bad certificate" in text:
                # the server refused our (missing or untrusted) client certificate
                return RegistryError(self._redact(
                    f"TLS handshake with {host} failed: {text}; the registry asks for a client certificate "
                    f"(mutual TLS): give client_cert and client_key in registries[] for it, or put a "
                    f"client.cert / client.key pair in /etc/containers/certs.d/{host}/"
                ))
            if "EOF" in text or "reset" in text.lower():
                return _Transient(f"TLS connection dropped: {text}")
            return _HandshakeFailed(
                self._redact(f"TLS handshake with {host} failed: {text}; if it serves plain http, set tls_verify: false for it")
            )
        if type(reason).__name__ in ("LocationParseError", "LocationValueError"):
            return RegistryError(f"invalid registry URL {self._short(url)}: {text}")
        unreachable = any(cls.__name__ in _UNREACHABLE for cls in type(reason).__mro__)
        return _Transient(f"{type(reason).__name__}: {text}", unreachable=unreachable)

    # -- auth --------------------------------------------------------------------------------
    def _cached_token(self, scopes: frozenset) -> str | None:
        now = time.monotonic()
        with self._lock:
            for key, (token, expires) in list(self._tokens.items()):
                if expires <= now:
                    del self._tokens[key]
                    continue
            hit = self._tokens.get(scopes)
            if hit:
                return hit[0]
            for key, (token, dummy) in self._tokens.items():
                if _covers(key, scopes):
                    return token
        return None

    def _drop_tokens(self, scopes: frozenset) -> None:
        with self._lock:
            for key in list(self._tokens):
                if _covers(key, scopes):
                    del self._tokens[key]

    def _fetch_token(self, scopes: frozenset) -> str:
        """Get a bearer token for ``scopes`` from the realm of the last challenge."""
        with self._lock:
            realm = self._bearer.get("realm")
            service = self._bearer.get("service")
        if not realm:
            raise AuthError(f"registry {self.host} asked for a Bearer token without naming a realm")
        creds = self._credentials
        with self._token_lock:
            cached = self._cached_token(scopes)
            if cached:
                return cached
            if creds is not None and creds.is_identity_token:
                form = {"grant_type": "refresh_token", "refresh_token": creds.password, "client_id": USER_AGENT}
                if service:
                    form["service"] = service
                if scopes:
                    form["scope"] = " ".join(sorted(scopes))
                response = self._exchange(
                    "POST",
                    realm,
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    urlencode(form).encode("ascii"),
                )
            else:
                query = []
                if service:
                    query.append(("service", service))
                for scope in sorted(scopes):
                    query.append(("scope", scope))
                if creds is not None:
                    query.append(("account", creds.username))
                url = realm + ("&" if "?" in realm else "?") + urlencode(query) if query else realm
                headers = {"Authorization": creds.basic_header()} if creds is not None else {}
                response = self._exchange("GET", url, headers, None)
            if response.status == 401:
                raise self._refused(f"token server {self._short(realm)} answered 401")
            if response.status == 403:
                raise AuthError(self._redact(
                    f"token server {self._short(realm)} of registry {self.host} denied a token for "
                    f"{' '.join(sorted(scopes)) or 'the registry'} ({self._who()}): check the account's permissions"
                ))
            if response.status != 200:
                raise RegistryError(self._redact(
                    f"token server {self._short(realm)} of registry {self.host} answered HTTP {response.status}"
                    f"{_error_text(response.data)}"
                ), status=response.status)
            try:
                body = json.loads(response.data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                body = None
            token = (body or {}).get("token") or (body or {}).get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise RegistryError(
                    f"token server {self._short(realm)} of registry {self.host} answered without a token"
                )
            self._remember_secret(token)
            for extra in ("refresh_token", "access_token", "token"):
                if isinstance(body.get(extra), str):
                    self._remember_secret(body[extra])
            lifetime = body.get("expires_in")
            if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
                lifetime = DEFAULT_TOKEN_LIFETIME
            margin = min(TOKEN_MARGIN, lifetime / 4.0)
            with self._lock:
                self._tokens[scopes] = (token, time.monotonic() + lifetime - margin)
            return token

    def _exchange(self, method: str, url: str, headers: dict, body) -> _Response:
        """A request outside the registry's auth (token server) with the usual retries."""
        attempt = 0
        while True:
            try:
                response = self._send(method, url, headers, body, stream=False)
                if response.status in RETRY_STATUSES:
                    raise _Transient(
                        f"HTTP {response.status}", parse_retry_after(response.headers.get("Retry-After"))
                    )
                return response
            except _Transient as transient:
                attempt += 1
                self._wait_or_raise(attempt, transient, method, url)

    def _who(self) -> str:
        if self._credentials is None:
            return "anonymously"
        if self._credentials.is_identity_token:
            return "with an identity token"
        return f"as user {self._credentials.username!r}"

    def _refused(self, detail: str) -> AuthError:
        if self._credentials is None:
            return AuthError(
                f"registry {self.host} requires credentials ({detail}) and none were found for it: add it to "
                "registries[] or log in with podman login --authfile AUTH_FILE"
            )
        if self._credentials.is_identity_token:
            return AuthError(self._redact(
                f"registry {self.host} refused the identity token of the auth file ({detail}): log in again"
            ))
        return AuthError(self._redact(
            f"registry {self.host} refused the credentials of user {self._credentials.username!r} ({detail}): "
            "check the password in registries[] or in the auth file"
        ))

    def _auth_headers(self, scopes: frozenset) -> tuple[dict, str | None, bool]:
        """(headers, kind sent, token fetched just now)."""
        with self._lock:
            kind = self._auth_kind
        if kind == "basic" and self._credentials is not None:
            return {"Authorization": self._credentials.basic_header()}, "basic", False
        if kind == "bearer":
            token = self._cached_token(scopes)
            fresh = False
            if token is None:
                token = self._fetch_token(scopes)
                fresh = True
            return {"Authorization": "Bearer " + token}, "bearer", fresh
        return {}, None, False

    def _accept_challenge(self, challenge, sent_kind, fresh, scopes: frozenset) -> tuple[bool, frozenset]:
        """Adopt a 401 challenge; (True, scopes) when the request is worth sending again."""
        scheme, params = challenge
        if scheme == "basic":
            if self._credentials is None or sent_kind == "basic":
                return False, scopes
            with self._lock:
                self._auth_kind = "basic"
            return True, scopes
        if scheme == "bearer":
            wanted = scopes
            if params.get("scope"):
                wanted = frozenset(scopes | set(params["scope"].split(" ")))
            if params.get("error") == "insufficient_scope" and sent_kind == "bearer" and fresh:
                return False, wanted
            with self._lock:
                self._auth_kind = "bearer"
                self._bearer = {"realm": params.get("realm", ""), "service": params.get("service", "")}
            if sent_kind == "bearer":
                if fresh and wanted == scopes:
                    return False, wanted
                self._drop_tokens(scopes)
            return True, wanted
        return False, scopes

    # -- the request loop --------------------------------------------------------------------
    def _check_reachable(self) -> None:
        with self._lock:
            unreachable = self._unreachable
        if unreachable:
            raise RegistryError(f"{unreachable} (not tried again in this run)")

    def _wait_or_raise(self, attempt: int, transient: _Transient, method: str, url: str) -> None:
        if attempt > self._retries:
            message = self._redact(
                f"{method} {self._short(url)} failed after {attempt} attempt(s): {transient.cause}; "
                f"check that registry {self.host} is up and reachable, or raise retries"
            )
            if transient.unreachable:
                # Every retry failed to even connect: the host is down or unknown. The other
                # requests of this run fail at once instead of each waiting out its own retries.
                with self._lock:
                    self._unreachable = message
            raise RegistryError(message)
        if transient.retry_after is not None:
            delay = transient.retry_after
        else:
            delay = min(MAX_BACKOFF, self._backoff * (2 ** (attempt - 1))) * random.uniform(0.5, 1.5)
        message = self._redact(
            f"{method} {self._short(url)}: {transient.cause}; retry {attempt}/{self._retries} in {delay:.2f}s"
        )
        log.info("%s", message)
        if self._on_retry is not None:
            self._on_retry(message)
        if delay > 0:
            time.sleep(delay)

    def _request(
        self,
        method: str,
        path_or_url: str,
        scopes: Iterable[str] = (),
        headers: dict | None = None,
        body=None,
        stream: bool = False,
        replayable: bool = True,
        follow_redirects: bool = False,
    ):
        """Send a registry request with auth, retries and (optionally) redirects.

        Returns a _Response, or the urllib3 response when ``stream``; the caller checks the
        status. With ``replayable=False`` (a streamed body) nothing is retried here: transient
        failures and a 401 surface as _Transient for the caller to restart the whole operation.
        """
        self._check_reachable()
        url = self._url(path_or_url)
        registry_netloc = urlsplit(url).netloc
        scope_set = frozenset(scopes)
        attempt = 0
        auth_rounds = 0
        redirects = 0
        while True:
            same_host = urlsplit(url).netloc == registry_netloc
            request_headers = dict(headers or {})
            sent_kind, fresh = None, False
            if same_host:
                auth, sent_kind, fresh = self._auth_headers(scope_set)
                request_headers.update(auth)
            try:
                response = self._send(method, url, request_headers, body, stream=stream)
                if response.status in RETRY_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    cause = f"HTTP {response.status}"
                    if stream:
                        _release(response)
                    raise _Transient(cause, retry_after)
            except _Transient as transient:
                if not replayable:
                    raise
                attempt += 1
                self._wait_or_raise(attempt, transient, method, url)
                continue
            status = response.status
            if status == 401 and same_host:
                data = _drain(response) if stream else response.data
                challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
                if challenge is None:
                    raise AuthError(
                        f"registry {self.host} answered 401 to {method} {self._short(url)} without a "
                        "WWW-Authenticate challenge; it cannot be logged in to"
                    )
                again, wanted = self._accept_challenge(challenge, sent_kind, fresh, scope_set)
                if again and auth_rounds < 2:
                    auth_rounds += 1
                    scope_set = wanted
                    if not replayable:
                        raise _Transient("401 on a streamed request (token expired?)")
                    continue
                if challenge[1].get("error") == "insufficient_scope" or (sent_kind == "bearer" and self._credentials):
                    raise self._denied(method, url, wanted, data, 401)
                code = _error_code(data) or "UNAUTHORIZED"
                raise self._refused(f"401 {code}")
            if status in (301, 302, 303, 307, 308) and follow_redirects:
                location = response.headers.get("Location")
                if stream:
                    _release(response)
                redirects += 1
                if not location or redirects > MAX_REDIRECTS:
                    raise RegistryError(f"{method} {self._short(url)}: too many or empty redirects")
                url = urljoin(url, location)
                if status == 303:
                    method = "GET"
                continue
            return response

    def _denied(self, method: str, url: str, scopes: Iterable[str], data: bytes, status: int) -> AuthError:
        actions = ", ".join(sorted(scopes)) or f"{method} {self._short(url)}"
        code = _error_code(data) or ("DENIED" if status == 403 else "UNAUTHORIZED")
        return AuthError(self._redact(
            f"registry {self.host} denied {actions} ({self._who()}, {status} {code}{_error_text(data, prefix=': ')}): "
            "grant that permission to the account, or use credentials that have it"
        ))

    def _fail(self, response, method: str, what: str, scopes: Iterable[str] = ()) -> Exception:
        """The exception for an unexpected response to a request about ``what``."""
        data = response.data if isinstance(response, _Response) else _drain(response)
        status = response.status
        code = _error_code(data)
        text = _error_text(data, prefix=": ")
        url = response.url if isinstance(response, _Response) else what
        if status == 404:
            return NotFound(self._redact(f"{what} not found on {self.host} ({code or 'HTTP 404'}{text})"), status=404, code=code)
        if status == 403:
            return self._denied(method, url, scopes, data, 403)
        if status == 401:
            return self._refused(f"401 {code or 'UNAUTHORIZED'}")
        return RegistryError(
            self._redact(f"{method} {what} on {self.host} failed: HTTP {status} {code or ''}{text}".replace("  ", " ")),
            status=status,
            code=code,
        )

    # -- API ---------------------------------------------------------------------------------
    def ping(self) -> None:
        """GET /v2/: checks that this is a registry and that the credentials are accepted."""
        response = self._request("GET", "/v2/")
        if response.status != 200:
            raise self._fail(response, "GET", "the API root /v2/")

    def get_manifest(self, repo: str, ref: str) -> Manifest:
        what = f"manifest {repo}:{ref}" if ":" not in ref else f"manifest {repo}@{ref}"
        response = self._request(
            "GET", f"/v2/{_q(repo)}/manifests/{_q(ref)}", scopes=[_scope(repo, "pull")],
            headers={"Accept": _ACCEPT_MANIFEST},
        )
        if response.status != 200:
            raise self._fail(response, "GET", what, [_scope(repo, "pull")])
        if len(response.data) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{what} on {self.host} is larger than {MAX_MANIFEST_BYTES} bytes; refusing it")
        try:
            manifest = parse_manifest(response.data, response.headers.get("Content-Type"))
        except RegistryError as exc:
            raise type(exc)(f"{self.host}/{repo}:{ref}: {exc}", status=exc.status, code=exc.code) from None
        if ":" in ref:
            algorithm = _digest_algorithm(ref)
            actual = compute_digest(response.data, algorithm)
            if actual != ref:
                raise DigestMismatch(
                    f"manifest {self.host}/{repo}@{ref}: the registry served content whose digest is {actual}; "
                    "the registry or a proxy altered it"
                )
            if algorithm != "sha256":
                manifest.digest = ref
        return manifest

    def head_manifest(self, repo: str, ref: str) -> Descriptor | None:
        response = self._request(
            "HEAD", f"/v2/{_q(repo)}/manifests/{_q(ref)}", scopes=[_scope(repo, "pull")],
            headers={"Accept": _ACCEPT_MANIFEST},
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(response, "HEAD", f"manifest {repo} {ref}", [_scope(repo, "pull")])
        media_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip()
        digest = response.headers.get("Docker-Content-Digest")
        length = response.headers.get("Content-Length")
        if media_type in SCHEMA1_TYPES or not digest or not (length or "").isdigit() or media_type not in ACCEPT_ALL:
            # Registries that omit the digest on HEAD (or answer generic types) get a GET.
            try:
                manifest = self.get_manifest(repo, ref)
            except NotFound:
                return None
            return manifest.descriptor
        return Descriptor(media_type=media_type, digest=digest, size=int(length))

    def put_manifest(self, repo: str, ref: str, manifest: Manifest) -> str:
        scopes = [_scope(repo, "pull,push")]
        response = self._request(
            "PUT", f"/v2/{_q(repo)}/manifests/{_q(ref)}", scopes=scopes,
            headers={"Content-Type": manifest.media_type}, body=manifest.raw,
        )
        if response.status not in (200, 201, 202):
            raise self._fail(response, "PUT", f"manifest {repo}:{ref}", scopes)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != manifest.digest:
            raise DigestMismatch(
                f"manifest {self.host}/{repo}:{ref}: pushed {manifest.digest} but the registry stored {returned}; "
                "it rewrote the manifest (a schema conversion?) and references by digest would break"
            )
        return manifest.digest

    def delete_manifest(self, repo: str, digest: str) -> None:
        scopes = [_scope(repo, "delete,pull,push")]
        response = self._request("DELETE", f"/v2/{_q(repo)}/manifests/{_q(digest)}", scopes=scopes)
        if response.status in (200, 202, 204):
            return
        if response.status == 405:
            raise RegistryError(
                f"registry {self.host} does not allow deleting manifest {repo}@{digest} (405 UNSUPPORTED): "
                "enable deletion on it (distribution: storage.delete.enabled: true)",
                status=405, code=_error_code(response.data) or "UNSUPPORTED",
            )
        raise self._fail(response, "DELETE", f"manifest {repo}@{digest}", scopes)

    def blob_size(self, repo: str, digest: str) -> int | None:
        response = self._request(
            "HEAD", f"/v2/{_q(repo)}/blobs/{_q(digest)}", scopes=[_scope(repo, "pull")], follow_redirects=True
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(response, "HEAD", f"blob {repo}@{digest}", [_scope(repo, "pull")])
        length = response.headers.get("Content-Length")
        return int(length) if length and length.isdigit() else None

    def list_tags(self, repo: str) -> list[str]:
        """Every tag of ``repo``, following Link pagination; NotFound if the repository does not exist."""
        tags: list[str] = []
        url = f"/v2/{_q(repo)}/tags/list"
        pages = 0
        while url:
            pages += 1
            if pages > 10000:
                raise RegistryError(f"tag list of {self.host}/{repo} does not end (over 10000 pages)")
            response = self._request("GET", url, scopes=[_scope(repo, "pull")])
            if response.status != 200:
                raise self._fail(response, "GET", f"tag list of {repo}", [_scope(repo, "pull")])
            try:
                body = json.loads(response.data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise RegistryError(f"tag list of {self.host}/{repo} is not valid JSON") from None
            tags.extend(t for t in (body.get("tags") or []) if isinstance(t, str))
            link = _next_link(response.headers.get("Link"))
            url = urljoin(response.url, link) if link else None
        return tags

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str, chunk_size: int = 1 << 20) -> Iterator[Iterator[bytes]]:
        """Stream a blob: ``with client.open_blob(repo, digest) as chunks: for chunk in chunks: ...``.

        Follows redirects to storage backends (without the registry's Authorization), resumes
        with a Range request when the connection drops mid-body, and raises DigestMismatch after
        the last chunk if the content does not hash to ``digest``.
        """
        scopes = [_scope(repo, "pull")]
        algorithm = _digest_algorithm(digest)
        state = {"response": None}
        response = self._request(
            "GET", f"/v2/{_q(repo)}/blobs/{_q(digest)}", scopes=scopes, stream=True, follow_redirects=True
        )
        if response.status != 200:
            raise self._fail(response, "GET", f"blob {repo}@{digest}", scopes)
        state["response"] = response
        final_url = response.geturl() if hasattr(response, "geturl") else None
        try:
            yield self._blob_chunks(state, repo, digest, algorithm, chunk_size, final_url, scopes)
        finally:
            if state["response"] is not None:
                _release(state["response"], drain=False)

    def _blob_chunks(self, state, repo, digest, algorithm, chunk_size, final_url, scopes) -> Iterator[bytes]:
        hasher = hashlib.new(algorithm)
        received = 0
        length = state["response"].headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        path = f"/v2/{_q(repo)}/blobs/{_q(digest)}"
        resumes = 0
        skip = 0
        while True:
            response = state["response"]
            try:
                for chunk in response.stream(chunk_size, decode_content=False):
                    if skip:
                        if len(chunk) <= skip:
                            skip -= len(chunk)
                            continue
                        chunk = chunk[skip:]
                        skip = 0
                    hasher.update(chunk)
                    received += len(chunk)
                    yield chunk
                if expected is None or received >= expected:
                    break
                cause = f"connection dropped after {received} of {expected} bytes"
            except _Urllib3Error as exc:
                cause = f"connection dropped after {received} bytes: {type(exc).__name__}"
            except OSError as exc:
                cause = f"connection dropped after {received} bytes: {exc}"
            _release(response, drain=False)
            state["response"] = None
            resumes += 1
            self._wait_or_raise(resumes, _Transient(cause), "GET", self._url(path))
            response = self._request(
                "GET", path, scopes=scopes, stream=True, follow_redirects=True,
                headers={"Range": f"bytes={received}-"},
            )
            state["response"] = response
            if response.status == 206:
                skip = 0
                content_range = response.headers.get("Content-Range", "")
                match = re.match(r"bytes (\d+)-", content_range)
                if match and int(match.group(1)) != received:
                    skip = received - int(match.group(1))
                    if skip < 0:
                        raise RegistryError(f"blob {repo}@{digest} on {self.host}: bad Content-Range on resume")
            elif response.status == 200:
                skip = received  # the server ignored Range: skip what we already have
            else:
                raise self._fail(response, "GET", f"blob {repo}@{digest}", scopes)
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest:
            raise DigestMismatch(
                f"blob {self.host}/{repo}@{digest}: received {received} bytes that hash to {actual}; "
                "the registry or a proxy served other content"
            )

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount; True if mounted (201), False if the registry declined (202)."""
        scopes = [_scope(repo, "pull,push"), _scope(from_repo, "pull")]
        query = urlencode([("mount", digest), ("from", from_repo)])
        response = self._request(
            "POST", f"/v2/{_q(repo)}/blobs/uploads/?{query}", scopes=scopes, body=b"",
            headers={"Content-Length": "0"},
        )
        if response.status == 201:
            return True
        if response.status == 202:
            self._cancel(response.headers.get("Location"), response.url, scopes)
            return False
        raise self._fail(response, "POST", f"mount of blob {digest} from {from_repo} into {repo}", scopes)

    def _start_upload(self, repo: str, scopes) -> str:
        response = self._request(
            "POST", f"/v2/{_q(repo)}/blobs/uploads/", scopes=scopes, body=b"", headers={"Content-Length": "0"}
        )
        if response.status != 202:
            raise self._fail(response, "POST", f"blob upload to {repo}", scopes)
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"registry {self.host} started an upload to {repo} without a Location header")
        return urljoin(response.url, location)

    def _cancel(self, location: str | None, base: str, scopes) -> None:
        """Best-effort DELETE of an upload session, so nothing is left half-written."""
        if not location:
            return
        url = urljoin(base, location)
        try:
            response = self._request("DELETE", url, scopes=scopes, replayable=False)
            if not isinstance(response, _Response):
                _release(response)
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
            log.debug("cancelling upload on %s failed: %s", self.host, self._redact(str(exc)))

    def upload_blob(
        self,
        repo: str,
        digest: str,
        size: int,
        source: Callable[[], ContextManager[Iterable[bytes]]],
        chunk_size: int = SMALL_BLOB,
        verified: bool = False,
    ) -> int:
        """Upload a blob from ``source()`` (called again for each attempt); returns bytes sent.

        Blobs up to ``chunk_size`` go in one PUT after reading them into memory; larger ones are
        streamed in one PATCH (Content-Length ``size``) and committed by a PUT. If the content
        does not hash to ``digest`` or has another size, the session is deleted and
        DigestMismatch raised: nothing is committed.

        ``verified=True`` says the source checks the digest itself before its last chunk is
        consumed (as ``open_blob`` does), so the content is not hashed a second time here; its
        DigestMismatch still aborts the upload before the commit.
        """
        scopes = [_scope(repo, "pull,push")]
        algorithm = _digest_algorithm(digest)
        attempt = 0
        while True:
            location = None
            try:
                location = self._start_upload(repo, scopes)
                hasher = None if verified else hashlib.new(algorithm)
                if size <= chunk_size:
                    sent = self._upload_small(location, repo, digest, size, source, hasher, scopes)
                else:
                    sent = self._upload_stream(location, repo, digest, size, source, hasher, scopes)
                location = None
                return sent
            except _Transient as transient:
                self._cancel(location, self._base(), scopes)
                attempt += 1
                self._wait_or_raise(attempt, transient, "upload of blob", f"{self._base()}/v2/{repo}/blobs/{digest}")
            except BaseException:
                self._cancel(location, self._base(), scopes)
                raise

    def _mismatch(self, repo: str, digest: str, size: int, actual: str, count: int) -> DigestMismatch:
        return DigestMismatch(
            f"blob {digest} for {self.host}/{repo}: the source gave {count} bytes hashing to {actual} "
            f"(expected {size} bytes); nothing was committed: the source is corrupt or changed"
        )

    def _upload_small(self, location, repo, digest, size, source, hasher, scopes) -> int:
        data = bytearray()
        count = 0
        with source() as chunks:
            for chunk in chunks:
                if hasher is not None:
                    hasher.update(chunk)
                count += len(chunk)
                if count <= size:
                    data += chunk
        actual = f"{hasher.name}:{hasher.hexdigest()}" if hasher is not None else digest
        if actual != digest or count != size:
            raise self._mismatch(repo, digest, size, actual, count)
        url = location + ("&" if "?" in location else "?") + urlencode([("digest", digest)])
        response = self._request(
            "PUT", url, scopes=scopes, body=bytes(data), replayable=False,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
        )
        self._check_committed(response, repo, digest, scopes)
        return len(data)

    def _upload_stream(self, location, repo, digest, size, source, hasher, scopes) -> int:
        counted = {"count": 0}

        def body() -> Iterator[bytes]:
            # Exactly ``size`` bytes go on the wire whatever the source yields, so the HTTP
            # framing stays valid; a short or long source is caught by the check below.
            sent = 0
            with source() as chunks:
                for chunk in chunks:
                    if hasher is not None:
                        hasher.update(chunk)
                    counted["count"] += len(chunk)
                    if sent < size:
                        piece = bytes(chunk[: size - sent])
                        sent += len(piece)
                        yield piece
            while sent < size:
                pad = min(1 << 20, size - sent)
                sent += pad
                yield b"\0" * pad

        generator = body()
        try:
            response = self._request(
                "PATCH", location, scopes=scopes, body=generator, replayable=False,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            )
        finally:
            generator.close()
        if response.status != 202 and response.status != 204:
            raise self._fail(response, "PATCH", f"blob upload of {digest} to {repo}", scopes)
        actual = f"{hasher.name}:{hasher.hexdigest()}" if hasher is not None else digest
        if actual != digest or counted["count"] != size:
            raise self._mismatch(repo, digest, size, actual, counted["count"])
        next_location = urljoin(location, response.headers.get("Location") or location)
        url = next_location + ("&" if "?" in next_location else "?") + urlencode([("digest", digest)])
        commit = self._request(
            "PUT", url, scopes=scopes, body=b"", replayable=False, headers={"Content-Length": "0"}
        )
        self._check_committed(commit, repo, digest, scopes)
        return size

    def _check_committed(self, response, repo, digest, scopes) -> None:
        if response.status not in (201, 204):
            if response.status == 400 and _error_code(response.data) in ("DIGEST_INVALID", "SIZE_INVALID"):
                raise DigestMismatch(self._redact(
                    f"blob {digest} for {self.host}/{repo}: the registry rejected the content"
                    f"{_error_text(response.data, prefix=': ')}"
                ))
            raise self._fail(response, "PUT", f"blob upload of {digest} to {repo}", scopes)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise DigestMismatch(f"blob {self.host}/{repo}: uploaded {digest} but the registry stored {returned}")

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()


class _HandshakeFailed(RegistryError):
    """A TLS handshake failure that is not a certificate problem (for example a plain-http server)."""


def _covers(have: frozenset, need: frozenset) -> bool:
    """Whether a token granted for ``have`` serves a request needing ``need``."""
    granted: dict[str, set] = {}
    for scope in have:
        kind, dummy, rest = scope.partition(":")
        name, dummy, actions = rest.rpartition(":")
        granted.setdefault(f"{kind}:{name}", set()).update(actions.split(","))
    for scope in need:
        kind, dummy, rest = scope.partition(":")
        name, dummy, actions = rest.rpartition(":")
        if not set(actions.split(",")) <= granted.get(f"{kind}:{name}", set()):
            return False
    return True


def _q(text: str) -> str:
    return quote(text, safe="/:@")


def _release(response, drain: bool = True) -> None:
    try:
        if drain:
            response.drain_conn()
        else:
            # A half-read body cannot go back to the pool: close that connection.
            response.close()
        response.release_conn()
    except Exception:  # noqa: BLE001 - releasing must never raise
        pass


def _drain(response) -> bytes:
    try:
        data = response.read(decode_content=False)
    except Exception:  # noqa: BLE001
        data = b""
    _release(response, drain=False)
    return data or b""


def _errors(data: bytes) -> list[dict]:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, AttributeError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _error_code(data: bytes) -> str | None:
    errors = _errors(data or b"")
    return str(errors[0].get("code")) if errors and errors[0].get("code") else None


def _error_text(data: bytes, prefix: str = ": ") -> str:
    errors = _errors(data or b"")
    if errors:
        text = "; ".join(
            " ".join(str(p) for p in (e.get("code"), e.get("message")) if p) for e in errors[:3]
        )
    else:
        text = (data or b"")[:200].decode("utf-8", "replace").strip()
        text = re.sub(r"\s+", " ", text)
    return prefix + text if text else ""


class RegistryPool:
    """One RegistryClient per registry host, built from an AuthStore. Thread-safe."""

    def __init__(
        self,
        auth: AuthStore,
        retries: int = 5,
        pool_size: int = 16,
        timeout: float = 60.0,
        on_retry: Callable[[str], None] | None = None,
        backoff: float = 0.5,
    ):
        self._auth = auth
        self._retries = retries
        self._pool_size = pool_size
        self._timeout = timeout
        self._listeners: list[Callable[[str], None]] = [on_retry] if on_retry else []
        self._backoff = backoff
        self._clients: dict[tuple[str, Credentials | None], RegistryClient] = {}
        self._lock = threading.Lock()

    @property
    def auth(self) -> AuthStore:
        return self._auth

    def add_retry_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(message)`` on every retry of every client of this pool."""
        with self._lock:
            self._listeners.append(listener)

    def _notify_retry(self, message: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(message)

    def client(self, host: str, repository: str | None = None) -> RegistryClient:
        """The client for ``host``, with the credentials for ``repository`` when the auth file
        has repository-scoped entries (podman's ``quay.io/org`` keys); one client per distinct
        credentials, so a host with one login has one client and one connection pool."""
        credentials = self._auth.credentials_for(host, repository)
        key = (api_host(host), credentials)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                verify, ca_path = self._auth.tls_for(host)
                client = RegistryClient(
                    host,
                    credentials=credentials,
                    tls_verify=verify,
                    ca_path=ca_path,
                    retries=self._retries,
                    backoff=self._backoff,
                    timeout=self._timeout,
                    pool_size=self._pool_size,
                    on_retry=self._notify_retry,
                    client_cert=self._auth.client_cert_for(host),
                )
                self._clients[key] = client
            return client

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
