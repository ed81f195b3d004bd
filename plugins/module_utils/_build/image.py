# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog image derived from a base image and the catalog layer, as pure functions.

Per platform of the base: the config is the base config with the layer's diff_id appended to
``rootfs.diff_ids``, a history entry for it, the index label
``operators.operatorframework.io.index.configs.v1=/configs`` (other labels kept), Entrypoint
``/bin/opm`` and Cmd ``serve /configs --cache-dir=/tmp/cache``; the manifest lists the base
layers, then the catalog layer, in the base's media type family (Docker v2 or OCI). A base that
was an index gives an index over the derived manifests, of the same media type.

Every document is written in one canonical encoding: JSON with keys sorted, no insignificant
white space (``","`` and ``":"`` separators) and UTF-8 without escaping; the same inputs always
give the same bytes, hence the same digests. Times come from the base (the base config's
``created``), never from the clock.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layer import CACHE_DIR, CONFIGS_DIR, Layer
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import LABEL_CONFIGS
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    MEDIA_DOCKER_CONFIG,
    MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST,
    MEDIA_OCI_CONFIG,
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    Descriptor,
    Manifest,
    parse_manifest,
    sha256_digest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError

MEDIA_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MEDIA_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ENTRYPOINT = ["/bin/opm"]
CMD = ["serve", "/" + CONFIGS_DIR, "--cache-dir=/" + CACHE_DIR]
# Used when the base config has no ``created``: the Unix epoch, as reproducible builders do.
EPOCH = "1970-01-01T00:00:00Z"
CREATED_BY = "airgap.operatorhub.catalog_build: File-Based Catalog in /configs, /tmp/cache whited out"

# (manifest, config, layer) media types of each family, keyed by the manifest type.
_FAMILIES = {
    MEDIA_DOCKER_MANIFEST: (MEDIA_DOCKER_MANIFEST, MEDIA_DOCKER_CONFIG, MEDIA_DOCKER_LAYER, MEDIA_DOCKER_LIST),
    MEDIA_OCI_MANIFEST: (MEDIA_OCI_MANIFEST, MEDIA_OCI_CONFIG, MEDIA_OCI_LAYER, MEDIA_OCI_INDEX),
}


def canonical_json(document: Any) -> bytes:
    """The one encoding of every document built here (see the module docstring)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class BasePlatform:
    """One platform of the base image: its manifest, its config document and where it came from."""

    platform: str
    manifest: Manifest
    config: Dict[str, Any]
    entry: Optional[Dict[str, Any]] = None  # the base index entry (platform, annotations), if any


@dataclass
class BuiltPlatform:
    """One derived image: the manifest and config bytes, and the base's layers it reuses."""

    platform: str
    manifest: Manifest
    config_raw: bytes
    config: Descriptor
    base_layers: List[Descriptor]


@dataclass
class BuiltImage:
    """What is pushed: per-platform images, and the index over them when the base was an index."""

    platforms: List[BuiltPlatform]
    layer: Layer
    index: Optional[Manifest] = None
    base_repository: str = ""
    warnings: List[str] = field(default_factory=list)

    @property
    def top(self) -> Manifest:
        """The manifest the tag points at."""
        return self.index if self.index is not None else self.platforms[0].manifest

    @property
    def digest(self) -> str:
        return self.top.digest


def derive_config(base_config: Dict[str, Any], diff_id: str) -> Dict[str, Any]:
    """The catalog image's config: ``base_config`` plus the catalog layer, label and command."""
    config = copy.deepcopy(base_config)
    if not isinstance(config.get("rootfs"), dict) or not isinstance(config["rootfs"].get("diff_ids"), list):
        raise ConfigError("base_image: its config has no rootfs.diff_ids; it is not a container image")
    config["rootfs"]["diff_ids"].append(diff_id)
    created = config.get("created") if isinstance(config.get("created"), str) else EPOCH
    history = config.get("history")
    # Tools pair history entries without empty_layer with the layers; a base without history
    # keeps none rather than get one entry for its N + 1 layers.
    if isinstance(history, list):
        history.append({"created": created, "created_by": CREATED_BY})
    inner = config.get("config")
    if not isinstance(inner, dict):
        inner = config["config"] = {}
    labels = inner.get("Labels") if isinstance(inner.get("Labels"), dict) else {}
    labels = dict(labels)
    labels[LABEL_CONFIGS] = "/" + CONFIGS_DIR
    inner["Labels"] = labels
    inner["Entrypoint"] = list(ENTRYPOINT)
    inner["Cmd"] = list(CMD)
    return config


def derive_platform(base: BasePlatform, layer: Layer) -> BuiltPlatform:
    """The catalog image of one base platform."""
    family = _FAMILIES.get(base.manifest.media_type)
    if family is None:
        raise ConfigError(f"base_image: manifest {base.manifest.digest} has media type {base.manifest.media_type!r}; "
                          "give an image whose manifests are Docker v2 schema 2 or OCI")
    manifest_type, config_type, layer_type, _index_type = family
    config_raw = canonical_json(derive_config(base.config, layer.diff_id))
    config = Descriptor(media_type=config_type, digest=sha256_digest(config_raw), size=len(config_raw))
    document = copy.deepcopy(base.manifest.json)
    document.pop("subject", None)
    document["schemaVersion"] = 2
    document["mediaType"] = manifest_type
    document["config"] = {"mediaType": config_type, "digest": config.digest, "size": config.size}
    document["layers"] = list(document.get("layers") or []) + [
        {"mediaType": layer_type, "digest": layer.digest, "size": layer.size}]
    manifest = parse_manifest(canonical_json(document), manifest_type)
    return BuiltPlatform(platform=base.platform, manifest=manifest, config_raw=config_raw, config=config,
                         base_layers=base.manifest.layers)


def derive_index(base_index: Manifest, built: List[BuiltPlatform], bases: List[BasePlatform]) -> Manifest:
    """An index of the base index's media type over ``built`` (in the order of ``bases``),
    each entry keeping its base entry's platform and annotations."""
    document = copy.deepcopy(base_index.json)
    document.pop("subject", None)
    entries = []
    for image, base in zip(built, bases):
        entry = {"mediaType": image.manifest.media_type, "digest": image.manifest.digest, "size": image.manifest.size}
        for key in ("platform", "annotations"):
            if base.entry and base.entry.get(key):
                entry[key] = copy.deepcopy(base.entry[key])
        entries.append(entry)
    document["manifests"] = entries
    document["schemaVersion"] = 2
    document["mediaType"] = base_index.media_type
    return parse_manifest(canonical_json(document), base_index.media_type)


def derive_image(bases: List[BasePlatform], layer: Layer, base_index: Optional[Manifest],
                 base_repository: str = "") -> BuiltImage:
    """The catalog image over every base platform; an index when the base was one."""
    built = [derive_platform(base, layer) for base in bases]
    index = derive_index(base_index, built, bases) if base_index is not None else None
    return BuiltImage(platforms=built, layer=layer, index=index, base_repository=base_repository)
