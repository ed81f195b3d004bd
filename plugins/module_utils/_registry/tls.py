# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS and proxy settings for registry connections.

SSL contexts are built once per (verification, CA, client certificate) for the whole process.
The proxy for a URL comes from the ``http_proxy`` / ``https_proxy`` / ``no_proxy`` environment
variables.
"""

from __future__ import annotations

import os
import ssl
import threading
from urllib.parse import urlsplit
from urllib.request import getproxies_environment, proxy_bypass_environment

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError

_SSL_CONTEXTS: dict[tuple, ssl.SSLContext] = {}
_SSL_CONTEXTS_LOCK = threading.Lock()


def ssl_context_for(verify: bool, ca_path: str | None, client_cert: tuple[str, str] | None = None) -> ssl.SSLContext:
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
    if not verify:
        # create_default_context() with no trust store: one that verifies nothing never reads
        # it, and loading it costs tens of milliseconds of CPU
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()
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


class ProxyChoice:
    """The proxy for each (scheme, host:port), read from the environment once and remembered."""

    def __init__(self):
        self._lock = threading.Lock()
        self._chosen: dict[tuple[str, str], str] = {}

    def proxy_for(self, scheme: str, netloc: str) -> str:
        """The proxy URL to reach ``scheme://netloc`` through, or "" to connect directly."""
        key = (scheme, netloc)
        with self._lock:
            if key in self._chosen:
                return self._chosen[key]
        proxies = getproxies_environment()
        proxy = proxies.get(scheme) or ""
        # NO_PROXY entries match the host with or without its port
        if proxy and proxy_bypass_environment(netloc, proxies):
            proxy = ""
        with self._lock:
            self._chosen[key] = proxy
        return proxy


def split_proxy_credentials(proxy: str) -> tuple[str, str | None, str]:
    """(proxy URL without credentials, ``user:password`` or None, password or "") of a proxy
    setting such as ``http://user:secret@proxy:3128`` or ``proxy:3128``."""
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if parts.username is None:
        return parts.geturl(), None, ""
    url = f"{parts.scheme}://{parts.hostname}"
    if parts.port:
        url += f":{parts.port}"
    return url, f"{parts.username}:{parts.password or ''}", parts.password or ""
