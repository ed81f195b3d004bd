# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog filter rules on small synthetic catalogs: options, ImageSetConfiguration reading,
version ranges, channel graphs, default channels, dependencies and images."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.isc import ImageSetConfig, IscCatalog, load_imageset_config
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import (
    CatalogFilter,
    ChannelSelector,
    PackageSelector,
    filter_from_options,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.semver import parse_requirement_range, parse_version
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError

COMMUNITY = Path(__file__).resolve().parents[5] / ".." / "shared" / "data" / "catalogs" / "fbc" / \
    "community-operators-prod" / "v4.21"


def bundle(pkg, version, name=None, images=(), props=()):
    name = name or f"{pkg}.v{version}"
    return {"schema": "olm.bundle", "name": name, "package": pkg, "image": f"quay.io/{pkg}/bundle:v{version}",
            "properties": [{"type": "olm.package", "value": {"packageName": pkg, "version": version}}] + list(props),
            "relatedImages": [{"name": f"i{i}", "image": img} for i, img in enumerate(images)]}


def make_catalog(*blobs):
    return Catalog.from_blobs(copy.deepcopy(list(blobs)))


def chain_package(pkg, versions, channel="stable", default=None, extra_channels=()):
    """A package whose channel is a replaces chain over ``versions`` (oldest first)."""
    entries = []
    prev = None
    for v in versions:
        entry = {"name": f"{pkg}.v{v}"}
        if prev:
            entry["replaces"] = prev
        entries.append(entry)
        prev = entry["name"]
    blobs = [{"schema": "olm.package", "name": pkg, "defaultChannel": default or channel},
             {"schema": "olm.channel", "name": channel, "package": pkg, "entries": entries}]
    blobs += list(extra_channels)
    blobs += [bundle(pkg, v) for v in versions]
    return blobs


def names(catalog, pkg=None):
    if pkg:
        return sorted(catalog.packages[pkg].bundles)
    return sorted(b.name for b in catalog.bundles())


def canon(catalog):
    return sorted(json.dumps(b, sort_keys=True) for b in render_fbc(catalog))


# --------------------------------------------------------------------------------------------
# filter_from_options


def test_options_names_and_mappings():
    flt = filter_from_options([
        "a",
        {"name": "b", "channels": ["x", {"name": "y", "minVersion": "1.0.0"}], "defaultChannel": "y"},
        {"name": "c", "min_version": "1.2", "max_version": "v2.0.0"},
        {"name": "d", "bundles": ["d.v1", {"name": "d.v2"}]},
    ])
    assert flt.packages[0] == PackageSelector("a")
    assert flt.packages[1].channels == [ChannelSelector("x"), ChannelSelector("y", "1.0.0")]
    assert flt.packages[1].default_channel == "y"
    assert (flt.packages[2].min_version, flt.packages[2].max_version) == ("1.2", "v2.0.0")
    assert flt.packages[3].bundles == ["d.v1", "d.v2"]
    assert flt.package_names() == {"a", "b", "c", "d"}
    assert filter_from_options(None).package_names() is None
    assert filter_from_options(["a"], include_dependencies=True).package_names() is None


@pytest.mark.parametrize("packages, field, message", [
    ([{"name": "a"}, {"name": "b"}, {"name": "c", "chanels": []}], "catalogs[0].packages",
     "catalogs[0].packages[2].chanels: unknown field; did you mean 'channels'?"),
    ([{"name": "a", "channels": [{"name": "s", "minVersoin": "1.0.0"}]}], "packages",
     "packages[0].channels[0].minVersoin: unknown field; did you mean 'minVersion'?"),
    ([{"name": "a", "minBundle": "a.v1"}], "packages", "minBundle is an oc-mirror v1 field"),
    ([{"name": "a", "minVersion": 4.1}], "packages", "quote it"),
    ([{"name": "a", "maxVersion": "abc"}], "packages", "packages[0].maxVersion: 'abc' is not a semantic version"),
    ([{"name": "a", "minVersion": "1.0.0", "min_version": "1.0.0"}], "packages", "both 'minVersion' and 'min_version'"),
    ([{"channels": ["s"]}], "packages", "packages[0].name: a package needs a name"),
    ([{"name": "a"}, "a"], "packages", "duplicate package entry"),
    ([{"name": "a", "channels": ["s", {"name": "s"}]}], "packages", "duplicate channel entry 's'"),
    ([{"name": "a", "minVersion": "2.0.0", "maxVersion": "1.0.0"}], "packages",
     "minVersion '2.0.0' is greater than maxVersion '1.0.0'"),
    ([{"name": "a", "channels": [{"name": "s", "maxVersion": "1.0.0"}], "minVersion": "0.1.0"}], "packages",
     "exclusive"),
    ([{"name": "a", "bundles": ["a.v1"], "channels": ["s"]}], "packages", "mixing both filtering by bundles"),
    ([3], "packages", "packages[0]: a package is a name or a mapping"),
    ("a", "packages", "must be a list"),
])
def test_options_errors_name_the_field(packages, field, message):
    with pytest.raises(ConfigError) as info:
        filter_from_options(packages, field=field)
    assert message in str(info.value)


def test_full_with_range_is_an_error():
    with pytest.raises(ConfigError, match="full: true cannot be mixed with minVersion/maxVersion"):
        filter_from_options([{"name": "a", "minVersion": "1.0.0"}], full=True)
    with pytest.raises(ConfigError, match="full: true cannot be mixed"):
        filter_from_options([{"name": "a", "channels": [{"name": "s", "maxVersion": "1.0.0"}]}], full=True)
    with pytest.raises(ConfigError, match="full: true cannot be mixed with filtering by bundle"):
        filter_from_options([{"name": "a", "bundles": ["a.v1"]}], full=True)


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
# Dependencies


def dependency_catalog():
    return make_catalog(
        *chain_package("app", ["1.0.0"]),
        {"schema": "olm.package", "name": "lib", "defaultChannel": "stable"},
        {"schema": "olm.channel", "name": "stable", "package": "lib", "entries": [
            {"name": "lib.v2.0.0"}, {"name": "lib.v2.1.0", "replaces": "lib.v2.0.0"}]},
        {"schema": "olm.channel", "name": "legacy", "package": "lib", "entries": [
            {"name": "lib.v1.0.0"}, {"name": "lib.v1.1.0", "replaces": "lib.v1.0.0"},
            {"name": "lib.v1.2.0", "replaces": "lib.v1.1.0"}]},
        *(bundle("lib", v) for v in ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"]),
        *chain_package("crds", ["0.1.0", "0.2.0"]),
        *chain_package("other", ["3.0.0"]),
    )


def with_props(catalog, pkg, name, props):
    catalog.packages[pkg].bundles[name].properties.extend(props)
    return catalog


def test_dependencies_package_required():
    catalog = with_props(dependency_catalog(), "app", "app.v1.0.0", [
        {"type": "olm.package.required", "value": {"packageName": "lib", "versionRange": ">=1.0.0 <1.2.0"}}])
    out, warnings = apply_filter(catalog, filter_from_options(["app"], include_dependencies=True))
    # highest match (1.1.0), found in 'legacy' after the default channel, with the path from that
    # channel's head; the new package also keeps its default channel head.
    assert names(out, "lib") == ["lib.v1.1.0", "lib.v1.2.0", "lib.v2.1.0"]
    assert out.packages["lib"].default_channel == "stable"
    assert out.validate() == []
    assert any("requires package 'lib' >=1.0.0 <1.2.0" in w for w in warnings)
    out, dummy = apply_filter(catalog, filter_from_options(["app"]))
    assert list(out.packages) == ["app"]


def test_dependencies_gvk_required_and_chained():
    catalog = dependency_catalog()
    gvk = {"group": "example.com", "version": "v1", "kind": "Widget"}
    with_props(catalog, "crds", "crds.v0.1.0", [{"type": "olm.gvk", "value": gvk}])
    with_props(catalog, "crds", "crds.v0.1.0", [
        {"type": "olm.package.required", "value": {"packageName": "other", "versionRange": "3.x"}}])
    with_props(catalog, "app", "app.v1.0.0", [{"type": "olm.gvk.required", "value": gvk}])
    out, warnings = apply_filter(catalog, filter_from_options(["app"], include_dependencies=True))
    assert names(out, "crds") == ["crds.v0.1.0", "crds.v0.2.0"]  # path from the head down to the provider
    assert names(out, "other") == ["other.v3.0.0"]  # required by the pulled-in bundle
    assert out.validate() == []


def test_dependencies_missing_are_warnings():
    catalog = with_props(dependency_catalog(), "app", "app.v1.0.0", [
        {"type": "olm.package.required", "value": {"packageName": "nowhere", "versionRange": ">=1.0.0"}},
        {"type": "olm.package.required", "value": {"packageName": "lib", "versionRange": ">=9.0.0"}},
        {"type": "olm.gvk.required", "value": {"group": "x", "version": "v1", "kind": "Y"}}])
    out, warnings = apply_filter(catalog, filter_from_options(["app"], include_dependencies=True))
    assert list(out.packages) == ["app"]
    text = "\n".join(warnings)
    assert "'nowhere' >=1.0.0, which is not in the catalog" in text
    assert "no bundle of that package satisfies it" in text and "no bundle of the catalog provides" in text


def test_dependencies_already_satisfied_add_nothing():
    catalog = with_props(dependency_catalog(), "app", "app.v1.0.0", [
        {"type": "olm.package.required", "value": {"packageName": "lib", "versionRange": ">=2.0.0"}}])
    out, warnings = apply_filter(catalog, filter_from_options(["app", "lib"], include_dependencies=True))
    assert names(out, "lib") == ["lib.v1.2.0", "lib.v2.1.0"] and warnings == []


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


# --------------------------------------------------------------------------------------------
# Images


def test_catalog_images_dedup_and_sort():
    catalog = make_catalog(*chain_package("a", ["1.0.0", "1.1.0"]))
    catalog.packages["a"].bundles["a.v1.0.0"].related_images = [
        {"name": "op", "image": "quay.io/z/op@sha256:" + "a" * 64}, {"name": "b", "image": "quay.io/a/bundle:v1.0.0"},
        {"name": "empty", "image": ""}]
    catalog.packages["a"].bundles["a.v1.1.0"].related_images = [{"name": "op", "image": "quay.io/z/op@sha256:" + "a" * 64}]
    assert catalog_images(catalog) == ["quay.io/a/bundle:v1.0.0", "quay.io/a/bundle:v1.1.0",
                                       "quay.io/z/op@sha256:" + "a" * 64]
    out, dummy = apply_filter(catalog, CatalogFilter())
    assert catalog_images(out, strict=True) == ["quay.io/a/bundle:v1.1.0", "quay.io/z/op@sha256:" + "a" * 64]


def test_catalog_images_strict_refuses_what_oc_mirror_refuses():
    catalog = make_catalog(*chain_package("a", ["1.0.0"]))
    catalog.packages["a"].bundles["a.v1.0.0"].related_images = [
        {"name": "x", "image": "oci:///tmp/img"}, {"name": "y", "image": "quay.io/a/notag"},
        {"name": "z", "image": "Bad Ref"}]
    with pytest.raises(CatalogError) as info:
        catalog_images(catalog, strict=True)
    text = str(info.value)
    assert "oci://" in text and "'quay.io/a/notag': tag and digest are empty" in text and "'Bad Ref'" in text


# --------------------------------------------------------------------------------------------
# ImageSetConfiguration


ISC = """
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v2alpha1
archiveSize: 4
mirror:
  platform:
    channels: [{name: stable-4.18}]
  additionalImages: [{name: quay.io/a/b:c}]
  helm: {}
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
    targetCatalog: my/index
    targetTag: v1
    packages:
    - name: a
      channels:
      - name: stable
        minVersion: '1.0.0'
  - catalog: oci:///tmp/catalog
    full: true
"""


def test_isc_text_dict_and_path(tmp_path):
    result = load_imageset_config(ISC)
    assert isinstance(result, ImageSetConfig) and len(result) == 2
    first, second = result
    assert isinstance(first, IscCatalog)
    assert (first.catalog, first.target_catalog, first.target_tag) == (
        "registry.redhat.io/redhat/redhat-operator-index:v4.18", "my/index", "v1")
    assert first.filter.packages[0].channels[0] == ChannelSelector("stable", "1.0.0")
    assert second.filter.full and not second.filter.packages
    text = "\n".join(result.warnings)
    for section in ("mirror.platform", "mirror.additionalImages", "mirror.helm", "archiveSize"):
        assert section in text
    path = tmp_path / "isc.yaml"
    path.write_text(ISC, encoding="utf-8")
    assert [c.catalog for c in load_imageset_config(path)] == [c.catalog for c in result]
    assert [c.catalog for c in load_imageset_config(str(path))] == [c.catalog for c in result]
    import yaml
    assert [c.catalog for c in load_imageset_config(yaml.safe_load(ISC))] == [c.catalog for c in result]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["mirror"]["operators"][0]["packages"][0]["channels"][0].update(minVersion="x.y"),
     "mirror.operators[0].packages[0].channels[0].minVersion: 'x.y' is not a semantic version"),
    (lambda d: d["mirror"]["operators"][0]["packages"].append({"name": "b", "chanels": []}),
     "mirror.operators[0].packages[1].chanels: unknown field; did you mean 'channels'?"),
    (lambda d: d["mirror"]["operators"][1].update(packges=[]),
     "mirror.operators[1].packges: unknown field; did you mean 'packages'?"),
    (lambda d: d["mirror"]["operators"][0].update(targetCatalog="my/index:v1"),
     "mirror.operators[0].targetCatalog: 'my/index:v1' is not a repository path"),
    (lambda d: d["mirror"]["operators"][0].update(targetTag="-bad"), "mirror.operators[0].targetTag"),
    (lambda d: d["mirror"]["operators"][1].update(full="yes"), "mirror.operators[1].full: must be true or false"),
    (lambda d: d["mirror"]["operators"].append(dict(d["mirror"]["operators"][1])), "is listed twice"),
    (lambda d: d.update(apiVersion="mirror.openshift.io/v9"), "apiVersion: expected one of"),
    (lambda d: d.update(kind="DeleteImageSetConfiguration"), "DeleteImageSetConfiguration describes images to delete"),
    (lambda d: d.update(kind="Other"), "kind: expected 'ImageSetConfiguration'"),
    (lambda d: d.update(mirorr={}), "(top level).mirorr: unknown field; did you mean 'mirror'?"),
    (lambda d: d["mirror"].pop("operators"), "has no mirror.operators entry"),
])
def test_isc_errors_name_the_path(edit, message):
    import yaml
    data = yaml.safe_load(ISC)
    edit(data)
    with pytest.raises(ConfigError) as info:
        load_imageset_config(data)
    assert message in str(info.value)


def test_isc_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the ImageSetConfiguration"):
        load_imageset_config(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+:\d+: invalid YAML"):
        load_imageset_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        load_imageset_config(empty)


def test_isc_v1alpha2_and_multi_document():
    text = """
apiVersion: mirror.openshift.io/v1alpha2
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
    targetName: my-index
    packages: [{name: a}]
---
apiVersion: mirror.openshift.io/v1alpha2
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
    full: true
"""
    result = load_imageset_config(text)
    assert [c.target_catalog for c in result] == ["redhat/my-index", None]
    assert any("2 YAML documents" in w for w in result.warnings)
    with pytest.raises(ConfigError, match="document 1: mirror.operators\\[0\\].targetName: unknown field"):
        load_imageset_config(text.replace("v1alpha2", "v2alpha1"))


# --------------------------------------------------------------------------------------------
# A real catalog

# The head of each of the 78 channels of the community catalog, per package, read off its
# catalog.yaml files (the entry no other entry of the channel replaces or skips); several
# channels of a package may share a head.
COMMUNITY_HEADS = {
    "apicurio-registry-3": ["apicurio-registry-3.v3.2.6", "apicurio-registry-3.v3.3.1"],
    "aws-neuron-operator": ["aws-neuron-operator.v1.2.0"],
    "cat-facts-operator": ["cat-facts-operator.v1.1.2"],
    "clusterpulse": ["clusterpulse.v0.3.0", "clusterpulse.v1.0.2"],
    "dotvirt-operator": ["dotvirt-operator.v0.0.32"],
    "ecr-secret-operator": ["ecr-secret-operator.v0.5.0"],
    "hive-operator": [
        "hive-operator.v1.2.5274-c04833d", "hive-operator.v2.3.3039-60b8a9a", "hive-operator.v2.4.3231-ba51985",
        "hive-operator.v2.5.3516-a2ed9b3",
    ],
    "infinispan": [
        "infinispan-operator.v2.2.5", "infinispan-operator.v2.3.8", "infinispan-operator.v2.4.18",
        "infinispan-operator.v2.5.14",
    ],
    "jumpstarter-operator": ["jumpstarter-operator.v0.9.0"],
    "kairos-operator": ["kairos-operator.v2.2.0"],
    "kepler-operator": ["kepler-operator.v0.24.0"],
    "koku-metrics-operator": ["koku-metrics-operator.v4.4.1"],
    "konflux-operator": [
        "konflux-operator.v0.0.14", "konflux-operator.v0.0.15-rc.7", "konflux-operator.v0.1.13",
        "konflux-operator.v0.1.13-rc.0", "konflux-operator.v0.2.1", "konflux-operator.v0.2.2-rc.10",
    ],
    "kube-green": ["kube-green.v0.7.1"],
    "kubernaut-operator": ["kubernaut-operator.v1.5.0"],
    "layer7-operator": ["layer7-operator.v1.3.0"],
    "libredb-studio-operator": ["libredb-studio-operator.v0.9.59"],
    "multicluster-global-hub-operator": ["multicluster-global-hub-operator.v1.7.0"],
    "nfs-provisioner-operator": ["nfs-provisioner-operator.v0.0.9"],
    "opendatahub-operator": [
        "opendatahub-operator.v1.11.0", "opendatahub-operator.v1.5.0", "opendatahub-operator.v2.35.0",
        "opendatahub-operator.v2.8.1", "opendatahub-operator.v3.5.0",
    ],
    "openshift-integration-operator": ["openshift-integration-operator.v0.8.2"],
    "patterns-operator": ["patterns-operator.v0.0.80"],
    "project-onboarding-operator": ["project-onboarding-operator.v0.0.51"],
    "project-quay": [
        "quay-operator.v3.10.25", "quay-operator.v3.11.13", "quay-operator.v3.12.21", "quay-operator.v3.13.11",
        "quay-operator.v3.14.8", "quay-operator.v3.15.7", "quay-operator.v3.16.5", "quay-operator.v3.17.4",
        "quay-operator.v3.6.2", "quay-operator.v3.7.11", "quay-operator.v3.8.13", "quay-operator.v3.9.25",
    ],
    "rabbitmq-cluster-operator": ["rabbitmq-cluster-operator.v2.22.3"],
    "rabbitmq-messaging-topology-operator": ["rabbitmq-messaging-topology-operator.v1.19.3"],
    "rsct-operator": ["rsct-operator.v0.0.1-alpha4"],
    "sailoperator": [
        "sailoperator.v0.1.0", "sailoperator.v1.0.0", "sailoperator.v1.25.2", "sailoperator.v1.26.3",
        "sailoperator.v1.27.3", "sailoperator.v1.28.3", "sailoperator.v1.29.2", "sailoperator.v1.30.3",
        "sailoperator.v1.31.0-nightly-2026-08-22",
    ],
    "slurm-operator": ["slurm-operator.v0.4.1-2", "slurm-operator.v1.0.1-1"],
    "stackgres-community": ["stackgres-community.v1.18.8"],
    "trident-operator": ["trident-operator.v26.2.1"],
    "victoriametrics-operator": ["victoriametrics-operator.v0.68.5", "victoriametrics-operator.v0.74.1"],
    "visionone-containersecurity": ["visionone-containersecurity.v0.0.5"],
}


@pytest.mark.skipif(not COMMUNITY.is_dir(), reason=f"community catalog not found at {COMMUNITY}")
def test_community_catalog_filters():
    catalog = load_fbc(str(COMMUNITY))
    heads, warnings = apply_filter(catalog, CatalogFilter())
    assert warnings == [] and heads.validate() == []
    assert {pkg: names(heads, pkg) for pkg in heads.packages} == COMMUNITY_HEADS
    full, dummy = apply_filter(catalog, CatalogFilter(full=True))
    # 1,980 distinct bundle and related images: INVENTORY.json of the catalog corpus
    assert len(catalog_images(full)) == len(catalog.images()) == 1980
    deps, dummy = apply_filter(catalog, CatalogFilter(include_dependencies=True))
    assert deps.validate() == []
    # hive-operator's versions are all pre-releases: a plain minVersion matches none (oc-mirror's rule)
    with pytest.raises(ConfigError, match="pre-release"):
        apply_filter(catalog, filter_from_options([{"name": "hive-operator", "minVersion": "1.0.0"}]))
