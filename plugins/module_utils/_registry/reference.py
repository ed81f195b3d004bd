# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image reference grammar, as the distribution project defines it.

``[registry[:port]/]path[/path...][:tag][@algorithm:hex]``. A first component that holds a
``.`` or a ``:`` or is ``localhost`` names the registry; otherwise the registry is docker.io and a
single-component path gets ``library/`` in front, as ``docker pull`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import InvalidReference

DOCKER_HUB = "docker.io"
# The host the Docker Hub API actually answers on; ``docker.io`` is only the name users write.
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
_SHA384 = re.compile(r"^sha384:[a-f0-9]{96}$")
_SHA512 = re.compile(r"^sha512:[a-f0-9]{128}$")
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$"
)
MAX_NAME = 255


def validate_digest(digest: str, what: str = "digest") -> str:
    """Return ``digest`` if it is a well-formed content digest, else raise InvalidReference."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidReference(f"{what} {digest!r} is not of the form algorithm:hex (sha256:<64 hex>)")
    if digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
        raise InvalidReference(f"{what} {digest!r}: a sha256 digest is 64 lower-case hex characters")
    if digest.startswith("sha384:") and not _SHA384.fullmatch(digest):
        raise InvalidReference(f"{what} {digest!r}: a sha384 digest is 96 lower-case hex characters")
    if digest.startswith("sha512:") and not _SHA512.fullmatch(digest):
        raise InvalidReference(f"{what} {digest!r}: a sha512 digest is 128 lower-case hex characters")
    return digest


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference. ``registry`` is the name as written (``docker.io`` for the Hub)."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """Host:port to send Registry API calls to."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository``, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def ref(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str | None) -> ImageReference:
        if tag is not None and not _TAG.fullmatch(tag):
            raise InvalidReference(f"tag {tag!r} is not valid: use [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
        return replace(self, tag=tag)

    def with_digest(self, digest: str | None) -> ImageReference:
        if digest is not None:
            validate_digest(digest)
        return replace(self, digest=digest)

    def with_repository(self, repository: str) -> ImageReference:
        return parse(f"{self.registry}/{repository}").with_tag(self.tag).with_digest(self.digest)

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out


def split_registry(name: str) -> tuple[str, str]:
    """Split ``name`` (no tag/digest) into (registry, path) using the docker rule."""
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DOCKER_HUB, name


def parse(text: str) -> ImageReference:
    """Parse an image reference; raise InvalidReference with the reason if it is not valid."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidReference("image reference is empty")
    original = text
    text = text.strip()
    if any(c.isspace() for c in text):
        raise InvalidReference(f"image reference {original!r} contains white space")

    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
        validate_digest(digest, f"digest in {original!r}")

    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise InvalidReference(
                f"tag {tag!r} in {original!r} is not valid: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
            )

    registry, path = split_registry(text)
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if not _HOST.fullmatch(registry):
        raise InvalidReference(f"registry {registry!r} in {original!r} is not a valid host[:port]")
    if not path:
        raise InvalidReference(f"image reference {original!r} has no repository path")
    for component in path.split("/"):
        if not _COMPONENT.fullmatch(component):
            raise InvalidReference(
                f"path component {component!r} in {original!r} is not valid: use lower-case letters, "
                "digits and single separators (. _ __ -)"
            )
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if len(f"{registry}/{path}") > MAX_NAME:
        raise InvalidReference(f"repository name in {original!r} is longer than {MAX_NAME} characters")
    return ImageReference(registry=registry, repository=path, tag=tag, digest=digest)
