# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCI distribution (Registry API v2) client.

One :class:`RegistryClient` per registry host, shared by many threads. It speaks the parts of the
API a mirror needs: manifests (get / head / put / delete) and tag listing here, blobs in
``blobs.py``. Each request goes through the loop of :meth:`RegistryClient._request`: auth headers
from ``token.py``, sending and retries from ``transport.py``, a 401 answered by adopting the
registry's challenge, redirects followed on request.

Credentials go only to the registry's own scheme, host and port (see ``urls.py``): an upload
``Location``, a ``Link`` or a redirect naming another origin is requested without them, and a
401 from there ends in an error saying so. A registry reached over plain http after a failed TLS
handshake (``tls_verify: false``, as podman does for insecure registries) gets its credentials in
clear only after a warning naming it.

No exception message, log line or repr of this package contains a password, token or
Authorization header: every message is passed through :func:`auth.redact` with the client's
secrets.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.blobs import BlobsMixin, digest_algorithm
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    ACCEPT_ALL,
    SCHEMA1_TYPES,
    Descriptor,
    Manifest,
    compute_digest,
    parse_manifest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import DOCKER_HUB_API, validate_digest
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.token import (
    Authenticator,
    parse_challenge,
    repository_scope,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.transport import (
    MAX_BODY,
    RETRY_STATUSES,
    Response,
    Secrets,
    Transport,
    TransientError,
    drain_response,
    error_code,
    error_text,
    parse_next_link,
    parse_retry_after,
    release_response,
    short_url,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.urls import (
    origin,
    ref_segment,
    registry_url,
    repo_path,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AuthError,
    DigestMismatch,
    InvalidReference,
    NotFound,
    RegistryError,
)

log = logging.getLogger("airgap.operatorhub.registry")

MAX_MANIFEST_BYTES = 16 << 20
# One page of a tag list: a repository with 100,000 tags lists in about 5 MB.
MAX_TAG_PAGE_BYTES = 16 << 20
MAX_REDIRECTS = 5
# Manifest Accept header: every supported type, and schema 1 last so that a registry that only
# has schema 1 answers with it and we can say so clearly instead of getting a bare 404.
_ACCEPT_MANIFEST = ", ".join(ACCEPT_ALL) + ", " + ", ".join(f"{t};q=0.1" for t in SCHEMA1_TYPES)
_HUB_HOSTS = ("docker.io", "index.docker.io")


def api_host(host: str) -> str:
    """The host:port Registry API calls go to (the Docker Hub answers on registry-1.docker.io)."""
    host = host.strip()
    for prefix in ("https://", "http://"):
        if host.lower().startswith(prefix):
            host = host[len(prefix):]
    host = host.rstrip("/")
    return DOCKER_HUB_API if host.lower() in _HUB_HOSTS else host


class RegistryClient(BlobsMixin):
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
        foreign_tls: Callable[[str], tuple] | None = None,
        on_warning: Callable[[str], None] | None = None,
    ):
        """``foreign_tls(host_port)``: (verify, ca_path, client_cert) for hosts other than this
        registry (its token server, storage it redirects to); ``on_warning(message)`` hears what
        the user must know, such as credentials sent over plain http."""
        forced_http = host.strip().lower().startswith("http://")
        self._forced_http = forced_http
        self._on_warning = on_warning
        self._clear_warned = threading.Event()
        self.host = api_host(host)
        self._credentials = credentials
        self._verify = bool(tls_verify)
        self._secrets = Secrets(credentials.secrets() if credentials else [])
        self._transport = Transport(
            self.host,
            self._secrets,
            tls_verify=tls_verify,
            ca_path=ca_path,
            client_cert=tuple(client_cert) if client_cert else None,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            pool_size=pool_size,
            on_retry=on_retry,
            scheme="http" if forced_http else None,
            foreign_tls=foreign_tls,
        )
        # the first request waits for no longer than one exchange may take: connect, then read
        self._authenticator = Authenticator(self.host, credentials, self._transport, self._secrets,
                                            warn_clear=self._warn_clear,
                                            first_wait=min(float(timeout), 30.0) + float(timeout))

    def __repr__(self) -> str:
        user = self._credentials.username if self._credentials else None
        return f"RegistryClient(host={self.host!r}, user={user!r}, tls_verify={self._verify})"

    # -- the request loop --------------------------------------------------------------------
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
        max_body: int = MAX_BODY,
    ):
        """Send a registry request with auth, retries and (optionally) redirects.

        Returns a Response, or the urllib3 response when ``stream``; the caller checks the
        status. With ``replayable=False`` (a streamed body) nothing is retried here: transient
        failures and a 401 surface as TransientError for the caller to restart the whole operation.

        Until the registry's scheme is learnt, a client with credentials sends its first request
        alone and the others wait for its answer (``Authenticator.pass_gate``): then they send
        credentials at once instead of each costing a 401. No lock is held while sending.
        """
        self._transport.check_reachable()
        url = self._transport.url(path_or_url)
        own = origin(self._transport.base())
        scope_set = frozenset(scopes)
        attempt = 0
        auth_rounds = 0
        redirects = 0
        # the first request of a client with credentials opens the gate at its first answer
        first = origin(url) == own and self._authenticator.pass_gate()
        try:
            while True:
                # credentials only for the registry's own (scheme, host, port); see urls.py
                same_host = origin(url) == own
                request_headers = dict(headers or {})
                sent_kind, fresh = None, False
                if same_host:
                    auth, sent_kind, fresh = self._authenticator.headers(scope_set)
                    if auth and own[0] == "http":
                        self._warn_clear()
                    request_headers.update(auth)
                try:
                    response = self._transport.send(method, url, request_headers, body, stream=stream,
                                                    max_body=max_body)
                    if response.status in RETRY_STATUSES:
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        cause = f"HTTP {response.status}"
                        if stream:
                            release_response(response)
                        raise TransientError(cause, retry_after)
                except TransientError as transient:
                    if first:
                        self._authenticator.open_gate()
                        first = False
                    if not replayable:
                        raise
                    attempt += 1
                    self._transport.wait_or_raise(attempt, transient, method, url)
                    continue
                status = response.status
                if status == 401 and same_host:
                    data = drain_response(response) if stream else response.data
                    challenge = parse_challenge(response.headers.get("WWW-Authenticate"))
                    if challenge is None:
                        raise AuthError(
                            f"registry {self.host} answered 401 to {method} {short_url(url)} without a "
                            "WWW-Authenticate challenge; it cannot be logged in to"
                        )
                    again, wanted = self._authenticator.accept_challenge(challenge, sent_kind, fresh, scope_set)
                    if first:
                        self._authenticator.open_gate()
                        first = False
                    if again and auth_rounds < 2:
                        auth_rounds += 1
                        scope_set = wanted
                        if not replayable:
                            raise TransientError("401 on a streamed request (token expired?)")
                        continue
                    if challenge[1].get("error") == "insufficient_scope" or (sent_kind == "bearer" and self._credentials):
                        raise self._denied(method, url, wanted, data, 401)
                    code = error_code(data) or "UNAUTHORIZED"
                    raise self._authenticator.refused(f"401 {code}")
                if first:
                    self._authenticator.open_gate()
                    first = False
                if status == 401:
                    if stream:
                        release_response(response, drain=False)
                    raise AuthError(
                        f"{urlsplit(url).scheme}://{short_url(url)} asked for credentials ({method}), at an address registry "
                        f"{self.host} named in a Location, Link or redirect; credentials are only sent to "
                        f"{self._transport.base()} itself: fix the registry's external URL (or its proxy's)"
                    )
                if status in (301, 302, 303, 307, 308) and follow_redirects:
                    location = response.headers.get("Location")
                    if stream:
                        release_response(response)
                    redirects += 1
                    if not location or redirects > MAX_REDIRECTS:
                        raise RegistryError(f"{method} {short_url(url)}: too many or empty redirects")
                    url = urljoin(url, location)
                    if status == 303:
                        method = "GET"
                    continue
                return response
        finally:
            if first:
                self._authenticator.open_gate()

    def _warn_clear(self) -> None:
        """Say once, before the first credentials go out over plain http, that they do."""
        if self._forced_http or self._clear_warned.is_set():
            return
        self._clear_warned.set()
        message = (
            f"registry {self.host} failed the TLS handshake and has tls_verify: false, so it is used over plain "
            "http (as podman does for insecure registries) and its credentials are sent in clear: serve it over "
            "https, or keep such a registry on a network you trust"
        )
        log.warning("%s", message)
        if self._on_warning is not None:
            self._on_warning(message)

    def _location(self, base: str, location: str) -> str:
        """The URL a Location or Link of this registry's answer to ``base`` points at."""
        return registry_url(self._transport.base(), base, location)

    def _denied(self, method: str, url: str, scopes: Iterable[str], data: bytes, status: int) -> AuthError:
        actions = ", ".join(sorted(scopes)) or f"{method} {short_url(url)}"
        code = error_code(data) or ("DENIED" if status == 403 else "UNAUTHORIZED")
        return AuthError(self._secrets.redact(
            f"registry {self.host} denied {actions} ({self._authenticator.who()}, {status} {code}{error_text(data, prefix=': ')}): "
            "grant that permission to the account, or use credentials that have it"
        ))

    def _fail(self, response, method: str, what: str, scopes: Iterable[str] = ()) -> Exception:
        """The exception for an unexpected response to a request about ``what``."""
        data = response.data if isinstance(response, Response) else drain_response(response)
        status = response.status
        code = error_code(data)
        text = error_text(data, prefix=": ")
        url = response.url if isinstance(response, Response) else what
        if status == 404:
            return NotFound(self._secrets.redact(f"{what} not found on {self.host} ({code or 'HTTP 404'}{text})"), status=404, code=code)
        if status == 403:
            return self._denied(method, url, scopes, data, 403)
        if status == 401:
            return self._authenticator.refused(f"401 {code or 'UNAUTHORIZED'}")
        return RegistryError(
            self._secrets.redact(f"{method} {what} on {self.host} failed: HTTP {status} {code or ''}{text}".replace("  ", " ")),
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
        scopes = [repository_scope(repo, "pull")]
        response = self._request(
            "GET", f"/v2/{repo_path(repo, self.host)}/manifests/{ref_segment(ref, self.host)}", scopes=scopes,
            headers={"Accept": _ACCEPT_MANIFEST}, max_body=MAX_MANIFEST_BYTES,
        )
        if response.status != 200:
            raise self._fail(response, "GET", what, scopes)
        if len(response.data) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{what} on {self.host} is larger than {MAX_MANIFEST_BYTES} bytes; refusing it")
        try:
            manifest = parse_manifest(response.data, response.headers.get("Content-Type"))
        except RegistryError as exc:
            raise type(exc)(f"{self.host}/{repo}:{ref}: {exc}", status=exc.status, code=exc.code) from None
        if ":" in ref:
            algorithm = digest_algorithm(ref)
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
        scopes = [repository_scope(repo, "pull")]
        response = self._request(
            "HEAD", f"/v2/{repo_path(repo, self.host)}/manifests/{ref_segment(ref, self.host)}", scopes=scopes,
            headers={"Accept": _ACCEPT_MANIFEST},
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._fail(response, "HEAD", f"manifest {repo} {ref}", scopes)
        media_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip()
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            # it becomes the digest of a descriptor, so it gets a descriptor's check
            try:
                validate_digest(digest, "Docker-Content-Digest")
            except InvalidReference as exc:
                raise RegistryError(f"registry {self.host}, HEAD manifest {repo}:{ref}: {exc}") from None
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
        scopes = [repository_scope(repo, "pull,push")]
        response = self._request(
            "PUT", f"/v2/{repo_path(repo, self.host)}/manifests/{ref_segment(ref, self.host)}", scopes=scopes,
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
        scopes = [repository_scope(repo, "delete,pull,push")]
        response = self._request(
            "DELETE", f"/v2/{repo_path(repo, self.host)}/manifests/{ref_segment(digest, self.host)}", scopes=scopes
        )
        if response.status in (200, 202, 204):
            return
        if response.status == 405:
            raise RegistryError(
                f"registry {self.host} does not allow deleting manifest {repo}@{digest} (405 UNSUPPORTED): "
                "enable deletion on it (distribution: storage.delete.enabled: true)",
                status=405, code=error_code(response.data) or "UNSUPPORTED",
            )
        raise self._fail(response, "DELETE", f"manifest {repo}@{digest}", scopes)

    def list_tags(self, repo: str) -> list[str]:
        """Every tag of ``repo``, following Link pagination; NotFound if the repository does not exist."""
        scopes = [repository_scope(repo, "pull")]
        tags: list[str] = []
        url = f"/v2/{repo_path(repo, self.host)}/tags/list"
        pages = 0
        while url:
            pages += 1
            if pages > 10000:
                raise RegistryError(f"tag list of {self.host}/{repo} does not end (over 10000 pages)")
            response = self._request("GET", url, scopes=scopes, max_body=MAX_TAG_PAGE_BYTES)
            if response.status != 200:
                raise self._fail(response, "GET", f"tag list of {repo}", scopes)
            try:
                body = json.loads(response.data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise RegistryError(f"tag list of {self.host}/{repo} is not valid JSON") from None
            tags.extend(t for t in (body.get("tags") or []) if isinstance(t, str))
            link = parse_next_link(response.headers.get("Link"))
            url = self._location(response.url, link) if link else None
        return tags

    def close(self) -> None:
        """Close the client's pooled connections."""
        self._transport.close()
