# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' interfaces through ansible-playbook: rules between options are the argument
spec's (and so Ansible's own messages), empty or unwritable inputs fail or warn clearly, and
catalog_mirror never leaves cluster files pointing at a partial mirror."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.catalog_images import write_demo_fbc
from tests.support.playbook import run_task
from tests.support.registry import registry_options

MAPPING = "airgap.operatorhub.image_mirror_from_mapping"
MIRROR = "airgap.operatorhub.catalog_mirror"
INFO = "airgap.operatorhub.catalog_info"
MISSING_DIGEST = "sha256:" + "0" * 64


def _defaults(*registries):
    return {"group/airgap.operatorhub.registry": {"registries": registry_options(*registries)}}


def test_a_task_with_no_mapping_fails_at_argument_checking(tmp_path):
    result = run_task(str(tmp_path), MAPPING, {}).result
    assert result["failed"] is True
    assert "one of the following is required: mapping_file, mapping" in result["msg"]


def test_a_mapping_file_without_lines_fails_naming_it(tmp_path):
    empty = tmp_path / "mapping.txt"
    empty.write_text("# trimmed by hand: every line removed\n\n")
    result = run_task(str(tmp_path / "run"), MAPPING, {"mapping_file": [str(empty)]}).result
    assert result["failed"] is True
    assert str(empty) in result["msg"] and "no SRC=DST line" in result["msg"]


@pytest.mark.parametrize("shards, expected", [
    ({"shard_count": 0}, "shard_count must be 1 or more: the number of hosts that share the mapping, got 0"),
    ({"shard_count": 2, "shard_index": 2}, "shard_index must be from 0 to shard_count - 1 (1)"),
])
def test_shard_options_say_what_they_mean(tmp_path, shards, expected):
    args = dict({"mapping": ["quay.io/a/b:1=mirror.example.com/a/b:1"]}, **shards)
    result = run_task(str(tmp_path), MAPPING, args).result
    assert result["failed"] is True and expected in result["msg"]


def test_client_cert_needs_client_key(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text("not read: the spec refuses the entry first\n")
    args = {"mapping": ["quay.io/a/b:1=mirror.example.com/a/b:1"],
            "registries": [{"host": "mirror.example.com", "client_cert": str(cert)}]}
    result = run_task(str(tmp_path / "run"), MAPPING, args).result
    assert result["failed"] is True
    assert "parameters are required together: client_cert, client_key" in result["msg"]
    assert "registries" in result["msg"]


def test_an_unwritable_report_file_warns_and_says_so(tmp_path, image_set, plain_registry, registry_factory):
    target = registry_factory(tls=False)
    image = image_set.images[0]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the report's directory should be\n")
    args = {"mapping": [f"{image_set.pushed[image.name]}={target.host}/report/{image.name}:{image.tag}"],
            "report_file": str(blocker / "report.json")}
    run = run_task(str(tmp_path / "run"), MAPPING, args, module_defaults=_defaults(plain_registry, target))
    result = run.result
    assert not result.get("failed"), result
    assert len(result["copied"]) == 1
    assert "report_file" not in result
    assert str(blocker / "report.json") in result["report_file_error"]
    assert any("cannot be written" in warning for warning in result["warnings"])
    assert "cannot be written" in run.output


def _fbc_with_missing_images(directory, registry):
    """A one-package FBC whose bundle and operator images do not exist in ``registry``."""
    os.makedirs(directory / "demo")
    bundle = f"{registry.host}/missing/demo-bundle@{MISSING_DIGEST}"
    blobs = [
        {"schema": "olm.package", "name": "demo", "defaultChannel": "stable"},
        {"schema": "olm.channel", "package": "demo", "name": "stable", "entries": [{"name": "demo.v1.0.0"}]},
        {"schema": "olm.bundle", "package": "demo", "name": "demo.v1.0.0", "image": bundle,
         "properties": [{"type": "olm.package", "value": {"packageName": "demo", "version": "1.0.0"}}],
         "relatedImages": [{"name": "bundle", "image": bundle}]},
    ]
    (directory / "demo" / "catalog.json").write_text("".join(json.dumps(blob) + "\n" for blob in blobs))


def test_a_failed_copy_writes_no_cluster_files(tmp_path, plain_registry, registry_factory):
    target = registry_factory(tls=False)
    _fbc_with_missing_images(tmp_path / "fbc", plain_registry)
    out = tmp_path / "out"
    args = {"catalogs": [{"source": str(tmp_path / "fbc"), "full": True, "target_name": "demo"}],
            "dest": f"{target.host}/olm", "output_dir": str(out), "retries": 0}
    result = run_task(str(tmp_path / "run"), MIRROR, args, module_defaults=_defaults(plain_registry, target)).result
    assert result["failed"] is True
    assert "were not written" in result["msg"]
    directory = out / "demo"
    assert (directory / "mapping.txt").is_file()  # the plan, for a method-2 or resumed run
    assert sorted(os.listdir(directory)) == ["mapping.txt"]
    assert sorted(result["files_pending"]) == sorted(
        str(directory / name) for name in ("imageDigestMirrorSet.yaml", "imageContentSourcePolicy.yaml",
                                           "catalogSource.yaml", "clusterCatalog.yaml"))
    assert len(result["failures"]) == 1


def test_diff_mode_shows_the_written_files(tmp_path, image_set, plain_registry):
    fbc = tmp_path / "fbc"
    write_demo_fbc(str(fbc), image_set)
    args = {"catalogs": [{"source": str(fbc), "packages": ["demo"], "target_name": "demo"}],
            "dest": "mirror.example.com:5000/olm", "output_dir": str(tmp_path / "out"), "manifests_only": True}
    check = run_task(str(tmp_path / "check"), MIRROR, args, check=True, diff=True).result
    assert not check.get("failed"), check
    by_file = {os.path.basename(item["after_header"]): item for item in check["diff"]}
    # app1 is referenced by digest (IDMS, ICSP), app0 and app2 by tag (ITMS)
    assert set(by_file) == {"mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml",
                            "imageTagMirrorSet.yaml", "catalogSource.yaml", "clusterCatalog.yaml"}
    mapping = by_file["mapping.txt"]
    assert mapping["before"] == "" and mapping["before_header"] == "/dev/null"
    assert "=mirror.example.com:5000/olm/" in mapping["after"]
    assert not (tmp_path / "out").exists()

    real = run_task(str(tmp_path / "real"), MIRROR, args, diff=True).result
    assert [item["after"] for item in real["diff"]] == [item["after"] for item in check["diff"]]
    mapping_path = tmp_path / "out" / "demo" / "mapping.txt"
    assert mapping_path.read_text() == mapping["after"]

    mapping_path.write_text("edited by hand\n")
    again = run_task(str(tmp_path / "again"), MIRROR, args, diff=True).result
    assert again["changed"] is True
    assert again["diff"] == [{"before_header": str(mapping_path), "after_header": str(mapping_path),
                              "before": "edited by hand\n", "after": mapping["after"]}]
    quiet = run_task(str(tmp_path / "quiet"), MIRROR, args).result
    assert quiet["changed"] is False and "diff" not in quiet


def test_packages_and_imageset_config_are_mutually_exclusive(tmp_path):
    args = {"catalogs": [{"source": "quay.io/a/index:v1", "packages": ["a"],
                          "imageset_config": {"kind": "ImageSetConfiguration"}}],
            "dest": "mirror.example.com/olm", "output_dir": str(tmp_path / "out")}
    result = run_task(str(tmp_path / "run"), MIRROR, args).result
    assert result["failed"] is True
    assert "mutually exclusive: packages|imageset_config" in result["msg"]


def test_catalog_info_full_false_is_a_plain_listing(tmp_path, image_set):
    fbc = tmp_path / "fbc"
    write_demo_fbc(str(fbc), image_set)
    listing = run_task(str(tmp_path / "list"), INFO, {"catalog": str(fbc), "full": False}).result
    assert not listing.get("failed"), listing
    assert "images" not in listing and [p["name"] for p in listing["packages"]] == ["demo"]
    full = run_task(str(tmp_path / "full"), INFO, {"catalog": str(fbc), "full": True}).result
    assert len(full["images"]) == 3  # both bundles' images: app0, app1 by digest, app2
