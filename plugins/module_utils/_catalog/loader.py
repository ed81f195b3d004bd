# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loading a local catalog, File-Based (:mod:`fbc`) or a legacy sqlite index.db (:mod:`sqlite`)."""

from __future__ import annotations

import os

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import (
    PackageNames,
    load_fbc,
    package_predicate,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sqlite import load_sqlite

_SQLITE_MAGIC = b"SQLite format 3\x00"


def load_sqlite_catalog(path: str, packages: PackageNames = None) -> Catalog:
    """Load a sqlite index.db, then drop the packages not in ``packages`` (a sqlite index is
    always read whole)."""
    catalog = load_sqlite(path)
    keep = package_predicate(packages)
    if keep is not None:
        catalog.packages = {name: pkg for name, pkg in catalog.packages.items() if keep(name)}
    return catalog


def load_catalog(path: str, packages: PackageNames = None, slim: bool = False) -> Catalog:
    """Load a local catalog: a sqlite index.db (detected by content) or an FBC file/directory
    (``slim``: see :func:`fbc.load_fbc`; a sqlite index is always read whole)."""
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            magic = handle.read(16)
        if magic == _SQLITE_MAGIC:
            return load_sqlite_catalog(path, packages)
    return load_fbc(path, packages, slim)
