# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deriving the catalog image from a base: config, manifest and index, in canonical JSON."""

from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import (
    BasePlatform,
    canonical_json,
    derive_config,
    derive_image,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._build.layer import Layer
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import parse_manifest, sha256_digest
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError

D = "sha256:" + "a" * 64
E = "sha256:" + "b" * 64
F = "sha256:" + "c" * 64
LAYER = Layer(path="/nonexistent", digest="sha256:" + "1" * 64, diff_id="sha256:" + "2" * 64, size=1234)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def base_config(arch="amd64"):
    return {
        "architecture": arch, "os": "linux", "created": "2024-05-01T10:00:00Z",
        "config": {"Labels": {"vendor": "Red Hat", "operators.operatorframework.io.index.configs.v1": "/old"},
                   "Entrypoint": ["/bin/sh"], "Cmd": ["serve", "/configs", "--cache-only"], "User": "1001"},
        "rootfs": {"type": "layers", "diff_ids": [E]},
        "history": [{"created": "2024-05-01T10:00:00Z", "created_by": "base"},
                    {"created": "2024-05-01T10:00:00Z", "created_by": "ENV x", "empty_layer": True}],
    }


def base_manifest(media_type=OCI_MANIFEST, layer_type="application/vnd.oci.image.layer.v1.tar+gzip"):
    doc = {"schemaVersion": 2, "mediaType": media_type,
           "config": {"mediaType": "x", "digest": F, "size": 10},
           "layers": [{"mediaType": layer_type, "digest": D, "size": 99, "annotations": {"k": "v"}}]}
    return parse_manifest(json.dumps(doc).encode(), media_type)


def test_config_appends_the_layer_sets_label_and_command_keeps_the_rest():
    base = base_config()
    config = derive_config(base, LAYER.diff_id)
    assert config["rootfs"]["diff_ids"] == [E, LAYER.diff_id]
    assert config["config"]["Labels"] == {"vendor": "Red Hat",
                                          "operators.operatorframework.io.index.configs.v1": "/configs"}
    assert config["config"]["Entrypoint"] == ["/bin/opm"]
    assert config["config"]["Cmd"] == ["serve", "/configs", "--cache-dir=/tmp/cache"]
    assert config["config"]["User"] == "1001"
    assert config["history"][-1] == {
        "created": "2024-05-01T10:00:00Z",
        "created_by": "airgap.operatorhub.catalog_build: File-Based Catalog in /configs, /tmp/cache whited out"}
    assert len(config["history"]) == 3
    assert config["created"] == "2024-05-01T10:00:00Z"
    # the base document is not modified
    assert base == base_config()


def test_config_without_history_or_created_gets_no_history_and_no_clock_time():
    base = base_config()
    del base["history"], base["created"]
    config = derive_config(base, LAYER.diff_id)
    assert "history" not in config and "created" not in config


def test_config_without_diff_ids_is_refused():
    with pytest.raises(ConfigError, match="rootfs.diff_ids"):
        derive_config({"config": {}}, LAYER.diff_id)


def test_canonical_json_sorts_keys_without_spaces():
    assert canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == '{"a":{"c":"é","d":[1,2]},"b":1}'.encode()


@pytest.mark.parametrize("media_type,layer_type,config_type", [
    (OCI_MANIFEST, "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.config.v1+json"),
    (DOCKER_MANIFEST, "application/vnd.docker.image.rootfs.diff.tar.gzip",
     "application/vnd.docker.container.image.v1+json"),
])
def test_manifest_is_base_layers_then_ours_in_the_base_family(media_type, layer_type, config_type):
    base = BasePlatform("linux/amd64", base_manifest(media_type, layer_type), base_config())
    built = derive_image([base], LAYER, None)
    assert built.index is None
    image = built.platforms[0]
    doc = image.manifest.json
    assert image.manifest.media_type == media_type and doc["mediaType"] == media_type
    assert doc["config"] == {"mediaType": config_type, "digest": sha256_digest(image.config_raw),
                             "size": len(image.config_raw)}
    assert doc["layers"] == [
        {"mediaType": layer_type, "digest": D, "size": 99, "annotations": {"k": "v"}},
        {"mediaType": layer_type, "digest": LAYER.digest, "size": LAYER.size}]
    assert image.manifest.raw == canonical_json(doc)
    assert built.digest == sha256_digest(image.manifest.raw)
    assert [layer.digest for layer in image.base_layers] == [D]


def test_same_inputs_same_digest_and_another_layer_another_digest():
    def build(layer):
        return derive_image([BasePlatform("linux/amd64", base_manifest(), base_config())], layer, None).digest
    other = Layer(path="/x", digest="sha256:" + "3" * 64, diff_id="sha256:" + "4" * 64, size=5)
    assert build(LAYER) == build(LAYER)
    assert build(LAYER) != build(other)


def test_an_index_base_gives_an_index_over_the_platforms_keeping_entries():
    index_type = "application/vnd.oci.image.index.v1+json"
    base_index = parse_manifest(json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": [],
                                            "annotations": {"a": "b"}}).encode(), index_type)
    bases = []
    for arch in ("amd64", "arm64"):
        entry = {"platform": {"os": "linux", "architecture": arch}, "annotations": {"arch": arch}}
        bases.append(BasePlatform(f"linux/{arch}", base_manifest(), base_config(arch), entry))
    built = derive_image(bases, LAYER, base_index)
    doc = built.index.json
    assert built.index.media_type == index_type
    assert doc["annotations"] == {"a": "b"}
    assert [(e["digest"], e["platform"]["architecture"], e["annotations"]["arch"]) for e in doc["manifests"]] == [
        (built.platforms[0].manifest.digest, "amd64", "amd64"), (built.platforms[1].manifest.digest, "arm64", "arm64")]
    assert built.platforms[0].manifest.digest != built.platforms[1].manifest.digest
    assert built.digest == built.index.digest == sha256_digest(canonical_json(doc))


def test_a_manifest_of_another_kind_is_refused():
    index_type = "application/vnd.oci.image.index.v1+json"
    odd = parse_manifest(json.dumps({"schemaVersion": 2, "mediaType": index_type, "manifests": []}).encode())
    with pytest.raises(ConfigError, match="media type"):
        derive_image([BasePlatform("linux/amd64", odd, base_config())], LAYER, None)
