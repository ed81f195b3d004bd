# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, RegistryError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import (
    ACCEPT_ALL,
    MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST,
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    Descriptor,
    filter_index,
    parse_manifest,
    sha256_digest,
)

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
D4 = "sha256:" + "4" * 64
D5 = "sha256:" + "5" * 64


def image(media_type, config_type, with_field=True):
    doc = {
        "schemaVersion": 2,
        "config": {"mediaType": config_type, "digest": D1, "size": 10},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D2, "size": 20},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D3, "size": 30},
        ],
    }
    if with_field:
        doc["mediaType"] = media_type
    return json.dumps(doc, indent=3).encode()


def index(media_type, with_field=True):
    doc = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": MEDIA_OCI_MANIFEST, "digest": D1, "size": 100,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": MEDIA_OCI_MANIFEST, "digest": D2, "size": 200,
             "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": MEDIA_OCI_MANIFEST, "digest": D3, "size": 300,
             "platform": {"os": "linux", "architecture": "ppc64le"}},
            {"mediaType": MEDIA_OCI_MANIFEST, "digest": D4, "size": 50,
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.digest": D1,
                             "vnd.docker.reference.type": "attestation-manifest"}},
        ],
        "annotations": {"org.opencontainers.image.version": "1.0"},
    }
    if with_field:
        doc["mediaType"] = media_type
    return json.dumps(doc).encode()


def test_accept_all_has_the_four_types():
    assert set(ACCEPT_ALL) == {MEDIA_DOCKER_MANIFEST, MEDIA_DOCKER_LIST, MEDIA_OCI_MANIFEST, MEDIA_OCI_INDEX}


def test_sha256_digest():
    # the FIPS 180-2 test vector for "abc"
    assert sha256_digest(b"abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("media_type,config_type", [
    (MEDIA_DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json"),
    (MEDIA_OCI_MANIFEST, "application/vnd.oci.image.config.v1+json"),
])
@pytest.mark.parametrize("source", ["header", "field", "inferred"])
def test_image_manifests(media_type, config_type, source):
    raw = image(media_type, config_type, with_field=source != "inferred")
    header = media_type + "; charset=utf-8" if source == "header" else "application/json"
    m = parse_manifest(raw, header)
    assert m.media_type == media_type
    assert m.raw == raw
    assert m.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert not m.is_index
    assert m.children == []
    assert [b.digest for b in m.blobs] == [D1, D2, D3]
    assert m.blobs[0].media_type == config_type
    assert m.blobs[2].size == 30
    assert m.descriptor == Descriptor(media_type, "sha256:" + hashlib.sha256(raw).hexdigest(), len(raw))


@pytest.mark.parametrize("media_type", [MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX])
def test_indexes(media_type):
    raw = index(media_type)
    m = parse_manifest(raw, None)
    assert m.media_type == media_type
    assert m.is_index
    assert m.blobs == []
    assert [c.platform_string for c in m.children] == ["linux/amd64", "linux/arm64/v8", "linux/ppc64le", "unknown/unknown"]
    assert m.children[0].size == 100


def test_index_without_media_type_is_oci():
    assert parse_manifest(index(MEDIA_OCI_INDEX, with_field=False), "").media_type == MEDIA_OCI_INDEX


def test_header_type_wins_over_field():
    raw = image(MEDIA_OCI_MANIFEST, "application/vnd.oci.image.config.v1+json", with_field=False)
    assert parse_manifest(raw, MEDIA_DOCKER_MANIFEST).media_type == MEDIA_DOCKER_MANIFEST


@pytest.mark.parametrize("raw,header", [
    (json.dumps({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []}).encode(), None),
    (b'{"schemaVersion": 1}', "application/vnd.docker.distribution.manifest.v1+prettyjws"),
    (b'{}', "application/vnd.docker.distribution.manifest.v1+json"),
])
def test_schema1_is_refused(raw, header):
    with pytest.raises(RegistryError) as info:
        parse_manifest(raw, header)
    assert "unsupported: schema 1" in str(info.value)
    assert "re-push as schema 2" in str(info.value)


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b'{"schemaVersion": 2}'])
def test_bad_documents(raw):
    with pytest.raises(RegistryError):
        parse_manifest(raw, None)


def test_unknown_media_type_is_refused():
    with pytest.raises(RegistryError, match="not one of the supported"):
        parse_manifest(b'{"schemaVersion":2,"layers":[]}', "application/vnd.example.thing+json")


def test_bad_descriptor_names_the_manifest():
    raw = json.dumps({"schemaVersion": 2, "mediaType": MEDIA_OCI_MANIFEST,
                      "config": {"digest": D1, "size": "ten"}, "layers": []}).encode()
    m = parse_manifest(raw, None)
    with pytest.raises(RegistryError, match="config"):
        m.blobs


def test_descriptor_hash_and_platform_string():
    a = Descriptor(MEDIA_OCI_MANIFEST, D1, 1, platform={"os": "linux", "architecture": "arm", "variant": "v7"})
    b = Descriptor(MEDIA_OCI_MANIFEST, D1, 1)
    assert a == b and len({a, b}) == 1
    assert a.platform_string == "linux/arm/v7"
    assert b.platform_string == ""


@pytest.mark.parametrize("media_type", [MEDIA_DOCKER_LIST, MEDIA_OCI_INDEX])
def test_filter_index(media_type):
    m = parse_manifest(index(media_type), None)
    kept = filter_index(m, "amd64")
    assert kept.media_type == media_type
    # the attestation of the amd64 image follows it
    assert [c.digest for c in kept.children] == [D1, D4]
    assert kept.digest == "sha256:" + hashlib.sha256(kept.raw).hexdigest() != m.digest
    doc = json.loads(kept.raw)
    assert doc["annotations"] == {"org.opencontainers.image.version": "1.0"}
    assert doc["mediaType"] == media_type
    # re-parsing the new bytes gives the same thing
    assert parse_manifest(kept.raw, media_type).digest == kept.digest


def test_filter_index_uses_search_semantics():
    m = parse_manifest(index(MEDIA_OCI_INDEX), None)
    assert [c.digest for c in filter_index(m, "linux/(amd64|arm64)").children] == [D1, D2, D4]
    assert [c.digest for c in filter_index(m, "^linux/arm64/v8$").children] == [D2]
    assert [c.digest for c in filter_index(m, "ppc64le|s390x").children] == [D3]


def test_filter_index_nothing_matches():
    m = parse_manifest(index(MEDIA_OCI_INDEX), None)
    with pytest.raises(ConfigError) as info:
        filter_index(m, "s390x")
    assert "linux/amd64" in str(info.value)
    with pytest.raises(ConfigError, match="regular expression"):
        filter_index(m, "(")
    with pytest.raises(ConfigError, match="matches no image"):
        # attestation entries are never selected on their own
        filter_index(m, "^unknown")


def test_filter_index_refuses_an_image():
    m = parse_manifest(image(MEDIA_OCI_MANIFEST, "application/vnd.oci.image.config.v1+json"), None)
    with pytest.raises(ConfigError):
        filter_index(m, ".*")
