# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""load_catalog_image against a real registry, with catalog images built here from the corpus.

Each image is written as an OCI layout by :func:`build_catalog_layout` and pushed with skopeo
(an independent tool). It has two layers: the first writes the FBC under /configs plus a junk
file (invalid JSON) and a whole extra package, the second whites both out. Loading must give
the same model as the corpus directory, which proves the layers are applied in order with their
whiteouts (without them, the junk file would fail the load and the extra package would show).
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, RegistryConfig
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.image import load_catalog_image
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from tests.support.catalog_images import (
    LABEL_CONFIGS,
    LABEL_DATABASE,
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    OciLayout,
    push_catalog,
    tar_layer,
)
from tests.support import corpus
from tests.support.images import skopeo

TEST_CATALOG = str(corpus.TEST_CATALOG_LATEST)
OC_DECLCFG = str(corpus.OC_DECLCFG)
OC_SQLITE = str(corpus.OC_SQLITE)
pytestmark = corpus.needs(corpus.TEST_CATALOG_LATEST, corpus.OC_DECLCFG, corpus.OC_SQLITE)


def empty_auth_file():
    path = os.path.join(tempfile.gettempdir(), f"airgap-empty-auth-{os.getpid()}.json")
    with open(path, "w") as handle:
        json.dump({"auths": {}}, handle)
    return path


def make_pool(*registries):
    auth = AuthStore(auth_file=empty_auth_file(), registries=[
        RegistryConfig.from_dict({"host": r.host, "tls_verify": False}, i) for i, r in enumerate(registries)])
    return RegistryPool(auth, retries=1, pool_size=4, timeout=30)


def _blobs(catalog):
    return sorted(json.dumps(b, sort_keys=True) for b in render_fbc(catalog))


@pytest.fixture(scope="module")
def pushed(plain_registry, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("catalog-images")
    return {
        "latest": push_catalog(TEST_CATALOG, tmp, plain_registry, "catalogs/test-catalog", "latest"),
        "multi": push_catalog(OC_DECLCFG, tmp, plain_registry, "catalogs/oc-declcfg", "v1",
                              platforms=("linux/amd64", "linux/arm64")),
        "sqlite": push_catalog(OC_SQLITE, tmp, plain_registry, "catalogs/oc-sqlite", "v1", kind="sqlite"),
    }


def test_fbc_image_gives_the_directory_model(pushed, plain_registry, tmp_path):
    ref, digest = pushed["latest"]
    pool = make_pool(plain_registry)
    try:
        catalog, resolved, labels = load_catalog_image(pool, ref, str(tmp_path / "cache"))
    finally:
        pool.close()
    assert resolved == digest
    assert labels[LABEL_CONFIGS] == "/configs"
    assert "ghost" not in catalog.packages
    assert _blobs(catalog) == _blobs(load_fbc(TEST_CATALOG))


def test_index_image_picks_the_platform_and_filters_packages(pushed, plain_registry, tmp_path):
    ref, digest = pushed["multi"]
    pool = make_pool(plain_registry)
    try:
        catalog, resolved = load_catalog_image(pool, ref, str(tmp_path / "cache"), packages=["etcd"],
                                               platform="linux/arm64")[:2]
        assert resolved == digest  # the index digest: what a mirror copies
        assert _blobs(catalog) == _blobs(load_fbc(OC_DECLCFG, packages=["etcd"]))
        with pytest.raises(CatalogError, match=r"no linux/s390x entry.*linux/amd64, linux/arm64"):
            load_catalog_image(pool, ref, str(tmp_path / "cache"), platform="linux/s390x")
    finally:
        pool.close()


def test_sqlite_image_gives_the_database_model(pushed, plain_registry, tmp_path):
    ref = pushed["sqlite"][0]
    pool = make_pool(plain_registry)
    try:
        catalog, labels = load_catalog_image(pool, ref, str(tmp_path / "cache"))[::2]
    finally:
        pool.close()
    assert labels == {LABEL_DATABASE: "/database/index.db"}
    assert _blobs(catalog) == _blobs(load_catalog(OC_SQLITE))
    assert catalog.images() == load_fbc(OC_DECLCFG).images()


def test_cache_avoids_a_second_download(pushed, plain_registry, fault_proxy_factory, tmp_path):
    ref, digest = pushed["latest"]
    proxy = fault_proxy_factory(plain_registry)
    via_proxy = ref.replace(plain_registry.host, proxy.host)
    cache = str(tmp_path / "cache")
    pool = make_pool(proxy)
    try:
        first = load_catalog_image(pool, via_proxy, cache)[0]
        blob_gets = proxy.count("GET", "blob")
        assert blob_gets == 3  # config + two layers
        again, resolved = load_catalog_image(pool, via_proxy, cache)[:2]
        assert resolved == digest
        assert proxy.count("GET", "blob") == blob_gets  # by tag: one manifest GET, no blob
        pinned_requests = proxy.count()
        by_digest = via_proxy.rsplit(":", 1)[0] + "@" + digest
        pinned = load_catalog_image(pool, by_digest, cache)[0]
        assert proxy.count() == pinned_requests  # by digest: no request at all
    finally:
        pool.close()
    assert _blobs(first) == _blobs(again) == _blobs(pinned)
    assert [e for e in os.listdir(cache) if e.startswith(".")] == []  # no temporary directory left


def test_not_a_catalog_image(image_set, plain_registry, tmp_path):
    pool = make_pool(plain_registry)
    try:
        with pytest.raises(CatalogError) as info:
            load_catalog_image(pool, image_set.pushed["app0"], str(tmp_path / "cache"))
    finally:
        pool.close()
    message = str(info.value)
    assert image_set.pushed["app0"] in message
    assert LABEL_CONFIGS in message and LABEL_DATABASE in message
    assert not os.path.exists(tmp_path / "cache") or os.listdir(tmp_path / "cache") == []


def test_layer_escaping_the_directory_is_refused(plain_registry, tmp_path):
    layout = OciLayout(str(tmp_path / "evil"))
    blob, diff_id = tar_layer([("configs", None), ("configs/../../escape.json", b"{}")])
    layer = layout.put(blob, OCI_LAYER)
    config = layout.put_json({"architecture": "amd64", "os": "linux",
                              "config": {"Labels": {LABEL_CONFIGS: "/configs"}},
                              "rootfs": {"type": "layers", "diff_ids": [diff_id]}}, OCI_CONFIG)
    top = layout.put_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]},
                          OCI_MANIFEST)
    top["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
    layout.refs.append(top)
    layout.write_index()
    ref = f"{plain_registry.host}/catalogs/evil:v1"
    skopeo("copy", "--preserve-digests", "--quiet", *plain_registry.skopeo_args("dest"),
           f"oci:{layout.path}:v1", f"docker://{ref}")
    pool = make_pool(plain_registry)
    try:
        with pytest.raises(CatalogError, match=r"'\.\.'"):
            load_catalog_image(pool, ref, str(tmp_path / "cache"))
    finally:
        pool.close()
    assert not os.path.exists(tmp_path / "escape.json")
    assert not os.listdir(tmp_path / "cache")
