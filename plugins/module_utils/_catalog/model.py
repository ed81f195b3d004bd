# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File-Based Catalog (FBC) model, loaders and writer.

A catalog is a stream of JSON "blobs", each with a ``schema``: ``olm.package``, ``olm.channel``,
``olm.bundle``, ``olm.deprecations``, or any other schema, which is kept untouched. The model keeps
every field it does not know about, so a catalog loaded and rendered back is the same set of blobs.

Loading streams: :func:`iter_fbc_blobs` yields one blob at a time, so a caller that drops the
packages it does not want (``load_fbc(path, packages=...)``) holds only what it keeps in memory.
"""

from __future__ import annotations

import gc
import json
import os
import re
import traceback
from contextlib import contextmanager
from typing import Any, Callable, Collection, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

SCHEMA_PACKAGE = "olm.package"
SCHEMA_CHANNEL = "olm.channel"
SCHEMA_BUNDLE = "olm.bundle"
SCHEMA_DEPRECATIONS = "olm.deprecations"

PROP_PACKAGE = "olm.package"
PROP_CHANNEL = "olm.channel"
PROP_SKIPS = "olm.skips"
PROP_SKIP_RANGE = "olm.skipRange"

INDEX_IGNORE = ".indexignore"
FBC_EXTENSIONS = (".json", ".yaml", ".yml")

# Text read per step from a JSON stream; an object larger than this doubles the read.
_CHUNK = 4 * 1024 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


# --------------------------------------------------------------------------------------------
# Versions


_SEMVER = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class Version:
    """A semantic version (semver 2.0). Build metadata is kept but ignored when comparing."""

    __slots__ = ("major", "minor", "patch", "prerelease", "build", "_key")

    def __init__(self, major: int, minor: int, patch: int, prerelease: Tuple[Union[int, str], ...] = (),
                 build: str = ""):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = tuple(prerelease)
        self.build = build
        # A release sorts after every pre-release of the same version; numeric identifiers sort
        # before alphanumeric ones (semver 2.0 section 11).
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        self._key = (major, minor, patch, 1 if not pre else 0, pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __lt__(self, other: "Version") -> bool:
        return self._key < other._key

    def __le__(self, other: "Version") -> bool:
        return self._key <= other._key

    def __gt__(self, other: "Version") -> bool:
        return self._key > other._key

    def __ge__(self, other: "Version") -> bool:
        return self._key >= other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"


def parse_version(text: str, what: str = "version") -> Version:
    """Parse a semantic version such as ``1.2.3``, ``v1.2.3-rc.1`` or ``0.9.2+build.5``.

    Raises CatalogError naming ``what`` (for instance ``bundle etcdoperator.v0.9.2``).
    """
    match = _SEMVER.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise CatalogError(
            f"{what}: {text!r} is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build]); "
            "fix the olm.package property of the bundle"
        )
    pre: List[Union[int, str]] = []
    if match.group(4):
        for ident in match.group(4).split("."):
            pre.append(int(ident) if ident.isdigit() else ident)
    return Version(int(match.group(1)), int(match.group(2)), int(match.group(3)), tuple(pre), match.group(5) or "")


# --------------------------------------------------------------------------------------------
# Model


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
        return {name: ch.head() for name, ch in self.channels.items()}

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
        if not isinstance(raw_entries, list) or not all(isinstance(e, dict) for e in raw_entries):
            raise CatalogError(f"{origin or 'catalog'}: channel {name!r} of package {package!r}: "
                               "'entries' must be a list of objects with a 'name'")
        return cls(name, package, [ChannelEntry.from_dict(e) for e in raw_entries], data, False, origin)

    def to_blob(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"schema": SCHEMA_CHANNEL, "name": self.name, "package": self.package,
                               "entries": [e.to_dict() for e in self.entries]}
        out.update(self.extra)
        return out

    def entry(self, name: str) -> Optional[ChannelEntry]:
        for entry in self.entries:
            if entry.name == name:
                return entry
        return None

    def entry_names(self) -> List[str]:
        return [e.name for e in self.entries]

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
        heads = [e.name for e in self.entries if e.name not in incoming]
        if not heads:
            raise CatalogError(f"{where}: no channel head (every entry is replaced or skipped by another: "
                               "a cycle in the upgrade graph); fix the replaces/skips of its entries")
        if len(set(heads)) > 1:
            raise CatalogError(f"{where}: multiple channel heads found in the upgrade graph: "
                               f"{', '.join(sorted(set(heads)))}; exactly one entry may be left un-replaced")
        by_name = {e.name: e for e in self.entries}
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
        if props is not None and not (isinstance(props, list) and all(isinstance(p, dict) for p in props)):
            raise CatalogError(f"{origin or 'catalog'}: bundle {name!r}: 'properties' must be a list of objects")
        if related is not None and not (isinstance(related, list) and all(isinstance(r, dict) for r in related)):
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
        return [p.get("value") for p in self.properties if p.get("type") == ptype]

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
        return [r["image"] for r in (self.related_images or ()) if r.get("image")]

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
        with _gc_paused():
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
        memberships = [v for v in bundle.properties_of(PROP_CHANNEL) if isinstance(v, dict) and v.get("name")]
        if not memberships:
            continue
        skips = [str(v) for v in bundle.properties_of(PROP_SKIPS) if v]
        ranges = [str(v) for v in bundle.properties_of(PROP_SKIP_RANGE) if v]
        for membership in memberships:
            name = str(membership["name"])
            channel = pkg.channels.get(name)
            if channel is None:
                channel = Channel(name, pkg.name, synthesized=True, origin=bundle.origin)
                pkg.channels[name] = channel
            channel.entries.append(ChannelEntry(bundle.name, membership.get("replaces") or None,
                                                list(skips) if skips else None, ranges[0] if ranges else None))


# --------------------------------------------------------------------------------------------
# .indexignore (gitignore-like patterns, relative to the directory holding the file)


def _glob_to_regex(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                # "**/" matches zero or more directories; a trailing "**" matches everything.
                if pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


class IgnoreRule:
    """One pattern line of an .indexignore file located in directory ``base`` (relative, '' at root)."""

    __slots__ = ("base", "negate", "dir_only", "regex", "text")

    def __init__(self, base: str, line: str):
        self.text = line
        self.negate = line.startswith("!")
        if self.negate:
            line = line[1:]
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        # A pattern with a slash (other than a trailing one) is relative to its directory;
        # without one it matches a name at any depth below it.
        anchored = "/" in line
        prefix = "" if anchored else "(?:.*/)?"
        self.regex = re.compile(prefix + _glob_to_regex(line.lstrip("/")) + "$")
        self.base = base

    def matches(self, rel: str, is_dir: bool) -> Optional[bool]:
        if self.base:
            if not rel.startswith(self.base + "/"):
                return None
            rel = rel[len(self.base) + 1:]
        if self.dir_only and not is_dir:
            # Files below an ignored directory are never reached: the walk prunes the directory.
            return None
        if self.regex.match(rel):
            return not self.negate
        return None


def parse_indexignore(text: str, base: str = "") -> List[IgnoreRule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        # trailing spaces are ignored unless escaped, as in gitignore
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            continue
        if line.startswith("\\#") or line.startswith("\\!"):
            line = line[1:]
            rules.append(IgnoreRule(base, "\\" + line if line.startswith("!") else line))
            continue
        rules.append(IgnoreRule(base, line))
    return rules


def _ignored(rules: List[IgnoreRule], rel: str, is_dir: bool) -> bool:
    result = False
    for rule in rules:
        verdict = rule.matches(rel, is_dir)
        if verdict is not None:
            result = verdict
    return result


def iter_fbc_files(path: str) -> Iterator[str]:
    """The catalog files under ``path`` in a stable order (sorted walk): every ``.json``,
    ``.yaml`` and ``.yml`` file not matched by an ``.indexignore`` pattern of its directory or
    an ancestor. A single file is returned as is."""
    if os.path.isfile(path):
        yield path
        return
    if not os.path.isdir(path):
        raise CatalogError(f"{path}: no such catalog file or directory; give an FBC directory, "
                           "an FBC file or a sqlite index.db")

    def walk(directory: str, rel: str, rules: List[IgnoreRule]) -> Iterator[str]:
        ignore_file = os.path.join(directory, INDEX_IGNORE)
        if os.path.isfile(ignore_file):
            with open(ignore_file, encoding="utf-8") as handle:
                rules = rules + parse_indexignore(handle.read(), rel)
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise CatalogError(f"{directory}: cannot list the catalog directory: {exc.strerror}") from exc
        for name in names:
            full = os.path.join(directory, name)
            child = f"{rel}/{name}" if rel else name
            is_dir = os.path.isdir(full)
            if name == INDEX_IGNORE or _ignored(rules, child, is_dir):
                continue
            if is_dir:
                yield from walk(full, child, rules)
            elif name.lower().endswith(FBC_EXTENSIONS):
                yield full

    yield from walk(path, "", [])


# --------------------------------------------------------------------------------------------
# Parsing


if HAS_YAML:
    _YAML_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _FbcYamlLoader(_YAML_BASE):  # type: ignore[misc,valid-type]
        """SafeLoader that leaves timestamps as strings, as Go's YAML-to-JSON reader does."""

    _FbcYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _YAML_BASE.yaml_implicit_resolvers.items()
    }


def _iter_json_stream(handle: Any, path: str, buf: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Decode a stream of concatenated JSON values, reading ``_CHUNK`` characters at a time;
    only the current value and one chunk are held in memory."""
    raw_decode = _DECODER.raw_decode
    ws_match = _WS.match
    pos = 0
    eof = False
    line = 1            # line number at index line_pos of buf
    line_pos = 0
    while True:
        pos = ws_match(buf, pos).end()
        if pos >= len(buf):
            if eof:
                return
            line += buf.count("\n", line_pos, pos)
            buf = handle.read(_CHUNK)
            pos = line_pos = 0
            if not buf:
                return
            continue
        try:
            value, end = raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            if not eof:
                # Probably a value cut by the end of the buffer: read at least as much again.
                line += buf.count("\n", line_pos, pos)
                more = handle.read(max(_CHUNK, len(buf) - pos))
                buf = buf[pos:] + more
                pos = line_pos = 0
                eof = not more
                continue
            err_line = line + buf.count("\n", line_pos, exc.pos)
            col = exc.pos - (buf.rfind("\n", 0, exc.pos) + 1) + 1
            raise CatalogError(f"{path}:{err_line}:{col}: invalid JSON: {exc.msg}; fix the file, or list it "
                               f"in {INDEX_IGNORE} to leave it out") from None
        line += buf.count("\n", line_pos, pos)
        line_pos = pos
        if not isinstance(value, dict):
            raise CatalogError(f"{path}:{line}: a catalog blob must be a JSON object, got {type(value).__name__}")
        yield f"{path}:{line}", value
        pos = end


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct(loader: Any, node: Any) -> Any:
    """Node to Python value; the common tags without PyYAML's generic (and slower) machinery,
    anything else (ints, merge keys, explicit tags) through the loader itself."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    if tag == _MAP_TAG:
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                return loader.construct_object(node, deep=True)
            key = _construct(loader, key_node)
            try:
                out[key] = _construct(loader, value_node)
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable mapping key",
                                                        key_node.start_mark) from None
        return out
    if tag == _SEQ_TAG:
        return [_construct(loader, child) for child in node.value]
    return loader.construct_object(node, deep=True)


def _iter_yaml_stream(handle: Any, path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    if not HAS_YAML:
        raise CatalogError(f"{path}: reading a YAML catalog needs the PyYAML Python package, which is not "
                           f"installed: {YAML_IMPORT_ERROR}")
    loader = _FbcYamlLoader(handle)
    doc = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            doc += 1
            start = node.start_mark.line + 1 if node is not None and node.start_mark else 0
            value = _construct(loader, node) if node is not None else None
            if value is None:
                continue
            where = f"{path}:{start}" if start else f"{path} (document {doc})"
            if not isinstance(value, dict):
                raise CatalogError(f"{where}: a catalog blob must be a YAML mapping, got {type(value).__name__}")
            yield where, value
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else f"{path} (document {doc + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"{where}: invalid YAML: {problem}; fix the file, or list it in {INDEX_IGNORE} "
                           "to leave it out") from None
    finally:
        loader.dispose()


def iter_file_blobs(path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Blobs of one file as ``(origin, blob)``; origin is ``file:line``. The format comes from
    the content, as opm reads it: a stream of JSON objects when it starts with ``{``, else YAML
    documents."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot open the catalog file: {exc.strerror}") from exc
    with handle:
        try:
            head = handle.read(_CHUNK)
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                               f"a catalog file is JSON or YAML") from None
        if head.startswith("\ufeff"):
            head = head[1:]
        first = _WS.match(head).end()
        if first < len(head) and head[first] == "{":
            try:
                yield from _iter_json_stream(handle, path, head)
            except UnicodeDecodeError as exc:
                raise CatalogError(f"{path}: not UTF-8 text ({exc.reason}); a catalog file is JSON or YAML") from None
        else:
            handle.seek(0)
            yield from _iter_yaml_stream(handle, path)


def iter_fbc_blobs(path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Every blob of an FBC directory tree or file, as ``(origin, blob)`` pairs, one at a time."""
    for file_path in iter_fbc_files(path):
        yield from iter_file_blobs(file_path)


@contextmanager
def _gc_paused() -> Iterator[None]:
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


PackageSelector = Union[None, Collection[str], Callable[[str], bool]]


def _selector(packages: PackageSelector) -> Optional[Callable[[str], bool]]:
    if packages is None:
        return None
    if callable(packages):
        return packages
    wanted = frozenset(packages)
    return wanted.__contains__


# What a listing needs of a bundle: its identity, version and channel membership (old-style
# catalogs). The rest (relatedImages, CSV metadata, bundle objects) is most of a real catalog.
_SLIM_PROPERTIES = frozenset({"olm.package", "olm.channel", "olm.skips", "olm.skipRange", "olm.deprecated"})


def slim_blob(blob: Dict[str, Any]) -> Dict[str, Any]:
    """``blob`` without what listing packages, channels and heads does not need."""
    schema = blob.get("schema") if isinstance(blob, dict) else None
    if schema == SCHEMA_BUNDLE:
        out = {k: blob[k] for k in ("schema", "name", "package", "image") if k in blob}
        properties = blob.get("properties")
        if isinstance(properties, list):
            out["properties"] = [p for p in properties if isinstance(p, dict) and p.get("type") in _SLIM_PROPERTIES]
        return out
    if schema == SCHEMA_PACKAGE:
        return {k: v for k, v in blob.items() if k not in ("icon", "description")}
    return blob


def load_fbc(path: str, packages: PackageSelector = None, slim: bool = False) -> Catalog:
    """Load an FBC directory tree or file.

    ``packages``: None for everything, or a collection of package names / a predicate on the
    package name; blobs of other packages are dropped while streaming (blobs that name no
    package are always kept). ``slim`` keeps of each blob only what listing packages, channels,
    heads and bundle counts needs (:func:`slim_blob`), so memory follows the number of bundles,
    not the size of the catalog.
    """
    keep = _selector(packages)
    catalog = Catalog()
    with _gc_paused():
        for origin, blob in iter_fbc_blobs(path):
            if keep is not None:
                pkg = blob_package(blob)
                if pkg is not None and not keep(pkg):
                    continue
            catalog.add_blob(slim_blob(blob) if slim else blob, origin)
        return catalog.finish()


def load_catalog(path: str, packages: PackageSelector = None, slim: bool = False) -> Catalog:
    """Load a local catalog: a sqlite index.db (detected by content) or an FBC file/directory
    (``slim``: see :func:`load_fbc`; a sqlite index is always read whole)."""
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            magic = handle.read(16)
        if magic == b"SQLite format 3\x00":
            from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sqlite import load_sqlite
            catalog = load_sqlite(path)
            if packages is not None:
                keep = _selector(packages)
                catalog.packages = {n: p for n, p in catalog.packages.items() if keep(n)}  # type: ignore[misc]
            return catalog
    return load_fbc(path, packages, slim)


# --------------------------------------------------------------------------------------------
# Rendering


def package_blobs(pkg: Package, synthesized: bool = True) -> Iterator[Dict[str, Any]]:
    """Blobs of one package in ``opm render`` order: package, channels and bundles (each sorted
    by name), blobs of other schemas (stable by schema), then deprecations."""
    if pkg.declared:
        yield pkg.to_blob()
    for name in sorted(pkg.channels):
        channel = pkg.channels[name]
        if synthesized or not channel.synthesized:
            yield channel.to_blob()
    for name in sorted(pkg.bundles):
        yield pkg.bundles[name].to_blob()
    yield from sorted(pkg.others, key=lambda b: str(b.get("schema", "")))
    for dep in pkg.deprecations:
        yield dep.to_blob()


def render_fbc(catalog: Catalog, synthesized: bool = True) -> Iterator[Dict[str, Any]]:
    """Every blob of the catalog, packages sorted by name, then blobs of no package.

    Channels built from old-style bundle properties are rendered as olm.channel blobs (what
    ``opm migrate`` produces) unless ``synthesized`` is False.
    """
    for name in sorted(catalog.packages):
        yield from package_blobs(catalog.packages[name], synthesized)
    yield from catalog.others


def dumps_blobs(blobs: Iterable[Dict[str, Any]]) -> str:
    """A JSON stream as opm writes it: each blob indented by 4 spaces, followed by a newline."""
    return "".join(json.dumps(b, indent=4, ensure_ascii=False) + "\n" for b in blobs)


def _write_if_changed(path: str, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True


def write_fbc(catalog: Catalog, out_dir: str, synthesized: bool = True) -> List[str]:
    """Write ``out_dir/<package>/catalog.json`` per package (and ``out_dir/catalog.json`` for
    blobs of no package), as ``opm render`` lays out an index. Files are rewritten only when
    their content changes; returns the paths written."""
    written: List[str] = []
    try:
        os.makedirs(out_dir, exist_ok=True)
        for name in sorted(catalog.packages):
            if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
                raise CatalogError(f"package name {name!r} cannot be a directory name; fix the catalog")
            pkg_dir = os.path.join(out_dir, name)
            os.makedirs(pkg_dir, exist_ok=True)
            target = os.path.join(pkg_dir, "catalog.json")
            if _write_if_changed(target, dumps_blobs(package_blobs(catalog.packages[name], synthesized))):
                written.append(target)
        if catalog.others:
            target = os.path.join(out_dir, "catalog.json")
            if _write_if_changed(target, dumps_blobs(catalog.others)):
                written.append(target)
    except OSError as exc:
        raise CatalogError(f"{exc.filename or out_dir}: cannot write the catalog: {exc.strerror}") from exc
    return written
