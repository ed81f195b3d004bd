# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_images: the bundle and related images of a catalog, and the strict check."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import CatalogFilter
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.support.catalog_blobs import chain_package, make_catalog


def test_catalog_images_dedup_and_sort():
    catalog = make_catalog(*chain_package("a", ["1.0.0", "1.1.0"]))
    catalog.packages["a"].bundles["a.v1.0.0"].related_images = [
        {"name": "op", "image": "quay.io/z/op@sha256:" + "a" * 64}, {"name": "b", "image": "quay.io/a/bundle:v1.0.0"},
        {"name": "empty", "image": ""}]
    catalog.packages["a"].bundles["a.v1.1.0"].related_images = [{"name": "op", "image": "quay.io/z/op@sha256:" + "a" * 64}]
    assert catalog_images(catalog) == ["quay.io/a/bundle:v1.0.0", "quay.io/a/bundle:v1.1.0",
                                       "quay.io/z/op@sha256:" + "a" * 64]
    out, dummy = apply_filter(catalog, CatalogFilter())
    assert catalog_images(out, strict=True) == ["quay.io/a/bundle:v1.1.0", "quay.io/z/op@sha256:" + "a" * 64]


def test_catalog_images_strict_refuses_what_oc_mirror_refuses():
    catalog = make_catalog(*chain_package("a", ["1.0.0"]))
    catalog.packages["a"].bundles["a.v1.0.0"].related_images = [
        {"name": "x", "image": "oci:///tmp/img"}, {"name": "y", "image": "quay.io/a/notag"},
        {"name": "z", "image": "Bad Ref"}]
    with pytest.raises(CatalogError) as info:
        catalog_images(catalog, strict=True)
    text = str(info.value)
    assert "oci://" in text and "'quay.io/a/notag': tag and digest are empty" in text and "'Bad Ref'" in text
