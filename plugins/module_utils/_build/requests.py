# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What catalog_build is asked, as a typed value; the defaults of its options live here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import DEFAULT_PLATFORM, CatalogSpec
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


@dataclass(frozen=True)
class CatalogBuildRequest:
    """Build a catalog image from ``source`` (filtered), ``fbc`` and ``bundles`` on ``base_image``
    and push it to ``dest`` (a registry reference or ``oci:DIR[:TAG]``).

    ``platform`` is the entry read from a multi-platform source catalog image; ``filter_by_os``
    chooses the platforms of the base (all when unset).
    """

    base_image: str
    dest: str
    source: Optional[CatalogSpec] = None
    fbc: Optional[str] = None
    # bundle image references or directories, rendered by _build/bundle.py
    bundles: Tuple[str, ...] = ()
    filter_by_os: Optional[str] = None
    cache_dir: Optional[str] = None
    platform: str = DEFAULT_PLATFORM
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        if self.source is None and not self.fbc and not self.bundles:
            raise ConfigError("give at least one input: source (a catalog), imageset_config, fbc or bundles")
