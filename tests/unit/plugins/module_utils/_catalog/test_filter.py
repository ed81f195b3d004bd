# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply_filter on small synthetic catalogs: default selection, packages and channels, version
ranges, channel graphs, default channels, deprecations; and on a real catalog."""

from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import (
    CatalogFilter,
    filter_from_options,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError
from tests.support.catalog_blobs import bundle, chain_package, make_catalog, names
from tests.support.corpus import COMMUNITY, needs


def canon(catalog):
    return sorted(json.dumps(b, sort_keys=True) for b in render_fbc(catalog))


# --------------------------------------------------------------------------------------------
# Default selection, full, packages and channels


def two_packages():
    return make_catalog(
        *chain_package("a", ["1.0.0", "1.1.0", "1.2.0"], extra_channels=[
            {"schema": "olm.channel", "name": "fast", "package": "a",
             "entries": [{"name": "a.v1.2.0"}, {"name": "a.v1.3.0", "replaces": "a.v1.2.0"}]}]),
        bundle("a", "1.3.0"),
        *chain_package("b", ["0.1.0", "0.2.0"]),
        {"schema": "io.example.extra", "package": "b", "data": 1},
        {"schema": "io.example.root", "data": 2},
    )


def test_default_keeps_every_channel_head():
    catalog = two_packages()
    before = canon(catalog)
    out, warnings = apply_filter(catalog, CatalogFilter())
    assert names(out) == ["a.v1.2.0", "a.v1.3.0", "b.v0.2.0"]
    assert [e.name for e in out.packages["a"].channels["stable"].entries] == ["a.v1.2.0"]
    # the head keeps its replaces edge, although a.v1.1.0 is gone (opm and oc-mirror do the same)
    assert out.packages["a"].channels["stable"].entries[0].replaces == "a.v1.1.0"
    assert out.validate() == [] and warnings == []
    assert canon(catalog) == before  # the input is not modified
    assert out.others == [{"schema": "io.example.root", "data": 2}]
    assert out.packages["b"].others == [{"schema": "io.example.extra", "package": "b", "data": 1}]


def test_full_without_packages_is_the_whole_catalog():
    catalog = two_packages()
    out, dummy = apply_filter(catalog, CatalogFilter(full=True))
    assert canon(out) == canon(catalog)
    out.packages["a"].channels["stable"].entries.clear()
    assert len(catalog.packages["a"].channels["stable"].entries) == 3


def test_packages_and_channels():
    catalog = two_packages()
    out, dummy = apply_filter(catalog, filter_from_options(["b"]))
    assert list(out.packages) == ["b"] and names(out) == ["b.v0.2.0"]
    assert out.others == [{"schema": "io.example.root", "data": 2}]
    out, dummy = apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["fast"], "defaultChannel": "fast"}]))
    assert list(out.packages["a"].channels) == ["fast"] and out.packages["a"].default_channel == "fast"
    assert names(out) == ["a.v1.3.0"]
    out, dummy = apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["stable"]}], full=True))
    assert names(out) == ["a.v1.0.0", "a.v1.1.0", "a.v1.2.0"]
    out, dummy = apply_filter(catalog, filter_from_options(["a"], full=True))
    assert names(out) == ["a.v1.0.0", "a.v1.1.0", "a.v1.2.0", "a.v1.3.0"]


def test_missing_package_and_channel_are_warnings():
    catalog = two_packages()
    out, warnings = apply_filter(catalog, filter_from_options(["bb", {"name": "a", "channels": ["stable", "nope"]}]))
    assert names(out) == ["a.v1.2.0"]
    assert any("package 'bb' not found in the catalog; did you mean 'b'?" in w for w in warnings)
    assert any("'nope' not found" in w and "fast, stable" in w for w in warnings)


def test_default_channel_must_survive():
    catalog = two_packages()
    with pytest.raises(ConfigError, match="default channel 'stable' was filtered out.*set defaultChannel"):
        apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["fast"]}]))
    with pytest.raises(ConfigError, match=r"channel\(s\) not found: stabel"):
        apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["stabel"]}]))
    with pytest.raises(ConfigError, match="defaultChannel override 'fast' is not among the kept channels"):
        apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["stable"], "defaultChannel": "fast"}]))


def test_bundle_selection():
    catalog = two_packages()
    selector = {"name": "a", "bundles": ["a.v1.1.0", "a.v1.2.0", "a.v9"]}
    out, warnings = apply_filter(catalog, filter_from_options([selector]))
    assert names(out) == ["a.v1.1.0", "a.v1.2.0"]
    assert list(out.packages["a"].channels) == ["stable", "fast"]
    assert any("a.v9" in w for w in warnings)
    with pytest.raises(ConfigError, match="multiple channel heads"):
        apply_filter(catalog, filter_from_options([{"name": "a", "bundles": ["a.v1.0.0", "a.v1.2.0"]}]))
    with pytest.raises(ConfigError, match="no bundle of the default channel"):
        apply_filter(catalog, filter_from_options([{"name": "a", "bundles": ["a.v1.3.0"]}]))


# --------------------------------------------------------------------------------------------
# Version ranges


def ranged(catalog, **kw):
    out, warnings = apply_filter(catalog, filter_from_options([dict(name="a", **kw)]))
    return names(out), warnings


@pytest.mark.parametrize("kw, expected", [
    ({"minVersion": "1.1.0"}, ["a.v1.1.0", "a.v1.2.0", "a.v1.2.5", "a.v1.3.0"]),
    ({"maxVersion": "1.1.0"}, ["a.v1.0.0", "a.v1.1.0"]),
    ({"minVersion": "1.1.0", "maxVersion": "1.2.0"}, ["a.v1.1.0", "a.v1.2.0"]),
    ({"minVersion": "1.1", "maxVersion": "1.2"}, ["a.v1.1.0", "a.v1.2.0", "a.v1.2.5"]),  # 1.2 is 1.2.x
    ({"maxVersion": "1"}, ["a.v1.0.0", "a.v1.1.0", "a.v1.2.0", "a.v1.2.5", "a.v1.3.0"]),
    ({"minVersion": "v1.2.0", "maxVersion": "v1.2.0"}, ["a.v1.2.0"]),  # pinned
])
def test_range_on_a_chain(kw, expected):
    catalog = make_catalog(*chain_package("a", ["1.0.0", "1.1.0", "1.2.0", "1.2.5", "1.3.0"]))
    got, warnings = ranged(catalog, **kw)
    assert got == expected and warnings == []


def test_range_keeps_bundles_needed_to_connect_and_warns():
    # 2.0.0 replaces 1.1.0 and skips 1.1.1: range [1.1.1, 1.1.1] pinned -> only 1.1.1 (OCPBUGS-61497),
    # range >=1.1.1 <2.0.0 -> 2.0.0 carries the skip edge, so it is kept with a warning.
    catalog = make_catalog(
        {"schema": "olm.package", "name": "a", "defaultChannel": "s"},
        {"schema": "olm.channel", "name": "s", "package": "a", "entries": [
            {"name": "a.v1.0.0"}, {"name": "a.v1.1.0", "replaces": "a.v1.0.0"}, {"name": "a.v1.1.1"},
            {"name": "a.v2.0.0", "replaces": "a.v1.1.0", "skips": ["a.v1.1.1"]}]},
        *(bundle("a", v) for v in ["1.0.0", "1.1.0", "1.1.1", "2.0.0"]))
    got, warnings = ranged(catalog, minVersion="1.1.1", maxVersion="1.1.99")
    assert got == ["a.v1.1.1", "a.v2.0.0"]
    assert len(warnings) == 1 and "a.v2.0.0" in warnings[0] and "outside the range >=1.1.1 <=1.1.99" in warnings[0]
    got, warnings = ranged(catalog, minVersion="1.1.1", maxVersion="1.1.1")
    assert got == ["a.v1.1.1"] and warnings == []
    got, dummy = ranged(catalog, minVersion="1.0.0", maxVersion="1.1.0")
    assert got == ["a.v1.0.0", "a.v1.1.0"]


def test_range_head_is_lowest_node_covering_the_range():
    # catalog-filter's "neither head nor tail": 0.1.0 <- 1.0.0 <- 1.1.0 <- 2.0.0, range [1.0.0, 2.0.0)
    catalog = make_catalog(*chain_package("a", ["0.1.0", "1.0.0", "1.1.0", "2.0.0"]))
    assert ranged(catalog, minVersion="1.0.0", maxVersion="1.99.0")[0] == ["a.v1.0.0", "a.v1.1.0"]


def test_range_prerelease_rule_of_masterminds_semver():
    catalog = make_catalog(*chain_package("a", ["1.0.0-1", "1.1.0-2", "1.2.0"]))
    # a bound without a pre-release never matches a pre-release version
    assert ranged(catalog, minVersion="1.0.0")[0] == ["a.v1.2.0"]
    assert ranged(catalog, minVersion="1.0.0-0")[0] == ["a.v1.0.0-1", "a.v1.1.0-2", "a.v1.2.0"]
    with pytest.raises(ConfigError, match="pre-releases, such as 1.0.0-1.*'1.0.0-0'"):
        ranged(catalog, maxVersion="1.1.0")


def test_build_metadata_is_ignored():
    catalog = make_catalog(*chain_package("a", ["1.0.0", "1.0.0+0.1.p", "1.1.0"]))
    assert ranged(catalog, minVersion="1.0.0", maxVersion="1.0.0")[0] == ["a.v1.0.0", "a.v1.0.0+0.1.p"]


def test_range_empty_channels():
    catalog = make_catalog(*chain_package("a", ["1.0.0", "2.0.0"], extra_channels=[
        {"schema": "olm.channel", "name": "old", "package": "a", "entries": [{"name": "a.v1.0.0"}]}]))
    got, warnings = ranged(catalog, minVersion="2.0.0")
    assert got == ["a.v2.0.0"] and any("channel 'old'" in w and "left out" in w for w in warnings)
    with pytest.raises(ConfigError, match="no bundle of the default channel"):
        ranged(catalog, minVersion="5.0.0", channels=["stable"])
    # the override makes 'old' the default; the original default may then be dropped
    out, warnings = apply_filter(catalog, filter_from_options(
        [{"name": "a", "maxVersion": "1.5.0", "channels": ["old", "stable"], "defaultChannel": "old"}]))
    assert out.packages["a"].default_channel == "old" and names(out) == ["a.v1.0.0"]
    with pytest.raises(ConfigError, match=r"specific version 3\.0\.0 not found"):
        ranged(catalog, minVersion="3.0.0", maxVersion="3.0.0")
    with pytest.raises(ConfigError, match=r"channel 'old'.*specific version 2\.0\.0 not found.*versions available: 1\.0\.0"):
        apply_filter(catalog, filter_from_options([{"name": "a", "defaultChannel": "stable", "channels": [
            "stable", {"name": "old", "minVersion": "2.0.0", "maxVersion": "2.0.0"}]}]))


def test_broken_channels_are_reported():
    two_heads = make_catalog({"schema": "olm.package", "name": "a", "defaultChannel": "s"},
                             {"schema": "olm.channel", "name": "s", "package": "a",
                              "entries": [{"name": "a.v1"}, {"name": "a.v2"}]}, bundle("a", "1.0.0", "a.v1"),
                             bundle("a", "2.0.0", "a.v2"))
    with pytest.raises(CatalogError, match="package 'a', channel 's': multiple channel heads found: a.v1, a.v2"):
        apply_filter(two_heads, CatalogFilter())
    cycle = make_catalog({"schema": "olm.package", "name": "a", "defaultChannel": "s"},
                         {"schema": "olm.channel", "name": "s", "package": "a", "entries": [
                             {"name": "a.v3"}, {"name": "a.v2", "replaces": "a.v1"},
                             {"name": "a.v1", "replaces": "a.v2"}, ]},
                         bundle("a", "1.0.0", "a.v1"), bundle("a", "2.0.0", "a.v2"), bundle("a", "3.0.0", "a.v3"))
    with pytest.raises(CatalogError, match="multiple channel heads|cycle"):
        apply_filter(cycle, filter_from_options([{"name": "a", "minVersion": "1.0.0"}]))


def test_deprecations_follow_the_kept_content():
    catalog = make_catalog(*chain_package("a", ["1.0.0", "2.0.0"], extra_channels=[
        {"schema": "olm.channel", "name": "old", "package": "a", "entries": [{"name": "a.v1.0.0"}]}]),
        {"schema": "olm.deprecations", "package": "a", "entries": [
            {"reference": {"schema": "olm.package"}, "message": "pkg"},
            {"reference": {"schema": "olm.channel", "name": "old"}, "message": "ch"},
            {"reference": {"schema": "olm.bundle", "name": "a.v1.0.0"}, "message": "b1"},
            {"reference": {"schema": "olm.bundle", "name": "a.v2.0.0"}, "message": "b2"}]})
    out, dummy = apply_filter(catalog, filter_from_options([{"name": "a", "channels": ["stable"]}]))
    assert [e["message"] for e in out.packages["a"].deprecations[0].entries] == ["pkg", "b2"]
    assert len(catalog.packages["a"].deprecations[0].entries) == 4


# --------------------------------------------------------------------------------------------
# A real catalog

# The head of each of the 11 channels of the community catalog in tests/fixtures, per package, read
# off its catalog.yaml files (the entry no other entry of the channel replaces or skips); several
# channels of a package may share a head.
COMMUNITY_HEADS = {
    "cat-facts-operator": ["cat-facts-operator.v1.1.2"],
    "ecr-secret-operator": ["ecr-secret-operator.v0.5.0"],
    "hive-operator": [
        "hive-operator.v1.2.5274-c04833d", "hive-operator.v2.3.3039-60b8a9a", "hive-operator.v2.4.3231-ba51985",
        "hive-operator.v2.5.3516-a2ed9b3",
    ],
    "kube-green": ["kube-green.v0.7.1"],
    "libredb-studio-operator": ["libredb-studio-operator.v0.9.59"],
    "nfs-provisioner-operator": ["nfs-provisioner-operator.v0.0.9"],
    "rabbitmq-cluster-operator": ["rabbitmq-cluster-operator.v2.22.3"],
    "rabbitmq-messaging-topology-operator": ["rabbitmq-messaging-topology-operator.v1.19.3"],
}


@needs(COMMUNITY)
def test_community_catalog_filters():
    catalog = load_fbc(str(COMMUNITY))
    heads, warnings = apply_filter(catalog, CatalogFilter())
    assert warnings == [] and heads.validate() == []
    assert {pkg: names(heads, pkg) for pkg in heads.packages} == COMMUNITY_HEADS
    full, dummy = apply_filter(catalog, CatalogFilter(full=True))
    # 339 distinct bundle and related images: tests/fixtures/catalogs/INVENTORY.json
    assert len(catalog_images(full)) == len(catalog.images()) == 339
    deps, dummy = apply_filter(catalog, CatalogFilter(include_dependencies=True))
    assert deps.validate() == []
    # hive-operator's versions are all pre-releases: a plain minVersion matches none (oc-mirror's rule)
    with pytest.raises(ConfigError, match="pre-release"):
        apply_filter(catalog, filter_from_options([{"name": "hive-operator", "minVersion": "1.0.0"}]))
