# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine behind catalog_build: inputs -> catalog layer -> image on the base -> destination.

Replaces ``oc adm catalog build --from=BASE --filter-by-os=... --to=DEST`` and
``opm index prune``: no container engine, and the same inputs always give the same digest, so
a re-run pushes nothing and reports no change. Check mode reads the inputs and the base's
manifests and configs, computes the digest and writes nothing.

catalog_mirror builds its pruned catalogs with the same two steps, :func:`prepare_image` (from a
Catalog it already loaded and filtered) and, once its copy succeeded, :func:`publish`.
"""

from __future__ import annotations

import tempfile
from typing import Any, Dict, List, Optional, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.base import read_base
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import (
    BasePlatform,
    BuiltImage,
    derive_image,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.inputs import build_inputs
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layer import build_layer
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layout import (
    is_complete,
    parse_layout_dest,
    write_layout,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.push import current_digest, push_image
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import LABEL_CONFIGS
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
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


class Prepared:
    """A catalog image computed and not yet published: ``built`` over the base ``base_ref``."""

    def __init__(self, base_ref: ImageReference, built: BuiltImage):
        self.base_ref = base_ref
        self.built = built

    @property
    def digest(self) -> str:
        return self.built.digest


def base_fbc_dirs(bases: List[BasePlatform]) -> List[str]:
    """The FBC directories the base's index labels name (a catalog image used as a base)."""
    found = []
    for base in bases:
        inner = base.config.get("config") if isinstance(base.config.get("config"), dict) else {}
        labels = inner.get("Labels") if isinstance(inner.get("Labels"), dict) else {}
        value = labels.get(LABEL_CONFIGS)
        if isinstance(value, str) and value.strip("/") and value not in found:
            found.append(value)
    return found


def prepare_image(pool: Any, catalog: Catalog, base_image: str, filter_by_os: Optional[str],
                  work: str) -> Prepared:
    """The catalog image of ``catalog`` (already loaded and filtered) on ``base_image``, computed
    with its layer written under ``work``; nothing is pushed. ``/configs`` of the base, and any
    other FBC directory its index label names, is replaced by the catalog."""
    if not catalog.packages:
        raise ConfigError("the inputs hold no package: check the source, its filter and fbc")
    base_ref, base_index, bases = read_base(pool, base_image, filter_by_os)
    layer = build_layer(catalog, work, hidden=base_fbc_dirs(bases))
    return Prepared(base_ref, derive_image(bases, layer, base_index, base_ref.repository))


def publish(pool: Any, prepared: Prepared, dest: Union[ImageReference, LayoutDest],
            check_mode: bool) -> Tuple[bool, str, Optional[Dict[str, int]]]:
    """Push (or write) ``prepared`` to ``dest`` unless it is there already or ``check_mode``.

    Returns ``(changed, image, stats)``: ``image`` is the reference by digest (the layout for an
    OCI layout), ``stats`` None when nothing was sent."""
    built = prepared.built
    if isinstance(dest, LayoutDest):
        changed = not is_complete(dest.path, built, dest.tag)
        image = f"{dest}"
    else:
        changed = current_digest(pool.client(dest.api_host, dest.repository), dest) != built.digest
        image = f"{dest.name}@{built.digest}"
    stats: Optional[Dict[str, int]] = None
    if changed and not check_mode:
        if isinstance(dest, LayoutDest):
            stats = write_layout(pool, built, dest.path, dest.tag, prepared.base_ref)
        else:
            stats = push_image(pool, built, dest, prepared.base_ref)
    return changed, image, stats


def build_catalog(request: CatalogBuildRequest, auth: Any, check_mode: bool) -> Dict[str, Any]:
    """Build the catalog image of ``request`` and push it (unless ``check_mode``)."""
    dest = parse_dest(request.dest)
    pool = registry_pool(auth, request.connection, 4)
    try:
        with tempfile.TemporaryDirectory(prefix="airgap-catalog-build-") as work:
            catalog, loaded = build_inputs(request, pool)
            prepared = prepare_image(pool, catalog, request.base_image, request.filter_by_os, work)
            changed, image, stats = publish(pool, prepared, dest, check_mode)
    finally:
        pool.close()
    built, base_ref, layer = prepared.built, prepared.base_ref, prepared.built.layer
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
