# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which catalogs to read and how to filter them, as typed values.

A :class:`CatalogSpec` is one catalog with its filter, built from a module's ``catalogs`` entry
(packages, channels, versions) or from an ImageSetConfiguration; a :class:`CatalogInfoRequest`
is what catalog_info is asked. The Ansible glue builds them once from the module parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.isc import load_imageset_config
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import filter_from_options
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError

# The platform whose catalog image is read (oc's --index-filter-by-os).
DEFAULT_PLATFORM = "linux/amd64"


@dataclass
class CatalogSpec:
    """One catalog to read: where from, how to filter it, how to name its target.

    ``field`` names the option it came from (``catalogs[1]``, ``catalog``) for error messages;
    ``filtered`` is false for a plain listing, which reads every package. ``options`` are the
    filter options as the user gave them (``packages``, ``full``, ``include_dependencies`` or
    ``imageset_config``), to name the catalog_build task that builds the same catalog.
    """

    source: str
    catalog_filter: Any
    field: str
    target_name: Optional[str] = None
    target_tag: Optional[str] = None
    filtered: bool = True
    warnings: List[str] = dataclass_field(default_factory=list)
    options: Dict[str, Any] = dataclass_field(default_factory=dict)

    @property
    def source_field(self) -> str:
        """The option that holds the source, for messages about reading it."""
        return f"{self.field}.source" if self.field.startswith("catalogs[") else self.field


@dataclass(frozen=True)
class CatalogInfoRequest:
    """List one catalog; with a filter, what it keeps and the images it needs (catalog_info)."""

    spec: CatalogSpec
    cache_dir: Optional[str] = None
    platform: str = DEFAULT_PLATFORM
    connection: ConnectionSettings = dataclass_field(default_factory=ConnectionSettings)


def specs_from_isc(isc: Any, field_name: str, source: Optional[str], target_name: Optional[str],
                   target_tag: Optional[str], isc_field: Optional[str] = None) -> List[CatalogSpec]:
    """The catalogs an ImageSetConfiguration (a file path or its parsed content) names.

    With ``source`` set and several catalogs in the ISC, only the one whose catalog is ``source``.
    """
    isc_field = isc_field or f"{field_name}.imageset_config"
    try:
        entries = load_imageset_config(isc)
    except (ConfigError, CatalogError) as exc:
        raise ConfigError(f"{isc_field}: {exc}") from None
    if not entries:
        raise ConfigError(f"{isc_field}: mirror.operators lists no catalog")
    if source is not None and len(entries) > 1:
        chosen = [e for e in entries if e.catalog == source]
        if not chosen:
            raise ConfigError(
                f"{field_name}: source {source!r} is none of the catalogs of imageset_config "
                f"({', '.join(e.catalog for e in entries)}); leave source out to mirror them all, or name one"
            )
        entries = chosen
    specs = []
    for index, entry in enumerate(entries):
        where = f"{isc_field}.mirror.operators[{index}]" if len(entries) > 1 else field_name
        specs.append(CatalogSpec(
            source if source is not None else entry.catalog,
            entry.filter,
            where,
            target_name if target_name is not None else entry.target_catalog,
            target_tag if target_tag is not None else entry.target_tag,
            warnings=list(getattr(entries, "warnings", None) or []) if index == 0 else [],
        ))
    return specs


def catalog_specs(entries: Sequence[Dict[str, Any]], option: str = "catalogs") -> List[CatalogSpec]:
    """Turn the ``catalogs`` option into specs; an imageset_config entry may give several."""
    if not entries:
        raise ConfigError(f"{option} is empty: list at least one catalog (source: an image, FBC path or index.db)")
    specs: List[CatalogSpec] = []
    for index, entry in enumerate(entries):
        where = f"{option}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a dictionary with at least 'source' or 'imageset_config'")
        source = entry.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise ConfigError(f"{where}.source must be a non-empty string (an image, FBC path or index.db)")
        isc = entry.get("imageset_config")
        packages = entry.get("packages")
        if isc is not None:
            if packages:
                raise ConfigError(f"{where}: give either packages or imageset_config, not both")
            for spec in specs_from_isc(isc, where, source, entry.get("target_name"), entry.get("target_tag")):
                spec.options = {"imageset_config": isc}
                specs.append(spec)
            continue
        if source is None:
            raise ConfigError(f"{where}: source is required (an image, an FBC path or an index.db) "
                              "unless imageset_config names the catalogs")
        catalog_filter = filter_from_options(packages or [], full=bool(entry.get("full")),
                                             include_dependencies=bool(entry.get("include_dependencies")),
                                             field=f"{where}.packages")
        options = {"packages": list(packages or []), "full": bool(entry.get("full")),
                   "include_dependencies": bool(entry.get("include_dependencies"))}
        specs.append(CatalogSpec(source, catalog_filter, where, entry.get("target_name"), entry.get("target_tag"),
                                 options=options))
    return specs


def info_spec(catalog: Optional[str], packages: Optional[Sequence[Any]], full: bool, include_dependencies: bool,
              imageset_config: Any) -> CatalogSpec:
    """The one catalog catalog_info lists: filtered when packages, full or an ISC is given."""
    if imageset_config is not None:
        if packages:
            raise ConfigError("give either packages or imageset_config, not both")
        specs = specs_from_isc(imageset_config, "catalog", catalog, None, None, "imageset_config")
        if len(specs) > 1:
            raise ConfigError("imageset_config lists several catalogs; set catalog to the one to list")
        spec = specs[0]
        spec.field = "catalog"
        return spec
    if not catalog:
        raise ConfigError("catalog is required (an image, an FBC path or an index.db) unless imageset_config "
                          "names it")
    catalog_filter = filter_from_options(packages or [], full=full, include_dependencies=include_dependencies,
                                         field="packages")
    return CatalogSpec(catalog, catalog_filter, "catalog", filtered=bool(packages) or full)
