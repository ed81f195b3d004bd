# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog a build holds: the source catalog (filtered as catalog_mirror filters it), a
local FBC and rendered bundles, merged. A package may come from one input only."""

from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.bundle import render_bundles
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import LoadedCatalog, load_spec
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, CatalogError, ConfigError


def merge_catalogs(parts: Sequence[Tuple[str, Catalog]]) -> Catalog:
    """One catalog of every ``(origin, catalog)``; a package in two of them is a ConfigError
    naming both. Blobs of no package are kept in input order."""
    merged = Catalog()
    origins = {}
    for origin, catalog in parts:
        for name, package in catalog.packages.items():
            if name in origins:
                raise ConfigError(f"package {name!r} is in both {origins[name]} and {origin}; "
                                  "a catalog holds each package once: drop it from one of them")
            origins[name] = origin
            merged.packages[name] = package
        merged.others.extend(catalog.others)
    return merged


def load_fbc_input(path: str) -> Catalog:
    """The local FBC directory or file of the ``fbc`` option."""
    full = os.path.expanduser(path)
    if not os.path.exists(full):
        raise ConfigError(f"fbc: {path} does not exist; give an FBC directory or file")
    try:
        return load_catalog(full)
    except AirgapError as exc:
        raise CatalogError(f"fbc: {exc}") from None


def bundle_catalog(request: CatalogBuildRequest, pool) -> Optional[Catalog]:
    """The ``bundles`` input (bundle or packagemanifest directories, bundle images) rendered to
    olm.package, olm.channel and olm.bundle blobs, as ``opm render`` renders them."""
    if not request.bundles:
        return None
    try:
        return render_bundles(request.bundles, pool)
    except AirgapError as exc:
        text = str(exc)
        raise type(exc)(text if text.startswith("bundles") else f"bundles: {text}") from None


def build_inputs(request: CatalogBuildRequest, pool) -> Tuple[Catalog, Optional[LoadedCatalog]]:
    """The merged catalog of every input, and the loaded source (for its digest and warnings)."""
    parts: List[Tuple[str, Catalog]] = []
    loaded = None
    if request.source is not None:
        loaded = load_spec(request.source, pool, request.cache_dir, request.platform)
        parts.append((f"source {request.source.source}", loaded.catalog))
    if request.fbc:
        parts.append((f"fbc {request.fbc}", load_fbc_input(request.fbc)))
    bundles = bundle_catalog(request, pool)
    if bundles is not None:
        parts.append(("bundles", bundles))
    return merge_catalogs(parts), loaded
