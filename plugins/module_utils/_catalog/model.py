# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The File-Based Catalog (FBC) model.

A catalog is a stream of JSON "blobs", each with a ``schema``: ``olm.package``, ``olm.channel``,
``olm.bundle``, ``olm.deprecations``, or any other schema, which is kept untouched. The model keeps
every field it does not know about, so a catalog loaded and rendered back is the same set of blobs.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import Version, parse_version
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

SCHEMA_PACKAGE = "olm.package"
SCHEMA_CHANNEL = "olm.channel"
SCHEMA_BUNDLE = "olm.bundle"
SCHEMA_DEPRECATIONS = "olm.deprecations"

PROP_PACKAGE = "olm.package"
PROP_CHANNEL = "olm.channel"
PROP_SKIPS = "olm.skips"
PROP_SKIP_RANGE = "olm.skipRange"


def _pop_str(blob: Dict[str, Any], key: str) -> Optional[str]:
    value = blob.pop(key, None)
    return value if value is None or isinstance(value, str) else str(value)


class Package:
    """An ``olm.package`` blob, plus the channels, bundles and other blobs of that package.

    ``declared`` is False when blobs name the package but no ``olm.package`` blob was read (a
    partial catalog); such a package is not rendered as an ``olm.package`` blob.
    """

    def __init__(self, name: str, default_channel: Optional[str] = None, icon: Optional[Dict[str, Any]] = None,
                 description: Optional[str] = None, extra: Optional[Dict[str, Any]] = None,
                 declared: bool = True, origin: Optional[str] = None):
        self.name = name
        self.default_channel = default_channel
        self.icon = icon
        self.description = description
        self.extra: Dict[str, Any] = extra or {}
        self.declared = declared
        self.origin = origin
        self.channels: Dict[str, Channel] = {}
        self.bundles: Dict[str, Bundle] = {}
        self.deprecations: List[Deprecation] = []
        self.others: List[Dict[str, Any]] = []

    @classmethod
    def from_blob(cls, blob: Dict[str, Any], origin: Optional[str] = None) -> "Package":
        data = dict(blob)
        data.pop("schema", None)
        name = _pop_str(data, "name") or ""
        return cls(name, _pop_str(data, "defaultChannel"), data.pop("icon", None), _pop_str(data, "description"),
                   data, True, origin)

    def to_blob(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"schema": SCHEMA_PACKAGE, "name": self.name}
        if self.default_channel is not None:
            out["defaultChannel"] = self.default_channel
        if self.icon is not None:
            out["icon"] = self.icon
        if self.description is not None:
            out["description"] = self.description
        out.update(self.extra)
        return out

    def channel_heads(self) -> Dict[str, str]:
        """Map of channel name to head bundle name (raises CatalogError on a broken channel)."""
        return {name: channel.head() for name, channel in self.channels.items()}

    def __repr__(self) -> str:
        return f"Package({self.name!r}, channels={list(self.channels)}, bundles={len(self.bundles)})"


class ChannelEntry:
    """One entry of an ``olm.channel`` blob: a bundle and the upgrade edges into it."""

    __slots__ = ("name", "replaces", "skips", "skip_range", "extra")

    def __init__(self, name: str, replaces: Optional[str] = None, skips: Optional[List[str]] = None,
                 skip_range: Optional[str] = None, extra: Optional[Dict[str, Any]] = None):
        self.name = name
        self.replaces = replaces
        # None (absent) and [] are kept apart so a render gives back exactly what was read.
        self.skips = skips
        self.skip_range = skip_range
        self.extra = extra or {}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "ChannelEntry":
        data = dict(data)
        skips = data.pop("skips", None)
        return cls(_pop_str(data, "name") or "", _pop_str(data, "replaces"),
                   list(skips) if skips is not None else None, _pop_str(data, "skipRange"), data)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"name": self.name}
        if self.replaces is not None:
            out["replaces"] = self.replaces
        if self.skips is not None:
            out["skips"] = list(self.skips)
        if self.skip_range is not None:
            out["skipRange"] = self.skip_range
        out.update(self.extra)
        return out

    def edges(self) -> List[str]:
        """Names this entry upgrades from (replaces, then skips)."""
        out = [self.replaces] if self.replaces else []
        out.extend(self.skips or ())
        return out

    def __repr__(self) -> str:
        return f"ChannelEntry({self.name!r}, replaces={self.replaces!r}, skips={self.skips!r})"


class Channel:
    """An ``olm.channel`` blob. ``synthesized`` marks a channel built from old-style bundle
    ``olm.channel`` properties (no ``olm.channel`` blob was read), as ``opm migrate`` does."""

    def __init__(self, name: str, package: str, entries: Optional[List[ChannelEntry]] = None,
                 extra: Optional[Dict[str, Any]] = None, synthesized: bool = False, origin: Optional[str] = None):
        self.name = name
        self.package = package
        self.entries: List[ChannelEntry] = entries or []
        self.extra: Dict[str, Any] = extra or {}
        self.synthesized = synthesized
        self.origin = origin

    @classmethod
    def from_blob(cls, blob: Dict[str, Any], origin: Optional[str] = None) -> "Channel":
        data = dict(blob)
        data.pop("schema", None)
        name = _pop_str(data, "name") or ""
        package = _pop_str(data, "package") or ""
        raw_entries = data.pop("entries", None) or []
        if not isinstance(raw_entries, list) or not all(isinstance(entry, dict) for entry in raw_entries):
            raise CatalogError(f"{origin or 'catalog'}: channel {name!r} of package {package!r}: "
                               "'entries' must be a list of objects with a 'name'")
        return cls(name, package, [ChannelEntry.from_dict(entry) for entry in raw_entries], data, False, origin)

    def to_blob(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"schema": SCHEMA_CHANNEL, "name": self.name, "package": self.package,
                               "entries": [entry.to_dict() for entry in self.entries]}
        out.update(self.extra)
        return out

    def entry(self, name: str) -> Optional[ChannelEntry]:
        for entry in self.entries:
            if entry.name == name:
                return entry
        return None

    def entry_names(self) -> List[str]:
        return [entry.name for entry in self.entries]

    def head(self) -> str:
        """The entry no other entry replaces or skips, as opm computes it.

        Raises CatalogError naming the channel when there is no head (every entry is replaced or
        skipped: a cycle), several heads, or a cycle in the replaces chain from the head.
        """
        where = f"package {self.package!r}, channel {self.name!r}"
        if not self.entries:
            raise CatalogError(f"{where}: the channel has no entries, so it has no head")
        incoming = set()
        for entry in self.entries:
            incoming.update(entry.edges())
        heads = [entry.name for entry in self.entries if entry.name not in incoming]
        if not heads:
            raise CatalogError(f"{where}: no channel head (every entry is replaced or skipped by another: "
                               "a cycle in the upgrade graph); fix the replaces/skips of its entries")
        if len(set(heads)) > 1:
            raise CatalogError(f"{where}: multiple channel heads found in the upgrade graph: "
                               f"{', '.join(sorted(set(heads)))}; exactly one entry may be left un-replaced")
        by_name = {entry.name: entry for entry in self.entries}
        skipped = set()
        for entry in self.entries:
            skipped.update(entry.skips or ())
        seen = [heads[0]]
        current = by_name[heads[0]]
        while current.replaces and current.replaces not in skipped:
            if current.replaces in seen:
                chain = " -> ".join(seen + [current.replaces])
                raise CatalogError(f"{where}: cycle in the replaces chain: {chain}")
            seen.append(current.replaces)
            nxt = by_name.get(current.replaces)
            if nxt is None:
                break
            current = nxt
        return heads[0]

    def __repr__(self) -> str:
        return f"Channel({self.package!r}/{self.name!r}, {len(self.entries)} entries)"


class Bundle:
    """An ``olm.bundle`` blob. ``properties`` and ``related_images`` are kept as read (lists of
    dicts); ``version`` is the text of the bundle's ``olm.package`` property."""

    __slots__ = ("name", "package", "image", "properties", "related_images", "extra", "origin", "_semver",
                 "_no_properties")

    def __init__(self, name: str, package: str, image: Optional[str] = None,
                 properties: Optional[List[Dict[str, Any]]] = None,
                 related_images: Optional[List[Dict[str, Any]]] = None,
                 extra: Optional[Dict[str, Any]] = None, origin: Optional[str] = None):
        self.name = name
        self.package = package
        self.image = image
        self.properties: List[Dict[str, Any]] = properties if properties is not None else []
        # None: the blob had no relatedImages key (kept apart from [] for the round trip).
        self.related_images = related_images
        self.extra: Dict[str, Any] = extra or {}
        self.origin = origin
        self._semver: Optional[Version] = None
        self._no_properties = False

    @classmethod
    def from_blob(cls, blob: Dict[str, Any], origin: Optional[str] = None) -> "Bundle":
        data = dict(blob)
        data.pop("schema", None)
        name = _pop_str(data, "name") or ""
        package = _pop_str(data, "package") or ""
        props = data.pop("properties", None)
        related = data.pop("relatedImages", None)
        if props is not None and not (isinstance(props, list) and all(isinstance(prop, dict) for prop in props)):
            raise CatalogError(f"{origin or 'catalog'}: bundle {name!r}: 'properties' must be a list of objects")
        if related is not None and not (isinstance(related, list) and all(isinstance(item, dict) for item in related)):
            raise CatalogError(f"{origin or 'catalog'}: bundle {name!r}: 'relatedImages' must be a list of objects")
        bundle = cls(name, package, _pop_str(data, "image"), props, related, data, origin)
        bundle._no_properties = props is None
        return bundle

    def to_blob(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"schema": SCHEMA_BUNDLE, "name": self.name, "package": self.package}
        if self.image is not None:
            out["image"] = self.image
        if self.properties or not self._no_properties:
            out["properties"] = self.properties
        if self.related_images is not None:
            out["relatedImages"] = self.related_images
        out.update(self.extra)
        return out

    def properties_of(self, ptype: str) -> List[Any]:
        """The values of the properties of type ``ptype``, in order."""
        return [prop.get("value") for prop in self.properties if prop.get("type") == ptype]

    @property
    def version(self) -> Optional[str]:
        """Version text from the ``olm.package`` property naming this package (else the first)."""
        first = None
        for value in self.properties_of(PROP_PACKAGE):
            if isinstance(value, dict):
                if value.get("packageName") == self.package and value.get("version"):
                    return str(value["version"])
                if first is None and value.get("version"):
                    first = str(value["version"])
        return first

    @property
    def semver(self) -> Version:
        """Parsed version; raises CatalogError naming the bundle when missing or invalid."""
        if self._semver is None:
            text = self.version
            where = f"{self.origin + ': ' if self.origin else ''}bundle {self.name!r} of package {self.package!r}"
            if text is None:
                raise CatalogError(f"{where}: no olm.package property with a version; add one")
            self._semver = parse_version(text, where)
        return self._semver

    def related_image_refs(self) -> List[str]:
        return [item["image"] for item in (self.related_images or ()) if item.get("image")]

    def images(self) -> List[str]:
        """The bundle image then its relatedImages, duplicates removed, order kept."""
        seen: Dict[str, None] = {}
        if self.image:
            seen[self.image] = None
        for ref in self.related_image_refs():
            seen.setdefault(ref, None)
        return list(seen)

    def __repr__(self) -> str:
        return f"Bundle({self.package!r}/{self.name!r}, image={self.image!r})"


class Deprecation:
    """An ``olm.deprecations`` blob (one per package)."""

    def __init__(self, package: str, entries: Optional[List[Dict[str, Any]]] = None,
                 extra: Optional[Dict[str, Any]] = None, origin: Optional[str] = None):
        self.package = package
        self.entries: List[Dict[str, Any]] = entries if entries is not None else []
        self.extra: Dict[str, Any] = extra or {}
        self.origin = origin

    @classmethod
    def from_blob(cls, blob: Dict[str, Any], origin: Optional[str] = None) -> "Deprecation":
        data = dict(blob)
        data.pop("schema", None)
        package = _pop_str(data, "package") or ""
        return cls(package, data.pop("entries", None) or [], data, origin)

    def to_blob(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"schema": SCHEMA_DEPRECATIONS, "package": self.package, "entries": self.entries}
        out.update(self.extra)
        return out

    def __repr__(self) -> str:
        return f"Deprecation({self.package!r}, {len(self.entries)} entries)"


def blob_package(blob: Dict[str, Any]) -> Optional[str]:
    """The package a blob belongs to: ``name`` of an olm.package blob, else its ``package``."""
    if blob.get("schema") == SCHEMA_PACKAGE:
        value = blob.get("name")
    else:
        value = blob.get("package")
    return value if isinstance(value, str) and value else None


class Catalog:
    """A whole catalog: packages (each with its channels, bundles, deprecations and other blobs)
    and ``others``, the blobs of unknown schema that name no package, in the order read."""

    def __init__(self) -> None:
        self.packages: Dict[str, Package] = {}
        self.others: List[Dict[str, Any]] = []

    # building ---------------------------------------------------------------------------------

    def _package(self, name: str, origin: Optional[str]) -> Package:
        pkg = self.packages.get(name)
        if pkg is None:
            pkg = Package(name, declared=False, origin=origin)
            self.packages[name] = pkg
        return pkg

    def add_blob(self, blob: Dict[str, Any], origin: Optional[str] = None) -> None:
        """Add one parsed blob; ``origin`` (``file:line``) is used in error messages."""
        where = origin or "catalog"
        if not isinstance(blob, dict):
            raise CatalogError(f"{where}: a catalog blob must be a JSON/YAML object, got {type(blob).__name__}")
        schema = blob.get("schema")
        if schema == SCHEMA_PACKAGE:
            pkg = Package.from_blob(blob, origin)
            if not pkg.name:
                raise CatalogError(f"{where}: olm.package blob without a name")
            existing = self.packages.get(pkg.name)
            if existing is not None and existing.declared:
                raise CatalogError(f"{where}: package {pkg.name!r} is declared twice "
                                   f"(first at {existing.origin or 'an earlier blob'}); remove one olm.package blob")
            if existing is not None:
                existing.default_channel, existing.icon = pkg.default_channel, pkg.icon
                existing.description, existing.extra = pkg.description, pkg.extra
                existing.declared, existing.origin = True, origin
            else:
                self.packages[pkg.name] = pkg
        elif schema == SCHEMA_CHANNEL:
            channel = Channel.from_blob(blob, origin)
            if not channel.package or not channel.name:
                raise CatalogError(f"{where}: olm.channel blob needs both 'name' and 'package'")
            pkg = self._package(channel.package, origin)
            if channel.name in pkg.channels and not pkg.channels[channel.name].synthesized:
                raise CatalogError(f"{where}: channel {channel.name!r} of package {channel.package!r} is declared "
                                   f"twice (first at {pkg.channels[channel.name].origin}); merge the two blobs")
            pkg.channels[channel.name] = channel
        elif schema == SCHEMA_BUNDLE:
            bundle = Bundle.from_blob(blob, origin)
            if not bundle.package or not bundle.name:
                raise CatalogError(f"{where}: olm.bundle blob needs both 'name' and 'package'")
            pkg = self._package(bundle.package, origin)
            if bundle.name in pkg.bundles:
                raise CatalogError(f"{where}: bundle {bundle.name!r} of package {bundle.package!r} is declared "
                                   f"twice (first at {pkg.bundles[bundle.name].origin}); remove one")
            pkg.bundles[bundle.name] = bundle
        elif schema == SCHEMA_DEPRECATIONS:
            dep = Deprecation.from_blob(blob, origin)
            if not dep.package:
                raise CatalogError(f"{where}: olm.deprecations blob without a 'package'")
            self._package(dep.package, origin).deprecations.append(dep)
        else:
            package = blob.get("package")
            if isinstance(package, str) and package:
                self._package(package, origin).others.append(blob)
            else:
                self.others.append(blob)

    def finish(self) -> "Catalog":
        """Complete the model after the last blob: build channels from old-style bundle
        ``olm.channel`` properties for packages that have no ``olm.channel`` blob."""
        for pkg in self.packages.values():
            if pkg.channels:
                continue
            synthesize_channels(pkg)
        return self

    @classmethod
    def from_blobs(cls, blobs: Iterable[Any]) -> "Catalog":
        """Build a catalog from blobs, or from ``(origin, blob)`` pairs as iter_fbc_blobs yields."""
        catalog = cls()
        with gc_paused():
            for item in blobs:
                if isinstance(item, tuple):
                    catalog.add_blob(item[1], item[0])
                else:
                    catalog.add_blob(item)
            return catalog.finish()

    # reading ----------------------------------------------------------------------------------

    def bundles(self) -> Iterator[Bundle]:
        for pkg in self.packages.values():
            yield from pkg.bundles.values()

    def channels(self) -> Iterator[Channel]:
        for pkg in self.packages.values():
            yield from pkg.channels.values()

    def bundle(self, package: str, name: str) -> Optional[Bundle]:
        pkg = self.packages.get(package)
        return pkg.bundles.get(name) if pkg else None

    def images(self) -> List[str]:
        """Every bundle image and related image of the catalog, sorted, without duplicates."""
        out = set()
        for bundle in self.bundles():
            out.update(bundle.images())
        return sorted(out)

    def validate(self) -> List[str]:
        """Problems opm would refuse the catalog for (empty list: none found)."""
        problems: List[str] = []
        for pkg in self.packages.values():
            if not pkg.declared:
                problems.append(f"package {pkg.name!r}: blobs name it but there is no olm.package blob")
            if pkg.default_channel and pkg.default_channel not in pkg.channels:
                problems.append(f"package {pkg.name!r}: default channel {pkg.default_channel!r} does not exist")
            in_channel = set()
            for channel in pkg.channels.values():
                for entry in channel.entries:
                    in_channel.add(entry.name)
                    if entry.name not in pkg.bundles:
                        problems.append(f"package {pkg.name!r}, channel {channel.name!r}: entry {entry.name!r} "
                                        "has no olm.bundle")
                try:
                    channel.head()
                except CatalogError as exc:
                    problems.append(str(exc))
            for name in pkg.bundles:
                if name not in in_channel:
                    problems.append(f"package {pkg.name!r}: bundle {name!r} is in no channel")
        return problems

    def __repr__(self) -> str:
        return f"Catalog({len(self.packages)} packages)"


def synthesize_channels(pkg: Package) -> None:
    """Build ``pkg.channels`` from its bundles' ``olm.channel`` properties (old-style FBC, before
    opm introduced the olm.channel schema): one entry per bundle and channel, with the bundle's
    ``olm.skips`` and ``olm.skipRange`` properties. The bundles are left unchanged."""
    for bundle in pkg.bundles.values():
        memberships = [value for value in bundle.properties_of(PROP_CHANNEL)
                       if isinstance(value, dict) and value.get("name")]
        if not memberships:
            continue
        skips = [str(value) for value in bundle.properties_of(PROP_SKIPS) if value]
        ranges = [str(value) for value in bundle.properties_of(PROP_SKIP_RANGE) if value]
        for membership in memberships:
            name = str(membership["name"])
            channel = pkg.channels.get(name)
            if channel is None:
                channel = Channel(name, pkg.name, synthesized=True, origin=bundle.origin)
                pkg.channels[name] = channel
            channel.entries.append(ChannelEntry(bundle.name, membership.get("replaces") or None,
                                                list(skips) if skips else None, ranges[0] if ranges else None))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a catalog model is built.

    Decoding a catalog allocates millions of dicts, lists and model objects that are kept; every
    700 of them trigger a collection, and the older generations walked again and again grow with
    the model: loading a whole 500 MB catalog took 4.3 s of CPU with the collector on, 2.8 s
    with it paused (tests/benchmarks/bench_catalog.py). The model holds no reference cycles and
    the blobs of dropped packages are freed by reference counting, so the collector has nothing
    to find meanwhile. Left alone when already off (by the caller, or by a concurrent load, which
    re-enables it when done).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
