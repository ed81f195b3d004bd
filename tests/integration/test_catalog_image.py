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

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.auth import AuthStore, RegistryConfig
from ansible_collections.airgap.operatorhub.plugins.module_utils.catalog import load_catalog, load_fbc, render_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils.catalog_extract import LABEL_CONFIGS, LABEL_DATABASE
from ansible_collections.airgap.operatorhub.plugins.module_utils.catalog_image import load_catalog_image
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from ansible_collections.airgap.operatorhub.plugins.module_utils.registry import RegistryPool
from tests.support.images import skopeo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "..", "shared", "data", "catalogs")
TEST_CATALOG = os.path.join(CORPUS, "fbc", "oc-mirror", "integration-test-catalogs", "test-catalog-latest")
OC_DECLCFG = os.path.join(CORPUS, "fbc", "oc", "test-declcfg")
OC_SQLITE = os.path.join(CORPUS, "sqlite", "oc-test.db")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = 1700000000

GHOST_PACKAGE = (
    '{"schema": "olm.package", "name": "ghost", "defaultChannel": "stable"}\n'
    '{"schema": "olm.channel", "package": "ghost", "name": "stable", "entries": [{"name": "ghost.v1.0.0"}]}\n'
    '{"schema": "olm.bundle", "package": "ghost", "name": "ghost.v1.0.0", "image": "example.com/ghost:1",'
    ' "properties": [{"type": "olm.package", "value": {"packageName": "ghost", "version": "1.0.0"}}]}\n'
)


def _tar_layer(entries):
    """A gzip'd tar from ``[(name, bytes or None for a directory)]``; returns (blob, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = EPOCH
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=EPOCH) as gz:
        gz.write(plain)
    return packed.getvalue(), "sha256:" + hashlib.sha256(plain).hexdigest()


def _tree_entries(source, prefix):
    """Tar entries for a file or a directory tree, placed under ``prefix``."""
    entries = [(prefix, None)]
    if os.path.isfile(source):
        with open(source, "rb") as handle:
            return [(os.path.dirname(prefix) or ".", None), (prefix, handle.read())]
    for current, dirs, files in os.walk(source):
        dirs.sort()
        rel = os.path.relpath(current, source)
        base = prefix if rel == "." else f"{prefix}/{rel}"
        for name in sorted(dirs):
            entries.append((f"{base}/{name}", None))
        for name in sorted(files):
            with open(os.path.join(current, name), "rb") as handle:
                entries.append((f"{base}/{name}", handle.read()))
    return entries


class _Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as handle:
            json.dump({"imageLayoutVersion": "1.0.0"}, handle)
        self.refs = []

    def put(self, data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.path, "blobs", "sha256", digest[7:]), "wb") as handle:
            handle.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def put_json(self, obj, media_type):
        return self.put(json.dumps(obj, sort_keys=True).encode(), media_type)

    def write_index(self):
        with open(os.path.join(self.path, "index.json"), "w") as handle:
            json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.refs}, handle)


def build_catalog_layout(source, layout_dir, ref_name, kind="fbc", platforms=("linux/amd64",), labels=None):
    """Write a catalog image of ``source`` (an FBC directory, or a sqlite file with kind sqlite)
    into the OCI layout ``layout_dir`` under ``ref_name``. Two layers: the catalog plus junk,
    then whiteouts of the junk. Several platforms give an OCI index. Returns the top digest."""
    layout = _Layout(layout_dir)
    if kind == "fbc":
        first = [("configs", None)] + _tree_entries(source, "configs")[1:]
        first += [("configs/junk.json", b"this is not JSON, a whiteout must remove it\n"),
                  ("configs/ghost", None), ("configs/ghost/catalog.json", GHOST_PACKAGE.encode())]
        second = [("configs/.wh.junk.json", b""), ("configs/.wh.ghost", b""), ("etc", None),
                  ("etc/motd", b"layer two\n")]
        default_labels = {LABEL_CONFIGS: "/configs"}
    else:
        with open(source, "rb") as handle:
            db = handle.read()
        first = [("database", None), ("database/index.db", b"stale database, replaced by layer two"),
                 ("database/junk", b"junk")]
        second = [("database/.wh.index.db", b""), ("database/index.db", db), ("database/.wh.junk", b"")]
        default_labels = {LABEL_DATABASE: "/database/index.db"}
    layers = []
    diff_ids = []
    for entries in (first, second):
        blob, diff_id = _tar_layer(entries)
        layers.append(layout.put(blob, OCI_LAYER))
        diff_ids.append(diff_id)
    manifests = []
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        config = layout.put_json({
            "architecture": arch, "os": os_name,
            "config": {"Labels": dict(labels if labels is not None else default_labels),
                       "Entrypoint": ["/bin/opm"], "Cmd": ["serve", "/configs"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }, OCI_CONFIG)
        manifest = layout.put_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                                    "layers": layers}, OCI_MANIFEST)
        manifest["platform"] = {"os": os_name, "architecture": arch}
        manifests.append(manifest)
    if len(manifests) == 1:
        top = dict(manifests[0])
        top.pop("platform")
    else:
        top = layout.put_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}, OCI_INDEX)
    top["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    layout.refs.append(top)
    layout.write_index()
    return top["digest"]


def push_catalog(source, tmp_dir, registry, repo, tag, **kwargs):
    """Build and push a catalog image; returns (``HOST/repo:tag``, digest)."""
    layout = os.path.join(str(tmp_dir), f"layout-{repo.replace('/', '-')}-{tag}")
    digest = build_catalog_layout(source, layout, tag, **kwargs)
    ref = f"{registry.host}/{repo}:{tag}"
    skopeo("copy", "--all", "--preserve-digests", "--quiet", *registry.skopeo_args("dest"),
           f"oci:{layout}:{tag}", f"docker://{ref}")
    return ref, digest


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
    layout = _Layout(str(tmp_path / "evil"))
    blob, diff_id = _tar_layer([("configs", None), ("configs/../../escape.json", b"{}")])
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
