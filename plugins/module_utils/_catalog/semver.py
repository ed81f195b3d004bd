# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic versions: bundle versions (semver 2.0), the ``minVersion``/``maxVersion`` bounds of a
filter as oc-mirror reads them, and ``versionRange`` predicates of ``olm.package.required``."""

from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError

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
        pre = tuple((0, ident, "") if isinstance(ident, int) else (1, 0, ident) for ident in self.prerelease)
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
            text += "-" + ".".join(str(ident) for ident in self.prerelease)
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


_BOUND = re.compile(r"^[vV]?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")


class Bound:
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


def parse_bound(text: Any, where: str) -> Bound:
    """Parse a ``minVersion``/``maxVersion`` value; ConfigError naming ``where`` when invalid."""
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
    return Bound(text.strip(), version, match.group(2) is None, match.group(3) is None)


class VersionRange:
    """``>=min <=max`` as Masterminds/semver checks it (oc-mirror builds exactly that string)."""

    def __init__(self, low: Optional[Bound], high: Optional[Bound]):
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


def range_of(low: Optional[str], high: Optional[str], where: str) -> Optional[VersionRange]:
    """The range of a ``minVersion``/``maxVersion`` pair (None when neither is given); ``where``
    names the pair in ConfigError messages."""
    if low is None and high is None:
        return None
    low_bound = parse_bound(low, f"{where}.minVersion") if low is not None else None
    high_bound = parse_bound(high, f"{where}.maxVersion") if high is not None else None
    return VersionRange(low_bound, high_bound)


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
    for index, piece in enumerate(nums[:3]):
        if piece in _WILDCARDS:
            break
        if not piece.isdigit():
            raise ValueError(text)
        values[index] = int(piece)
        given = index + 1
    if len(nums) > 3:
        raise ValueError(text)
    pre: Tuple[Any, ...] = ()
    if pre_build and given == 3:
        pre_text, dummy, pre_build_meta = pre_build[1:].partition("+")
        build = build or pre_build_meta
        pre = tuple(int(ident) if ident.isdigit() else ident for ident in pre_text.split(".") if ident)
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
        for operator, value in _RANGE_TOKEN.findall(alternative.strip()):
            base, given = _partial_version(value)
            operator = operator or "="
            if given == 3:
                checks.append({
                    ">": lambda version, bound=base: version > bound,
                    ">=": lambda version, bound=base: version >= bound,
                    "<": lambda version, bound=base: version < bound,
                    "<=": lambda version, bound=base: version <= bound,
                    "=": lambda version, bound=base: version == bound,
                    "==": lambda version, bound=base: version == bound,
                    "!=": lambda version, bound=base: version != bound,
                }[operator])
                continue
            # A partial version (1, 1.2, 1.2.x) stands for [base, upper).
            upper = _next_version(base, given)
            if operator in ("=", "=="):
                checks.append(lambda version, low=base, high=upper: low <= version < high)
            elif operator == "!=":
                checks.append(lambda version, low=base, high=upper: not low <= version < high)
            elif operator == ">":
                checks.append(lambda version, high=upper: version >= high)
            elif operator == ">=":
                checks.append(lambda version, low=base: version >= low)
            elif operator == "<":
                checks.append(lambda version, low=base: version < low)
            else:  # <=
                checks.append(lambda version, high=upper: version < high)
        if not checks:
            raise ValueError(text)
        groups.append(checks)
    if not groups:
        raise ValueError(text)
    return lambda version: any(all(check(version) for check in group) for group in groups)
