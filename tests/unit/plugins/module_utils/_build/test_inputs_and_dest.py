# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_build's destinations and the merge of its inputs."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.build import LayoutDest, parse_dest
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.inputs import merge_catalogs
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from tests.support.catalog_blobs import chain_package, make_catalog


@pytest.mark.parametrize("text,expected", [
    ("mirror.example.com:5000/olm/redhat:v4.16", "mirror.example.com:5000/olm/redhat:v4.16"),
    ("mirror.example.com/olm/redhat", "mirror.example.com/olm/redhat:latest"),
    ("docker://mirror.example.com/olm/redhat:v1", "mirror.example.com/olm/redhat:v1"),
])
def test_registry_destinations(text, expected):
    assert str(parse_dest(text)) == expected


@pytest.mark.parametrize("text,path,tag", [
    ("oci:/srv/layout:catalog", "/srv/layout", "catalog"),
    ("oci:/srv/layout", "/srv/layout", "latest"),
    ("oci:relative/dir:v1", "relative/dir", "v1"),
])
def test_layout_destinations(text, path, tag):
    dest = parse_dest(text)
    assert isinstance(dest, LayoutDest) and (dest.path, dest.tag) == (path, tag)


@pytest.mark.parametrize("text,message", [
    ("mirror.example.com/olm/redhat@sha256:" + "a" * 64, "names a digest"),
    ("Not A Reference", "dest"),
    ("oci::tag", "DIR is empty"),
])
def test_bad_destinations(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_dest(text)


def test_merge_keeps_every_package_and_refuses_one_twice():
    one = make_catalog(*chain_package("a", ["1.0.0"]))
    two = make_catalog(*chain_package("b", ["1.0.0"]))
    merged = merge_catalogs([("source x", one), ("fbc /y", two)])
    assert sorted(merged.packages) == ["a", "b"]
    with pytest.raises(ConfigError, match=r"'a' is in both source x and fbc /z"):
        merge_catalogs([("source x", one), ("fbc /y", two), ("fbc /z", make_catalog(*chain_package("a", ["2.0.0"])))])
