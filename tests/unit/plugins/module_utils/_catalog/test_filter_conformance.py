# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog filter conformance with oc-mirror v2 and opm, on the real corpus.

* expected/oc-mirror-v2_cases.yaml ``filter_cases`` (oc-mirror's TestFilterCatalog). Its catalog
  holds jaeger-product, 3scale-operator and devworkspace-operator; the corpus has jaeger-product
  whole, and 3scale-operator's real package and channel blobs without its bundles
  (fbc/oc-mirror/test-operator-catalog.json). The 3scale bundles are rebuilt from the channel
  entries: name ``3scale-operator.vX.Y.Z-0.N.p`` -> version ``X.Y.Z+0.N.p``, the form Red Hat
  bundles use (jaeger-product's ``jaeger-operator.v1.42.0-5-0.1687199951.p`` is ``1.42.0-5+0.1687199951.p``).
  devworkspace-operator is absent, so each case is checked on the jaeger-product and
  3scale-operator bundles it expects.
* ``integration_filter_cases`` (oc-mirror's integration tests) on the integration-test catalogs.
* opm's heads-only goldens (alpha/action/testdata/index-declcfgs): exp-latest and exp-headsonly.
* every ImageSetConfiguration of imageset-configs/ loads, or fails with the expected message.
"""

from __future__ import annotations

import functools
import json
import re

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.isc import load_imageset_config
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import (
    CatalogFilter,
    filter_from_options,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, ConfigError
from tests.support.corpus import CORPUS, needs

yaml = pytest.importorskip("yaml")

V2_CASES = CORPUS / "expected" / "oc-mirror-v2_cases.yaml"
V1_CASES = CORPUS / "expected" / "oc-mirror-v1_cases.yaml"
INTEGRATION = CORPUS / "fbc" / "oc-mirror" / "integration-test-catalogs"
ALPHA = CORPUS / "fbc" / "operator-registry" / "alpha-action-testdata" / "index-declcfgs"
ISC_DIR = CORPUS / "imageset-configs"

needs_corpus = needs(V2_CASES, V1_CASES, INTEGRATION, ALPHA, ISC_DIR)


@functools.lru_cache(maxsize=None)
def _yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _cases(section, key="caseName"):
    if not V2_CASES.is_file():
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(c, id=str(c.get(key) or c.get("isc"))) for c in _yaml(V2_CASES)[section]["cases"]]


# --------------------------------------------------------------------------------------------
# filter_cases (TestFilterCatalog)

PACKAGE_OF_PREFIX = {"3scale-operator.": "3scale-operator", "jaeger-operator.": "jaeger-product",
                     "devworkspace-operator.": "devworkspace-operator"}
_RH_BUILD = re.compile(r"^(\d+\.\d+\.\d+)-(0\.\d+\.p)$")

# Expected error (oc-mirror's text) -> the words our message must carry (same meaning).
ERROR_MEANING = {
    "package.VersionRange and channel.VersionRange are exclusive": ["3scale-operator", "threescale-2.11", "exclusive"],
    "Full: true cannot be mixed with versionRange": ["3scale-operator", "full: true cannot be mixed with minVersion/maxVersion"],
    "specific version 77.77.77 not found in bundles": ["3scale-operator", "specific version 77.77.77 not found"],
}


def _package_of(bundle_name):
    for prefix, package in PACKAGE_OF_PREFIX.items():
        if bundle_name.startswith(prefix):
            return package
    raise AssertionError(f"unknown bundle prefix: {bundle_name}")


@functools.lru_cache(maxsize=None)
def _test_configs_catalog():
    """jaeger-product (real) + 3scale-operator (real package/channels, rebuilt bundles)."""
    catalog = Catalog()
    for blob in render_fbc(load_fbc(str(CORPUS / "fbc/oc-mirror/redhat-operator-index-extracts/jaeger-product"))):
        catalog.add_blob(blob)
    threescale = load_fbc(str(CORPUS / "fbc/oc-mirror/test-operator-catalog.json"))
    pkg = threescale.packages["3scale-operator"]
    for blob in render_fbc(threescale):
        catalog.add_blob(blob)
    names = sorted({e.name for ch in pkg.channels.values() for e in ch.entries})
    for name in names:
        raw = name[len("3scale-operator.v"):]
        match = _RH_BUILD.match(raw)
        version = f"{match.group(1)}+{match.group(2)}" if match else raw
        catalog.add_blob({"schema": "olm.bundle", "name": name, "package": "3scale-operator",
                          "image": f"example.invalid/3scale/bundle:{raw}",
                          "properties": [{"type": "olm.package",
                                          "value": {"packageName": "3scale-operator", "version": version}}]})
    return catalog.finish()


@needs_corpus
@pytest.mark.parametrize("case", _cases("filter_cases"))
def test_filter_cases(case):
    catalog = _test_configs_catalog()
    present = set(catalog.packages)

    def run():
        flt = filter_from_options(case.get("packages") or [], full=bool(case.get("full")))
        return apply_filter(catalog, flt)

    if case.get("expectedError"):
        with pytest.raises(ConfigError) as info:
            run()
        words = next(v for k, v in ERROR_MEANING.items() if k in case["expectedError"])
        for word in words:
            assert word in str(info.value)
        return
    out, warnings = run()
    expected = {n for n in case["expectedBundles"] if _package_of(n) in present}
    got = {b.name for b in out.bundles()}
    assert got == expected
    # Every selector naming a package absent from this catalog gives a warning, not an error.
    for pkg in case.get("packages") or []:
        if pkg["name"] not in present:
            assert any(pkg["name"] in w and "not found" in w for w in warnings)
    assert out.validate() == []  # what opm would refuse: no default channel, several heads, ...


@needs_corpus
def test_filter_cases_catalog_is_faithful():
    """The rebuilt 3scale package keeps oc-mirror's heads and default channel."""
    catalog = _test_configs_catalog()
    pkg = catalog.packages["3scale-operator"]
    assert pkg.default_channel == "threescale-mas"
    assert pkg.channel_heads() == {"threescale-2.11": "3scale-operator.v0.8.4-0.1655690146.p",
                                   "threescale-2.12": "3scale-operator.v0.9.1-0.1664967752.p",
                                   "threescale-mas": "3scale-operator.v0.11.0-mas"}
    assert catalog.validate() == []


# --------------------------------------------------------------------------------------------
# integration_filter_cases


@needs_corpus
@pytest.mark.parametrize("case", _cases("integration_filter_cases", key="isc"))
def test_integration_filter_cases(case):
    catalog = load_fbc(str(INTEGRATION / case["catalog_dir"]))
    iscs = [s.strip() for s in case["isc"].split(" then ")]
    if "expectedBundles" in case:
        (isc,) = iscs
        (entry,) = load_imageset_config(ISC_DIR / "v2-integration-operators" / isc)
        out, dummy = apply_filter(catalog, entry.filter)
        got = {p: sorted(pkg.bundles) for p, pkg in out.packages.items()}
        assert got == {p: sorted(v) for p, v in case["expectedBundles"].items()}
        assert out.validate() == []
        if "only package foo" in case.get("also", ""):
            assert list(out.packages) == ["foo"]
    elif "invalid-version-range" in iscs[0]:
        with pytest.raises(ConfigError, match="minVersion '0.3.1' is greater than maxVersion '0.2.0'"):
            load_imageset_config(ISC_DIR / "v2-integration-operators" / iscs[0])
    elif "invalid-images" in iscs[0]:
        (entry,) = load_imageset_config(ISC_DIR / "v2-integration-operators" / iscs[0])
        out, dummy = apply_filter(catalog, entry.filter)
        assert len(out.packages["foo"].bundles) == 2
        catalog_images(out)  # lenient: the list is still produced
        with pytest.raises(CatalogError, match="tag and digest are empty") as info:
            catalog_images(out, strict=True)
        assert "foo.v0.9.9-invalid-related-image" in str(info.value)
        assert "foo.v0.1.0'" not in str(info.value)
    elif "extra-blobs" in iscs[0]:
        (entry,) = load_imageset_config(ISC_DIR / "v2-integration-operators" / iscs[0])
        out, dummy = apply_filter(catalog, entry.filter)
        schema = "io.openshift.operators.lifecycles.v1alpha1"
        assert [b["schema"] for b in out.packages["bar"].others] == [schema]
        assert out.packages["foo"].others == [] and out.packages["baz"].others == []
        assert [b["schema"] for b in out.others] == [schema]
        # and bar's blob goes when bar is filtered out
        only_foo, dummy = apply_filter(catalog, filter_from_options(["foo"]))
        assert list(only_foo.packages) == ["foo"] and [b["schema"] for b in only_foo.others] == [schema]
    elif "incremental" in iscs[0]:
        first, second = (load_imageset_config(ISC_DIR / "v2-integration-operators" / i)[0] for i in iscs)
        out1, dummy = apply_filter(catalog, first.filter)
        out2, dummy = apply_filter(catalog, second.filter)
        assert {p: sorted(k.bundles) for p, k in out1.packages.items()} == {"foo": ["foo.v0.2.0"]}
        assert {p: sorted(k.bundles) for p, k in out2.packages.items()} == {
            "foo": ["foo.v0.2.0", "foo.v0.3.0", "foo.v0.3.1"],
            "bar": ["bar.v1.0.0"]}  # bar's stable channel has this one entry (bar/channels.yaml)
    else:  # pragma: no cover - a new case in the corpus
        pytest.fail(f"integration case not ported: {case}")


# --------------------------------------------------------------------------------------------
# opm heads-only goldens (oc-mirror v1 diff_filter_cases)


def _canon(catalog):
    out = []
    for blob in render_fbc(catalog):
        blob = dict(blob)
        if blob["schema"] == "olm.channel":
            blob["entries"] = sorted(blob["entries"], key=lambda e: e["name"])
        out.append(json.dumps(blob, sort_keys=True))
    return sorted(out)


def _v1_cases():
    if not V1_CASES.is_file():
        return [pytest.param(None, id="corpus-absent")]
    out = []
    for case in _yaml(V1_CASES)["diff_filter_cases"]["cases"]:
        marks = []
        if case.get("old"):
            marks = [pytest.mark.skip(reason="a diff against an older catalog (incremental mirroring), not a filter")]
        elif case.get("includeAdditively"):
            marks = [pytest.mark.skip(reason="v1's additive include (heads of every package plus all of one) has no "
                                             "equivalent in oc-mirror v2 filters")]
        out.append(pytest.param(case, id=case["name"], marks=marks))
    return out


@needs_corpus
@pytest.mark.parametrize("case", _v1_cases())
def test_opm_diff_goldens(case):
    """opm's heads-only output is oc-mirror v2's default filter, plus dependencies."""
    catalog = load_fbc(str(ALPHA / case["new"]))
    out, dummy = apply_filter(catalog, CatalogFilter(include_dependencies=True))
    assert _canon(out) == _canon(load_fbc(str(ALPHA / case["expected"])))


@needs_corpus
def test_heads_only_equals_opm_exp_latest():
    """Heads of every channel with upgrade edges kept as they are: opm's exp-latest, blob for blob
    (here without dependencies: nothing in exp-latest needs them)."""
    out, warnings = apply_filter(load_fbc(str(ALPHA / "latest")), CatalogFilter())
    assert warnings == []
    assert _canon(out) == _canon(load_fbc(str(ALPHA / "exp-latest")))


# --------------------------------------------------------------------------------------------
# Every ImageSetConfiguration of the corpus

ISC_FAILURES = {
    # invalid on purpose (oc-mirror's own tests expect a failure)
    "v2-integration-operators/isc-operator-invalid-version-range.yaml": "is greater than maxVersion",
    "v2-e2e-workloads/config-72938.yaml": "exclusive",
    "v2-e2e-workloads/config-72938-1.yaml": "full: true cannot be mixed",
}
NO_OPERATORS = "has no mirror.operators entry"
DELETE = "DeleteImageSetConfiguration"


def _isc_files():
    files = sorted(ISC_DIR.glob("*/*.yaml")) if ISC_DIR.is_dir() else []
    return [pytest.param(f, id=f"{f.parent.name}/{f.name}") for f in files] or [pytest.param(None, id="corpus-absent")]


@needs_corpus
@pytest.mark.parametrize("path", _isc_files())
def test_every_imageset_config(path):
    rel = f"{path.parent.name}/{path.name}"
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    expected_failure = ISC_FAILURES.get(rel)
    if expected_failure is None and all(d.get("kind") == DELETE for d in docs):
        expected_failure = DELETE
    if expected_failure is None and not any((d.get("mirror") or {}).get("operators") for d in docs):
        expected_failure = NO_OPERATORS
    if expected_failure:
        with pytest.raises(ConfigError) as info:
            load_imageset_config(path)
        assert expected_failure in str(info.value)
        assert str(path) in str(info.value)
        return
    result = load_imageset_config(path)
    operators = [op for d in docs for op in (d.get("mirror") or {}).get("operators") or []]
    assert [c.catalog for c in result] == [op["catalog"] for op in operators]
    for entry, op in zip(result, operators):
        assert entry.filter.full is bool(op.get("full"))
        assert [p.name for p in entry.filter.packages] == [p["name"] for p in op.get("packages") or []]
        assert entry.target_tag == op.get("targetTag")
        if op.get("targetCatalog"):
            assert entry.target_catalog == op["targetCatalog"]
    ignored = {k for d in docs for k in (d.get("mirror") or {}) if k != "operators"}
    for section in ignored:
        assert any(f"mirror.{section}" in w for w in result.warnings)
