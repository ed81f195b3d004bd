# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_mirror serves a pruned catalog for a filtered catalog image, against real registries.

The source catalog image (tests/support/catalog_images.push_catalog: two layers, a whited-out
package) holds three packages whose bundle and related images are the sample images of
``image_set``. catalog_mirror keeps two of them and mirrors to the TLS + htpasswd registry. The
pushed catalog is checked with independent tools only: ``skopeo copy`` into an OCI layout,
``umoci unpack``, the FBC read as plain JSON; every image its bundles list is looked up in the
target with ``skopeo inspect``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml

from tests.support.catalog_images import push_catalog
from tests.support.images import skopeo
from tests.support.opm_base import push_opm_base
from tests.support.playbook import run_task
from tests.support.registry import registry_options, skopeo_inspect

MIRROR = "airgap.operatorhub.catalog_mirror"
BUILD = "airgap.operatorhub.catalog_build"

pytestmark = pytest.mark.skipif(shutil.which("umoci") is None, reason="needs umoci (Debian package umoci)")


def _defaults(*registries):
    return {"group/airgap.operatorhub.registry": {"registries": registry_options(*registries)}}


def _package(name, bundle_image, related):
    return [
        {"schema": "olm.package", "name": name, "defaultChannel": "stable"},
        {"schema": "olm.channel", "package": name, "name": "stable", "entries": [{"name": f"{name}.v1.0.0"}]},
        {"schema": "olm.bundle", "package": name, "name": f"{name}.v1.0.0", "image": bundle_image,
         "properties": [{"type": "olm.package", "value": {"packageName": name, "version": "1.0.0"}}],
         "relatedImages": [{"name": "bundle", "image": bundle_image}, {"name": "operator", "image": related}]},
    ]


def write_three_packages(directory, image_set):
    """Packages alpha, beta, gamma over the sample images (bundles by tag, operators by digest)."""
    tags = [image_set.pushed[f"app{i}"] for i in range(3)]
    digests = [tags[i].rsplit(":", 1)[0] + "@" + image_set.image(f"app{i}").digest for i in range(3)]
    packages = {"alpha": _package("alpha", tags[0], digests[1]),
                "beta": _package("beta", tags[1], digests[2]),
                "gamma": _package("gamma", tags[2], digests[0])}
    for name, blobs in packages.items():
        os.makedirs(os.path.join(directory, name))
        with open(os.path.join(directory, name, "catalog.json"), "w", encoding="utf-8") as handle:
            for blob in blobs:
                handle.write(json.dumps(blob, indent=4) + "\n")


@pytest.fixture(scope="module")
def three_index(plain_registry, image_set, tmp_path_factory):
    work = tmp_path_factory.mktemp("three")
    write_three_packages(str(work / "fbc"), image_set)
    return push_catalog(str(work / "fbc"), work, plain_registry, "src/three-index", "v1")


def _json_blobs(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    decoder = json.JSONDecoder()
    blobs, pos = [], 0
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text):
            blob, pos = decoder.raw_decode(text, pos)
            blobs.append(blob)
    return blobs


def _unpack(registry, image, tmp_path):
    """The rootfs of ``image`` (one manifest), via skopeo copy and umoci unpack."""
    layout = str(tmp_path / "layout")
    skopeo("copy", *registry.skopeo_args("src"), f"docker://{image}", f"oci:{layout}:pruned")
    bundle = str(tmp_path / "bundle")
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:pruned", bundle], check=True,
                   capture_output=True, timeout=300)
    return os.path.join(bundle, "rootfs")


def _mapping(directory):
    lines = (directory / "mapping.txt").read_text().splitlines()
    return lines, dict(line.split("=", 1) for line in lines if not line.startswith("#"))


def test_two_packages_of_a_catalog_image_are_served_pruned(tmp_path, plain_registry, registry_factory,
                                                           image_set, three_index):
    index_ref, index_digest = three_index
    target = registry_factory(tls=True, auth="htpasswd")
    defaults = _defaults(plain_registry, target)
    args = {
        "catalogs": [{"source": index_ref, "packages": ["alpha", "gamma"]}],
        "dest": f"{target.host}/olm",
        "output_dir": str(tmp_path / "out"),
        "cache_dir": str(tmp_path / "cache"),
        "max_components": 0,
    }
    pruned_tag = "olm/src/three-index:v1"
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        runs[label] = run_task(str(tmp_path / label), MIRROR, args, check=check, module_defaults=defaults).result
        assert not runs[label].get("failed"), (label, runs[label])
        if label == "check":
            # check mode pushed nothing: neither the pruned catalog nor any image
            with pytest.raises(RuntimeError):
                skopeo_inspect(target, pruned_tag, raw=True)
            assert not os.path.exists(args["output_dir"])
    items = {label: run["catalogs"][0] for label, run in runs.items()}
    digest = items["check"]["build"]["digest"]
    # the same digest every time; check mode computed the one that was pushed
    assert {item["build"]["digest"] for item in items.values()} == {digest}
    assert digest != index_digest
    assert runs["check"]["changed"] is True and items["check"]["build"]["changed"] is True
    assert runs["real"]["changed"] is True and items["real"]["build"]["changed"] is True
    assert items["real"]["build"]["transferred"]["blobs_pushed"] >= 3
    assert runs["check-again"]["changed"] is False and items["check-again"]["build"]["changed"] is False
    assert runs["real-again"]["changed"] is False and items["real-again"]["build"]["changed"] is False
    assert "transferred" not in items["real-again"]["build"]
    assert runs["real-again"]["copied"] == [] and runs["real-again"]["bytes_sent"] == 0

    item = items["real"]
    image = f"{target.host}/olm/src/three-index@{digest}"
    assert item["pruned"] is True and item["catalog_image"] == image and item["build"]["image"] == image
    assert item["build"]["base_image"] == f"{index_ref.rsplit(':', 1)[0]}@{index_digest}"
    assert item["packages"] == ["alpha", "gamma"] and "build_task" not in item

    # the tag holds the built image, on the source image's own layers plus one
    assert skopeo_inspect(target, pruned_tag)["Digest"] == digest
    source_layers = json.loads(skopeo_inspect(plain_registry, index_ref, raw=True))["layers"]
    pruned_layers = json.loads(skopeo_inspect(target, f"olm/src/three-index@{digest}", raw=True))["layers"]
    assert [layer["digest"] for layer in pruned_layers[:-1]] == [layer["digest"] for layer in source_layers]
    assert len(pruned_layers) == len(source_layers) + 1

    # the pushed catalog holds exactly the two packages, and no cache to serve from
    rootfs = _unpack(target, f"{target.host}/{pruned_tag}", tmp_path)
    assert sorted(os.listdir(os.path.join(rootfs, "configs"))) == ["alpha", "gamma"]
    assert not os.path.exists(os.path.join(rootfs, "tmp", "cache"))
    blobs = [blob for name in ("alpha", "gamma")
             for blob in _json_blobs(os.path.join(rootfs, "configs", name, "catalog.json"))]
    bundles = [blob for blob in blobs if blob["schema"] == "olm.bundle"]
    assert sorted(b["name"] for b in bundles) == ["alpha.v1.0.0", "gamma.v1.0.0"]

    # the cluster files point at it by digest; the source catalog left mapping.txt and the mirror sets
    directory = tmp_path / "out" / "three-index"
    cs = yaml.safe_load((directory / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == image
    cc = yaml.safe_load((directory / "clusterCatalog.yaml").read_text())
    assert cc["spec"]["source"]["image"]["ref"] == image
    lines, mapping = _mapping(directory)
    assert lines[0].startswith("#") and image in lines[0]
    assert not any("three-index" in source for source in mapping)
    sources = []
    for name, key in (("imageContentSourcePolicy.yaml", "repositoryDigestMirrors"),
                      ("imageDigestMirrorSet.yaml", "imageDigestMirrors"),
                      ("imageTagMirrorSet.yaml", "imageTagMirrors")):
        if (directory / name).exists():
            sources += [entry["source"] for doc in yaml.safe_load_all((directory / name).read_text())
                        for entry in doc["spec"][key]]
    assert sources and not any("three-index" in source for source in sources), sources

    # every image of every bundle the pruned catalog lists is in the target registry
    images = {b["image"] for b in bundles} | {r["image"] for b in bundles for r in b["relatedImages"]}
    assert len(images) == 4
    for source in sorted(images):
        assert source in mapping, source
        found = skopeo_inspect(target, mapping[source])
        if "@" in source:
            assert found["Digest"] == source.split("@", 1)[1]


def test_manifests_only_names_the_catalog_build_task_that_pushes_the_same_digest(
        tmp_path, plain_registry, registry_factory, three_index):
    index_ref, _index_digest = three_index
    target = registry_factory(tls=True, auth="htpasswd")
    defaults = _defaults(plain_registry, target)
    args = {
        "catalogs": [{"source": index_ref, "packages": [{"name": "beta", "channels": ["stable"]}]}],
        "dest": f"{target.host}/olm",
        "output_dir": str(tmp_path / "out"),
        "cache_dir": str(tmp_path / "cache"),
        "manifests_only": True,
    }
    result = run_task(str(tmp_path / "mirror"), MIRROR, args, module_defaults=defaults).result
    assert not result.get("failed"), (result.get("msg"), result.get("failures"))
    item = result["catalogs"][0]
    assert item["pruned"] is True and "changed" not in item["build"]
    task = item["build_task"][BUILD]
    assert task["packages"] == [{"name": "beta", "channels": ["stable"]}]
    assert task["dest"] == f"{target.host}/olm/src-three-index:v1"
    assert any(BUILD in warning and item["catalog_image"] in warning for warning in result["warnings"])
    # nothing was pushed
    with pytest.raises(RuntimeError):
        skopeo_inspect(target, "olm/src-three-index:v1", raw=True)
    cs = yaml.safe_load((tmp_path / "out" / "three-index" / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == item["catalog_image"] == f"{target.host}/olm/src-three-index@{item['build']['digest']}"

    # the task, as given, pushes the very image the CatalogSource points at
    built = run_task(str(tmp_path / "build"), BUILD, dict(task, cache_dir=str(tmp_path / "cache")),
                     module_defaults=defaults).result
    assert not built.get("failed"), built
    assert built["image"] == item["catalog_image"] and built["packages"] == ["beta"]
    assert skopeo_inspect(target, "olm/src-three-index:v1")["Digest"] == item["build"]["digest"]


def test_a_catalog_kept_whole_is_mirrored_unchanged(tmp_path, plain_registry, registry_factory, three_index):
    index_ref, index_digest = three_index
    target = registry_factory()
    args = {
        "catalogs": [{"source": index_ref, "full": True}],
        "dest": f"{target.host}/olm",
        "output_dir": str(tmp_path / "out"),
        "cache_dir": str(tmp_path / "cache"),
        "max_components": 0,
    }
    result = run_task(str(tmp_path / "run"), MIRROR, args, module_defaults=_defaults(plain_registry, target)).result
    assert not result.get("failed"), (result.get("msg"), result.get("failures"))
    item = result["catalogs"][0]
    assert item["pruned"] is False and "build" not in item
    assert item["catalog_image"] == f"{target.host}/olm/src/three-index:v1"
    assert skopeo_inspect(target, "olm/src/three-index:v1")["Digest"] == index_digest
    _lines, mapping = _mapping(tmp_path / "out" / "three-index")
    assert mapping[index_ref] == f"{target.host}/olm/src/three-index:v1"


def test_a_local_catalog_with_base_image_is_built_and_pushed(tmp_path, plain_registry, registry_factory, image_set):
    """A filtered FBC directory with a target_name, built on a multi-arch opm base (one per platform)."""
    target = registry_factory(tls=True, auth="htpasswd")
    base_ref, _base_digest, _layers = push_opm_base(tmp_path / "base", plain_registry, repo="base/pruned-opm")
    write_three_packages(str(tmp_path / "fbc"), image_set)
    args = {
        "catalogs": [{"source": str(tmp_path / "fbc"), "packages": ["beta"], "target_name": "local/beta-index",
                      "target_tag": "v1"}],
        "base_image": base_ref,
        "filter_by_os": "linux/amd64",
        "dest": f"{target.host}/olm",
        "output_dir": str(tmp_path / "out"),
        "max_components": 0,
    }
    defaults = _defaults(plain_registry, target)
    result = run_task(str(tmp_path / "run"), MIRROR, args, module_defaults=defaults).result
    assert not result.get("failed"), (result.get("msg"), result.get("failures"))
    item = result["catalogs"][0]
    build = item["build"]
    assert item["pruned"] is True and build["changed"] is True and build["platforms"] == ["linux/amd64"]
    assert build["dest"] == f"{target.host}/olm/local/beta-index:v1" and build["base_image"] == base_ref
    assert item["catalog_image"] == build["image"] == f"{target.host}/olm/local/beta-index@{build['digest']}"
    assert skopeo_inspect(target, "olm/local/beta-index:v1")["Digest"] == build["digest"]
    cs = yaml.safe_load((tmp_path / "out" / item["name"] / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == item["catalog_image"]
    rootfs = _unpack(target, build["image"], tmp_path)
    assert sorted(os.listdir(os.path.join(rootfs, "configs"))) == ["beta"]
    assert not os.path.exists(os.path.join(rootfs, "tmp", "cache"))
    again = run_task(str(tmp_path / "again"), MIRROR, args, module_defaults=defaults).result
    assert again["changed"] is False and again["catalogs"][0]["build"]["changed"] is False
    assert again["catalogs"][0]["build"]["digest"] == build["digest"]
