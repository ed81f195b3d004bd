# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine behind catalog_info: a catalog's packages, channels and heads; with a filter, what
it keeps and the images those bundles need (``oc-mirror list operators``)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import CatalogInfoRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import (
    is_local,
    load_spec,
    registry_pool,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def package_summary(catalog: Catalog) -> Tuple[List[Dict[str, Any]], List[str]]:
    """``[{name, default_channel, channels: [{name, head, head_version}], bundles}]`` sorted by name."""
    out = []
    warnings = []
    for name in sorted(catalog.packages):
        pkg = catalog.packages[name]
        channels = []
        for channel_name in sorted(pkg.channels):
            channel = pkg.channels[channel_name]
            head = version = None
            try:
                head = channel.head()
            except CatalogError as exc:
                warnings.append(str(exc))
            if head is not None and head in pkg.bundles:
                version = pkg.bundles[head].version
            channels.append({"name": channel_name, "head": head, "head_version": version})
        out.append({"name": name, "default_channel": pkg.default_channel, "channels": channels,
                    "bundles": len(pkg.bundles)})
    return out, warnings


def catalog_info(request: CatalogInfoRequest, auth: AuthStore) -> Dict[str, Any]:
    """List the packages of one catalog; with a filter, what it keeps and the images it needs."""
    spec = request.spec
    pool = None if is_local(spec.source) else registry_pool(auth, request.connection, 4)
    try:
        # a plain listing reads every package: keep only what the summary needs of each
        loaded = load_spec(spec, pool, request.cache_dir, request.platform, slim=not spec.filtered)
    finally:
        if pool is not None:
            pool.close()
    summary, warnings = package_summary(loaded.catalog)
    result: Dict[str, Any] = {"changed": False, "packages": summary, "catalog": spec.source}
    if loaded.digest:
        result["digest"] = loaded.digest
    if spec.filtered:
        images = set(loaded.images())
        if loaded.image:
            images.add(loaded.image)
        result["images"] = sorted(images)
    result["warnings"] = list(auth.warnings) + loaded.warnings + warnings
    return result
