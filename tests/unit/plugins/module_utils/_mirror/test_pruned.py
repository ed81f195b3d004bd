# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which catalogs catalog_mirror serves pruned, and what its files say then (no registry).

Building and pushing are proven against real registries in
tests/integration/test_module_catalog_pruned.py.
"""

from __future__ import annotations

import pytest

yaml = pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.build import base_fbc_dirs
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import BasePlatform
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import catalog_specs, info_spec
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import load_spec
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalogs import (
    FILE_CATALOG_SOURCE,
    FILE_CLUSTER_CATALOG,
    FILE_ICSP,
    FILE_IDMS,
    FILE_MAPPING,
    plan_one,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.pruned import (
    BUILD_MODULE,
    is_pruned,
    plan_build,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CatalogMirrorRequest
from tests.support import corpus

OC_FBC = str(corpus.OC_DECLCFG)
SOURCE = "quay.io/example/operator-index:v1"
BUILT = "mirror.example.com/olm/example-operator-index@sha256:" + "ab" * 32


def _isc(operator):
    return {"apiVersion": "mirror.openshift.io/v2alpha1", "kind": "ImageSetConfiguration",
            "mirror": {"operators": [dict(operator, catalog=SOURCE)]}}


@pytest.mark.parametrize("entry, pruned", [
    pytest.param({"full": True}, False, id="full-no-packages"),
    pytest.param({"full": True, "include_dependencies": True}, False, id="full-with-dependencies"),
    pytest.param({}, True, id="channel-heads"),
    pytest.param({"packages": ["etcd"]}, True, id="packages"),
    pytest.param({"packages": ["etcd"], "full": True}, True, id="full-packages"),
    pytest.param({"packages": [{"name": "etcd", "channels": [{"name": "alpha", "minVersion": "0.9.0"}]}]}, True,
                 id="versions"),
    pytest.param({"imageset_config": _isc({"full": True})}, False, id="isc-full"),
    pytest.param({"imageset_config": _isc({"packages": [{"name": "etcd"}]})}, True, id="isc-packages"),
])
def test_only_a_catalog_kept_whole_is_mirrored_unchanged(entry, pruned):
    spec = catalog_specs([dict(entry, source=SOURCE)])[0]
    assert is_pruned(spec) is pruned


def test_a_plain_listing_is_not_pruned():
    assert is_pruned(info_spec(SOURCE, None, False, False, None)) is False


@pytest.fixture
def loaded():
    if not corpus.OC_DECLCFG.exists():
        pytest.skip(f"test fixture not found: {OC_FBC}")
    spec = catalog_specs([{"source": OC_FBC, "packages": ["etcd"]}])[0]
    result = load_spec(spec, None, None)
    # planned as if read from the catalog image SOURCE
    result.image = SOURCE
    result.digest = "sha256:" + "cd" * 32
    return result


def _request(**kwargs):
    return CatalogMirrorRequest(catalogs=("unused",), dest="mirror.example.com/olm", output_dir="unused", **kwargs)


def test_the_built_catalog_replaces_the_source_in_every_file(loaded):
    unchanged = plan_one(loaded, _request())
    built = plan_one(loaded, _request(), BUILT)
    assert any(line.startswith(SOURCE + "=") for line in unchanged.files[FILE_MAPPING].splitlines())
    lines = built.files[FILE_MAPPING].splitlines()
    assert lines[0] == f"# {BUILT}: the pruned catalog, built and pushed by catalog_mirror, not copied"
    # every other line is kept: only the catalog's own line left
    assert sorted(lines[1:]) == sorted(line for line in unchanged.files[FILE_MAPPING].splitlines()
                                       if not line.startswith(SOURCE + "="))
    assert not any(p.image_type == "operatorCatalog" for p in built.planned)
    for name in (FILE_ICSP, FILE_IDMS):
        sources = [entry["source"] for doc in yaml.safe_load_all(built.files[name]) if doc
                   for key in ("repositoryDigestMirrors", "imageDigestMirrors") for entry in doc["spec"].get(key, [])]
        assert sources and "quay.io/example/operator-index" not in sources, name
    assert yaml.safe_load(built.files[FILE_CATALOG_SOURCE])["spec"]["image"] == BUILT
    assert yaml.safe_load(built.files[FILE_CLUSTER_CATALOG])["spec"]["source"]["image"]["ref"] == BUILT
    assert built.name == unchanged.name and built.catalog_image == BUILT


def test_a_local_catalog_without_base_image_names_the_catalog_build_task(tmp_path):
    if not corpus.OC_DECLCFG.exists():
        pytest.skip(f"test fixture not found: {OC_FBC}")
    spec = catalog_specs([{"source": OC_FBC, "packages": ["etcd"], "target_name": "olm/etcd-index"}])[0]
    loaded = load_spec(spec, None, None)
    plan = plan_one(loaded, _request())
    build = plan_build(loaded, plan.target, _request(), None, str(tmp_path))
    assert build.prepared is None and build.image is None
    assert str(build.dest) == plan.catalog_image
    assert build.task == {BUILD_MODULE: {
        "source": OC_FBC, "packages": ["etcd"], "dest": plan.catalog_image,
        "base_image": "<an opm base image, e.g. registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16>"}}


def test_an_unfiltered_catalog_image_is_not_built(loaded, tmp_path):
    loaded.spec = catalog_specs([{"source": SOURCE, "full": True}])[0]
    plan = plan_one(loaded, _request())
    assert plan_build(loaded, plan.target, _request(), None, str(tmp_path)) is None


def _base(labels):
    return BasePlatform(platform="linux/amd64", manifest=None, config={"config": {"Labels": labels}})


def test_the_fbc_directories_a_base_names_are_the_ones_replaced():
    assert base_fbc_dirs([_base({"operators.operatorframework.io.index.configs.v1": "/configs"})]) == ["/configs"]
    assert base_fbc_dirs([_base({"operators.operatorframework.io.index.configs.v1": "/opt/catalog"}),
                          _base({"operators.operatorframework.io.index.configs.v1": "/opt/catalog"})]) == [
        "/opt/catalog"]
    assert base_fbc_dirs([_base({}), _base({"operators.operatorframework.io.index.configs.v1": "/"})]) == []
