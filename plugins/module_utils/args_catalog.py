# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible glue of the catalog modules (catalog_info, catalog_build, catalog_mirror): their
filter and catalog-reading options, and their parameters turned into the engines' requests.

Kept apart from ``args.py`` so the modules that never read a catalog do not ship _catalog and
_build (see there).
"""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import (
    DEFAULT_PLATFORM,
    CatalogInfoRequest,
    catalog_specs,
    info_spec,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CatalogMirrorRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import connection_settings, transfer_settings
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_archive import archive_settings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def catalog_filter_argument_spec(**extra):
    """How one catalog is filtered: catalog_info's and catalog_build's options, and each entry of
    catalog_mirror's ``catalogs`` (documented in each module; the filter itself is _catalog/options)."""
    spec = dict(
        packages=dict(type="list", elements="raw"),
        full=dict(type="bool", default=False),
        include_dependencies=dict(type="bool", default=False),
        imageset_config=dict(type="raw"),
    )
    spec.update(extra)
    return spec


def catalog_reading_argument_spec():
    """Where catalog images are unpacked, and which platform of a catalog index is read."""
    return dict(cache_dir=dict(type="path"), platform=dict(type="str", default=DEFAULT_PLATFORM))


def catalog_mirror_request(module):
    """catalog_mirror's parameters as a CatalogMirrorRequest (ImageSetConfigurations are read here)."""
    params = module.params
    return CatalogMirrorRequest(
        catalogs=tuple(catalog_specs(params["catalogs"])),
        dest=params["dest"],
        output_dir=params["output_dir"],
        manifests_only=params["manifests_only"],
        naming=params["naming"],
        max_components=params["max_components"],
        max_nested_paths=params["max_nested_paths"],
        icsp_scope=params.get("icsp_scope"),
        cache_dir=params.get("cache_dir"),
        platform=params["platform"],
        diff=bool(module._diff),
        base_image=params.get("base_image"),
        transfer=transfer_settings(params),
        connection=connection_settings(params),
        archive=archive_settings(params, dest=params["dest"]),
    )


def catalog_info_request(module):
    """catalog_info's parameters as a CatalogInfoRequest."""
    params = module.params
    spec = info_spec(params.get("catalog"), params.get("packages"), params["full"], params["include_dependencies"],
                     params.get("imageset_config"))
    return CatalogInfoRequest(spec=spec, cache_dir=params.get("cache_dir"), platform=params["platform"],
                              connection=connection_settings(params))


def catalog_build_request(module):
    """catalog_build's parameters as a CatalogBuildRequest (the source's filter read as catalog_info reads it)."""
    params = module.params
    spec = None
    if params.get("source") or params.get("imageset_config") is not None:
        spec = info_spec(params.get("source"), params.get("packages"), params["full"], params["include_dependencies"],
                         params.get("imageset_config"))
        spec.field = "source"
    elif params.get("packages") or params["full"] or params["include_dependencies"]:
        raise ConfigError("packages, full and include_dependencies filter the source: set source or "
                          "imageset_config, or leave them out")
    return CatalogBuildRequest(
        base_image=params["base_image"],
        dest=params["dest"],
        source=spec,
        fbc=params.get("fbc"),
        bundles=tuple(params.get("bundles") or ()),
        filter_by_os=params.get("filter_by_os"),
        cache_dir=params.get("cache_dir"),
        platform=params["platform"],
        connection=connection_settings(params),
    )
