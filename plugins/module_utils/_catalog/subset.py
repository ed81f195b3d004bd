# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copies of packages and channels that keep part of their content, for a filtered catalog.

The copies share their Bundle, ChannelEntry and unknown-schema blob objects with the source, and
nothing of the source is modified: treat those objects as read-only.
"""

from __future__ import annotations

from typing import Optional, Set

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Channel, Deprecation, Package


def copy_channel(channel: Channel, names: Optional[Set[str]] = None) -> Channel:
    """``channel`` with only the entries named in ``names`` (every entry when None)."""
    entries = list(channel.entries) if names is None else [entry for entry in channel.entries if entry.name in names]
    return Channel(channel.name, channel.package, entries, channel.extra, channel.synthesized, channel.origin)


def empty_package(pkg: Package, default_channel: Optional[str]) -> Package:
    """``pkg`` without channels, bundles or deprecations (blobs of other schemas are kept)."""
    out = Package(pkg.name, default_channel, pkg.icon, pkg.description, pkg.extra, pkg.declared, pkg.origin)
    out.others = list(pkg.others)
    return out


def keep_deprecations(source: Package, out: Package) -> None:
    """Add to ``out`` the deprecations of ``source`` whose bundle or channel ``out`` still has."""
    for deprecation in source.deprecations:
        entries = []
        for entry in deprecation.entries:
            ref = entry.get("reference") if isinstance(entry, dict) else None
            schema = ref.get("schema") if isinstance(ref, dict) else None
            if schema == "olm.bundle" and ref.get("name") not in out.bundles:
                continue
            if schema == "olm.channel" and ref.get("name") not in out.channels:
                continue
            entries.append(entry)
        if entries or not deprecation.entries:
            out.deprecations.append(Deprecation(deprecation.package, entries, deprecation.extra, deprecation.origin))


def copy_package(pkg: Package) -> Package:
    """``pkg`` whole, in new Package, Channel and Deprecation objects."""
    out = empty_package(pkg, pkg.default_channel)
    out.channels = {name: copy_channel(channel) for name, channel in pkg.channels.items()}
    out.bundles = dict(pkg.bundles)
    out.deprecations = [Deprecation(deprecation.package, list(deprecation.entries), deprecation.extra,
                                    deprecation.origin) for deprecation in pkg.deprecations]
    return out
