# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog filter: which packages, channels and bundles of a catalog to keep, with oc-mirror v2's
rules, and the images the kept bundles need.

Input is either the module's own options (:func:`filter_from_options`) or the ``mirror.operators``
entries of an oc-mirror ImageSetConfiguration (:func:`load_imageset_config`); both give a
:class:`CatalogFilter`. :func:`apply_filter` returns a new, filtered :class:`Catalog`.

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

Dependencies (``include_dependencies``, not an oc-mirror v2 feature): for every kept bundle, each
``olm.package.required`` (package + ``versionRange``) and ``olm.gvk.required`` (group, version,
kind) not already satisfied by a kept bundle pulls in one providing bundle: the highest version
satisfying the requirement, searched in the providing package's default channel first, then in its
other channels by name (for a GVK, in packages already kept first, then by package name). The
bundles on the upgrade path from the channel's kept head (or its head) down to that bundle are
kept with it, so the channel still has one head; a package pulled in this way also keeps the head
of its default channel. Requirements of pulled-in bundles are followed in turn. ``olm.constraint``
properties are not evaluated.

The filtered catalog shares its Bundle, ChannelEntry and unknown-schema blob objects with the
input catalog (nothing of the input is modified): treat them as read-only.
"""

from __future__ import annotations

import difflib
import os
import re
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import (
    Catalog,
    Channel,
    Deprecation,
    Package,
    Version,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    CatalogError,
    ConfigError,
)

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

ISC_API_VERSIONS = ("mirror.openshift.io/v2alpha1", "mirror.openshift.io/v1alpha2")
ISC_KIND = "ImageSetConfiguration"

PROP_GVK = "olm.gvk"
PROP_GVK_REQUIRED = "olm.gvk.required"
PROP_PACKAGE_REQUIRED = "olm.package.required"


# --------------------------------------------------------------------------------------------
# Filter description


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
        return {p.name for p in self.packages}

    def validate(self, field_name: str = "packages") -> None:
        """Raise ConfigError for a filter oc-mirror refuses (or that can select nothing)."""
        _validate_filter(self, field_name)


@dataclass
class IscCatalog:
    """One ``mirror.operators`` entry of an ImageSetConfiguration."""

    catalog: str
    filter: CatalogFilter
    target_catalog: Optional[str] = None
    target_tag: Optional[str] = None


class ImageSetConfig(list):
    """The catalogs of an ImageSetConfiguration (a list of IscCatalog), with ``warnings`` about
    the parts that were read but are not used (platform, additionalImages, helm, ...)."""

    def __init__(self, catalogs: Iterable[IscCatalog] = (), warnings: Optional[List[str]] = None,
                 origin: Optional[str] = None):
        super().__init__(catalogs)
        self.warnings: List[str] = warnings if warnings is not None else []
        self.origin = origin


# --------------------------------------------------------------------------------------------
# Versions and ranges


_BOUND = re.compile(r"^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


class _Bound:
    """A ``minVersion``/``maxVersion`` value, parsed leniently as oc-mirror does (``1.2`` is
    ``1.2.x``; a leading ``v`` is allowed)."""

    __slots__ = ("text", "version", "minor_dirty", "patch_dirty")

    def __init__(self, text: str, version: Version, minor_dirty: bool, patch_dirty: bool):
        self.text = text
        self.version = version
        self.minor_dirty = minor_dirty
        self.patch_dirty = patch_dirty

    @property
    def dirty(self) -> bool:
        return self.minor_dirty or self.patch_dirty


def _parse_bound(text: Any, where: str) -> _Bound:
    if not isinstance(text, str):
        hint = ""
        if isinstance(text, float):
            hint = f"; YAML read an unquoted number (4.10 becomes 4.1): quote it, e.g. '{text}'"
        raise ConfigError(f"{where}: must be a version string such as '1.2.3', got {text!r}{hint}")
    match = _BOUND.match(text.strip())
    if not match:
        raise ConfigError(f"{where}: {text!r} is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build]); "
                          "fix the value")
    pre: List[Any] = []
    if match.group(4):
        for ident in match.group(4).split("."):
            if not ident:
                raise ConfigError(f"{where}: {text!r} has an empty pre-release identifier")
            pre.append(int(ident) if ident.isdigit() else ident)
    version = Version(int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0), tuple(pre),
                      match.group(5) or "")
    return _Bound(text.strip(), version, match.group(2) is None, match.group(3) is None)


class _VersionRange:
    """``>=min <=max`` as Masterminds/semver checks it (oc-mirror builds exactly that string)."""

    def __init__(self, low: Optional[_Bound], high: Optional[_Bound]):
        self.low = low
        self.high = high

    @property
    def pinned(self) -> Optional[Version]:
        """The version when min and max name the same full version (select only that version)."""
        if self.low and self.high and not self.low.dirty and not self.high.dirty \
                and self.low.version == self.high.version:
            return self.low.version
        return None

    def __str__(self) -> str:
        parts = []
        if self.low:
            parts.append(">=" + self.low.text)
        if self.high:
            parts.append("<=" + self.high.text)
        return " ".join(parts)

    def check(self, version: Optional[Version]) -> bool:
        if version is None:
            return False
        if self.low is not None:
            if version.prerelease and not self.low.version.prerelease:
                return False
            if not version >= self.low.version:
                return False
        if self.high is not None:
            high = self.high
            if version.prerelease and not high.version.prerelease:
                return False
            if not high.dirty:
                if not version <= high.version:
                    return False
            elif version.major > high.version.major:
                return False
            elif version.major == high.version.major and not high.minor_dirty \
                    and version.minor > high.version.minor:
                return False
        return True


def _range_of(low: Optional[str], high: Optional[str], where: str) -> Optional[_VersionRange]:
    if low is None and high is None:
        return None
    lo = _parse_bound(low, f"{where}.minVersion") if low is not None else None
    hi = _parse_bound(high, f"{where}.maxVersion") if high is not None else None
    return _VersionRange(lo, hi)


def _bundle_version(bundle: Any) -> Optional[Version]:
    try:
        return bundle.semver
    except CatalogError:
        return None


# Requirement ranges (olm.package.required versionRange) use blang/semver range syntax:
# space-separated AND, "||" OR, operators < <= > >= = == !=, x/X/* wildcards.
_RANGE_TOKEN = re.compile(r"(>=|<=|!=|==|=|>|<)?\s*([^\s<>=!|]+)")
_WILDCARDS = ("x", "X", "*")


def _partial_version(text: str) -> Tuple[Version, int]:
    """Parse ``1``, ``1.2``, ``1.2.x``, ``v1.2.3-pre``; returns the version (zero filled) and how
    many leading numeric components were given (3 for a full version)."""
    core, sep, rest = text.lstrip("vV").partition("-")
    pre_build = sep + rest if sep else ""
    parts = core.split("+", 1)
    build = ""
    if len(parts) == 2:
        core, build = parts
    nums = core.split(".")
    given = 0
    values = [0, 0, 0]
    for i, piece in enumerate(nums[:3]):
        if piece in _WILDCARDS:
            break
        if not piece.isdigit():
            raise ValueError(text)
        values[i] = int(piece)
        given = i + 1
    if len(nums) > 3:
        raise ValueError(text)
    pre: Tuple[Any, ...] = ()
    if pre_build and given == 3:
        pre_text, dummy, build2 = pre_build[1:].partition("+")
        build = build or build2
        pre = tuple(int(p) if p.isdigit() else p for p in pre_text.split(".") if p)
    return Version(values[0], values[1], values[2], pre, build), given


def _next_version(version: Version, given: int) -> Version:
    if given <= 0:
        return Version(1 << 62, 0, 0)
    if given == 1:
        return Version(version.major + 1, 0, 0)
    return Version(version.major, version.minor + 1, 0)


def parse_requirement_range(text: str) -> Callable[[Version], bool]:
    """A predicate for an ``olm.package.required`` ``versionRange`` (blang/semver syntax).
    Raises ValueError when the range cannot be parsed."""
    groups: List[List[Callable[[Version], bool]]] = []
    for alternative in str(text).split("||"):
        checks: List[Callable[[Version], bool]] = []
        for op, value in _RANGE_TOKEN.findall(alternative.strip()):
            base, given = _partial_version(value)
            op = op or "="
            if given == 3:
                fixed = base
                checks.append({
                    ">": lambda v, b=fixed: v > b, ">=": lambda v, b=fixed: v >= b,
                    "<": lambda v, b=fixed: v < b, "<=": lambda v, b=fixed: v <= b,
                    "=": lambda v, b=fixed: v == b, "==": lambda v, b=fixed: v == b,
                    "!=": lambda v, b=fixed: v != b,
                }[op])
                continue
            upper = _next_version(base, given)
            if op in ("=", "=="):
                checks.append(lambda v, lo=base, hi=upper: lo <= v < hi)
            elif op == "!=":
                checks.append(lambda v, lo=base, hi=upper: not lo <= v < hi)
            elif op == ">":
                checks.append(lambda v, hi=upper: v >= hi)
            elif op == ">=":
                checks.append(lambda v, lo=base: v >= lo)
            elif op == "<":
                checks.append(lambda v, lo=base: v < lo)
            else:  # <=
                checks.append(lambda v, hi=upper: v < hi)
        if not checks:
            raise ValueError(text)
        groups.append(checks)
    if not groups:
        raise ValueError(text)
    return lambda v: any(all(c(v) for c in group) for group in groups)


# --------------------------------------------------------------------------------------------
# Options -> CatalogFilter


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


def _unknown_key(where: str, key: Any, known: Iterable[str]) -> ConfigError:
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
            raise _unknown_key(where, key, keys)
        if target in given:
            raise ConfigError(f"{where}: both {given[target]!r} and {key!r} are given; keep one")
        given[target] = key
        out[target] = value
    return out


def _str_field(value: Any, where: str, allow_none: bool = True) -> Optional[str]:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: must be a non-empty string, got {value!r}")
    return value.strip()


def _version_field(value: Any, where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    _parse_bound(value, where)
    return value.strip()


def _channel_from(item: Any, where: str) -> ChannelSelector:
    if isinstance(item, ChannelSelector):
        return item
    if isinstance(item, str):
        return ChannelSelector(_str_field(item, where, False) or "")
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a channel is a name or a mapping with 'name', got {item!r}")
    data = _mapped(item, _CHANNEL_KEYS, where)
    if "name" not in data:
        raise ConfigError(f"{where}.name: a channel needs a name")
    return ChannelSelector(
        _str_field(data["name"], f"{where}.name", False) or "",
        _version_field(data.get("min_version"), f"{where}.minVersion"),
        _version_field(data.get("max_version"), f"{where}.maxVersion"),
    )


def _package_from(item: Any, where: str) -> PackageSelector:
    if isinstance(item, PackageSelector):
        return item
    if isinstance(item, str):
        return PackageSelector(_str_field(item, where, False) or "")
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: a package is a name or a mapping with 'name', got {item!r}")
    data = _mapped(item, _PKG_KEYS, where)
    if "name" not in data:
        raise ConfigError(f"{where}.name: a package needs a name")
    name = _str_field(data["name"], f"{where}.name", False) or ""
    channels_raw = data.get("channels") or []
    if not isinstance(channels_raw, list):
        raise ConfigError(f"{where}.channels: must be a list of channel names or mappings")
    channels = [_channel_from(c, f"{where}.channels[{i}]") for i, c in enumerate(channels_raw)]
    bundles_raw = data.get("bundles") or []
    if not isinstance(bundles_raw, list):
        raise ConfigError(f"{where}.bundles: must be a list of bundle names")
    bundles = []
    for i, entry in enumerate(bundles_raw):
        bwhere = f"{where}.bundles[{i}]"
        if isinstance(entry, dict):
            entry = _mapped(entry, {"name": "name"}, bwhere).get("name")
            bwhere += ".name"
        bundles.append(_str_field(entry, bwhere, False) or "")
    return PackageSelector(
        name, channels,
        _version_field(data.get("min_version"), f"{where}.minVersion"),
        _version_field(data.get("max_version"), f"{where}.maxVersion"),
        bundles,
        _str_field(data.get("default_channel") or None, f"{where}.defaultChannel"),
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
    selectors = [_package_from(item, f"{field}[{i}]") for i, item in enumerate(packages)]
    flt = CatalogFilter(selectors, full, bool(include_dependencies))
    flt.validate(field)
    return flt


def _validate_filter(flt: CatalogFilter, field_name: str) -> None:
    seen: Dict[str, int] = {}
    for i, pkg in enumerate(flt.packages):
        where = f"{field_name}[{i}] (package {pkg.name!r})"
        if not pkg.name:
            raise ConfigError(f"{field_name}[{i}].name: a package needs a name")
        if pkg.name in seen:
            raise ConfigError(f"{where}: duplicate package entry (also {field_name}[{seen[pkg.name]}]); "
                              "merge the two entries")
        seen[pkg.name] = i
        pkg_range = _range_of(pkg.min_version, pkg.max_version, f"{field_name}[{i}]")
        _check_order(pkg_range, where)
        if pkg.bundles and (pkg.channels or pkg_range):
            raise ConfigError(f"{where}: mixing both filtering by bundles and filtering by channels or "
                              "minVersion/maxVersion is not allowed; use one of them")
        if flt.full and pkg.bundles:
            raise ConfigError(f"{where}: full: true cannot be mixed with filtering by bundle selection; "
                              "remove 'full' or 'bundles'")
        if flt.full and pkg_range:
            raise ConfigError(f"{where}: full: true cannot be mixed with minVersion/maxVersion; "
                              "remove 'full' or the version range")
        channel_seen: Dict[str, int] = {}
        for j, ch in enumerate(pkg.channels):
            cwhere = f"{field_name}[{i}].channels[{j}]"
            if not ch.name:
                raise ConfigError(f"{cwhere}.name: a channel needs a name")
            if ch.name in channel_seen:
                raise ConfigError(f"{cwhere} (package {pkg.name!r}): duplicate channel entry {ch.name!r}; "
                                  "merge the two entries")
            channel_seen[ch.name] = j
            ch_range = _range_of(ch.min_version, ch.max_version, cwhere)
            _check_order(ch_range, f"{cwhere} (package {pkg.name!r}, channel {ch.name!r})")
            if ch_range and pkg_range:
                raise ConfigError(
                    f"{where}: the package specifies a version range, while channel {ch.name!r} at index [{j}] "
                    "equally specifies one: package and channel minVersion/maxVersion are exclusive; keep one")
            if flt.full and ch_range:
                raise ConfigError(f"{cwhere} (package {pkg.name!r}, channel {ch.name!r}): full: true cannot be "
                                  "mixed with minVersion/maxVersion; remove 'full' or the version range")


def _check_order(rng: Optional[_VersionRange], where: str) -> None:
    if rng and rng.low and rng.high and rng.low.version > rng.high.version:
        raise ConfigError(f"{where}: minVersion {rng.low.text!r} is greater than maxVersion {rng.high.text!r}, "
                          "so no bundle can match; swap or fix them")


# --------------------------------------------------------------------------------------------
# ImageSetConfiguration


_ISC_TOP = {"apiVersion", "kind", "mirror", "archiveSize", "storageConfig", "metadata"}
_ISC_MIRROR_IGNORED = ("platform", "additionalImages", "helm", "blockedImages", "samples")
_ISC_OPERATOR_KEYS = {"catalog", "packages", "full", "targetCatalog", "targetTag", "skipDependencies",
                      "targetCatalogSourceTemplate", "platforms"}
_ISC_OPERATOR_KEYS_V1 = {"targetName", "originalRef"}
_PATH_COMPONENTS = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _read_isc_documents(data_or_path: Any) -> Tuple[List[Any], Optional[str]]:
    if isinstance(data_or_path, dict):
        return [data_or_path], None
    if isinstance(data_or_path, (list, tuple)) and all(isinstance(d, dict) for d in data_or_path):
        return list(data_or_path), None
    if isinstance(data_or_path, os.PathLike) or (isinstance(data_or_path, str) and "\n" not in data_or_path):
        path = os.fspath(data_or_path)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the ImageSetConfiguration: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text; an ImageSetConfiguration is YAML") from None
        origin: Optional[str] = path
    elif isinstance(data_or_path, str):
        text, origin = data_or_path, None
    else:
        raise ConfigError(f"imageset_config: expected a mapping, a file path or YAML text, "
                          f"got {type(data_or_path).__name__}")
    if not HAS_YAML:
        raise ConfigError(f"reading an ImageSetConfiguration needs the PyYAML Python package: {YAML_IMPORT_ERROR}")
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin or 'imageset_config'}:{mark.line + 1}:{mark.column + 1}" if mark else \
            (origin or "imageset_config")
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    return docs, origin


def load_imageset_config(data_or_path: Any) -> ImageSetConfig:
    """Read the ``mirror.operators`` entries of an oc-mirror ImageSetConfiguration
    (``mirror.openshift.io/v2alpha1``, or ``v1alpha2`` which has the same shape).

    ``data_or_path``: the parsed mapping, a file path, or YAML text. A YAML stream of several
    documents gives the catalogs of all of them (each document is checked on its own). Returns an :class:`ImageSetConfig` (a list of
    :class:`IscCatalog`) whose ``warnings`` name the sections that are read but not used here
    (platform, additionalImages, helm, ...). Invalid fields raise ConfigError naming their path
    (``mirror.operators[0].packages[1].channels[0].minVersion``).
    """
    docs, origin = _read_isc_documents(data_or_path)
    prefix = f"{origin}: " if origin else ""
    if not docs:
        raise ConfigError(f"{prefix}the ImageSetConfiguration is empty")
    result = ImageSetConfig(origin=origin)
    if len(docs) > 1:
        result.warnings.append(f"{prefix}{len(docs)} YAML documents: the catalogs of all of them are read "
                               "(oc-mirror reads only the first)")
    for index, doc in enumerate(docs):
        doc_prefix = prefix + (f"document {index + 1}: " if len(docs) > 1 else "")
        _load_isc_document(doc, doc_prefix, result, {})
    if not result:
        raise ConfigError(f"{prefix}the ImageSetConfiguration has no mirror.operators entry: add at least one "
                          "catalog under mirror.operators")
    return result


def _load_isc_document(doc: Any, prefix: str, result: ImageSetConfig, unique: Dict[str, str]) -> None:
    if not isinstance(doc, dict):
        raise ConfigError(f"{prefix}an ImageSetConfiguration is a mapping, got {type(doc).__name__}")
    api_version = doc.get("apiVersion")
    kind = doc.get("kind")
    if kind == "DeleteImageSetConfiguration":
        raise ConfigError(f"{prefix}kind DeleteImageSetConfiguration describes images to delete from a mirror; "
                          "this collection mirrors: give an ImageSetConfiguration (its mirror.operators section)")
    if kind != ISC_KIND:
        raise ConfigError(f"{prefix}kind: expected {ISC_KIND!r}, got {kind!r}")
    if api_version not in ISC_API_VERSIONS:
        raise ConfigError(f"{prefix}apiVersion: expected one of {', '.join(ISC_API_VERSIONS)}, got {api_version!r}")
    v1 = api_version.endswith("v1alpha2")
    for key in doc:
        if key not in _ISC_TOP:
            raise _unknown_key(prefix + "(top level)", key, _ISC_TOP)
    for key in ("archiveSize", "storageConfig"):
        if key in doc:
            result.warnings.append(f"{prefix}{key} is not used by this collection (ignored)")
    mirror = doc.get("mirror")
    if mirror is None:
        return
    if not isinstance(mirror, dict):
        raise ConfigError(f"{prefix}mirror: must be a mapping")
    for key in mirror:
        if key == "operators":
            continue
        if key in _ISC_MIRROR_IGNORED:
            result.warnings.append(f"{prefix}mirror.{key} is not used by this collection: only mirror.operators "
                                   "is read (ignored)")
        else:
            result.warnings.append(f"{prefix}mirror.{key}: unknown section (ignored)")
    operators = mirror.get("operators") or []
    if not isinstance(operators, list):
        raise ConfigError(f"{prefix}mirror.operators: must be a list of catalogs")
    known = _ISC_OPERATOR_KEYS | (_ISC_OPERATOR_KEYS_V1 if v1 else set())
    for i, op in enumerate(operators):
        where = f"mirror.operators[{i}]"
        if not isinstance(op, dict):
            raise ConfigError(f"{prefix}{where}: must be a mapping with 'catalog'")
        try:
            for key in op:
                if key not in known:
                    raise _unknown_key(where, key, known)
            catalog = _str_field(op.get("catalog"), f"{where}.catalog", False) or ""
            full = op.get("full", False)
            if full is None:
                full = False
            if not isinstance(full, bool):
                raise ConfigError(f"{where}.full: must be true or false, got {full!r}")
            for key in ("skipDependencies",):
                if key in op and not isinstance(op[key], bool):
                    raise ConfigError(f"{where}.{key}: must be true or false, got {op[key]!r}")
            for key in ("targetCatalogSourceTemplate", "platforms"):
                if op.get(key):
                    result.warnings.append(f"{prefix}{where}.{key} is not used by this collection (ignored)")
            target_catalog = _str_field(op.get("targetCatalog") or None, f"{where}.targetCatalog")
            if target_catalog is None and v1 and op.get("targetName"):
                target_catalog = _v1_target_name(catalog, _str_field(op["targetName"], f"{where}.targetName") or "")
            if target_catalog is not None and not _PATH_COMPONENTS.match(target_catalog):
                raise ConfigError(f"{where}.targetCatalog: {target_catalog!r} is not a repository path: one or more "
                                  "lower-case components separated by '/', without tag or digest")
            target_tag = _str_field(op.get("targetTag") or None, f"{where}.targetTag")
            if target_tag is not None and not _TAG.match(target_tag):
                raise ConfigError(f"{where}.targetTag: {target_tag!r} is not a valid tag "
                                  "(up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -)")
            flt = filter_from_options(op.get("packages"), full, False, f"{where}.packages")
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None
        name = f"{catalog}|{target_catalog or ''}|{target_tag or ''}"
        if name in unique:
            raise ConfigError(f"{prefix}{where}: catalog {catalog!r} is listed twice with the same target "
                              f"(also {unique[name]}); merge the entries or give each its own targetCatalog/targetTag")
        unique[name] = where
        result.append(IscCatalog(catalog, flt, target_catalog, target_tag))


def _v1_target_name(catalog: str, target_name: str) -> str:
    """v1alpha2 ``targetName`` replaced the last path component of the catalog repository."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse

    try:
        repository = parse(catalog).repository
    except AirgapError:
        return target_name
    namespace = repository.rpartition("/")[0]
    return f"{namespace}/{target_name}" if namespace else target_name


# --------------------------------------------------------------------------------------------
# Channel graph


class _Graph:
    """A channel's upgrade graph, checked the way the catalog-filter / OLM check it: one head
    (no entry replaces or skips it), no cycle, every entry reachable from the head."""

    def __init__(self, entries: Sequence[Any], where: str, error: type = CatalogError):
        self.by_name: Dict[str, Any] = {}
        incoming: Dict[str, Set[str]] = {}
        problems: List[str] = []
        for entry in entries:
            if entry.name in self.by_name:
                problems.append(f"duplicate channel entry {entry.name!r}")
                continue
            self.by_name[entry.name] = entry
            if entry.replaces:
                if entry.replaces == entry.name:
                    problems.append(f"entry {entry.name!r} replaces itself")
                incoming.setdefault(entry.replaces, set()).add(entry.name)
            for skip in entry.skips or ():
                if skip == entry.name:
                    problems.append(f"entry {entry.name!r} skips itself")
                incoming.setdefault(skip, set()).add(entry.name)
        heads = [e.name for e in entries if not incoming.get(e.name)]
        heads = list(dict.fromkeys(heads))
        if not entries:
            problems.append("the channel has no entries")
        elif not heads:
            problems.append("no channel head (every entry is replaced or skipped by another: a cycle)")
        elif len(heads) > 1:
            problems.append(f"multiple channel heads found: {', '.join(sorted(heads))}")
        if problems:
            raise error(f"{where}: {'; '.join(problems)}")
        self.head: str = heads[0]
        remaining = {k: set(v) for k, v in incoming.items()}
        queue = deque([self.head])
        while queue:
            current = self.by_name.get(queue.popleft())
            if current is None:
                continue
            for target in self.edges(current.name):
                sources = remaining.get(target)
                if sources is None:
                    continue
                sources.discard(current.name)
                if not sources:
                    del remaining[target]
                    queue.append(target)
        if remaining:
            raise error(f"{where}: detected a cycle in the upgrade graph of the channel "
                        f"(involving {', '.join(sorted(remaining)[:5])}); fix the replaces/skips of its entries")

    def edges(self, name: str) -> List[str]:
        entry = self.by_name.get(name)
        if entry is None:
            return []
        out = [entry.replaces] if entry.replaces else []
        for skip in entry.skips or ():
            if skip not in out:
                out.append(skip)
        return out

    def skips(self, name: str) -> List[str]:
        entry = self.by_name.get(name)
        return list(dict.fromkeys(entry.skips or ())) if entry is not None else []

    def replaces_chain(self) -> List[str]:
        chain: List[str] = []
        seen: Set[str] = set()
        current: Optional[str] = self.head
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            entry = self.by_name.get(current)
            current = entry.replaces if entry is not None and entry.replaces else None
        return chain

    def path(self, start: str, target: str) -> Optional[List[str]]:
        """Names on a shortest upgrade path from ``start`` down to ``target`` (both included)."""
        parents: Dict[str, Optional[str]] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if current == target:
                out = []
                node: Optional[str] = current
                while node is not None:
                    out.append(node)
                    node = parents[node]
                return out[::-1]
            for nxt in self.edges(current):
                if nxt not in parents and nxt in self.by_name:
                    parents[nxt] = current
                    queue.append(nxt)
        return None


def _select_range(graph: _Graph, rng: _VersionRange, versions: Dict[str, Optional[Version]],
                  where: str, warnings: List[str]) -> Set[str]:
    """The entries the catalog-filter keeps for a version range (see the module doc)."""
    chain = graph.replaces_chain()

    def in_range(name: str) -> bool:
        return rng.check(versions.get(name))

    seen: Set[str] = set()
    counts: Dict[str, int] = {}
    running = 0
    for name in reversed(chain):
        count = running
        if name not in seen and in_range(name):
            seen.add(name)
            count += 1
        for skip in graph.skips(name):
            if skip not in seen and in_range(skip):
                seen.add(skip)
                count += 1
        counts[name] = running = count

    best = -1
    head_index = 0
    tail_index = len(chain)
    for index, name in enumerate(chain):
        if counts[name] >= best:
            head_index, best = index, counts[name]
        if counts[name] == 0:
            tail_index = index
            break

    keep: Set[str] = set()
    for name in chain[head_index:tail_index]:
        version = versions.get(name)
        if version is None:
            warnings.append(f"{where}: including bundle {name!r}: it has no version but is required to keep every "
                            f"bundle of the range {rng} connected")
        elif not rng.check(version):
            warnings.append(f"{where}: including bundle {name!r} with version {version}: it falls outside the range "
                            f"{rng} but is required to keep every bundle of the range connected")
        keep.add(name)
        for skip in graph.skips(name):
            if in_range(skip):
                keep.add(skip)
    return keep


# --------------------------------------------------------------------------------------------
# Filtering


def _copy_channel(channel: Channel, names: Optional[Set[str]] = None) -> Channel:
    entries = list(channel.entries) if names is None else [e for e in channel.entries if e.name in names]
    return Channel(channel.name, channel.package, entries, channel.extra, channel.synthesized, channel.origin)


def _new_package(pkg: Package, default_channel: Optional[str]) -> Package:
    out = Package(pkg.name, default_channel, pkg.icon, pkg.description, pkg.extra, pkg.declared, pkg.origin)
    out.others = list(pkg.others)
    return out


def _filter_deprecations(src: Package, out: Package) -> None:
    for dep in src.deprecations:
        entries = []
        for entry in dep.entries:
            ref = entry.get("reference") if isinstance(entry, dict) else None
            schema = ref.get("schema") if isinstance(ref, dict) else None
            if schema == "olm.bundle" and ref.get("name") not in out.bundles:
                continue
            if schema == "olm.channel" and ref.get("name") not in out.channels:
                continue
            entries.append(entry)
        if entries or not dep.entries:
            out.deprecations.append(Deprecation(dep.package, entries, dep.extra, dep.origin))


def _copy_package(pkg: Package) -> Package:
    out = _new_package(pkg, pkg.default_channel)
    out.channels = {n: _copy_channel(c) for n, c in pkg.channels.items()}
    out.bundles = dict(pkg.bundles)
    out.deprecations = [Deprecation(d.package, list(d.entries), d.extra, d.origin) for d in pkg.deprecations]
    return out


def _versions(pkg: Package) -> Dict[str, Optional[Version]]:
    return {name: _bundle_version(b) for name, b in pkg.bundles.items()}


def _filter_package(pkg: Package, sel: Optional[PackageSelector], full: bool, warnings: List[str]) -> Package:
    where = f"package {pkg.name!r}"
    missing: List[str] = []
    if sel is not None and sel.channels:
        missing = [c.name for c in sel.channels if c.name not in pkg.channels]
        selectors = {c.name: c for c in sel.channels if c.name in pkg.channels}
        channel_names = [n for n in pkg.channels if n in selectors]
        if missing:
            warnings.append(f"{where}: channel(s) {', '.join(map(repr, missing))} not found in the catalog (ignored); "
                            f"the package has channels {', '.join(sorted(pkg.channels)) or '(none)'}")
    else:
        selectors = {}
        channel_names = list(pkg.channels)

    original = pkg.default_channel
    effective = original
    if sel is not None:
        if sel.default_channel:
            if sel.default_channel not in channel_names:
                raise ConfigError(
                    f"{where}: the defaultChannel override {sel.default_channel!r} is not among the kept channels "
                    f"({', '.join(channel_names) or 'none'}); name one of them, or list it under channels")
            effective = sel.default_channel
        elif original and original not in channel_names:
            note = f" (channel(s) not found: {', '.join(missing)})" if missing else ""
            raise ConfigError(
                f"{where}: the default channel {original!r} was filtered out{note}: list it under channels, or set "
                f"defaultChannel to one of the kept channels ({', '.join(channel_names) or 'none'})")

    out = _new_package(pkg, effective)
    pkg_range = _range_of(sel.min_version, sel.max_version, where) if sel is not None else None
    versions: Optional[Dict[str, Optional[Version]]] = None
    bundles_wanted = set(sel.bundles) if sel is not None and sel.bundles else None
    kept: Set[str] = set()

    ranges: Dict[str, Optional[_VersionRange]] = {}
    for name in channel_names:
        chsel = selectors.get(name)
        ch_range = _range_of(chsel.min_version, chsel.max_version, f"{where}, channel {name!r}") if chsel else None
        ranges[name] = ch_range or pkg_range

    # oc-mirror (catalog-filter >= v0.0.5): minVersion == maxVersion selects that version only, and
    # a version found in none of the bundles is an error rather than an empty channel.
    pinned_found: Dict[str, bool] = {}
    for name in channel_names:
        rng = ranges[name]
        if rng is not None and rng.pinned is not None:
            if versions is None:
                versions = _versions(pkg)
            pinned_found[name] = any(versions.get(e.name) == rng.pinned for e in pkg.channels[name].entries)
    if pinned_found:
        if pkg_range is not None and pkg_range.pinned is not None and not any(pinned_found.values()):
            raise ConfigError(f"{where}: error finding specific bundle: specific version {pkg_range.pinned} "
                              f"not found in bundles of the channels {', '.join(channel_names)}; "
                              f"{_available_versions(pkg, versions or {})}")
        for name, found in pinned_found.items():
            rng = ranges[name]
            if not found and rng is not pkg_range:
                raise ConfigError(f"{where}, channel {name!r}: error finding specific bundle: specific version "
                                  f"{rng.pinned} not found in the channel's bundles; "
                                  f"{_available_versions(pkg, versions or {}, pkg.channels[name])}")

    for name in channel_names:
        channel = pkg.channels[name]
        cwhere = f"{where}, channel {name!r}"
        rng = ranges[name]
        if bundles_wanted is not None:
            names = {e.name for e in channel.entries if e.name in bundles_wanted}
            what = "the bundle selection"
            if names:
                _Graph([e for e in channel.entries if e.name in names],
                       f"{cwhere}: filtering on the selected bundles leads to an invalid channel", ConfigError)
        elif full:
            names = {e.name for e in channel.entries}
            what = ""
        elif rng is not None:
            if versions is None:
                versions = _versions(pkg)
            if rng.pinned is not None:
                names = {e.name for e in channel.entries if versions.get(e.name) == rng.pinned}
                if names:
                    _Graph([e for e in channel.entries if e.name in names],
                           f"{cwhere}: the bundles of version {rng.pinned} do not form a channel with one head",
                           ConfigError)
            else:
                graph = _Graph(channel.entries, cwhere)
                names = _select_range(graph, rng, versions, cwhere, warnings)
                names &= {e.name for e in channel.entries}
            what = f"the version range {rng}"
        else:
            names = {_Graph(channel.entries, cwhere).head}
            what = ""
        if not names:
            hint = _prerelease_hint(channel, rng, versions) if rng is not None and versions else ""
            if name == effective:
                raise ConfigError(f"{cwhere}: {what or 'the filter'} selects no bundle of the default channel; "
                                  f"widen the range, or set defaultChannel to a channel that keeps bundles{hint}")
            warnings.append(f"{cwhere}: {what or 'the filter'} selects no bundle; the channel is left out{hint}")
            continue
        out.channels[name] = _copy_channel(channel, names)
        kept |= names

    if bundles_wanted is not None:
        unknown = sorted(bundles_wanted - kept)
        if unknown:
            warnings.append(f"{where}: bundle(s) {', '.join(unknown)} not found in the kept channels (ignored)")
    out.bundles = {n: b for n, b in pkg.bundles.items() if n in kept}
    _filter_deprecations(pkg, out)
    return out


def _prerelease_hint(channel: Channel, rng: _VersionRange, versions: Dict[str, Optional[Version]]) -> str:
    """Explain oc-mirror's semver rule when it is why a range matched nothing."""
    for entry in channel.entries:
        version = versions.get(entry.name)
        if version is not None and version.prerelease:
            release = Version(version.major, version.minor, version.patch)
            if rng.check(release):
                return (f" (its bundle versions are pre-releases, such as {version}, and a minVersion/maxVersion "
                        "without a pre-release part never matches a pre-release, as in oc-mirror: give the bound a "
                        f"pre-release part, e.g. '{release}-0')")
    return ""


def _available_versions(pkg: Package, versions: Dict[str, Optional[Version]], channel: Optional[Channel] = None) -> str:
    names = [e.name for e in channel.entries] if channel is not None else list(pkg.bundles)
    found = sorted({versions.get(n) for n in names if versions.get(n) is not None})
    if not found:
        return "no bundle has a version"
    shown = ", ".join(str(v) for v in found[-15:])
    more = f" (the {len(found) - 15} older ones not shown)" if len(found) > 15 else ""
    return f"versions available: {shown}{more}"


def apply_filter(catalog: Catalog, flt: CatalogFilter) -> Tuple[Catalog, List[str]]:
    """Filter ``catalog`` with ``flt``; returns a new catalog and warnings (the input is unchanged).

    Raises ConfigError when the filter cannot be applied (default channel filtered out, version
    range that empties the default channel, pinned version not found, ...) and CatalogError when
    a channel the filter has to walk is broken (several heads, a cycle).
    """
    flt.validate()
    warnings: List[str] = []
    out = Catalog()
    out.others = list(catalog.others)
    if not flt.packages:
        for name, pkg in catalog.packages.items():
            out.packages[name] = _copy_package(pkg) if flt.full else _filter_package(pkg, None, False, warnings)
    else:
        for sel in flt.packages:
            pkg = catalog.packages.get(sel.name)
            if pkg is None:
                close = difflib.get_close_matches(sel.name, list(catalog.packages), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                warnings.append(f"package {sel.name!r} not found in the catalog{hint}; nothing is kept for it")
                continue
            out.packages[sel.name] = _filter_package(pkg, sel, flt.full, warnings)
    if flt.include_dependencies:
        _add_dependencies(catalog, out, warnings)
    return out, warnings


# --------------------------------------------------------------------------------------------
# Dependencies


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
        return _Graph(channel.entries, "kept channel").head
    except CatalogError:
        return None


def _pull(source: Package, out: Catalog, matches: Callable[[Any], bool], why: str,
          warnings: List[str]) -> Optional[List[Any]]:
    """Keep the best bundle of ``source`` for which ``matches(bundle)`` holds, with the upgrade
    path down to it (see the module doc). Returns the bundles newly kept, or None when no bundle
    of any channel matches."""
    versions = None
    for cname in _channel_order(source):
        channel = source.channels[cname]
        candidates = [e.name for e in channel.entries if e.name in source.bundles and matches(source.bundles[e.name])]
        if not candidates:
            continue
        if versions is None:
            versions = _versions(source)
        target = max(candidates, key=lambda n: (versions.get(n) is not None, versions.get(n) or Version(0, 0, 0), n))
        graph = _Graph(channel.entries, f"package {source.name!r}, channel {cname!r}")
        pkg = out.packages.get(source.name)
        new_package = pkg is None
        if pkg is None:
            pkg = _new_package(source, source.default_channel)
            out.packages[source.name] = pkg
        names: Set[str] = set()
        start = _kept_head(pkg.channels.get(cname))
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
        if new_package and default in source.channels and default != cname:
            default_head = _Graph(source.channels[default].entries, f"package {source.name!r}, channel {default!r}").head
            added |= _extend_channel(source, pkg, source.channels[default], {default_head})
        pkg.deprecations = []
        _filter_deprecations(source, pkg)
        if added:
            warnings.append(f"dependency: {why}: keeping {', '.join(sorted(added))} of package {source.name!r} "
                            f"(channel {cname!r})")
        return [pkg.bundles[n] for n in sorted(added)]
    return None


def _extend_channel(source: Package, pkg: Package, channel: Channel, names: Set[str]) -> Set[str]:
    current = pkg.channels.get(channel.name)
    wanted = set(names)
    if current is not None:
        wanted.update(e.name for e in current.entries)
    pkg.channels[channel.name] = _copy_channel(channel, wanted)
    added = {n for n in wanted if n not in pkg.bundles and n in source.bundles}
    for name in added:
        pkg.bundles[name] = source.bundles[name]
    return added


def _add_dependencies(source: Catalog, out: Catalog, warnings: List[str]) -> None:
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
        check = parse_requirement_range(text) if text else (lambda v: True)
    except ValueError:
        warnings.append(f"dependency: {who}: versionRange {text!r} of package {name!r} cannot be parsed (ignored)")
        return []

    def matches(candidate: Any) -> bool:
        version = _bundle_version(candidate)
        return version is not None and check(version)

    why = f"{who} requires package {name!r} {text}".rstrip()
    kept = out.packages.get(name)
    if kept is not None and any(matches(b) for b in kept.bundles.values()):
        return []
    src = source.packages.get(name)
    if src is None:
        warnings.append(f"dependency: {why}, which is not in the catalog")
        return []
    added = _pull(src, out, matches, why, warnings)
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
        return any(_gvk_key(v) == key for v in candidate.properties_of(PROP_GVK))

    providers = [p for p in source.packages.values() if any(matches(b) for b in p.bundles.values())]
    providers.sort(key=lambda p: (p.name not in out.packages, p.name))
    for src in providers:
        added = _pull(src, out, matches, why, warnings)
        if added is not None:
            return added
    warnings.append(f"dependency: {why}, which no bundle of the catalog provides")
    return []


# --------------------------------------------------------------------------------------------
# Images


def catalog_images(catalog: Catalog, strict: bool = False) -> List[str]:
    """Every kept bundle's image and related images, without duplicates, sorted. The catalog
    image itself is added by the caller.

    ``strict``: refuse (CatalogError naming each bundle and image) references oc-mirror refuses
    in a catalog: unparsable, ``oci://``, or with neither tag nor digest (OCPBUGS-33081).
    """
    images: Set[str] = set()
    problems: List[str] = []
    parse = None
    if strict:
        from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
    for bundle in catalog.bundles():
        for image in bundle.images():
            if not image:
                continue
            images.add(image)
            if parse is None:
                continue
            reason = None
            if "://" in image:
                reason = "a transport prefix (such as oci://) is not supported in operator catalogs"
            else:
                try:
                    ref = parse(image)
                except AirgapError as exc:
                    reason = str(exc)
                else:
                    if ref.tag is None and ref.digest is None:
                        reason = "tag and digest are empty"
            if reason:
                problems.append(f"bundle {bundle.name!r} of package {bundle.package!r}: image {image!r}: {reason}")
    if problems:
        raise CatalogError("invalid images in the catalog: " + "; ".join(problems) +
                           "; fix the catalog, or filter the bundles out")
    return sorted(images)
