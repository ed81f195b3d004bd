# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dependency resolution of a filtered catalog: olm.package.required and olm.gvk.required."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import filter_from_options
from tests.support.catalog_blobs import bundle, chain_package, make_catalog, names


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
