# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog filter: which packages, channels and bundles of a catalog to keep, with oc-mirror v2's
rules.

The filter is a :class:`~options.CatalogFilter`, built from the module's own options
(:func:`options.filter_from_options`) or from the ``mirror.operators`` entries of an oc-mirror
ImageSetConfiguration (:func:`isc.load_imageset_config`). :func:`apply_filter` returns a new,
filtered :class:`~model.Catalog`; :func:`images.catalog_images` lists the images it needs.

Selection rules (those of oc-mirror v2, whose filter is the ``mirror-config/v1alpha1`` filter of
github.com/sherine-k/catalog-filter, as pinned in oc-mirror's go.mod):

* no packages, ``full`` false: the head of every channel of every package;
  no packages, ``full`` true: the whole catalog, unchanged.
* packages listed: only those packages (one not in the catalog gives a warning, not an error).
  For each, the listed channels, or every channel when none is listed; in each kept channel:

  - ``full`` true: every entry;
  - a version range (the channel's own, else the package's): the bundles on the upgrade path
    covering the range (see below);
  - ``minVersion`` equal to ``maxVersion``: only the bundles of exactly that version
    (OCPBUGS-61497); none in the package is an error;
  - ``bundles``: only the named bundles;
  - otherwise: the channel head only.

  A channel a range leaves empty is dropped, unless it is the package's default channel (an
  error). The default channel must survive the filter: if it is not among the listed channels,
  ``defaultChannel`` must name one that is.
* Version ranges are checked the way Masterminds/semver checks ``>=min <=max``: build metadata is
  ignored, and a pre-release bundle version (``1.2.3-4``) is only matched by a bound that itself
  has a pre-release.
* Range to bundles: walk the ``replaces`` chain from the channel head; for each node count the
  bundles in range at or below it (the node, the bundles it skips, and everything below it,
  each counted once). The new head is the lowest node whose count equals the head's; the walk
  stops at the first node whose count is zero. Every node between them is kept (a warning names
  those outside the range: they are kept so the in-range bundles stay connected), plus the
  in-range bundles they skip. Upgrade edges (``replaces``, ``skips``, ``skipRange``) are kept as
  they are, also those naming bundles that were filtered out: OLM uses them to upgrade a cluster
  from a version installed before, and ``opm`` accepts them (its own heads-only output keeps them).

With ``include_dependencies``, the bundles the kept ones require are added (:mod:`dependencies`).
The filtered catalog shares its Bundle, ChannelEntry and unknown-schema blob objects with the
input catalog (nothing of the input is modified): treat them as read-only.
"""

from __future__ import annotations

import difflib
from typing import Dict, List, Optional, Set, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.dependencies import add_dependencies
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.graph import (
    ChannelGraph,
    package_versions,
    select_range,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, Channel, Package
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import CatalogFilter, PackageSelector
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import Version, VersionRange, range_of
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.subset import (
    copy_channel,
    copy_package,
    empty_package,
    keep_deprecations,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def _filter_package(pkg: Package, selector: Optional[PackageSelector], full: bool, warnings: List[str]) -> Package:
    where = f"package {pkg.name!r}"
    missing: List[str] = []
    if selector is not None and selector.channels:
        missing = [channel.name for channel in selector.channels if channel.name not in pkg.channels]
        channel_selectors = {channel.name: channel for channel in selector.channels if channel.name in pkg.channels}
        channel_names = [name for name in pkg.channels if name in channel_selectors]
        if missing:
            warnings.append(f"{where}: channel(s) {', '.join(map(repr, missing))} not found in the catalog (ignored); "
                            f"the package has channels {', '.join(sorted(pkg.channels)) or '(none)'}")
    else:
        channel_selectors = {}
        channel_names = list(pkg.channels)

    original = pkg.default_channel
    effective = original
    if selector is not None:
        if selector.default_channel:
            if selector.default_channel not in channel_names:
                raise ConfigError(
                    f"{where}: the defaultChannel override {selector.default_channel!r} is not among the kept "
                    f"channels ({', '.join(channel_names) or 'none'}); name one of them, or list it under channels")
            effective = selector.default_channel
        elif original and original not in channel_names:
            note = f" (channel(s) not found: {', '.join(missing)})" if missing else ""
            raise ConfigError(
                f"{where}: the default channel {original!r} was filtered out{note}: list it under channels, or set "
                f"defaultChannel to one of the kept channels ({', '.join(channel_names) or 'none'})")

    out = empty_package(pkg, effective)
    pkg_range = range_of(selector.min_version, selector.max_version, where) if selector is not None else None
    versions: Optional[Dict[str, Optional[Version]]] = None
    bundles_wanted = set(selector.bundles) if selector is not None and selector.bundles else None
    kept: Set[str] = set()

    ranges: Dict[str, Optional[VersionRange]] = {}
    for name in channel_names:
        channel_selector = channel_selectors.get(name)
        channel_range = None
        if channel_selector:
            channel_range = range_of(channel_selector.min_version, channel_selector.max_version,
                                     f"{where}, channel {name!r}")
        ranges[name] = channel_range or pkg_range

    # oc-mirror (catalog-filter >= v0.0.5): minVersion == maxVersion selects that version only, and
    # a version found in none of the bundles is an error rather than an empty channel.
    pinned_found: Dict[str, bool] = {}
    for name in channel_names:
        version_range = ranges[name]
        if version_range is not None and version_range.pinned is not None:
            if versions is None:
                versions = package_versions(pkg)
            pinned_found[name] = any(versions.get(entry.name) == version_range.pinned
                                     for entry in pkg.channels[name].entries)
    if pinned_found:
        if pkg_range is not None and pkg_range.pinned is not None and not any(pinned_found.values()):
            raise ConfigError(f"{where}: error finding specific bundle: specific version {pkg_range.pinned} "
                              f"not found in bundles of the channels {', '.join(channel_names)}; "
                              f"{_available_versions(pkg, versions or {})}")
        for name, found in pinned_found.items():
            version_range = ranges[name]
            if not found and version_range is not pkg_range:
                raise ConfigError(f"{where}, channel {name!r}: error finding specific bundle: specific version "
                                  f"{version_range.pinned} not found in the channel's bundles; "
                                  f"{_available_versions(pkg, versions or {}, pkg.channels[name])}")

    for name in channel_names:
        channel = pkg.channels[name]
        channel_where = f"{where}, channel {name!r}"
        version_range = ranges[name]
        if bundles_wanted is not None:
            names = {entry.name for entry in channel.entries if entry.name in bundles_wanted}
            what = "the bundle selection"
            if names:
                ChannelGraph([entry for entry in channel.entries if entry.name in names],
                             f"{channel_where}: filtering on the selected bundles leads to an invalid channel",
                             ConfigError)
        elif full:
            names = {entry.name for entry in channel.entries}
            what = ""
        elif version_range is not None:
            if versions is None:
                versions = package_versions(pkg)
            if version_range.pinned is not None:
                names = {entry.name for entry in channel.entries if versions.get(entry.name) == version_range.pinned}
                if names:
                    ChannelGraph([entry for entry in channel.entries if entry.name in names],
                                 f"{channel_where}: the bundles of version {version_range.pinned} do not form a "
                                 "channel with one head", ConfigError)
            else:
                graph = ChannelGraph(channel.entries, channel_where)
                names = select_range(graph, version_range, versions, channel_where, warnings)
                names &= {entry.name for entry in channel.entries}
            what = f"the version range {version_range}"
        else:
            names = {ChannelGraph(channel.entries, channel_where).head}
            what = ""
        if not names:
            hint = _prerelease_hint(channel, version_range, versions) if version_range is not None and versions else ""
            if name == effective:
                raise ConfigError(f"{channel_where}: {what or 'the filter'} selects no bundle of the default channel; "
                                  f"widen the range, or set defaultChannel to a channel that keeps bundles{hint}")
            warnings.append(f"{channel_where}: {what or 'the filter'} selects no bundle; the channel is left out{hint}")
            continue
        out.channels[name] = copy_channel(channel, names)
        kept |= names

    if bundles_wanted is not None:
        unknown = sorted(bundles_wanted - kept)
        if unknown:
            warnings.append(f"{where}: bundle(s) {', '.join(unknown)} not found in the kept channels (ignored)")
    out.bundles = {name: bundle for name, bundle in pkg.bundles.items() if name in kept}
    keep_deprecations(pkg, out)
    return out


def _prerelease_hint(channel: Channel, version_range: VersionRange, versions: Dict[str, Optional[Version]]) -> str:
    """Explain oc-mirror's semver rule when it is why a range matched nothing."""
    for entry in channel.entries:
        version = versions.get(entry.name)
        if version is not None and version.prerelease:
            release = Version(version.major, version.minor, version.patch)
            if version_range.check(release):
                return (f" (its bundle versions are pre-releases, such as {version}, and a minVersion/maxVersion "
                        "without a pre-release part never matches a pre-release, as in oc-mirror: give the bound a "
                        f"pre-release part, e.g. '{release}-0')")
    return ""


def _available_versions(pkg: Package, versions: Dict[str, Optional[Version]], channel: Optional[Channel] = None) -> str:
    names = [entry.name for entry in channel.entries] if channel is not None else list(pkg.bundles)
    found = sorted({versions.get(name) for name in names if versions.get(name) is not None})
    if not found:
        return "no bundle has a version"
    shown = ", ".join(str(version) for version in found[-15:])
    more = f" (the {len(found) - 15} older ones not shown)" if len(found) > 15 else ""
    return f"versions available: {shown}{more}"


def apply_filter(catalog: Catalog, catalog_filter: CatalogFilter) -> Tuple[Catalog, List[str]]:
    """Filter ``catalog``; returns a new catalog and warnings (the input is unchanged).

    Raises ConfigError when the filter cannot be applied (default channel filtered out, version
    range that empties the default channel, pinned version not found, ...) and CatalogError when
    a channel the filter has to walk is broken (several heads, a cycle).
    """
    catalog_filter.validate()
    warnings: List[str] = []
    out = Catalog()
    out.others = list(catalog.others)
    if not catalog_filter.packages:
        for name, pkg in catalog.packages.items():
            if catalog_filter.full:
                out.packages[name] = copy_package(pkg)
            else:
                out.packages[name] = _filter_package(pkg, None, False, warnings)
    else:
        for selector in catalog_filter.packages:
            pkg = catalog.packages.get(selector.name)
            if pkg is None:
                close = difflib.get_close_matches(selector.name, list(catalog.packages), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                warnings.append(f"package {selector.name!r} not found in the catalog{hint}; nothing is kept for it")
                continue
            out.packages[selector.name] = _filter_package(pkg, selector, catalog_filter.full, warnings)
    if catalog_filter.include_dependencies:
        add_dependencies(catalog, out, warnings)
    return out, warnings
