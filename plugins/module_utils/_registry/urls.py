# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a request may go, and with what: origins, URLs a registry hands back, path segments.

Credentials (a Basic header, a bearer token) are only ever sent to the registry's own *origin*:
the (scheme, host, port) its API was reached on. A URL the registry hands back (an upload
``Location``, a ``Link`` to the next page) that names another origin is requested without them.

One exception keeps registries behind TLS-terminating proxies working: such a proxy often
answers ``Location: http://its-host/...`` for a registry reached over https, because the registry
behind it only sees plain http. A ``Location`` or ``Link`` with the scheme ``http`` and exactly
the registry's host and port (or no port, when the registry is on 443) is taken to mean the
registry itself and requested over https, with the credentials, never in clear. Redirects are
not upgraded: a redirect from https to http is followed as it is, without the credentials.

Repository names and references become path segments only after checking them: no empty,
``.`` or ``..`` segment in a repository, a reference is a tag or a digest of the OCI grammar.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import validate_digest
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import InvalidReference, RegistryError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host lower-cased, port with the scheme's default) of an absolute URL."""
    # Asked twice per request: an http(s) URL's origin is read from its ``scheme://netloc`` part
    # alone, remembered (a run talks to a handful of origins); any other text is parsed whole.
    scheme_end = url.find("://")
    if scheme_end > 0 and url[:scheme_end].lower() in _DEFAULT_PORTS:
        end = len(url)
        for delimiter in "/?#":
            found = url.find(delimiter, scheme_end + 3)
            if 0 <= found < end:
                end = found
        prefix = url[:end]
        if prefix.isprintable() and " " not in prefix:
            return _origin_of_prefix(prefix)
    return _parse_origin(url)


@functools.lru_cache(maxsize=256)
def _origin_of_prefix(prefix: str) -> tuple[str, str, int]:
    return _parse_origin(prefix)


def _parse_origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def host_port(netloc: str, scheme: str = "https") -> tuple[str, int]:
    """(host lower-cased, port with the scheme's default) of ``host[:port]``."""
    return origin(f"{scheme}://{netloc}")[1:]


def registry_url(registry_base: str, base: str, location: str) -> str:
    """The absolute URL of a ``Location`` or ``Link`` target the registry at ``registry_base``
    (``scheme://host[:port]``) answered to a request for ``base``; an http URL of the https
    registry's own host and port is upgraded to https (see the module docstring)."""
    url = urljoin(base, location)
    own = urlsplit(registry_base)
    parts = urlsplit(url)
    if own.scheme == "https" and parts.scheme == "http" and (parts.hostname or "").lower() == (own.hostname or "").lower():
        try:
            port, own_port = parts.port, own.port or 443
        except ValueError:
            return url
        if port == own_port or (port is None and own_port == 443):
            return urlunsplit(("https", own.netloc, parts.path, parts.query, parts.fragment))
    return url


def repo_path(repo: str, host: str) -> str:
    """``repo`` quoted for a URL path; RegistryError if a segment is empty, ``.`` or ``..``
    (a client would normalise it away and send the request, credentials included, elsewhere)."""
    if not repo or any(segment in ("", ".", "..") for segment in repo.split("/")):
        raise RegistryError(
            f"repository name {repo!r} for registry {host} has an empty, '.' or '..' path segment; "
            "give a repository name such as ns/app"
        )
    return quote(repo, safe="/")


def ref_segment(ref: str, host: str) -> str:
    """A tag or digest as one URL path segment; RegistryError when it is neither (a digest of
    the OCI grammar: ``algorithm:encoded``, sha256 and sha512 as lower-case hex of their length)."""
    if ":" in ref:
        try:
            validate_digest(ref)
        except InvalidReference as exc:
            raise RegistryError(f"registry {host}: {exc}") from None
    elif not _TAG.fullmatch(ref or ""):
        raise RegistryError(f"registry {host}: tag {ref!r} is not a valid tag (letters, digits, '_', '.', '-')")
    return quote(ref, safe=":")
