# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_mirror and catalog_info on the corpus catalogs, with local sources only (no registry).

- the oc test catalog as FBC and as sqlite gives the mapping oc's own tests expect, either way;
- catalog_mirror (manifests_only) writes its files once: a second run, check mode or not, changes
  nothing; a file edited by hand is reported and rewritten;
- catalog_info lists packages, and with a filter the images;
- bad entries fail naming the option (catalogs[i].field).
"""

from __future__ import annotations

import os
import shutil

import pytest

yaml = pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.info import catalog_info, package_summary
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import (
    CatalogInfoRequest,
    CatalogSpec,
    catalog_specs,
    info_spec,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import is_local, load_spec
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalogs import (
    FILE_CATALOG_SOURCE,
    FILE_ICSP,
    FILE_IDMS,
    FILE_ITMS,
    FILE_MAPPING,
    catalog_mirror,
    plan_one,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CatalogMirrorRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, CatalogError, ConfigError
from tests.support import corpus

CATALOGS = str(corpus.CORPUS)
OC_FBC = str(corpus.OC_DECLCFG)
OC_SQLITE = str(corpus.OC_SQLITE)
COMMUNITY = str(corpus.COMMUNITY)
TEST_LATEST = str(corpus.TEST_CATALOG_LATEST)
ISC_DIR = os.path.join(CATALOGS, "imageset-configs", "v2-integration-operators")
FEW = ["cat-facts-operator", "kube-green", "nfs-provisioner-operator"]
# The bundle and related images of the oc test catalog (fbc/oc/test-declcfg/index.yaml, and the
# same in sqlite/oc-test.db): bundles are named by tag-less references.
OC_IMAGES = [
    "quay.io/coreos/etcd-operator@sha256:c0301e4686c3ed4206e370b42de5a3bd2229b9fb4906cf85f3f30650424abec2",
    "quay.io/coreos/etcd-operator@sha256:db563baa8194fcfe39d1df744ed70024b0f1f9e9b55b5923c2f3a413c44dc6b8",
    "quay.io/coreos/prometheus-operator@sha256:0e92dd9b5789c4b13d53e1319d0a6375bcca4caaf0d698af61198061222a576d",
    "quay.io/coreos/prometheus-operator@sha256:3daa69a8c6c2f1d35dcf1fe48a7cd8b230e55f5229a1ded438f687debade5bcf",
    "quay.io/coreos/prometheus-operator@sha256:5037b4e90dbb03ebdefaa547ddf6a1f748c8eeebeedf6b9d9f0913ad662b5731",
    "quay.io/test/etcd.0.9.0",
    "quay.io/test/etcd.0.9.2",
    "quay.io/test/prometheus.0.14.0",
    "quay.io/test/prometheus.0.15.0",
    "quay.io/test/prometheus.0.22.2",
]
KUBE_GREEN_HEAD_IMAGES = [  # kube-green.v0.7.1, the head of its only channel: bundle image and relatedImages
    "docker.io/kubegreen/kube-green:0.7.1",
    "quay.io/community-operator-pipeline-prod/kube-green@sha256:6a3babd5a11f00ce3786a1a2c7f7543ee72b4fe41d10a4e184a566da36b75bd0",
]
# The images of the heads of FEW (cat-facts-operator.v1.1.2, kube-green.v0.7.1,
# nfs-provisioner-operator.v0.0.9; each package has one channel): 7 of the 39 images of their bundles.
FEW_HEAD_IMAGES = sorted(KUBE_GREEN_HEAD_IMAGES + [
    "quay.io/community-operator-pipeline-prod/cat-facts-operator:1.1.2",
    "quay.io/community-operator-pipeline-prod/nfs-provisioner-operator@sha256:"
    "ab7ba62dd2ad7d9bdfba881ade8d8f3a1f5dd03135c02d6cb305767cdafaf7e4",
    "quay.io/jooholee/nfs-provisioner-operator:0.0.9",
    "quay.io/ryanmillerc/cat-facts-operator:v1.1.2",
    "registry.redhat.io/openshift4/ose-kube-rbac-proxy-rhel9:latest",
])

pytestmark = corpus.needs(corpus.OC_DECLCFG, corpus.OC_SQLITE, corpus.COMMUNITY, corpus.TEST_CATALOG_LATEST,
                          corpus.CORPUS / "oc_mapping_cases.yaml", corpus.CORPUS / "imageset-configs")


@pytest.fixture
def auth(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text('{"auths": {}}')
    return AuthStore(auth_file=str(path))


def _oc_cases():
    path = os.path.join(CATALOGS, "oc_mapping_cases.yaml")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        cases = yaml.safe_load(handle)["mirror_catalog_cases"]
    return [pytest.param(case, id=case["name"]) for case in cases]


def _full_spec(source, field="catalogs[0]"):
    return catalog_specs([{"source": source, "full": True}])[0] if field == "catalogs[0]" else None


@pytest.mark.parametrize("case", _oc_cases())
def test_oc_test_catalog_gives_the_oc_mapping_as_fbc_and_as_sqlite(case):
    """What oc adm catalog mirror maps for the same catalog read as FBC or as sqlite."""
    expected = sorted(item["mapping_line"] for item in case["expected"])
    request = CatalogMirrorRequest(catalogs=("unused",), dest=case["dest"], output_dir="unused", naming="oc",
                                   max_components=case["max_components"])
    files = []
    for rel in case["catalog"]:
        loaded = load_spec(_full_spec(os.path.join(CATALOGS, rel)), None, None)
        # The catalog was read from the image src_index: plan it as such.
        loaded.image = case["src_index"]
        plan = plan_one(loaded, request)
        assert sorted(plan.files[FILE_MAPPING].splitlines()) == expected, rel
        files.append(plan.files)
    assert files[0] == files[1]


def test_local_catalog_without_a_filter_is_refused_nowhere_but_kept_whole():
    spec = catalog_specs([{"source": OC_FBC, "full": True}])[0]
    loaded = load_spec(spec, None, None)
    assert sorted(loaded.catalog.packages) == ["etcd", "prometheus"]
    assert loaded.images() == OC_IMAGES


def _mirror_params(tmp_path, catalogs, **extra):
    """A manifests-only request for ``catalogs`` (the module's option, as the glue converts it)."""
    options = dict(dest="mirror.example.com:5000/olm", output_dir=str(tmp_path / "out"), manifests_only=True,
                   cache_dir=str(tmp_path / "cache"))
    options.update(extra)
    return CatalogMirrorRequest(catalogs=tuple(catalog_specs(catalogs)), **options)


def _info(catalog, packages=None, full=False, imageset_config=None):
    return CatalogInfoRequest(info_spec(catalog, packages, full, False, imageset_config))


@pytest.fixture
def community_subset(tmp_path):
    """The kept packages plus two others, copied: the same result as the whole catalog, read faster."""
    subset = tmp_path / "community-subset"
    for name in FEW + ["libredb-studio-operator", "ecr-secret-operator"]:
        shutil.copytree(os.path.join(COMMUNITY, name), subset / name)
    return str(subset)


def test_whole_community_catalog_filtered_to_a_few_packages(tmp_path, auth, community_subset):
    spec = {"packages": FEW, "target_name": "community-operator-index", "target_tag": "v4.21"}
    whole = catalog_mirror(_mirror_params(tmp_path / "whole", [dict(spec, source=COMMUNITY)]), auth)
    subset = catalog_mirror(_mirror_params(tmp_path / "subset", [dict(spec, source=community_subset)]), auth)
    assert whole["catalogs"][0]["packages"] == FEW
    for result in (whole, subset):
        directory = result["catalogs"][0]["directory"]
        result["texts"] = {name: open(os.path.join(directory, name)).read() for name in sorted(os.listdir(directory))}
    assert whole["texts"] == subset["texts"]


def test_manifests_only_writes_once_and_then_changes_nothing(tmp_path, auth, community_subset):
    catalogs = [
        {"source": community_subset, "packages": FEW, "target_name": "community-operator-index",
         "target_tag": "v4.21"},
        {"source": OC_SQLITE, "full": True, "target_name": "oc-test"},
    ]
    params = _mirror_params(tmp_path, catalogs)

    check = catalog_mirror(params, auth, check_mode=True)
    assert check["changed"] is True
    assert not os.path.exists(tmp_path / "out")
    names = [c["name"] for c in check["catalogs"]]
    assert names == ["community-operator-index", "oc-test"]

    real = catalog_mirror(params, auth)
    assert real["changed"] is True
    assert sorted(real["files_changed"]) == sorted(check["files_changed"])
    community = tmp_path / "out" / "community-operator-index"
    assert sorted(os.listdir(community)) == sorted(
        ["mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "imageTagMirrorSet.yaml",
         "catalogSource.yaml", "clusterCatalog.yaml"])
    assert real["catalogs"][0]["packages"] == FEW
    lines = (community / FILE_MAPPING).read_text().splitlines()
    assert lines == sorted(lines) and len(lines) == real["catalogs"][0]["images"]
    assert all(line.split("=", 1)[1].startswith("mirror.example.com:5000/olm/") for line in lines)
    cs = yaml.safe_load((community / FILE_CATALOG_SOURCE).read_text())
    assert cs["kind"] == "CatalogSource" and cs["metadata"]["name"] == "community-operator-index"
    assert cs["spec"]["image"] == "mirror.example.com:5000/olm/community-operator-index:v4.21"
    icsp = list(yaml.safe_load_all((community / FILE_ICSP).read_text()))
    assert icsp[0]["metadata"]["name"] == "community-operator-index-0"
    idms = list(yaml.safe_load_all((community / FILE_IDMS).read_text()))
    assert idms[0]["kind"] == "ImageDigestMirrorSet"
    # channel heads only, not every bundle of the three packages
    assert sorted(line.split("=", 1)[0] for line in lines) == FEW_HEAD_IMAGES

    again_check = catalog_mirror(params, auth, check_mode=True)
    assert again_check["changed"] is False and again_check["files_changed"] == []
    again = catalog_mirror(params, auth)
    assert again["changed"] is False and again["files_changed"] == []

    (community / FILE_MAPPING).write_text("edited by hand\n")
    drift = catalog_mirror(params, auth, check_mode=True)
    assert drift["changed"] is True and drift["files_changed"] == [str(community / FILE_MAPPING)]
    assert (community / FILE_MAPPING).read_text() == "edited by hand\n"
    fixed = catalog_mirror(params, auth)
    assert fixed["files_changed"] == [str(community / FILE_MAPPING)]
    assert (community / FILE_MAPPING).read_text().splitlines() == lines


def test_sqlite_and_fbc_write_the_same_files(tmp_path, auth):
    out = {}
    for label, source in (("fbc", OC_FBC), ("sqlite", OC_SQLITE)):
        params = _mirror_params(tmp_path / label, [{"source": source, "full": True, "target_name": "oc-test"}])
        catalog_mirror(params, auth)
        directory = tmp_path / label / "out" / "oc-test"
        out[label] = {name: (directory / name).read_text() for name in sorted(os.listdir(directory))}
    assert out["fbc"] == out["sqlite"]
    assert FILE_ITMS in out["fbc"]  # untagged bundle images are mirrored by tag (latest)


def test_oc_mirror_naming(tmp_path, auth):
    params = _mirror_params(tmp_path, [{"source": TEST_LATEST, "full": True, "target_name": "test-catalog"}],
                            naming="oc-mirror")
    result = catalog_mirror(params, auth)
    directory = tmp_path / "out" / result["catalogs"][0]["name"]
    lines = (directory / FILE_MAPPING).read_text().splitlines()
    assert lines and all(
        line.split("=", 1)[1].startswith("mirror.example.com:5000/olm/oc-mirror/oc-mirror-dev:") for line in lines)
    names = [doc["metadata"]["name"] for doc in yaml.safe_load_all((directory / FILE_ITMS).read_text())]
    assert names and all(name.startswith("itms-") for name in names)


def test_local_catalog_without_target_name_has_no_catalog_source(tmp_path, auth):
    result = catalog_mirror(_mirror_params(tmp_path, [{"source": OC_FBC, "full": True}]), auth)
    item = result["catalogs"][0]
    assert item["name"] == "test-declcfg" and item["catalog_image"] is None
    assert not os.path.exists(os.path.join(item["directory"], FILE_CATALOG_SOURCE))


def test_imageset_config_entry_applied_to_a_local_source(tmp_path, auth):
    isc = os.path.join(ISC_DIR, "isc-operator-incremental-update.yaml")
    result = catalog_mirror(_mirror_params(
        tmp_path, [{"source": TEST_LATEST, "imageset_config": isc, "target_name": "test"}]), auth)
    assert result["catalogs"][0]["packages"] == ["bar", "foo"]


def test_catalog_info_lists_packages(auth):
    result = catalog_info(_info(COMMUNITY), auth)
    assert result["changed"] is False
    names = [p["name"] for p in result["packages"]]
    # the packages of the trimmed community catalog (tests/fixtures/catalogs/INVENTORY.json)
    assert names == sorted(names) and len(names) == 8
    assert "images" not in result
    kube_green = next(p for p in result["packages"] if p["name"] == "kube-green")
    assert kube_green == {"name": "kube-green", "default_channel": "alpha", "bundles": 10,
                          "channels": [{"name": "alpha", "head": "kube-green.v0.7.1", "head_version": "0.7.1"}]}


def test_catalog_info_with_a_filter_lists_images(auth, community_subset):
    result = catalog_info(_info(OC_SQLITE, full=True), auth)
    assert result["images"] == OC_IMAGES
    heads = catalog_info(_info(community_subset, ["kube-green"]), auth)
    assert [p["name"] for p in heads["packages"]] == ["kube-green"]
    assert heads["images"] == KUBE_GREEN_HEAD_IMAGES


@pytest.mark.parametrize("catalogs, field", [
    ([{"source": "/no/such/dir/and not an image"}], "catalogs[0].source"),
    ([{"source": OC_FBC, "full": True}, {"source": "Not/A/Valid:Ref:x"}], "catalogs[1].source"),
    ([{"source": OC_FBC, "packages": ["etcd"], "imageset_config": {"mirror": {"operators": []}}}], "catalogs[0]"),
    ([{"packages": ["etcd"]}], "catalogs[0]"),
    ([{"source": OC_FBC, "packages": [{"channels": ["alpha"]}]}], "catalogs[0].packages"),
    ([{"source": OC_FBC, "full": True, "target_name": "same"}, {"source": OC_SQLITE, "full": True, "target_name": "same"}],
     "catalogs[1] and catalogs[0]"),
    ([{"source": "oci:///tmp/layout", "full": True}], "catalogs[0].source"),
])
def test_bad_entries_name_the_field(tmp_path, auth, catalogs, field):
    with pytest.raises(AirgapError) as info:
        catalog_mirror(_mirror_params(tmp_path, catalogs), auth)
    assert field in str(info.value)
    assert not os.path.exists(tmp_path / "out")


def test_bad_dest_and_output_dir(tmp_path, auth):
    catalogs = [{"source": OC_FBC, "full": True}]
    with pytest.raises(ConfigError, match="dest"):
        catalog_mirror(_mirror_params(tmp_path, catalogs, dest="file:///tmp/store"), auth)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="output_dir"):
        catalog_mirror(_mirror_params(tmp_path, catalogs, output_dir=str(tmp_path / "file")), auth)


def test_broken_local_catalog_names_its_file(tmp_path, auth):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "catalog.json").write_text('{"schema": "olm.package", "name": "x"}\n{not json\n')
    with pytest.raises(CatalogError, match=r"catalogs\[0\]\.source: .*catalog\.json:2"):
        catalog_mirror(_mirror_params(tmp_path, [{"source": str(bad), "full": True}]), auth)


def test_source_detection(tmp_path, monkeypatch):
    assert is_local(OC_FBC) and is_local(OC_SQLITE)
    assert not is_local("quay.io/example/index:v1")
    # a path that does not exist is taken for an image reference; ~ is the user's home
    assert not is_local(str(tmp_path / "missing.db"))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "index.db").write_bytes(b"")
    assert is_local("~/index.db") and not is_local("~/missing.db")
    spec = catalog_specs([{"source": OC_FBC}])[0]
    assert isinstance(spec, CatalogSpec)
    assert (spec.source, spec.field, spec.source_field, spec.target_name, spec.target_tag, spec.filtered) == (
        OC_FBC, "catalogs[0]", "catalogs[0].source", None, None, True)


def test_catalog_info_with_an_imageset_config(auth):
    isc = {"kind": "ImageSetConfiguration", "apiVersion": "mirror.openshift.io/v2alpha1",
           "mirror": {"operators": [{"catalog": "quay.io/oc-mirror/oc-mirror-dev:test-catalog-latest",
                                     "packages": [{"name": "bar", "channels": [{"name": "stable"}]}]}]}}
    result = catalog_info(_info(TEST_LATEST, imageset_config=isc), auth)
    assert [p["name"] for p in result["packages"]] == ["bar"] and result["images"]
    bad = dict(isc, mirror={"operators": [{"catalog": "x.io/a:1", "packages": [{"name": "bar", "channels": [
        {"name": "stable", "minVersion": "2.0.0", "maxVersion": "1.0.0"}]}]}]})
    with pytest.raises(ConfigError, match=r"^imageset_config: .*mirror\.operators\[0\]\.packages\[0\]"):
        catalog_info(_info(TEST_LATEST, imageset_config=bad), auth)


@pytest.mark.parametrize("source", [COMMUNITY, OC_FBC])
def test_a_listing_reads_slim_bundles_and_lists_the_same(source):
    """catalog_info without a filter keeps only what its summary needs of each bundle (real
    catalogs are mostly relatedImages, CSV metadata and bundle objects); the listing is the same."""
    full = load_catalog(source)
    slim = load_catalog(source, slim=True)
    assert package_summary(slim) == package_summary(full)
    kept = {"schema", "name", "package", "image", "properties"}
    assert all(set(b.extra) | {"name", "package", "image", "properties"} <= kept for b in slim.bundles())
    assert not any(b.related_images for b in slim.bundles())
    assert all(p["type"] in ("olm.package", "olm.channel", "olm.skips", "olm.skipRange", "olm.deprecated")
               for b in slim.bundles() for p in b.properties)
    assert any(b.related_images for b in full.bundles())  # there was something to drop
    assert all(pkg.icon is None for pkg in slim.packages.values())
