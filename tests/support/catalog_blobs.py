# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small synthetic File-Based Catalogs for unit tests: bundle blobs, packages whose channel is a
replaces chain, and the catalog model built from them."""

from __future__ import annotations

import copy

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog


def bundle(pkg, version, name=None, images=(), props=()):
    name = name or f"{pkg}.v{version}"
    return {"schema": "olm.bundle", "name": name, "package": pkg, "image": f"quay.io/{pkg}/bundle:v{version}",
            "properties": [{"type": "olm.package", "value": {"packageName": pkg, "version": version}}] + list(props),
            "relatedImages": [{"name": f"i{i}", "image": img} for i, img in enumerate(images)]}


def make_catalog(*blobs):
    return Catalog.from_blobs(copy.deepcopy(list(blobs)))


def chain_package(pkg, versions, channel="stable", default=None, extra_channels=()):
    """A package whose channel is a replaces chain over ``versions`` (oldest first)."""
    entries = []
    prev = None
    for v in versions:
        entry = {"name": f"{pkg}.v{v}"}
        if prev:
            entry["replaces"] = prev
        entries.append(entry)
        prev = entry["name"]
    blobs = [{"schema": "olm.package", "name": pkg, "defaultChannel": default or channel},
             {"schema": "olm.channel", "name": channel, "package": pkg, "entries": entries}]
    blobs += list(extra_channels)
    blobs += [bundle(pkg, v) for v in versions]
    return blobs


def names(catalog, pkg=None):
    if pkg:
        return sorted(catalog.packages[pkg].bundles)
    return sorted(b.name for b in catalog.bundles())
