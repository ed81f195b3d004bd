# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_info and catalog_mirror through ansible-playbook, against real registries.

The catalog images are built by tests/integration/test_catalog_image.py's builder (two layers,
whiteouts) and pushed with skopeo. The corpus test catalog references images that do not exist,
so it is used for manifests_only; the full mirror uses a small FBC written here whose bundle and
related images are sample images pushed into the source registry.

Each module case runs the four ways of the house style: check mode, real, check mode again (no
change reported), real again (no change).
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.support.catalog_images import push_catalog, write_demo_fbc
from tests.support.corpus import TEST_CATALOG_LATEST
from tests.support.playbook import run_task

MIRROR = "airgap.operatorhub.catalog_mirror"
INFO = "airgap.operatorhub.catalog_info"


def _defaults(*registries):
    options = []
    for reg in registries:
        if reg.tls:
            options.append({"host": reg.host, "username": reg.username, "password": reg.password,
                            "ca_path": reg.ca_path})
        else:
            options.append({"host": reg.host, "tls_verify": False})
    return {"group/airgap.operatorhub.registry": {"registries": options}}


def _four_ways(tmp_path, module, args, defaults):
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        runs[label] = run_task(str(tmp_path / label), module, args, check=check, module_defaults=defaults).result
        assert not runs[label].get("failed"), (label, runs[label])
        if label == "check":
            assert not os.path.exists(args["output_dir"]), "check mode wrote files"
    return runs


@pytest.fixture(scope="module")
def test_catalog_image(plain_registry, tmp_path_factory):
    if not TEST_CATALOG_LATEST.is_dir():
        pytest.skip(f"test fixture not found: {TEST_CATALOG_LATEST}")
    ref, digest = push_catalog(str(TEST_CATALOG_LATEST), tmp_path_factory.mktemp("catalog"), plain_registry,
                               "catalogs/test-catalog", "latest")
    return ref, digest


def test_manifests_only_four_ways(tmp_path, plain_registry, test_catalog_image):
    ref, digest = test_catalog_image
    out = tmp_path / "manifests"
    args = {
        "catalogs": [{"source": ref, "packages": [{"name": "foo", "channels": ["beta"]}], "target_tag": "v1"}],
        "dest": "mirror.example.com:5000/olm",
        "output_dir": str(out),
        "manifests_only": True,
        "cache_dir": str(tmp_path / "cache"),
    }
    runs = _four_ways(tmp_path, MIRROR, args, _defaults(plain_registry))
    assert runs["check"]["changed"] is True
    assert runs["real"]["changed"] is True
    assert sorted(runs["real"]["files_changed"]) == sorted(runs["check"]["files_changed"])
    assert runs["check-again"]["changed"] is False and runs["check-again"]["files_changed"] == []
    assert runs["real-again"]["changed"] is False and runs["real-again"]["files_changed"] == []
    item = runs["real"]["catalogs"][0]
    assert item["name"] == "test-catalog" and item["digest"] == digest and item["packages"] == ["foo"]
    directory = out / "test-catalog"
    lines = (directory / "mapping.txt").read_text().splitlines()
    # the head of foo's beta channel and its related images; the catalog is filtered, so the
    # pruned catalog (not pushed with manifests_only) replaces the source catalog's line
    pruned = f"mirror.example.com:5000/olm/catalogs-test-catalog@{item['build']['digest']}"
    assert item["pruned"] is True and item["catalog_image"] == pruned
    assert lines[0].startswith(f"# {pruned}:")
    assert not any(line.startswith(f"{ref}=") for line in lines)
    assert item["build_task"]["airgap.operatorhub.catalog_build"]["dest"] == \
        "mirror.example.com:5000/olm/catalogs-test-catalog:v1"
    assert any(line.startswith("quay.io/oc-mirror/oc-mirror-dev:foo-bundle-v0.3.1=") for line in lines)
    assert not any("foo-bundle-v0.1.0" in line for line in lines)
    cs = yaml.safe_load((directory / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == pruned
    assert cs["metadata"]["name"] == "test-catalog"
    assert runs["real"]["copied"] == [] and runs["real"]["bytes_sent"] == 0


def test_full_mirror_four_ways(tmp_path, plain_registry, registry_factory, image_set, skopeo_inspect):
    target = registry_factory(tls=True, auth="htpasswd")
    fbc = tmp_path / "demo-fbc"
    app0, app1_digest, app2 = write_demo_fbc(str(fbc), image_set)
    index_ref, index_digest = push_catalog(str(fbc), tmp_path, plain_registry, "src/demo-index", "v1")
    args = {
        "catalogs": [{"source": index_ref, "packages": ["demo"]}],
        "dest": f"{target.host}/olm",
        "output_dir": str(tmp_path / "out"),
        "cache_dir": str(tmp_path / "cache"),
        "max_components": 0,
        "report_file": str(tmp_path / "report.json"),
    }
    runs = _four_ways(tmp_path, MIRROR, args, _defaults(plain_registry, target))
    check, real, check2, real2 = (runs[k] for k in ("check", "real", "check-again", "real-again"))
    # packages: [demo] filters the catalog: the images of the kept bundle are copied, the catalog
    # is built pruned (not copied) and pushed where the source catalog would have gone
    assert check["changed"] is True and len(check["missing"]) == 2 and check["copied"] == []
    assert check["catalogs"][0]["build"]["changed"] is True
    assert len(check["files_changed"]) == 6
    assert real["changed"] is True and len(real["copied"]) == 2 and real["bytes_sent"] > 0
    assert sorted(c["source"] for c in real["copied"]) == sorted([app2, app1_digest])
    assert real["catalogs"][0]["build"]["changed"] is True
    assert check2["changed"] is False and check2.get("missing") == [] and check2["files_changed"] == []
    assert check2["catalogs"][0]["build"]["changed"] is False
    assert real2["changed"] is False and real2["copied"] == [] and len(real2["present"]) == 2
    assert real2["catalogs"][0]["build"]["changed"] is False
    assert real2["bytes_sent"] == 0
    pruned_digest = real["catalogs"][0]["build"]["digest"]
    assert {run["catalogs"][0]["build"]["digest"] for run in runs.values()} == {pruned_digest}

    # the mirrored images are there, checked by skopeo; the image of the filtered-out bundle is not
    repo1 = app1_digest.split("/", 1)[1].split("@")[0]
    assert skopeo_inspect(target, f"olm/{repo1}@{image_set.image('app1').digest}", raw=True)
    index_repo = index_ref.split("/", 1)[1].rsplit(":", 1)[0]
    assert json.loads(skopeo_inspect(target, f"olm/{index_repo}:v1", raw=True))["layers"]
    assert skopeo_inspect(target, f"olm/{index_repo}:v1")["Digest"] == pruned_digest != index_digest
    with pytest.raises(RuntimeError):
        skopeo_inspect(target, f"olm/{app0.split('/', 1)[1]}", raw=True)
    directory = tmp_path / "out" / "demo-index"
    idms = list(yaml.safe_load_all((directory / "imageDigestMirrorSet.yaml").read_text()))
    sources = [entry["source"] for doc in idms for entry in doc["spec"]["imageDigestMirrors"]]
    assert sources == [app1_digest.split("@")[0]]
    cs = yaml.safe_load((directory / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == f"{target.host}/olm/{index_repo}@{pruned_digest}"
    assert real["catalogs"][0]["digest"] == index_digest


def test_invalid_filter_names_the_field(tmp_path, plain_registry, test_catalog_image):
    ref = test_catalog_image[0]
    args = {
        "catalogs": [
            {"source": ref, "packages": ["foo"]},
            {"source": ref, "packages": [{"name": "foo", "channels": [
                {"name": "beta", "minVersion": "0.3.0", "maxVersion": "0.1.0"}]}]},
        ],
        "dest": "mirror.example.com:5000/olm",
        "output_dir": str(tmp_path / "out"),
        "manifests_only": True,
        "cache_dir": str(tmp_path / "cache"),
    }
    result = run_task(str(tmp_path / "run"), MIRROR, args, module_defaults=_defaults(plain_registry)).result
    assert result["failed"] is True
    assert "catalogs[1].packages[0].channels[0]" in result["msg"]
    assert "minVersion" in result["msg"]
    assert not os.path.exists(tmp_path / "out")


def test_catalog_info(tmp_path, plain_registry, test_catalog_image):
    ref, digest = test_catalog_image
    defaults = _defaults(plain_registry)
    base = {"catalog": ref, "cache_dir": str(tmp_path / "cache")}
    listing = run_task(str(tmp_path / "list"), INFO, base, module_defaults=defaults).result
    assert not listing.get("failed"), listing
    assert listing["changed"] is False and listing["digest"] == digest and "images" not in listing
    assert [p["name"] for p in listing["packages"]] == ["bar", "baz", "foo"]
    package = listing["packages"][2]
    assert package["default_channel"] == "beta"
    assert {"name": "beta", "head": "foo.v0.3.1", "head_version": "0.3.1"} in package["channels"]

    args = dict(base, packages=["foo"])
    for check in (True, False):
        filtered = run_task(str(tmp_path / f"filtered-{check}"), INFO, args, check=check,
                            module_defaults=defaults).result
        assert not filtered.get("failed"), filtered
        assert filtered["changed"] is False
        assert [p["name"] for p in filtered["packages"]] == ["foo"]
        assert filtered["packages"][0]["bundles"] == 1
        assert ref in filtered["images"] and filtered["images"] == sorted(filtered["images"])

    bad = run_task(str(tmp_path / "bad"), INFO, dict(base, catalog="/no/such/catalog dir"),
                   module_defaults=defaults).result
    assert bad["failed"] is True and "catalog" in bad["msg"]
