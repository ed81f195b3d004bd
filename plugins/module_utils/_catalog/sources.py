# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the catalog a :class:`CatalogSpec` names and filter it.

A source is local when it names an existing path (an FBC directory or file, or a sqlite
index.db, told apart by content); anything else is a catalog image in a registry.
"""

from __future__ import annotations

import os
from typing import List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.image import load_catalog_image
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import (
    DEFAULT_PLATFORM,
    CatalogSpec,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    CatalogError,
    ConfigError,
    InvalidReference,
)

_UNSUPPORTED_TRANSPORTS = ("oci://", "file://", "dir:", "oci:", "docker-archive:")


class LoadedCatalog:
    """A catalog read and filtered: ``image`` is the source reference when it is an image."""

    def __init__(self, spec: CatalogSpec, catalog: Catalog, image: Optional[str], digest: Optional[str],
                 warnings: List[str]):
        self.spec = spec
        self.catalog = catalog
        self.image = image
        self.digest = digest
        self.warnings = warnings

    def images(self) -> List[str]:
        """Bundle and related images of the kept bundles, sorted (the catalog image not included)."""
        return sorted(set(catalog_images(self.catalog)))


def is_local(source: str) -> bool:
    """A source is local when it names an existing path; anything else is an image reference."""
    return os.path.exists(os.path.expanduser(source))


def _image_source(source: str, field: str) -> str:
    text = source.strip()
    for prefix in _UNSUPPORTED_TRANSPORTS:
        if text.startswith(prefix):
            raise ConfigError(
                f"{field}: {source!r} is not an existing path nor a registry image; {prefix} catalogs are not "
                "supported: give a registry image, an FBC directory/file or an index.db path"
            )
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    try:
        parse(text)
    except InvalidReference as exc:
        raise ConfigError(f"{field}: {source!r} is neither an existing local path (FBC directory or file, sqlite "
                          f"index.db) nor a valid image reference ({exc})") from None
    return text


def load_spec(spec: CatalogSpec, pool: Optional[RegistryPool], cache_dir: Optional[str],
              platform: str = DEFAULT_PLATFORM, slim: bool = False) -> LoadedCatalog:
    """Read the catalog of ``spec`` (only the packages its filter may keep) and filter it.
    ``slim`` (a listing, no filter): keep only what a package summary needs."""
    names = spec.catalog_filter.package_names() if spec.filtered else None
    image = digest = None
    field = spec.source_field
    try:
        if is_local(spec.source):
            catalog = load_catalog(os.path.expanduser(spec.source), names, slim)
        else:
            image = _image_source(spec.source, field)
            if pool is None:
                raise ConfigError(f"{field}: reading a catalog image needs registry access")
            catalog, digest, _labels = load_catalog_image(pool, image, cache_dir, names, platform, slim)
    except ConfigError:
        raise
    except AirgapError as exc:
        raise CatalogError(f"{field}: {exc}") from None
    warnings: List[str] = []
    if spec.filtered:
        try:
            catalog, warnings = apply_filter(catalog, spec.catalog_filter)
        except AirgapError as exc:
            text = str(exc)
            text = text if text.startswith(spec.field) else f"{spec.field}: {text}"
            raise (ConfigError(text) if isinstance(exc, ConfigError) else CatalogError(text)) from None
    return LoadedCatalog(spec, catalog, image, digest, spec.warnings + list(warnings or []))


def registry_pool(auth, connection, size: int) -> RegistryPool:
    """A pool of registry clients with the request's connection settings."""
    return RegistryPool(auth, retries=connection.retries, pool_size=size, timeout=connection.timeout)
