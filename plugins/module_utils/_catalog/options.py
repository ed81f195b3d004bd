# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to keep of a catalog (:class:`CatalogFilter`), built from the module's ``packages`` option or
an ImageSetConfiguration's ``packages`` (:func:`filter_from_options`), and checked with oc-mirror's
rules before any catalog is read."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import (
    VersionRange,
    parse_bound,
    range_of,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


@dataclass
class ChannelSelector:
    """One channel of a package to keep, optionally limited to a version range."""

    name: str
    min_version: Optional[str] = None
    max_version: Optional[str] = None


@dataclass
class PackageSelector:
    """One package to keep. ``bundles`` is oc-mirror's bundle selection (bundle names)."""

    name: str
    channels: List[ChannelSelector] = field(default_factory=list)
    min_version: Optional[str] = None
    max_version: Optional[str] = None
    bundles: List[str] = field(default_factory=list)
    default_channel: Optional[str] = None


@dataclass
class CatalogFilter:
    """What to keep of one catalog. No packages: every package (heads, or all with ``full``)."""

    packages: List[PackageSelector] = field(default_factory=list)
    full: bool = False
    include_dependencies: bool = False

    def package_names(self) -> Optional[Set[str]]:
        """The packages the filter can keep, for the streaming loader's ``packages=`` argument;
        None when it may keep any package (no packages listed, or dependencies followed)."""
        if not self.packages or self.include_dependencies:
            return None
        return {package.name for package in self.packages}

    def validate(self, field_name: str = "packages") -> None:
        """Raise ConfigError for a filter oc-mirror refuses (or that can select nothing)."""
        _validate_filter(self, field_name)


_PKG_KEYS = {
    "name": "name",
    "channels": "channels",
    "minVersion": "min_version", "min_version": "min_version",
    "maxVersion": "max_version", "max_version": "max_version",
    "defaultChannel": "default_channel", "default_channel": "default_channel",
    "bundles": "bundles",
}
_CHANNEL_KEYS = {
    "name": "name",
    "minVersion": "min_version", "min_version": "min_version",
    "maxVersion": "max_version", "max_version": "max_version",
}
_UNSUPPORTED = {
    "minBundle": "minBundle is an oc-mirror v1 field that v2 does not read: use minVersion",
    "min_bundle": "min_bundle is an oc-mirror v1 field that v2 does not read: use min_version",
    "versions": "'versions' is opm diff syntax: use minVersion and maxVersion (equal values pin one version)",
}


def unknown_key(where: str, key: Any, known: Iterable[str]) -> ConfigError:
    """The error for an unknown field ``key`` at ``where``, suggesting the closest known one."""
    if key in _UNSUPPORTED:
        return ConfigError(f"{where}.{key}: {_UNSUPPORTED[key]}")
    known = sorted(set(known))
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"{where}.{key}: unknown field{hint} (known fields: {', '.join(known)})")


def _mapped(data: Dict[Any, Any], keys: Dict[str, str], where: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    given: Dict[str, str] = {}
    for key, value in data.items():
        target = keys.get(key) if isinstance(key, str) else None
        if target is None:
            raise unknown_key(where, key, keys)
        if target in given:
            raise ConfigError(f"{where}: both {given[target]!r} and {key!r} are given; keep one")
        given[target] = key
        out[target] = value
    return out


def str_field(value: Any, where: str, allow_none: bool = True) -> Optional[str]:
    """``value`` stripped; ConfigError naming ``where`` unless a non-empty string (or None if allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: must be a non-empty string, got {value!r}")
    return value.strip()


def _version_field(value: Any, where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    parse_bound(value, where)
    return value.strip()


def _channel_from(item: Any, where: str) -> ChannelSelector:
    if isinstance(item, ChannelSelector):
        return item
    if isinstance(item, str):
        return ChannelSelector(str_field(item, where, False) or "")
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a channel is a name or a mapping with 'name', got {item!r}")
    data = _mapped(item, _CHANNEL_KEYS, where)
    if "name" not in data:
        raise ConfigError(f"{where}.name: a channel needs a name")
    return ChannelSelector(
        str_field(data["name"], f"{where}.name", False) or "",
        _version_field(data.get("min_version"), f"{where}.minVersion"),
        _version_field(data.get("max_version"), f"{where}.maxVersion"),
    )


def _package_from(item: Any, where: str) -> PackageSelector:
    if isinstance(item, PackageSelector):
        return item
    if isinstance(item, str):
        return PackageSelector(str_field(item, where, False) or "")
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a package is a name or a mapping with 'name', got {item!r}")
    data = _mapped(item, _PKG_KEYS, where)
    if "name" not in data:
        raise ConfigError(f"{where}.name: a package needs a name")
    name = str_field(data["name"], f"{where}.name", False) or ""
    channels_raw = data.get("channels") or []
    if not isinstance(channels_raw, list):
        raise ConfigError(f"{where}.channels: must be a list of channel names or mappings")
    channels = [_channel_from(channel, f"{where}.channels[{index}]") for index, channel in enumerate(channels_raw)]
    bundles_raw = data.get("bundles") or []
    if not isinstance(bundles_raw, list):
        raise ConfigError(f"{where}.bundles: must be a list of bundle names")
    bundles = []
    for index, entry in enumerate(bundles_raw):
        bundle_where = f"{where}.bundles[{index}]"
        if isinstance(entry, dict):
            entry = _mapped(entry, {"name": "name"}, bundle_where).get("name")
            bundle_where += ".name"
        bundles.append(str_field(entry, bundle_where, False) or "")
    return PackageSelector(
        name, channels,
        _version_field(data.get("min_version"), f"{where}.minVersion"),
        _version_field(data.get("max_version"), f"{where}.maxVersion"),
        bundles,
        str_field(data.get("default_channel") or None, f"{where}.defaultChannel"),
    )


def filter_from_options(packages: Optional[Sequence[Any]], full: bool = False, include_dependencies: bool = False,
                        field: str = "packages") -> CatalogFilter:
    """Build (and validate) a CatalogFilter from module options or ISC ``packages``.

    ``packages``: None or a list of package names or mappings with ``name``, ``channels`` (names
    or ``{name, minVersion, maxVersion}``), ``minVersion``, ``maxVersion``, ``defaultChannel``,
    ``bundles`` (camelCase as in an ImageSetConfiguration, or snake_case). ``field`` is the path
    of ``packages`` used in error messages (``catalogs[0].packages``).
    """
    if packages is None:
        packages = []
    if not isinstance(packages, (list, tuple)):
        raise ConfigError(f"{field}: must be a list of package names or mappings, got {type(packages).__name__}")
    if not isinstance(full, bool):
        raise ConfigError(f"full: must be true or false, got {full!r}")
    selectors = [_package_from(item, f"{field}[{index}]") for index, item in enumerate(packages)]
    catalog_filter = CatalogFilter(selectors, full, bool(include_dependencies))
    catalog_filter.validate(field)
    return catalog_filter


def _validate_filter(catalog_filter: CatalogFilter, field_name: str) -> None:
    seen: Dict[str, int] = {}
    for index, pkg in enumerate(catalog_filter.packages):
        where = f"{field_name}[{index}] (package {pkg.name!r})"
        if not pkg.name:
            raise ConfigError(f"{field_name}[{index}].name: a package needs a name")
        if pkg.name in seen:
            raise ConfigError(f"{where}: duplicate package entry (also {field_name}[{seen[pkg.name]}]); "
                              "merge the two entries")
        seen[pkg.name] = index
        pkg_range = range_of(pkg.min_version, pkg.max_version, f"{field_name}[{index}]")
        _check_order(pkg_range, where)
        if pkg.bundles and (pkg.channels or pkg_range):
            raise ConfigError(f"{where}: mixing both filtering by bundles and filtering by channels or "
                              "minVersion/maxVersion is not allowed; use one of them")
        if catalog_filter.full and pkg.bundles:
            raise ConfigError(f"{where}: full: true cannot be mixed with filtering by bundle selection; "
                              "remove 'full' or 'bundles'")
        if catalog_filter.full and pkg_range:
            raise ConfigError(f"{where}: full: true cannot be mixed with minVersion/maxVersion; "
                              "remove 'full' or the version range")
        channel_seen: Dict[str, int] = {}
        for channel_index, channel in enumerate(pkg.channels):
            channel_where = f"{field_name}[{index}].channels[{channel_index}]"
            if not channel.name:
                raise ConfigError(f"{channel_where}.name: a channel needs a name")
            if channel.name in channel_seen:
                raise ConfigError(f"{channel_where} (package {pkg.name!r}): duplicate channel entry "
                                  f"{channel.name!r}; merge the two entries")
            channel_seen[channel.name] = channel_index
            channel_range = range_of(channel.min_version, channel.max_version, channel_where)
            _check_order(channel_range, f"{channel_where} (package {pkg.name!r}, channel {channel.name!r})")
            if channel_range and pkg_range:
                raise ConfigError(
                    f"{where}: the package specifies a version range, while channel {channel.name!r} at index "
                    f"[{channel_index}] equally specifies one: package and channel minVersion/maxVersion are "
                    "exclusive; keep one")
            if catalog_filter.full and channel_range:
                raise ConfigError(f"{channel_where} (package {pkg.name!r}, channel {channel.name!r}): full: true "
                                  "cannot be mixed with minVersion/maxVersion; remove 'full' or the version range")


def _check_order(version_range: Optional[VersionRange], where: str) -> None:
    low, high = (version_range.low, version_range.high) if version_range else (None, None)
    if low and high and low.version > high.version:
        raise ConfigError(f"{where}: minVersion {low.text!r} is greater than maxVersion {high.text!r}, "
                          "so no bundle can match; swap or fix them")
