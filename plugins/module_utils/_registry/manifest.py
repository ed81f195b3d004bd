# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image manifests: Docker v2 schema 2, Docker manifest list, OCI manifest and OCI index.

A :class:`Manifest` keeps the exact bytes the registry served, because its digest is the hash of
those bytes: re-serializing a manifest would give it another digest and break every reference to
it. Docker schema 1 manifests are refused: no current tool produces them and they cannot be
mirrored by digest faithfully.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import validate_digest
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference, RegistryError

MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT_ALL = (MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST, MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST)

MEDIA_DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
MEDIA_DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
SCHEMA1_TYPES = (MEDIA_DOCKER_SCHEMA1, MEDIA_DOCKER_SCHEMA1_SIGNED)

MEDIA_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

INDEX_TYPES = (MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST)
IMAGE_TYPES = (MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST)

# Content types some registries and static file servers send that say nothing about the manifest.
_GENERIC_TYPES = ("", "application/json", "text/plain", "application/octet-stream", "binary/octet-stream")

# buildx stores provenance / SBOM attestations as index entries that point at the image they
# describe through this annotation; they are kept when that image is kept.
_ATTESTATION_REF = "vnd.docker.reference.digest"


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what an index entry, a config or a layer points at.

    Hashable on (media_type, digest, size), so descriptors can be deduplicated in sets.
    """

    media_type: str
    digest: str
    size: int
    platform: dict | None = field(default=None, hash=False, compare=False)
    annotations: dict | None = field(default=None, hash=False, compare=False)
    urls: tuple | None = field(default=None, hash=False, compare=False)

    @property
    def platform_string(self) -> str:
        """``os/arch[/variant]`` of an index entry, or ``""`` when it has no platform."""
        if not self.platform:
            return ""
        parts = [str(self.platform.get("os") or ""), str(self.platform.get("architecture") or "")]
        if self.platform.get("variant"):
            parts.append(str(self.platform["variant"]))
        return "/".join(parts)

    @classmethod
    def from_json(cls, data: object, where: str) -> Descriptor:
        if not isinstance(data, dict):
            raise RegistryError(f"{where}: a descriptor must be a JSON object, not {type(data).__name__}")
        digest = data.get("digest")
        size = data.get("size")
        try:
            # Checked here, once, because a digest becomes a request path and a file name.
            validate_digest(digest, "digest")
        except InvalidReference as exc:
            raise RegistryError(f"{where}: descriptor has no valid digest: {exc}") from None
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise RegistryError(f"{where}: descriptor {digest} has no valid size ({size!r})")
        urls = data.get("urls")
        return cls(
            media_type=str(data.get("mediaType") or ""),
            digest=digest,
            size=size,
            platform=data.get("platform") if isinstance(data.get("platform"), dict) else None,
            annotations=data.get("annotations") if isinstance(data.get("annotations"), dict) else None,
            urls=tuple(urls) if isinstance(urls, list) and urls else None,
        )


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """Digest of ``data`` with the given algorithm (sha256 or sha512), as ``algorithm:hex``."""
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise RegistryError(f"digest algorithm {algorithm!r} is not supported: use sha256 or sha512")
    return algorithm + ":" + hashlib.new(algorithm, data).hexdigest()


@dataclass
class Manifest:
    """A manifest or index with its exact bytes, media type and digest."""

    raw: bytes
    media_type: str
    digest: str
    _doc: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def json(self) -> dict:
        """The parsed document (parsed once)."""
        if self._doc is None:
            self._doc = _load(self.raw, self.digest)
        return self._doc

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def descriptor(self) -> Descriptor:
        """A descriptor that points at this manifest."""
        return Descriptor(media_type=self.media_type, digest=self.digest, size=len(self.raw))

    @property
    def children(self) -> list[Descriptor]:
        """The entries of an index (empty for an image manifest)."""
        if not self.is_index:
            return []
        entries = self.json.get("manifests") or []
        if not isinstance(entries, list):
            raise RegistryError(f"manifest {self.digest}: 'manifests' is not a list")
        return [Descriptor.from_json(e, f"manifest {self.digest} manifests[{i}]") for i, e in enumerate(entries)]

    @property
    def config(self) -> Descriptor | None:
        if self.is_index or not isinstance(self.json.get("config"), dict):
            return None
        return Descriptor.from_json(self.json["config"], f"manifest {self.digest} config")

    @property
    def layers(self) -> list[Descriptor]:
        if self.is_index:
            return []
        layers = self.json.get("layers") or []
        if not isinstance(layers, list):
            raise RegistryError(f"manifest {self.digest}: 'layers' is not a list")
        return [Descriptor.from_json(e, f"manifest {self.digest} layers[{i}]") for i, e in enumerate(layers)]

    @property
    def blobs(self) -> list[Descriptor]:
        """Config first, then layers; empty for an index."""
        if self.is_index:
            return []
        config = self.config
        return ([config] if config else []) + self.layers

    @property
    def subject(self) -> Descriptor | None:
        """The OCI 1.1 ``subject`` (the image a signature / SBOM artifact refers to), if any."""
        if isinstance(self.json.get("subject"), dict):
            return Descriptor.from_json(self.json["subject"], f"manifest {self.digest} subject")
        return None


def _load(raw: bytes, what: str) -> dict:
    try:
        doc = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RegistryError(f"manifest {what} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise RegistryError(f"manifest {what} is not a JSON object")
    return doc


def _schema1_error(what: str) -> RegistryError:
    return RegistryError(
        f"manifest {what} is unsupported: schema 1 (Docker v2 schema 1 is deprecated and cannot be mirrored "
        "by digest); re-push as schema 2 (for example with skopeo copy --format v2s2) and mirror that",
        code="MANIFEST_UNSUPPORTED",
    )


def parse_manifest(raw: bytes, media_type: str | None = None) -> Manifest:
    """Parse manifest bytes.

    The media type comes from ``media_type`` (a Content-Type header; parameters are dropped) when
    it names a manifest type, else from the document's ``mediaType`` field, else it is inferred:
    ``manifests`` means an index, ``layers``/``config`` an image manifest (Docker when its config
    is a Docker image config, OCI otherwise). Raises RegistryError for a document that is not
    JSON, is schema 1, or is not a manifest at all.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    raw = bytes(raw)
    digest = sha256_digest(raw)
    header_type = (media_type or "").split(";", 1)[0].strip().lower()
    if header_type in SCHEMA1_TYPES:
        raise _schema1_error(digest)
    doc = _load(raw, digest)
    if doc.get("schemaVersion") == 1 or "fsLayers" in doc:
        raise _schema1_error(digest)
    field_type = doc.get("mediaType") if isinstance(doc.get("mediaType"), str) else ""
    if field_type in SCHEMA1_TYPES:
        raise _schema1_error(digest)

    if header_type and header_type not in _GENERIC_TYPES:
        kind = header_type
    elif field_type:
        kind = field_type
    elif "manifests" in doc:
        kind = MEDIA_OCI_INDEX
    elif "layers" in doc or "config" in doc:
        config = doc.get("config") if isinstance(doc.get("config"), dict) else {}
        kind = MEDIA_DOCKER_MANIFEST if config.get("mediaType") == MEDIA_DOCKER_CONFIG else MEDIA_OCI_MANIFEST
    else:
        raise RegistryError(
            f"document {digest} is not an image manifest or index (no mediaType, manifests or layers)"
        )
    if kind not in ACCEPT_ALL:
        raise RegistryError(
            f"manifest {digest} has media type {kind!r}, which is not one of the supported types "
            f"({', '.join(ACCEPT_ALL)})",
            code="MANIFEST_UNSUPPORTED",
        )
    manifest = Manifest(raw=raw, media_type=kind, digest=digest)
    manifest._doc = doc
    return manifest


def filter_index(index: Manifest, platform_regex: str) -> Manifest:
    """A new index of the same media type keeping only the children whose platform matches.

    Matching is ``re.search(platform_regex, "os/arch[/variant]")``: ``amd64`` keeps
    ``linux/amd64``; anchor the expression (``^linux/arm64$``) to match exactly, since
    ``linux/arm`` also matches ``linux/arm64``. Entries without a platform and buildx attestation
    manifests never match on their own; an attestation is kept when the image it describes is. Other
    top-level fields and the entries' order are kept; the document is re-serialized, so the new
    index has a new digest. Raises ConfigError if no child matches.
    """
    if not index.is_index:
        raise ConfigError(f"platform filter {platform_regex!r}: manifest {index.digest} is not an index")
    try:
        pattern = re.compile(platform_regex)
    except re.error as exc:
        raise ConfigError(f"platform filter {platform_regex!r} is not a valid regular expression: {exc}") from None
    entries = index.json.get("manifests") or []
    children = index.children
    images = [c for c in children if c.platform_string and not (c.annotations or {}).get(_ATTESTATION_REF)]
    kept = {c.digest for c in images if pattern.search(c.platform_string)}
    if not kept:
        available = ", ".join(sorted({c.platform_string for c in images})) or "none"
        raise ConfigError(
            f"platform filter {platform_regex!r} matches no image of index {index.digest} "
            f"(platforms: {available}); change the expression"
        )
    new_entries = []
    for entry, child in zip(entries, children):
        ref = (child.annotations or {}).get(_ATTESTATION_REF)
        if child.digest in kept or (ref and ref in kept):
            new_entries.append(entry)
    doc = dict(index.json)
    doc["manifests"] = new_entries
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    result = Manifest(raw=raw, media_type=index.media_type, digest=sha256_digest(raw))
    result._doc = doc
    return result
