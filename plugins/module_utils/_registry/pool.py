# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RegistryPool: the registry clients of a run, one per host and distinct login.

Every host a client reaches gets its own TLS settings from the AuthStore: a registry its
``registries[]`` entry or certs.d directory; another host (a token server, a storage backend a
registry redirects to) its own entry or certs.d directory if it has one, else verification on,
with the system's CAs and the CA of the registry that sent us there, and no client certificate.
Warnings of the clients (credentials sent over plain http) join the AuthStore's warnings.
"""

from __future__ import annotations

import threading
from typing import Callable

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, Credentials
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryClient, api_host


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
                registry_ca = ca_path
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
                    foreign_tls=lambda netloc, ca=registry_ca: self._foreign_tls(netloc, ca),
                    on_warning=self._warn,
                )
                self._clients[key] = client
            return client

    def _foreign_tls(self, netloc: str, registry_ca: str | None) -> tuple:
        """(verify, ca_path, client_cert) for a host a registry sent a client to."""
        verify, ca_path = self._auth.tls_for(netloc)
        if self._auth.registry_config(netloc) is None and ca_path is None:
            # Trusting the registry's CA too is no weaker than the system's trust store alone:
            # verification stays on and the registry's client certificate is not offered.
            ca_path = registry_ca
        return verify, ca_path, self._auth.client_cert_for(netloc)

    def _warn(self, message: str) -> None:
        with self._lock:
            if message not in self._auth.warnings:
                self._auth.warnings.append(message)

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
