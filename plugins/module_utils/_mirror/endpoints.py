# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a mirrored image comes from and goes to, as the peer tools write it.

- :class:`FileReference`: a location in oc's on-disk store, ``file://<path>[:tag][@digest]``;
- :func:`parse_destination`: a mirror destination (``host[:port][/path]``, ``docker://...``,
  ``file://path``), whose first component always names the registry;
- :func:`parse_source`: a source image reference, together with the way it was written (oc
  hashes the written form, not the normalized one);
- the two text forms of a reference in a ``mapping.txt`` line.

Pure functions over strings; nothing here talks to a registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import (
    DOCKER_HUB,
    ImageReference,
    parse,
)

HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
# one path component of a repository name (distribution's reference grammar)
PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$"
)


@dataclass(frozen=True)
class FileReference:
    """A location in oc's ``file://`` store: ``file://<path>[:tag][@digest]``."""

    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @property
    def registry(self) -> str:
        return ""

    @property
    def repository(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        return "file://" + self.path

    def with_tag(self, tag: Optional[str]) -> "FileReference":
        return FileReference(self.path, tag, self.digest)

    def with_digest(self, digest: Optional[str]) -> "FileReference":
        return FileReference(self.path, self.tag, digest)

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out


Endpoint = Union[ImageReference, FileReference]


@dataclass(frozen=True)
class WrittenReference:
    """A source reference as the user wrote it: registry only when one was written."""

    registry: Optional[str]
    path: str
    tag: Optional[str]
    digest: Optional[str]


def strip_transport(text: str, allowed: Sequence[str]) -> Tuple[str, str]:
    """Split ``text`` into the first of the ``allowed`` prefixes it starts with ('' if none) and the rest."""
    for prefix in allowed:
        if text.startswith(prefix):
            return prefix, text[len(prefix):]
    return "", text


def split_written(text: str) -> WrittenReference:
    """Split a reference (no transport) into its written parts, applying no defaults."""
    rest = text
    digest = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    tag = None
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return WrittenReference(first, remainder, tag, digest)
    return WrittenReference(None, rest, tag, digest)


def parse_source(source: Union[ImageReference, str]) -> Tuple[ImageReference, WrittenReference]:
    """A source image (``docker://`` allowed) as a normalized reference and as written."""
    if isinstance(source, ImageReference):
        return source, WrittenReference(source.registry, source.repository, source.tag, source.digest)
    if not isinstance(source, str):
        raise InvalidReference(f"image reference {source!r} is not a string")
    dummy, text = strip_transport(source.strip(), ("docker://",))
    ref = parse(text)
    return ref, split_written(text)


def text_by_digest(ref: Endpoint) -> str:
    """The reference as a mapping source: ``name@digest`` when it has a digest, else ``name:tag``."""
    # library-go prints the digest rather than the tag when a reference has both
    return f"{ref.name}@{ref.digest}" if ref.digest else str(ref)


def text_without_digest(ref: Endpoint) -> str:
    """The reference as a mapping target: ``name:tag``, or ``name`` when it has no tag."""
    return f"{ref.name}:{ref.tag}" if ref.tag else ref.name


def parse_destination(text: str, option: str = "dest") -> Union[ImageReference, FileReference]:
    """Parse a mirror destination: ``host[:port][/path...]``, ``docker://...`` or ``file://path``.

    Unlike an image reference, the first component of a destination always names the registry
    (``myregistry/ns`` is the registry ``myregistry``, not a Docker Hub namespace). The result is
    an ImageReference (or FileReference) with no tag and no digest; its repository may be empty.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{option} is empty: give a registry such as registry.example.com:5000[/namespace]")
    original = text
    prefix, text = strip_transport(text.strip(), ("docker://", "file://"))
    if prefix == "file://":
        text = text[1:] if text.startswith("/") else text
        path = text.rstrip("/")
        if not path:
            raise ConfigError(f"{option} {original!r} names no directory after file://")
        return FileReference(path)
    if "@" in text:
        raise ConfigError(f"{option} {original!r} has a digest: a destination is a registry[/namespace]")
    registry, dummy, path = text.rstrip("/").partition("/")
    if not _HOST.match(registry):
        raise ConfigError(f"{option} {original!r}: {registry!r} is not a registry host[:port]")
    components = path.split("/") if path else []
    for component in components:
        if ":" in component:
            raise ConfigError(f"{option} {original!r} has a tag: a destination is a registry[/namespace]")
        if not PATH_COMPONENT.match(component):
            raise ConfigError(
                f"{option} {original!r}: path component {component!r} is not valid "
                "(lower-case letters, digits and single separators . _ __ -)"
            )
    if registry in HUB_ALIASES:
        registry = DOCKER_HUB
    return ImageReference(registry=registry, repository="/".join(components))
