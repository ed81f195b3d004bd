# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sending requests to one registry host, and retrying the failures worth retrying.

A :class:`Transport` holds one urllib3 pool manager per (proxy, scheme) with keep-alive
connections (``maxsize=pool_size``, blocking when all are busy), so many threads can send through
it at once. It picks https, or plain http for a registry with verification off whose TLS
handshake fails. Each host is reached with its own TLS settings: the registry's, or for another
host (its token server, a storage backend it redirects to) what ``foreign_tls`` gives for that
host. Bodies read whole are bounded (``max_body``; error bodies to 64 KiB). Transient failures (408, 429, 5xx, connection refused, reset or dropped, read
time-outs) are retried with exponential backoff and jitter, or after the server's Retry-After;
a host that could not be connected to at all is not tried again in the run.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import ssl
import threading
import time
import traceback
from typing import Callable
from urllib.parse import quote, urlsplit

try:
    import urllib3
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import MaxRetryError, ProxyError
    from urllib3.exceptions import SSLError as _Urllib3SSLError
    from urllib3.exceptions import InsecureRequestWarning
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import sanity test
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR = traceback.format_exc()

    class Urllib3Error(Exception):
        """Stands in for urllib3's base error so that importers load; no Transport is built without urllib3."""

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.urls import host_port
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.tls import (
    ProxyChoice,
    split_proxy_credentials,
    ssl_context_for,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError

log = logging.getLogger("airgap.operatorhub.registry")

RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 30.0
USER_AGENT = "airgap.operatorhub"
# The most a response read whole may hold: tag list pages, API documents. Manifests and tokens have
# their own caps. A larger body is refused, not read: no registry sends one, a hostile one could.
MAX_BODY = 16 << 20
# An error document is only quoted (its first 200 bytes) and parsed for its code: a larger one is
# cut short there and its connection closed rather than read to the end.
MAX_ERROR_BODY = 64 << 10
# urllib3 errors that mean no connection could be made, as opposed to one that dropped
_UNREACHABLE = {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}


class TransientError(Exception):
    """A failure worth retrying: ``cause`` says what happened, ``retry_after`` what the server asked."""

    def __init__(self, cause: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(cause)
        self.cause = cause
        self.retry_after = retry_after
        # no connection could be made at all (name resolution, refused, connect time-out)
        self.unreachable = unreachable


class HandshakeFailed(RegistryError):
    """A TLS handshake failure that is not a certificate problem (for example a plain-http server)."""


class Response:
    """A fully read response."""

    def __init__(self, status: int, headers, data: bytes, url: str):
        self.status = status
        self.headers = headers
        self.data = data
        self.url = url


class Secrets:
    """The passwords and tokens one client knows, so that none appears in its messages. Thread-safe."""

    def __init__(self, known: list[str]):
        self._lock = threading.Lock()
        self._known = list(known)

    def add(self, secret: str) -> None:
        if secret:
            with self._lock:
                if secret not in self._known:
                    self._known.append(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            known = list(self._known)
        return redact(text, known)


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


def parse_next_link(header: str | None) -> str | None:
    """The target of the ``rel="next"`` entry of a Link header (pagination), or None."""
    if not header:
        return None
    for part in header.split(","):
        match = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
        if match and re.search(r'rel\s*=\s*"?next"?', match.group(2)):
            return match.group(1)
    return None


def split_url(url: str) -> tuple[str, str, str] | None:
    """(scheme lower-cased, ``host[:port]``, request target) of an absolute http(s) URL with a
    path and a plain host name or IPv4 address; None for anything else (bracketed IPv6, user
    info, a fragment, a non-ASCII host), which urllib3 parses in full."""
    start = url.find("://")
    if start <= 0:
        return None
    scheme = url[:start].lower()
    slash = url.find("/", start + 3)
    if scheme not in ("http", "https") or slash < 0:
        return None
    netloc, target = url[start + 3:slash], url[slash:]
    if not netloc or not netloc.isascii() or not netloc.isprintable() or any(c in netloc for c in " @[]?#\\%"):
        return None
    if "#" in target or not target.isprintable():
        return None
    host, sep, port = netloc.rpartition(":")
    if sep and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        return None
    return scheme, netloc, target


def quote_path(text: str) -> str:
    """A repository name or reference quoted for a URL path (``/``, ``:`` and ``@`` kept)."""
    return quote(text, safe="/:@")


def short_url(url: str) -> str:
    """host/path of a URL without its query (upload state, signatures), for messages."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def read_at_most(response, limit: int) -> tuple[bytes, bool]:
    """(up to ``limit`` bytes of a response's body, whether it holds more): never reads more than
    ``limit`` + 1 bytes, whatever the server sends or declares."""
    parts = []
    size = 0
    while size <= limit:
        chunk = response.read(min(1 << 16, limit + 1 - size), decode_content=False)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:limit], size > limit


def release_response(response, drain: bool = True) -> None:
    """Give a streamed response's connection back to the pool (closed if its body is half read,
    or if draining it would mean reading more than an error body's worth)."""
    try:
        more = True
        if drain:
            more = read_at_most(response, MAX_ERROR_BODY)[1]
        if more:
            # A half-read body cannot go back to the pool: close that connection.
            response.close()
        response.release_conn()
    except Exception:  # noqa: BLE001 - releasing must never raise
        pass


def drain_response(response) -> bytes:
    """Up to 64 KiB of the rest of a streamed response's body (b"" if reading fails), for an error
    message; its connection is released."""
    try:
        data = read_at_most(response, MAX_ERROR_BODY)[0]
    except Exception:  # noqa: BLE001
        data = b""
    release_response(response, drain=False)
    return data or b""


def _error_entries(data: bytes) -> list[dict]:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, AttributeError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def error_code(data: bytes) -> str | None:
    """The code of the first entry of a Registry API error body (``MANIFEST_UNKNOWN`` ...), or None."""
    errors = _error_entries(data or b"")
    return str(errors[0].get("code")) if errors and errors[0].get("code") else None


def error_text(data: bytes, prefix: str = ": ") -> str:
    """``prefix`` and up to three codes and messages of an error body (else its first 200 bytes); "" if empty."""
    errors = _error_entries(data or b"")
    if errors:
        text = "; ".join(
            " ".join(str(p) for p in (e.get("code"), e.get("message")) if p) for e in errors[:3]
        )
    else:
        text = (data or b"")[:200].decode("utf-8", "replace").strip()
        text = re.sub(r"\s+", " ", text)
    return prefix + text if text else ""


class Transport:
    """Sends requests to one registry host. Thread-safe."""

    def __init__(
        self,
        host: str,
        secrets: Secrets,
        tls_verify: bool = True,
        ca_path: str | None = None,
        client_cert: tuple[str, str] | None = None,
        retries: int = 5,
        backoff: float = 0.5,
        timeout: float = 60.0,
        pool_size: int = 16,
        on_retry: Callable[[str], None] | None = None,
        scheme: str | None = None,
        foreign_tls: Callable[[str], tuple[bool, str | None, tuple[str, str] | None]] | None = None,
    ):
        """``host`` is the API host:port; ``scheme`` None means probe for it on first use.
        ``foreign_tls(host_port)`` gives (verify, ca_path, client_cert) for any other host; by
        default another host is verified (with the system's CAs and ``ca_path``) and is never
        offered the registry's client certificate."""
        if not HAS_URLLIB3:
            raise RegistryError("the Python library urllib3 is required to talk to registries: pip install urllib3")
        self.host = host
        self.verify = bool(tls_verify)
        self._secrets = secrets
        self._ca_path = ca_path
        self._client_cert = client_cert
        self._retries = max(0, int(retries))
        self._backoff = max(0.0, float(backoff))
        self._timeout = urllib3.Timeout(connect=min(float(timeout), 30.0), read=float(timeout))
        self._pool_size = max(1, int(pool_size))
        self._on_retry = on_retry
        self._lock = threading.RLock()
        self._scheme = scheme
        self._foreign_tls = foreign_tls
        self._managers: dict[tuple, object] = {}
        # (scheme, netloc) -> (manager, whether it connects directly, without a proxy)
        self._by_origin: dict[tuple[str, str], tuple[object, bool]] = {}
        self._proxies = ProxyChoice()
        self._unreachable: str | None = None
        if not self.verify:
            # The user asked for this registry to be used without verification; say it once
            # through our own messages rather than one warning per request.
            urllib3.disable_warnings(InsecureRequestWarning)

    # -- connections -------------------------------------------------------------------------
    def tls_for(self, netloc: str, scheme: str = "https") -> tuple[bool, str | None, tuple[str, str] | None]:
        """(verify, ca_path, client certificate) to reach ``netloc``: the registry's own settings
        for the registry, never for another host (issue 7: a token server or storage backend of
        a registry marked ``tls_verify: false`` was contacted unverified, with its client cert)."""
        if host_port(netloc, scheme) == host_port(self.host, scheme):
            return self.verify, self._ca_path, self._client_cert
        if self._foreign_tls is not None:
            return self._foreign_tls(netloc)
        return True, self._ca_path, None

    def _manager_for(self, url: str, split: tuple[str, str, str] | None = None) -> tuple[object, bool]:
        """(the pool manager for ``url``, whether it connects without a proxy), remembered per
        (scheme, netloc): the proxy and TLS settings of a host do not change during a run.
        ``split``: ``split_url(url)`` when the caller has it."""
        split = split or split_url(url)
        key = split[:2] if split is not None else None
        known = self._by_origin.get(key) if key is not None else None
        if known is not None:
            return known
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        proxy = self._proxies.proxy_for(parts.scheme, parts.netloc)
        tls = self.tls_for(parts.netloc, parts.scheme) if parts.scheme == "https" or proxy else None
        with self._lock:
            manager = self._managers.get((proxy, parts.scheme, tls))
            if manager is None:
                verify, ca_path, client_cert = tls or (True, None, None)
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
                    kwargs["ssl_context"] = ssl_context_for(verify, ca_path, client_cert)
                if not verify:
                    # (no assert_hostname: urllib3 1.26 hands it to plain-http connections too)
                    kwargs["cert_reqs"] = "CERT_NONE"
                if proxy:
                    proxy_url, proxy_auth, proxy_password = split_proxy_credentials(proxy)
                    self._secrets.add(proxy_password)
                    proxy_headers = urllib3.make_headers(proxy_basic_auth=proxy_auth) if proxy_auth is not None else None
                    manager = urllib3.ProxyManager(proxy_url, proxy_headers=proxy_headers, **kwargs)
                else:
                    manager = urllib3.PoolManager(**kwargs)
                self._managers[(proxy, parts.scheme, tls)] = manager
            self._by_origin[key] = (manager, not proxy)
        return manager, not proxy

    def base(self) -> str:
        """``scheme://host`` of the registry's API."""
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
        if self.verify:
            return "https"
        try:
            response = self.send("GET", f"https://{self.host}/v2/", {}, None, stream=False)
        except HandshakeFailed:
            log.debug("%s: TLS handshake failed with verification off; using plain http", self.host)
            return "http"
        except TransientError:
            return None
        del response
        return "https"

    def url(self, path_or_url: str) -> str:
        """The absolute URL of an API path such as ``/v2/``; absolute URLs are returned as they are."""
        if "://" in path_or_url:
            return path_or_url
        return self.base() + path_or_url

    # -- one exchange ------------------------------------------------------------------------
    def send(self, method: str, url: str, headers: dict, body, stream: bool, chunked: bool = False,
             max_body: int = MAX_BODY):
        """One HTTP exchange. Returns a Response (read) or the urllib3 response (stream=True).
        Raises TransientError for failures worth retrying, RegistryError for the others; a
        successful response whose body is over ``max_body`` bytes is refused unread."""
        split = split_url(url)
        manager, direct = self._manager_for(url, split)
        try:
            if split is not None and direct:
                # The connection pool of the host, given the request target: what PoolManager.urlopen
                # does after parsing the whole URL once more (a cost per request worth skipping).
                scheme, netloc, target = split
                host, _sep, port = netloc.rpartition(":") if ":" in netloc else (netloc, "", "")
                opener = manager.connection_from_host(host.lower(), port=int(port) if port else None, scheme=scheme)
                url_or_target = target
            else:
                opener, url_or_target = manager, url
            response = opener.urlopen(
                method,
                url_or_target,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                timeout=self._timeout,
                chunked=chunked,
            )
        except Urllib3Error as exc:
            raise self._classify(exc, url) from None
        except OSError as exc:
            raise TransientError(f"connection error: {exc}") from None
        if stream:
            return response
        success = 200 <= response.status < 300
        limit = max_body if success else min(max_body, MAX_ERROR_BODY)
        length = response.headers.get("Content-Length")
        declared = int(length) if length and length.isdigit() else None
        if method != "HEAD" and success and declared is not None and declared > limit:
            release_response(response, drain=False)
            raise self._too_large(method, url, limit, f" (Content-Length {declared})")
        try:
            data, more = read_at_most(response, limit) if method != "HEAD" else (b"", False)
        except Urllib3Error as exc:
            release_response(response, drain=False)
            raise self._classify(exc, url) from None
        except OSError as exc:
            release_response(response, drain=False)
            raise TransientError(f"connection error while reading the response: {exc}") from None
        if more:
            release_response(response, drain=False)
            if success:
                raise self._too_large(method, url, limit, "")
            # an error document cut short: its first bytes are all a message quotes
            return Response(response.status, response.headers, data, url)
        if method != "HEAD" and declared is not None and len(data) < declared:
            release_response(response, drain=False)
            raise TransientError(f"connection dropped after {len(data)} of {length} response bytes")
        response.release_conn()
        return Response(response.status, response.headers, data, url)

    def _too_large(self, method: str, url: str, limit: int, declared: str) -> RegistryError:
        host = urlsplit(url).netloc
        whose = f"registry {self.host}" if host_port(host) == host_port(self.host) else f"{host} (for registry {self.host})"
        return RegistryError(
            f"{method} {short_url(url)}: {whose} answered a body of more than {limit} bytes{declared}; refusing to "
            f"read it: check that {host} is the registry meant and not a proxy or portal answering in its place"
        )

    def _classify(self, exc: Exception, url: str) -> Exception:
        """The exception to raise for a urllib3 error: TransientError when worth retrying."""
        reason = exc
        if isinstance(exc, MaxRetryError) and exc.reason is not None:
            reason = exc.reason
        host = urlsplit(url).netloc
        text = str(reason)
        if isinstance(reason, ProxyError):
            return TransientError(f"proxy error: {text}")
        if isinstance(reason, (_Urllib3SSLError, ssl.SSLError)) or "SSL" in type(reason).__name__:
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or isinstance(
                getattr(reason, "__context__", None), ssl.SSLCertVerificationError
            ) or "doesn't match" in text or "hostname" in text.lower() and "match" in text.lower():
                return RegistryError(
                    self._secrets.redact(
                        f"TLS verification of {host} failed: {text}; give its CA with ca_path, "
                        "or set tls_verify: false for this registry only"
                    )
                )
            if "BAD_CERTIFICATE" in text or "CERTIFICATE_REQUIRED" in text or "bad certificate" in text:
                # the server refused our (missing or untrusted) client certificate
                return RegistryError(self._secrets.redact(
                    f"TLS handshake with {host} failed: {text}; the registry asks for a client certificate "
                    f"(mutual TLS): give client_cert and client_key in registries[] for it, or put a "
                    f"client.cert / client.key pair in /etc/containers/certs.d/{host}/"
                ))
            if "EOF" in text or "reset" in text.lower():
                return TransientError(f"TLS connection dropped: {text}")
            return HandshakeFailed(self._secrets.redact(
                f"TLS handshake with {host} failed: {text}; if it serves plain http, set tls_verify: false for it"
            ))
        if type(reason).__name__ in ("LocationParseError", "LocationValueError"):
            return RegistryError(f"invalid registry URL {short_url(url)}: {text}")
        unreachable = any(cls.__name__ in _UNREACHABLE for cls in type(reason).__mro__)
        return TransientError(f"{type(reason).__name__}: {text}", unreachable=unreachable)

    # -- retries -----------------------------------------------------------------------------
    def exchange(self, method: str, url: str, headers: dict, body, max_body: int = MAX_BODY) -> Response:
        """A request outside the registry's auth (token server) with the usual retries."""
        attempt = 0
        while True:
            try:
                response = self.send(method, url, headers, body, stream=False, max_body=max_body)
                if response.status in RETRY_STATUSES:
                    raise TransientError(
                        f"HTTP {response.status}", parse_retry_after(response.headers.get("Retry-After"))
                    )
                return response
            except TransientError as transient:
                attempt += 1
                self.wait_or_raise(attempt, transient, method, url)

    def check_reachable(self) -> None:
        """Raise at once if an earlier request found the host unreachable."""
        with self._lock:
            unreachable = self._unreachable
        if unreachable:
            raise RegistryError(
                f"registry {self.host} is not tried again in this run: an earlier request found it "
                f"unreachable ({unreachable})"
            )

    def wait_or_raise(self, attempt: int, transient: TransientError, method: str, url: str) -> None:
        """Sleep before retry number ``attempt``, or raise RegistryError when retries are spent."""
        if attempt > self._retries:
            message = self._secrets.redact(
                f"{method} {short_url(url)} failed after {attempt} attempt(s): {transient.cause}; "
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
        message = self._secrets.redact(
            f"{method} {short_url(url)}: {transient.cause}; retry {attempt}/{self._retries} in {delay:.2f}s"
        )
        log.info("%s", message)
        if self._on_retry is not None:
            self._on_retry(message)
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
            self._by_origin.clear()
        for manager in managers:
            manager.clear()
