# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry authentication as the registry's ``WWW-Authenticate`` challenge asks for it.

Basic: the credentials are then sent with every request. Bearer: a token from the token server
the challenge names, for the scopes a request needs (``repository:NAME:pull,push``), cached
until shortly before it expires; a token granted for more scopes serves requests that need fewer.

The realm a challenge names gets the credentials (Basic, or the identity token), as the token
protocol wants, but never over plain http for a registry reached over https: such a realm is
refused. Its TLS settings are its own (see ``Transport.tls_for``), and its answer is read up
to ``MAX_TOKEN_BYTES``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Callable
from urllib.parse import urlencode, urlsplit

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import (
    USER_AGENT,
    Response,
    Secrets,
    Transport,
    error_text,
    short_url,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AuthError, RegistryError

# A token is treated as expired this long before the server says it expires.
TOKEN_MARGIN = 10.0
DEFAULT_TOKEN_LIFETIME = 60.0
# A token server's answer: a JWT of a few KiB, or an opaque token; nothing needs a MiB.
MAX_TOKEN_BYTES = 1 << 20

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


def repository_scope(repo: str, actions: str) -> str:
    """The token scope for ``actions`` (``pull``, ``pull,push`` ...) on repository ``repo``."""
    return f"repository:{repo}:{actions}"


def scopes_cover(have: frozenset, need: frozenset) -> bool:
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


class Authenticator:
    """What one client sends to authenticate, learnt from the registry's challenges. Thread-safe.

    The first challenge gate (issue 11): until the scheme is learnt, a request goes without
    credentials and costs a 401 round trip. With credentials, the first request to the registry
    goes alone (:meth:`pass_gate` returns True to it) and the others wait in :meth:`pass_gate`
    until :meth:`open_gate` says its first answer came, so that they send credentials (Basic: the
    header; Bearer: a token for their own scopes) at once: one 401 per client, not one per thread.

    Thread safety: the gate is an Event that is set once and never cleared, so a request that
    finds it set (every request after the first answer) takes no lock. Whether the first
    request is taken is decided under ``_gate_lock``, held only for that test-and-set, never while
    sending or waiting. The first request opens the gate after its first answer whatever it is
    (the caller does it in a ``finally`` too), and a waiter waits at most ``first_wait`` seconds
    (the transport's timeout for one exchange) and then opens the gate itself: a hung first
    request holds the others no longer than it could hold itself. The first request, once it
    passed, waits for nothing but its own exchange, so a waiter that holds a lock of its caller
    (the copy engine's per-manifest locks) cannot deadlock with it. Opened without the scheme
    learnt (anonymous access works, an error), requests go as without the gate. A client
    without credentials never waits: it has nothing to send up front.
    """

    def __init__(self, host: str, credentials: Credentials | None, transport: Transport, secrets: Secrets,
                 warn_clear: Callable[[], None] | None = None, first_wait: float = 60.0):
        self._host = host
        self._first_wait = first_wait
        self._gate = threading.Event()  # set once the first request of the client has its answer
        self._gate_lock = threading.Lock()
        self._gate_taken = False
        if credentials is None:
            self._gate.set()
        self._warn_clear = warn_clear
        self._credentials = credentials
        self._transport = transport
        self._secrets = secrets
        self._lock = threading.RLock()
        self._token_lock = threading.Lock()  # one token request at a time
        self._kind: str | None = None  # None, "basic" or "bearer"
        self._bearer: dict[str, str] = {}  # realm, service of the last Bearer challenge
        self._tokens: dict[frozenset, tuple[str, float]] = {}  # scopes: (token, expiry on time.monotonic())

    def headers(self, scopes: frozenset) -> tuple[dict, str | None, bool]:
        """(headers, kind sent, token fetched just now)."""
        with self._lock:
            kind = self._kind
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

    def pass_gate(self) -> bool:
        """Before a request to the registry itself: True for the request that goes first (its
        caller must call :meth:`open_gate` once it has an answer or fails); False for the others,
        which return once the first answer came (or after ``first_wait`` seconds)."""
        if self._gate.is_set():
            return False
        with self._gate_lock:
            if not self._gate_taken:
                self._gate_taken = True
                return True
        if not self._gate.wait(self._first_wait):
            self.open_gate()  # the first request hangs: the others go as without the gate
        return False

    def open_gate(self) -> None:
        """Let the requests waiting for the first answer go (idempotent)."""
        self._gate.set()

    def accept_challenge(self, challenge, sent_kind, fresh, scopes: frozenset) -> tuple[bool, frozenset]:
        """Adopt a 401 challenge; (True, scopes) when the request is worth sending again."""
        scheme, params = challenge
        if scheme == "basic":
            if self._credentials is None or sent_kind == "basic":
                return False, scopes
            with self._lock:
                self._kind = "basic"
            return True, scopes
        if scheme == "bearer":
            wanted = scopes
            if params.get("scope"):
                wanted = frozenset(scopes | set(params["scope"].split(" ")))
            if params.get("error") == "insufficient_scope" and sent_kind == "bearer" and fresh:
                return False, wanted
            with self._lock:
                self._kind = "bearer"
                self._bearer = {"realm": params.get("realm", ""), "service": params.get("service", "")}
            if sent_kind == "bearer":
                if fresh and wanted == scopes:
                    return False, wanted
                self._drop_tokens(scopes)
            return True, wanted
        return False, scopes

    def who(self) -> str:
        """How requests are authenticated, for messages: anonymously, as user 'NAME' ..."""
        if self._credentials is None:
            return "anonymously"
        if self._credentials.is_identity_token:
            return "with an identity token"
        return f"as user {self._credentials.username!r}"

    def refused(self, detail: str) -> AuthError:
        """The error for credentials the registry (or its token server) did not accept."""
        if self._credentials is None:
            return AuthError(
                f"registry {self._host} requires credentials ({detail}) and none were found for it: add it to "
                "registries[] or log in with podman login --authfile AUTH_FILE"
            )
        if self._credentials.is_identity_token:
            return AuthError(self._secrets.redact(
                f"registry {self._host} refused the identity token of the auth file ({detail}): log in again"
            ))
        return AuthError(self._secrets.redact(
            f"registry {self._host} refused the credentials of user {self._credentials.username!r} ({detail}): "
            "check the password in registries[] or in the auth file"
        ))

    # -- tokens ------------------------------------------------------------------------------
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
                if scopes_cover(key, scopes):
                    return token
        return None

    def _drop_tokens(self, scopes: frozenset) -> None:
        with self._lock:
            for key in list(self._tokens):
                if scopes_cover(key, scopes):
                    del self._tokens[key]

    def _fetch_token(self, scopes: frozenset) -> str:
        """Get a bearer token for ``scopes`` from the realm of the last challenge."""
        with self._lock:
            realm = self._bearer.get("realm")
            service = self._bearer.get("service")
        if not realm:
            raise AuthError(f"registry {self._host} asked for a Bearer token without naming a realm")
        self._check_realm(realm)
        with self._token_lock:
            cached = self._cached_token(scopes)
            if cached:
                return cached
            response = self._ask_token_server(realm, service, scopes)
            token, lifetime = self._read_token(response, realm, scopes)
            margin = min(TOKEN_MARGIN, lifetime / 4.0)
            with self._lock:
                self._tokens[scopes] = (token, time.monotonic() + lifetime - margin)
            return token

    def _check_realm(self, realm: str) -> None:
        """Refuse a realm that would get the credentials in clear from a registry reached over https."""
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AuthError(
                f"registry {self._host} names the token realm {short_url(realm)!r}, which is not an http(s) URL: "
                "fix the registry's token configuration"
            )
        registry_scheme = urlsplit(self._transport.base()).scheme
        if parts.scheme == "http" and registry_scheme == "https":
            raise AuthError(
                f"registry {self._host} is reached over https but names its token server over plain http "
                f"(http://{short_url(realm)}): refusing to send credentials there in clear; configure the "
                "registry's token realm as an https URL"
            )
        if parts.scheme == "http" and self._credentials is not None and self._warn_clear is not None:
            self._warn_clear()

    def _ask_token_server(self, realm: str, service: str | None, scopes: frozenset) -> Response:
        creds = self._credentials
        if creds is not None and creds.is_identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": creds.password, "client_id": USER_AGENT}
            if service:
                form["service"] = service
            if scopes:
                form["scope"] = " ".join(sorted(scopes))
            return self._transport.exchange(
                "POST",
                realm,
                {"Content-Type": "application/x-www-form-urlencoded"},
                urlencode(form).encode("ascii"),
                max_body=MAX_TOKEN_BYTES,
            )
        query = []
        if service:
            query.append(("service", service))
        for scope in sorted(scopes):
            query.append(("scope", scope))
        if creds is not None:
            query.append(("account", creds.username))
        url = realm + ("&" if "?" in realm else "?") + urlencode(query) if query else realm
        headers = {"Authorization": creds.basic_header()} if creds is not None else {}
        return self._transport.exchange("GET", url, headers, None, max_body=MAX_TOKEN_BYTES)

    def _read_token(self, response: Response, realm: str, scopes: frozenset) -> tuple[str, float]:
        """(token, lifetime in seconds) from the token server's answer; every secret in it is
        remembered for redaction."""
        if response.status == 401:
            raise self.refused(f"token server {short_url(realm)} answered 401")
        if response.status == 403:
            raise AuthError(self._secrets.redact(
                f"token server {short_url(realm)} of registry {self._host} denied a token for "
                f"{' '.join(sorted(scopes)) or 'the registry'} ({self.who()}): check the account's permissions"
            ))
        if response.status != 200:
            raise RegistryError(self._secrets.redact(
                f"token server {short_url(realm)} of registry {self._host} answered HTTP {response.status}"
                f"{error_text(response.data)}"
            ), status=response.status)
        try:
            body = json.loads(response.data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        token = (body or {}).get("token") or (body or {}).get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"token server {short_url(realm)} of registry {self._host} answered without a token"
            )
        self._secrets.add(token)
        for extra in ("refresh_token", "access_token", "token"):
            if isinstance(body.get(extra), str):
                self._secrets.add(body[extra])
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, lifetime
