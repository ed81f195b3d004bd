# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dependency resolution for a filtered catalog.

With ``include_dependencies`` (not an oc-mirror v2 feature), for every kept bundle, each
``olm.package.required`` (package + ``versionRange``) and ``olm.gvk.required`` (group, version,
kind) not already satisfied by a kept bundle pulls in one providing bundle: the highest version
satisfying the requirement, searched in the providing package's default channel first, then in its
other channels by name (for a GVK, in packages already kept first, then by package name). The
bundles on the upgrade path from the channel's kept head (or its head) down to that bundle are
kept with it, so the channel still has one head; a package pulled in this way also keeps the head
of its default channel. Requirements of pulled-in bundles are followed in turn. ``olm.constraint``
properties are not evaluated.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable, List, Optional, Set, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.graph import (
    ChannelGraph,
    bundle_version,
    package_versions,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, Channel, Package
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import (
    Version,
    parse_requirement_range,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.subset import (
    copy_channel,
    empty_package,
    keep_deprecations,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

PROP_GVK = "olm.gvk"
PROP_GVK_REQUIRED = "olm.gvk.required"
PROP_PACKAGE_REQUIRED = "olm.package.required"


def _gvk_key(value: Any) -> Optional[Tuple[str, str, str]]:
    if not isinstance(value, dict):
        return None
    return (str(value.get("group", "")), str(value.get("version", "")), str(value.get("kind", "")))


def _channel_order(pkg: Package) -> List[str]:
    names = sorted(pkg.channels)
    if pkg.default_channel in pkg.channels:
        names.remove(pkg.default_channel)
        names.insert(0, pkg.default_channel)
    return names


def _kept_head(channel: Optional[Channel]) -> Optional[str]:
    if channel is None or not channel.entries:
        return None
    try:
        return ChannelGraph(channel.entries, "kept channel").head
    except CatalogError:
        return None


def _pull(source: Package, out: Catalog, matches: Callable[[Any], bool], why: str,
          warnings: List[str]) -> Optional[List[Any]]:
    """Keep the best bundle of ``source`` for which ``matches(bundle)`` holds, with the upgrade
    path down to it (see the module doc). Returns the bundles newly kept, or None when no bundle
    of any channel matches."""
    versions = None
    for channel_name in _channel_order(source):
        channel = source.channels[channel_name]
        candidates = [entry.name for entry in channel.entries
                      if entry.name in source.bundles and matches(source.bundles[entry.name])]
        if not candidates:
            continue
        if versions is None:
            versions = package_versions(source)
        target = max(candidates, key=lambda name: (versions.get(name) is not None,
                                                   versions.get(name) or Version(0, 0, 0), name))
        graph = ChannelGraph(channel.entries, f"package {source.name!r}, channel {channel_name!r}")
        pkg = out.packages.get(source.name)
        new_package = pkg is None
        if pkg is None:
            pkg = empty_package(source, source.default_channel)
            out.packages[source.name] = pkg
        names: Set[str] = set()
        start = _kept_head(pkg.channels.get(channel_name))
        route = graph.path(start, target) if start else None
        if route is None:
            # Not below what is kept (or nothing kept yet): from the channel head, which then
            # also has to reach what was kept before, so the channel keeps a single head.
            route = graph.path(graph.head, target) or [graph.head, target]
            if start:
                names.update(graph.path(graph.head, start) or [graph.head])
        names.update(route)
        added = _extend_channel(source, pkg, channel, names)
        default = source.default_channel
        if new_package and default in source.channels and default != channel_name:
            default_head = ChannelGraph(source.channels[default].entries,
                                        f"package {source.name!r}, channel {default!r}").head
            added |= _extend_channel(source, pkg, source.channels[default], {default_head})
        pkg.deprecations = []
        keep_deprecations(source, pkg)
        if added:
            warnings.append(f"dependency: {why}: keeping {', '.join(sorted(added))} of package {source.name!r} "
                            f"(channel {channel_name!r})")
        return [pkg.bundles[name] for name in sorted(added)]
    return None


def _extend_channel(source: Package, pkg: Package, channel: Channel, names: Set[str]) -> Set[str]:
    current = pkg.channels.get(channel.name)
    wanted = set(names)
    if current is not None:
        wanted.update(entry.name for entry in current.entries)
    pkg.channels[channel.name] = copy_channel(channel, wanted)
    added = {name for name in wanted if name not in pkg.bundles and name in source.bundles}
    for name in added:
        pkg.bundles[name] = source.bundles[name]
    return added


def add_dependencies(source: Catalog, out: Catalog, warnings: List[str]) -> None:
    """Add to ``out`` (filtered from ``source``) the bundles its bundles require, and theirs in turn
    (see the module doc); a requirement that cannot be met is a warning."""
    provided: Set[Tuple[str, str, str]] = set()
    queue: deque = deque()

    def note(bundles: Iterable[Any]) -> None:
        for item in bundles:
            queue.append(item)
            for value in item.properties_of(PROP_GVK):
                key = _gvk_key(value)
                if key:
                    provided.add(key)

    note(list(out.bundles()))
    while queue:
        bundle = queue.popleft()
        for value in bundle.properties_of(PROP_PACKAGE_REQUIRED):
            note(_require_package(bundle, value, source, out, warnings))
        for value in bundle.properties_of(PROP_GVK_REQUIRED):
            note(_require_gvk(bundle, value, source, out, provided, warnings))


def _require_package(bundle: Any, value: Any, source: Catalog, out: Catalog, warnings: List[str]) -> List[Any]:
    who = f"bundle {bundle.name!r} of package {bundle.package!r}"
    if not isinstance(value, dict) or not value.get("packageName"):
        warnings.append(f"dependency: {who}: olm.package.required without packageName (ignored)")
        return []
    name = str(value["packageName"])
    text = str(value.get("versionRange") or "").strip()
    try:
        check = parse_requirement_range(text) if text else (lambda version: True)
    except ValueError:
        warnings.append(f"dependency: {who}: versionRange {text!r} of package {name!r} cannot be parsed (ignored)")
        return []

    def matches(candidate: Any) -> bool:
        version = bundle_version(candidate)
        return version is not None and check(version)

    why = f"{who} requires package {name!r} {text}".rstrip()
    kept = out.packages.get(name)
    if kept is not None and any(matches(kept_bundle) for kept_bundle in kept.bundles.values()):
        return []
    provider = source.packages.get(name)
    if provider is None:
        warnings.append(f"dependency: {why}, which is not in the catalog")
        return []
    added = _pull(provider, out, matches, why, warnings)
    if added is None:
        warnings.append(f"dependency: {why}, but no bundle of that package satisfies it")
        return []
    return added


def _require_gvk(bundle: Any, value: Any, source: Catalog, out: Catalog, provided: Set[Tuple[str, str, str]],
                 warnings: List[str]) -> List[Any]:
    who = f"bundle {bundle.name!r} of package {bundle.package!r}"
    key = _gvk_key(value)
    if key is None:
        warnings.append(f"dependency: {who}: malformed olm.gvk.required (ignored)")
        return []
    if key in provided:
        return []
    why = f"{who} requires API {key[0]}/{key[1]} {key[2]}"

    def matches(candidate: Any) -> bool:
        return any(_gvk_key(provided_gvk) == key for provided_gvk in candidate.properties_of(PROP_GVK))

    providers = [pkg for pkg in source.packages.values()
                 if any(matches(candidate) for candidate in pkg.bundles.values())]
    providers.sort(key=lambda pkg: (pkg.name not in out.packages, pkg.name))
    for provider in providers:
        added = _pull(provider, out, matches, why, warnings)
        if added is not None:
            return added
    warnings.append(f"dependency: {why}, which no bundle of the catalog provides")
    return []
