# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the base image of a catalog build: its manifests and configs, never its layers.

A multi-platform base (an OCI index or a Docker manifest list) gives one entry per platform,
narrowed by ``filter_by_os`` (a regular expression searched in ``os/arch[/variant]``, as
``oc adm catalog build --filter-by-os`` and ``image_mirror_from_mapping`` take it). Entries
without a platform and buildx attestations are left out: they describe the base, not the
catalog image. A single-manifest base is one platform, named from its config.
"""

from __future__ import annotations

import json
import re
from typing import Any, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import BasePlatform
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.blobs import read_small_blob
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Manifest, filter_index
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    ConfigError,
    InvalidReference,
    RegistryError,
)

# An image config is a small JSON document; refuse anything larger.
MAX_CONFIG_BYTES = 8 << 20
_ATTESTATION_REF = "vnd.docker.reference.digest"


def base_reference(text: str) -> ImageReference:
    """``base_image`` parsed; ``:latest`` when it names neither tag nor digest."""
    value = text.strip()
    if value.startswith("docker://"):
        value = value[len("docker://"):]
    try:
        ref = parse(value)
    except InvalidReference as exc:
        raise ConfigError(f"base_image: {exc}") from None
    return ref if ref.tag or ref.digest else ref.with_tag("latest")


def read_config(client: Any, repo: str, digest: str, what: str) -> dict:
    """The config blob ``digest`` as a JSON object (the client checks its digest)."""
    data = read_small_blob(client, repo, digest, MAX_CONFIG_BYTES)
    if data is None:
        raise ConfigError(f"{what}: config {digest} is larger than {MAX_CONFIG_BYTES} bytes; not an image")
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{what}: config {digest} is not valid JSON ({exc}); not a container image") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{what}: config {digest} is not a JSON object; not a container image")
    return config


def _config_platform(config: dict) -> str:
    parts = [str(config.get("os") or ""), str(config.get("architecture") or "")]
    if config.get("variant"):
        parts.append(str(config["variant"]))
    return "/".join(parts)


def _platform_of(manifest: Manifest, client: Any, repo: str, what: str) -> BasePlatform:
    if manifest.is_index:
        raise ConfigError(f"{what}: manifest {manifest.digest} is an index inside an index; not a base image")
    config = manifest.config
    if config is None:
        raise ConfigError(f"{what}: manifest {manifest.digest} has no config; it is an artifact, not an image")
    document = read_config(client, repo, config.digest, what)
    return BasePlatform(platform=_config_platform(document), manifest=manifest, config=document)


BaseImage = Tuple[ImageReference, Optional[Manifest], List[BasePlatform]]


def read_base(pool: Any, base_image: str, filter_by_os: Optional[str]) -> BaseImage:
    """``(reference, index or None, platforms)`` of the base image, read through ``pool``."""
    ref = base_reference(base_image)
    what = f"base_image {ref}"
    client = pool.client(ref.api_host, ref.repository)
    try:
        top = client.get_manifest(ref.repository, ref.ref)
    except RegistryError as exc:
        raise type(exc)(f"{what}: {exc}", status=exc.status, code=exc.code) from None
    if not top.is_index:
        base = _platform_of(top, client, ref.repository, what)
        if filter_by_os and not _search(filter_by_os, base.platform):
            raise ConfigError(f"filter_by_os {filter_by_os!r} does not match the only platform of {what} "
                              f"({base.platform}); change the expression or the base image")
        return ref, None, [base]
    index = filter_index(top, filter_by_os) if filter_by_os else top
    entries = index.json.get("manifests") or []
    bases = []
    for entry, child in zip(entries, index.children):
        if not child.platform_string or (child.annotations or {}).get(_ATTESTATION_REF):
            continue
        if child.platform_string == "unknown/unknown":
            continue
        manifest = client.get_manifest(ref.repository, child.digest)
        base = _platform_of(manifest, client, ref.repository, f"{what} ({child.platform_string})")
        base.platform = child.platform_string
        base.entry = entry
        bases.append(base)
    if not bases:
        raise ConfigError(f"{what}: the index lists no image with a platform; give a base image with at least one")
    return ref, index, bases


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        raise ConfigError(f"filter_by_os {pattern!r} is not a valid regular expression: {exc}") from None
