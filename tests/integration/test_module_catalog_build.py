# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_build through ansible-playbook, against real registries, checked by independent tools.

The base is tests/support/opm_base.py's stand-in for ose-operator-registry (two platforms, a
stale /tmp/cache), pushed with skopeo to the plain registry; the source catalog image is the
community fixture catalog, pushed the same way. What the module pushes to the TLS + htpasswd
registry is copied out with ``skopeo copy --all`` into an OCI layout and unpacked per platform
with ``umoci unpack --rootless``; the unpacked /configs is compared with the fixture's own files.

Each module case runs the four ways of the house style: check mode, real, check mode again (no
change reported), real again (no change, same digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from tests.support.catalog_images import push_catalog
from tests.support.corpus import COMMUNITY, NHC_BUNDLES
from tests.support.images import skopeo
from tests.support.opm_base import LABELS, PLATFORMS, opm_script, push_opm_base
from tests.support.playbook import run_task
from tests.support.registry import registry_options, skopeo_inspect

BUILD = "airgap.operatorhub.catalog_build"
INFO = "airgap.operatorhub.catalog_info"
KEPT = ["cat-facts-operator", "kube-green"]
LABEL_CONFIGS = "operators.operatorframework.io.index.configs.v1"
REF_NAME = "org.opencontainers.image.ref.name"

pytestmark = pytest.mark.skipif(shutil.which("umoci") is None, reason="needs umoci (Debian package umoci)")


def _defaults(*registries):
    return {"group/airgap.operatorhub.registry": {"registries": registry_options(*registries)}}


@pytest.fixture(scope="module")
def base_image(plain_registry, tmp_path_factory):
    return push_opm_base(tmp_path_factory.mktemp("opm-base"), plain_registry)


@pytest.fixture(scope="module")
def community_image(plain_registry, tmp_path_factory):
    if not COMMUNITY.is_dir():
        pytest.skip(f"test fixture not found: {COMMUNITY}")
    ref, _digest = push_catalog(str(COMMUNITY), tmp_path_factory.mktemp("community"), plain_registry,
                                "catalogs/community", "v4.21")
    return ref


def _four_ways(tmp_path, args, defaults, registry, repo_tag):
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        run = run_task(str(tmp_path / label), BUILD, args, check=check, module_defaults=defaults)
        runs[label] = run.result
        assert not run.result.get("failed"), (label, run.result)
        if label == "check":
            assert run.result["changed"] is True
            # check mode pushed nothing: the destination tag does not exist
            with pytest.raises(RuntimeError, match="manifest unknown"):
                skopeo_inspect(registry, f"{repo_tag[0]}:{repo_tag[1]}", raw=True)
    assert runs["real"]["changed"] is True
    assert runs["check-again"]["changed"] is False
    assert runs["real-again"]["changed"] is False
    assert "transferred" not in runs["real-again"]
    digests = {run["digest"] for run in runs.values()}
    assert len(digests) == 1, digests
    return runs["real"]


def _original_blobs(package):
    """The package's blobs as the fixture's own YAML file holds them (read without our loader)."""
    with open(COMMUNITY / package / "catalog.yaml", encoding="utf-8") as handle:
        return [blob for blob in yaml.safe_load_all(handle) if blob]


def _umoci_unpack(layout, ref, bundle):
    subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:{ref}", bundle], check=True,
                   capture_output=True, timeout=300)
    return os.path.join(bundle, "rootfs")


def _extract(registry, image, tmp_path):
    """``skopeo copy --all`` the pushed image into an OCI layout; give each platform manifest its
    own ref (umoci unpacks one manifest), and return (layout, index document, manifests by platform)."""
    layout = str(tmp_path / "extracted")
    skopeo("copy", "--all", *registry.skopeo_args("src"), f"docker://{image}", f"oci:{layout}:built")
    return layout, *_platform_refs(layout, "built")


def _blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as handle:
        return json.load(handle)


def _platform_refs(layout, ref):
    with open(os.path.join(layout, "index.json"), encoding="utf-8") as handle:
        top = json.load(handle)
    entry = next(e for e in top["manifests"] if e["annotations"][REF_NAME] == ref)
    manifests = {}
    if entry["mediaType"].endswith("index.v1+json"):
        index = _blob(layout, entry["digest"])
        for child in index["manifests"]:
            platform = f"{child['platform']['os']}/{child['platform']['architecture']}"
            manifests[platform] = (child, _blob(layout, child["digest"]))
            top["manifests"].append({"mediaType": child["mediaType"], "digest": child["digest"],
                                     "size": child["size"], "annotations": {REF_NAME: platform.replace("/", "-")}})
    else:
        index = None
        manifest = _blob(layout, entry["digest"])
        config = _blob(layout, manifest["config"]["digest"])
        manifests[f"{config['os']}/{config['architecture']}"] = (entry, manifest)
    with open(os.path.join(layout, "index.json"), "w", encoding="utf-8") as handle:
        json.dump(top, handle)
    return index, manifests


def _check_platform(layout, platform, manifest, base_layers, result, bundle):
    """Label, Entrypoint, Cmd, layer order and the unpacked root filesystem of one platform."""
    config = _blob(layout, manifest["config"]["digest"])
    assert config["os"] + "/" + config["architecture"] == platform
    labels = config["config"]["Labels"]
    assert labels[LABEL_CONFIGS] == "/configs"
    for key, value in LABELS.items():
        assert labels[key] == value
    assert config["config"]["Entrypoint"] == ["/bin/opm"]
    assert config["config"]["Cmd"] == ["serve", "/configs", "--cache-dir=/tmp/cache"]
    assert config["config"]["User"] == "1001"
    layers = [layer["digest"] for layer in manifest["layers"]]
    assert layers == base_layers[platform] + [result["layer"]["digest"]]
    assert config["rootfs"]["diff_ids"][-1] == result["layer"]["diff_id"]
    assert len(config["history"]) == 3

    rootfs = _umoci_unpack(layout, platform.replace("/", "-"), bundle)
    with open(os.path.join(rootfs, "bin", "opm"), "rb") as handle:
        assert handle.read() == opm_script(platform)
    # the base had tmp/cache with a stale opm cache: the catalog layer removed it
    assert os.path.isdir(os.path.join(rootfs, "tmp"))
    assert not os.path.exists(os.path.join(rootfs, "tmp", "cache")), os.listdir(os.path.join(rootfs, "tmp"))
    with open(os.path.join(bundle, "config.json"), encoding="utf-8") as handle:
        runtime = json.load(handle)
    assert runtime["process"]["args"] == ["/bin/opm", "serve", "/configs", "--cache-dir=/tmp/cache"]
    return os.path.join(rootfs, "configs")


def _check_configs(configs, packages, original_bundles):
    """The unpacked /configs holds exactly ``packages``, as opm-style JSON files whose bundles
    are the fixture's own bundle blobs, unchanged."""
    assert sorted(os.listdir(configs)) == sorted(packages)
    for package in packages:
        assert os.listdir(os.path.join(configs, package)) == ["catalog.json"]
        with open(os.path.join(configs, package, "catalog.json"), encoding="utf-8") as handle:
            text = handle.read()
        decoder = json.JSONDecoder()
        blobs, pos = [], 0
        while pos < len(text):
            blob, end = decoder.raw_decode(text, pos)
            blobs.append(blob)
            pos = end + 1 if text[end:end + 1] == "\n" else end
        assert all(blob.get("package", blob.get("name")) == package for blob in blobs)
        bundles = {b["name"]: b for b in blobs if b["schema"] == "olm.bundle"}
        assert bundles, package
        for name, blob in bundles.items():
            assert blob == original_bundles[name], name
    loaded = load_catalog(configs)
    assert sorted(loaded.packages) == sorted(packages)
    return loaded


def test_build_from_catalog_image_with_packages(tmp_path, plain_registry, registry_factory, base_image,
                                                community_image):
    dest_registry = registry_factory(tls=True, auth="htpasswd")
    base_ref, _base_digest, base_layers = base_image
    args = {"source": community_image, "packages": KEPT, "base_image": base_ref,
            "dest": f"{dest_registry.host}/olm/community:v4.21", "cache_dir": str(tmp_path / "cache")}
    result = _four_ways(tmp_path, args, _defaults(plain_registry, dest_registry), dest_registry,
                        ("olm/community", "v4.21"))
    assert result["packages"] == KEPT
    assert result["platforms"] == list(PLATFORMS)
    assert result["image"] == f"{dest_registry.host}/olm/community@{result['digest']}"
    # another registry than the base's: the three base layers were streamed, not mounted
    assert result["transferred"]["blobs_mounted"] == 0
    assert result["transferred"]["blobs_pushed"] == 3 + 1 + 2
    pushed = skopeo_inspect(dest_registry, "olm/community:v4.21", raw=True)
    assert "sha256:" + hashlib.sha256(pushed).hexdigest() == result["digest"]

    layout, index, manifests = _extract(dest_registry, result["image"], tmp_path)
    assert index is not None and sorted(manifests) == sorted(PLATFORMS)
    original = {}
    for package in KEPT:
        original.update({b["name"]: b for b in _original_blobs(package) if b["schema"] == "olm.bundle"})
    expected_heads = {}
    for package in KEPT:
        expected_heads[package] = {c.head() for c in load_catalog(str(COMMUNITY), [package]).packages[package]
                                   .channels.values()}
    for platform in PLATFORMS:
        configs = _check_platform(layout, platform, manifests[platform][1], base_layers, result,
                                  str(tmp_path / f"bundle-{platform.replace('/', '-')}"))
        loaded = _check_configs(configs, KEPT, original)
        for package in KEPT:
            # no version filter: the channel heads are kept, as catalog_mirror keeps them
            assert set(loaded.packages[package].bundles) == expected_heads[package]

    # catalog_info lists the built image like any catalog: exactly the kept packages
    info = run_task(str(tmp_path / "info"), INFO, {"catalog": result["image"], "cache_dir": str(tmp_path / "c2")},
                    module_defaults=_defaults(dest_registry)).result
    assert not info.get("failed"), info
    assert [p["name"] for p in info["packages"]] == KEPT
    assert info["digest"] == result["digest"]


def test_build_from_fbc_dir_one_platform(tmp_path, plain_registry, registry_factory, base_image):
    dest_registry = registry_factory(tls=True, auth="htpasswd")
    base_ref, _base_digest, base_layers = base_image
    fbc = tmp_path / "fbc"
    shutil.copytree(COMMUNITY / "nfs-provisioner-operator", fbc / "nfs-provisioner-operator")
    args = {"fbc": str(fbc), "base_image": base_ref, "filter_by_os": "linux/amd64",
            "dest": f"{dest_registry.host}/olm/in-house:v1"}
    result = _four_ways(tmp_path, args, _defaults(plain_registry, dest_registry), dest_registry,
                        ("olm/in-house", "v1"))
    assert result["packages"] == ["nfs-provisioner-operator"]
    assert result["platforms"] == ["linux/amd64"]

    layout, index, manifests = _extract(dest_registry, result["image"], tmp_path)
    assert index is not None and sorted(manifests) == ["linux/amd64"]
    original = {b["name"]: b for b in _original_blobs("nfs-provisioner-operator") if b["schema"] == "olm.bundle"}
    configs = _check_platform(layout, "linux/amd64", manifests["linux/amd64"][1], base_layers, result,
                              str(tmp_path / "bundle"))
    loaded = _check_configs(configs, ["nfs-provisioner-operator"], original)
    # an FBC input is taken whole
    assert set(loaded.packages["nfs-provisioner-operator"].bundles) == set(original)


def test_base_layers_are_mounted_on_the_base_registry(tmp_path, plain_registry, base_image):
    fbc = tmp_path / "fbc"
    shutil.copytree(COMMUNITY / "libredb-studio-operator", fbc / "libredb-studio-operator")
    args = {"fbc": str(fbc), "base_image": base_image[0], "dest": f"{plain_registry.host}/olm/mounted:v1"}
    result = run_task(str(tmp_path / "run"), BUILD, args, module_defaults=_defaults(plain_registry)).result
    assert not result.get("failed"), result
    assert result["transferred"]["blobs_mounted"] == 3
    assert result["transferred"]["blobs_pushed"] == 1 + 2
    inspected = skopeo_inspect(plain_registry, "olm/mounted:v1", raw=True)
    assert "sha256:" + hashlib.sha256(inspected).hexdigest() == result["digest"]


def test_package_in_two_inputs_is_an_error(tmp_path, plain_registry, base_image, community_image):
    fbc = tmp_path / "fbc"
    shutil.copytree(COMMUNITY / "kube-green", fbc / "kube-green")
    args = {"source": community_image, "packages": KEPT, "fbc": str(fbc), "base_image": base_image[0],
            "dest": f"{plain_registry.host}/olm/twice:v1", "cache_dir": str(tmp_path / "cache")}
    result = run_task(str(tmp_path / "run"), BUILD, args, module_defaults=_defaults(plain_registry)).result
    assert result.get("failed")
    assert "'kube-green'" in result["msg"] and f"source {community_image}" in result["msg"]
    assert f"fbc {fbc}" in result["msg"]
    assert plain_registry.http_status("/v2/olm/twice/manifests/v1") == 404


def test_build_into_oci_layout(tmp_path, plain_registry, base_image):
    base_ref, _base_digest, base_layers = base_image
    fbc = tmp_path / "fbc"
    shutil.copytree(COMMUNITY / "kube-green", fbc / "kube-green")
    layout = tmp_path / "layout"
    args = {"fbc": str(fbc), "base_image": base_ref, "dest": f"oci:{layout}:catalog"}
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        runs[label] = run_task(str(tmp_path / label), BUILD, args, check=check,
                               module_defaults=_defaults(plain_registry)).result
        assert not runs[label].get("failed"), (label, runs[label])
        if label == "check":
            assert not layout.exists(), "check mode wrote the layout"
    assert [runs[k]["changed"] for k in ("check", "real", "check-again", "real-again")] == [True, True, False, False]
    assert len({r["digest"] for r in runs.values()}) == 1
    result = runs["real"]
    assert result["image"] == f"oci:{layout}:catalog"

    inspected = json.loads(skopeo("inspect", f"oci:{layout}:catalog").stdout)
    assert inspected["Labels"][LABEL_CONFIGS] == "/configs"
    assert inspected["Layers"][-1] == result["layer"]["digest"]
    raw = skopeo("inspect", "--raw", f"oci:{layout}:catalog").stdout
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == result["digest"]

    index, manifests = _platform_refs(str(layout), "catalog")
    assert index is not None and sorted(manifests) == sorted(PLATFORMS)
    original = {b["name"]: b for b in _original_blobs("kube-green") if b["schema"] == "olm.bundle"}
    for platform in PLATFORMS:
        configs = _check_platform(str(layout), platform, manifests[platform][1], base_layers, result,
                                  str(tmp_path / f"bundle-{platform.replace('/', '-')}"))
        _check_configs(configs, ["kube-green"], original)

    # a damaged blob is rewritten by the next run, which reports the change; the others are kept
    layer_blob = layout / "blobs" / "sha256" / result["layer"]["digest"].split(":", 1)[1]
    layer_blob.write_bytes(b"damaged")
    again = run_task(str(tmp_path / "repair"), BUILD, args, module_defaults=_defaults(plain_registry)).result
    assert again["changed"] is True and again["digest"] == result["digest"]
    assert again["transferred"]["blobs_written"] == 1
    assert "sha256:" + hashlib.sha256(layer_blob.read_bytes()).hexdigest() == result["layer"]["digest"]


def test_build_from_bundle_directories(tmp_path, plain_registry, base_image):
    """Two node-healthcheck-operator bundle directories rendered into one channel, in an OCI layout."""
    base_ref, _base_digest, base_layers = base_image
    layout = tmp_path / "layout"
    args = {"bundles": [str(NHC_BUNDLES / "0.11.0"), str(NHC_BUNDLES / "0.12.0")], "base_image": base_ref,
            "dest": f"oci:{layout}:bundles", "filter_by_os": "linux/amd64"}
    result = run_task(str(tmp_path / "real"), BUILD, args, module_defaults=_defaults(plain_registry)).result
    assert not result.get("failed"), result
    assert result["changed"] is True and result["packages"] == ["node-healthcheck-operator"]
    again = run_task(str(tmp_path / "again"), BUILD, args, module_defaults=_defaults(plain_registry)).result
    assert again["changed"] is False and again["digest"] == result["digest"]

    _index, manifests = _platform_refs(str(layout), "bundles")
    assert sorted(manifests) == ["linux/amd64"]
    rootfs = _umoci_unpack(str(layout), "bundles", str(tmp_path / "unpacked"))
    with open(os.path.join(rootfs, "configs", "node-healthcheck-operator", "catalog.json"), encoding="utf-8") as f:
        blobs = list(_json_stream(f.read()))
    by_schema = {}
    for blob in blobs:
        by_schema.setdefault(blob["schema"], []).append(blob)
    (package,) = by_schema["olm.package"]
    assert (package["name"], package["defaultChannel"]) == ("node-healthcheck-operator", "stable")
    (channel,) = by_schema["olm.channel"]
    assert channel["name"] == "stable"
    assert sorted(channel["entries"], key=lambda e: e["name"]) == [
        {"name": "node-healthcheck-operator.v0.11.0", "replaces": "node-healthcheck-operator.v0.10.0",
         "skipRange": ">=0.10.0 <0.11.0"},
        {"name": "node-healthcheck-operator.v0.12.0", "replaces": "node-healthcheck-operator.v0.11.0",
         "skipRange": ">=0.10.0 <0.12.0"},
    ]
    bundles = {b["name"]: b for b in by_schema["olm.bundle"]}
    assert sorted(bundles) == ["node-healthcheck-operator.v0.11.0", "node-healthcheck-operator.v0.12.0"]
    # a directory has no image: its manifests travel as olm.bundle.object properties
    types = {p["type"] for p in bundles["node-healthcheck-operator.v0.12.0"]["properties"]}
    assert {"olm.package", "olm.gvk", "olm.bundle.object"} <= types


def _json_stream(text):
    decoder = json.JSONDecoder()
    position = 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            break
        blob, position = decoder.raw_decode(text, position)
        yield blob
