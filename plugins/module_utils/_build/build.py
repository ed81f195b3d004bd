# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine behind catalog_build: inputs -> catalog layer -> image on the base -> destination.

Replaces ``oc adm catalog build --from=BASE --filter-by-os=... --to=DEST`` and
``opm index prune``: no container engine, and the same inputs always give the same digest, so
a re-run pushes nothing and reports no change. Check mode reads the inputs and the base's
manifests and configs, computes the digest and writes nothing.
"""

from __future__ import annotations

import tempfile
from typing import Any, Dict, Optional, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.base import read_base
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import derive_image
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.inputs import build_inputs
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layer import build_layer
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layout import (
    is_complete,
    parse_layout_dest,
    write_layout,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.push import current_digest, push_image
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import registry_pool
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference


class LayoutDest:
    """An OCI image layout directory and the tag (ref name) to write."""

    def __init__(self, path: str, tag: str):
        self.path = path
        self.tag = tag

    def __str__(self) -> str:
        return f"oci:{self.path}:{self.tag}"


def parse_dest(dest: str) -> Union[ImageReference, LayoutDest]:
    """``dest`` as a registry reference (tag ``latest`` when none) or an OCI layout."""
    text = dest.strip()
    if text.startswith("oci:"):
        return LayoutDest(*parse_layout_dest(text))
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    try:
        ref = parse(text)
    except InvalidReference as exc:
        raise ConfigError(f"dest: {exc}; give REGISTRY/REPOSITORY[:TAG] or oci:DIR[:TAG]") from None
    if ref.digest:
        raise ConfigError(f"dest {dest!r} names a digest; give a tag (the digest is what the build computes)")
    return ref if ref.tag else ref.with_tag("latest")


def build_catalog(request: CatalogBuildRequest, auth: Any, check_mode: bool) -> Dict[str, Any]:
    """Build the catalog image of ``request`` and push it (unless ``check_mode``)."""
    dest = parse_dest(request.dest)
    pool = registry_pool(auth, request.connection, 4)
    try:
        with tempfile.TemporaryDirectory(prefix="airgap-catalog-build-") as work:
            catalog, loaded = build_inputs(request, pool)
            if not catalog.packages:
                raise ConfigError("the inputs hold no package: check the source, its filter and fbc")
            layer = build_layer(catalog, work)
            base_ref, base_index, bases = read_base(pool, request.base_image, request.filter_by_os)
            built = derive_image(bases, layer, base_index, base_ref.repository)
            if isinstance(dest, LayoutDest):
                changed = not is_complete(dest.path, built, dest.tag)
                image = f"{dest}"
            else:
                changed = current_digest(pool.client(dest.api_host, dest.repository), dest) != built.digest
                image = f"{dest.name}@{built.digest}"
            stats: Optional[Dict[str, int]] = None
            if changed and not check_mode:
                if isinstance(dest, LayoutDest):
                    stats = write_layout(pool, built, dest.path, dest.tag, base_ref)
                else:
                    stats = push_image(pool, built, dest, base_ref)
    finally:
        pool.close()
    result: Dict[str, Any] = {
        "changed": changed,
        "image": image,
        "digest": built.digest,
        "packages": sorted(catalog.packages),
        "platforms": [p.platform for p in built.platforms],
        "base_image": str(base_ref),
        "layer": {"digest": layer.digest, "diff_id": layer.diff_id, "size": layer.size},
    }
    if loaded is not None and loaded.digest:
        result["source_digest"] = loaded.digest
    if stats is not None:
        result["transferred"] = stats
    result["warnings"] = list(auth.warnings) + (loaded.warnings if loaded is not None else [])
    return result
