# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The images a catalog needs mirrored: every bundle image and related image."""

from __future__ import annotations

from typing import List, Optional, Set

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, CatalogError


def catalog_images(catalog: Catalog, strict: bool = False) -> List[str]:
    """Every kept bundle's image and related images, without duplicates, sorted. The catalog
    image itself is added by the caller.

    ``strict``: refuse (CatalogError naming each bundle and image) references oc-mirror refuses
    in a catalog: unparsable, ``oci://``, or with neither tag nor digest (OCPBUGS-33081).
    """
    images: Set[str] = set()
    problems: List[str] = []
    for bundle in catalog.bundles():
        for image in bundle.images():
            if not image:
                continue
            images.add(image)
            reason = _refused(image) if strict else None
            if reason:
                problems.append(f"bundle {bundle.name!r} of package {bundle.package!r}: image {image!r}: {reason}")
    if problems:
        raise CatalogError("invalid images in the catalog: " + "; ".join(problems) +
                           "; fix the catalog, or filter the bundles out")
    return sorted(images)


def _refused(image: str) -> Optional[str]:
    """Why oc-mirror refuses ``image`` in a catalog, or None."""
    if "://" in image:
        return "a transport prefix (such as oci://) is not supported in operator catalogs"
    try:
        ref = parse(image)
    except AirgapError as exc:
        return str(exc)
    if ref.tag is None and ref.digest is None:
        return "tag and digest are empty"
    return None
