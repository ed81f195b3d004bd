# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic versions: parsing, order, and olm.package.required version ranges."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import (
    Version,
    parse_requirement_range,
    parse_version,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


@pytest.mark.parametrize("text,expected", [
    ("1.2.3", (1, 2, 3, (), "")),
    ("v0.9.2", (0, 9, 2, (), "")),
    ("1.0.0-rc.1", (1, 0, 0, ("rc", 1), "")),
    ("4.8.0-202110011559.p0", (4, 8, 0, (202110011559, "p0"), "")),
    ("0.8.0-0.1634606167.p", (0, 8, 0, (0, 1634606167, "p"), "")),
    ("1.2.3+build.5", (1, 2, 3, (), "build.5")),
    ("1.2.3-alpha+001", (1, 2, 3, ("alpha",), "001")),
])
def test_parse_version(text, expected):
    ver = parse_version(text)
    assert (ver.major, ver.minor, ver.patch, ver.prerelease, ver.build) == expected


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "latest", "", "1.2.3-01"])
def test_parse_version_refuses(text):
    with pytest.raises(CatalogError, match="not a semantic version"):
        parse_version(text, "bundle x")


def test_version_order():
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    versions = [parse_version(v) for v in order]
    assert sorted(reversed(versions)) == versions
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")
    assert isinstance(max(versions), Version) and str(max(versions)) == "2.0.0"


@pytest.mark.parametrize("text, yes, no", [
    ("<0.2.0", ["0.1.9"], ["0.2.0"]),
    (">=1.0.0 <2.0.0", ["1.0.0", "1.9.9"], ["2.0.0", "0.9.0"]),
    ("<1.0.0 || >=3.0.0", ["0.5.0", "3.1.0"], ["1.0.0", "2.9.9"]),
    ("1.2.x", ["1.2.0", "1.2.9"], ["1.3.0"]),
    (">= 1.2.3", ["1.2.3"], ["1.2.2"]),
    ("!=1.0.0", ["1.0.1"], ["1.0.0"]),
])
def test_requirement_ranges(text, yes, no):
    check = parse_requirement_range(text)
    assert all(check(parse_version(v)) for v in yes)
    assert not any(check(parse_version(v)) for v in no)
