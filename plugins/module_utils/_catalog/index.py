# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog inside a catalog (index) image: where its config labels say it lives (an FBC
directory or a sqlite database), and loading it once the layers are unpacked."""

from __future__ import annotations

import os
from typing import Mapping, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import PackageNames, load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import normalize_prefix
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_sqlite_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

LABEL_CONFIGS = "operators.operatorframework.io.index.configs.v1"
LABEL_DATABASE = "operators.operatorframework.io.index.database.v1"


class IndexLocation:
    """Where the catalog lives inside a catalog image: ``kind`` is ``fbc`` (a directory) or
    ``sqlite`` (a database file); ``path`` is absolute inside the image."""

    __slots__ = ("kind", "path")

    def __init__(self, kind: str, path: str):
        self.kind = kind
        self.path = path

    @property
    def prefix(self) -> str:
        """The ``only_prefix`` to give apply_layers to unpack just the catalog."""
        return self.path

    def local_path(self, dest_dir: str) -> str:
        """The catalog's path once the layers are applied under ``dest_dir``."""
        rel = normalize_prefix(self.path) or ""
        return os.path.join(dest_dir, *rel.split("/")) if rel else dest_dir

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndexLocation) and (self.kind, self.path) == (other.kind, other.path)

    def __repr__(self) -> str:
        return f"IndexLocation({self.kind!r}, {self.path!r})"


def index_location(labels: Optional[Mapping[str, str]], image: str = "the catalog image") -> IndexLocation:
    """Choose the loader from the image config labels: the FBC directory label wins over the
    sqlite database label (images built during the migration carry both, and opm serves the FBC)."""
    labels = labels or {}
    for label, kind in ((LABEL_CONFIGS, "fbc"), (LABEL_DATABASE, "sqlite")):
        value = labels.get(label)
        if not value:
            continue
        try:
            normalize_prefix(value)
        except CatalogError as exc:
            # "/" would unpack the whole image (and read its every file as a catalog).
            raise CatalogError(f"{image}: the {label} label {value!r} is not a path inside the image "
                               f"({exc}); not a usable catalog image") from None
        return IndexLocation(kind, value)
    raise CatalogError(f"{image}: neither the {LABEL_CONFIGS} label (FBC directory) nor the {LABEL_DATABASE} "
                       "label (sqlite database) is set in the image config, so it is not an operator catalog "
                       "image; give a catalog (index) image, an FBC directory or an index.db")


def load_extracted(dest_dir: str, location: IndexLocation, packages: PackageNames = None,
                   slim: bool = False) -> Catalog:
    """Load the catalog unpacked under ``dest_dir`` by :func:`layers.apply_layers` (``slim``: see
    :func:`fbc.load_fbc`)."""
    path = location.local_path(dest_dir)
    if location.kind == "sqlite":
        return load_sqlite_catalog(path, packages)
    if not os.path.exists(path):
        raise CatalogError(f"{location.path}: the FBC directory named by the {LABEL_CONFIGS} label is not in the "
                           "image layers")
    return load_fbc(path, packages, slim)
