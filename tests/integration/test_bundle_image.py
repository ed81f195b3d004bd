# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""render_bundle_image against a real registry, with a bundle image built here from a real
bundle directory and pushed with skopeo (an independent tool).

The image has two layers: the first holds the bundle plus a second, stale CSV, the second
whites that CSV out. Rendering must give the same blob as the directory rendered with the same
image reference, which proves the layers are applied in order with their whiteouts (with the
stale CSV left in, the bundle would have two CSVs and be refused).
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.bundle import (
    render_bundle_dir,
    render_bundle_image,
    render_bundles,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError
from tests.integration.test_catalog_image import make_pool
from tests.support import corpus
from tests.support.catalog_images import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, OciLayout, tar_layer
from tests.support.images import skopeo

pytestmark = corpus.needs(corpus.NHC_BUNDLES)
BUNDLE_DIR = corpus.NHC_BUNDLES / "0.12.0"
STALE_CSV = b"apiVersion: operators.coreos.com/v1alpha1\nkind: ClusterServiceVersion\nmetadata:\n  name: stale\n"


def _entries(directory):
    entries = []
    for current, dirs, files in os.walk(directory):
        dirs.sort()
        rel = os.path.relpath(current, directory)
        if rel != ".":
            entries.append((rel, None))
        for name in sorted(files):
            with open(os.path.join(current, name), "rb") as handle:
                entries.append((os.path.normpath(os.path.join(rel, name)), handle.read()))
    return entries


def push_bundle(directory, tmp_path, registry, repo, tag, layers=None, labels=None):
    layout = OciLayout(str(tmp_path / f"layout-{tag}"))
    if layers is None:
        layers = [_entries(directory) + [("manifests/stale.clusterserviceversion.yaml", STALE_CSV)],
                  [("manifests/.wh.stale.clusterserviceversion.yaml", b"")]]
    descriptors, diff_ids = [], []
    for entries in layers:
        blob, diff_id = tar_layer(entries)
        descriptors.append(layout.put(blob, OCI_LAYER))
        diff_ids.append(diff_id)
    if labels is None:
        labels = {"operators.operatorframework.io.bundle.package.v1": "node-healthcheck-operator",
                  "operators.operatorframework.io.bundle.channels.v1": "stable",
                  "operators.operatorframework.io.bundle.manifests.v1": "manifests/",
                  "operators.operatorframework.io.bundle.metadata.v1": "metadata/"}
    config = layout.put_json({"architecture": "amd64", "os": "linux", "config": {"Labels": labels},
                              "rootfs": {"type": "layers", "diff_ids": diff_ids}}, OCI_CONFIG)
    top = layout.put_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                           "layers": descriptors}, OCI_MANIFEST)
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    layout.refs.append(top)
    layout.write_index()
    ref = f"{registry.host}/{repo}:{tag}"
    skopeo("copy", "--preserve-digests", "--quiet", *registry.skopeo_args("dest"),
           f"oci:{layout.path}:{tag}", f"docker://{ref}")
    return ref


def test_bundle_image_renders_like_its_directory(plain_registry, tmp_path):
    ref = push_bundle(str(BUNDLE_DIR), tmp_path, plain_registry, "bundles/nhc", "v0.12.0")
    pool = make_pool(plain_registry)
    try:
        rendered = render_bundle_image(pool, ref, work_dir=str(tmp_path))
        catalog = render_bundles([ref], pool)
    finally:
        pool.close()
    expected = render_bundle_dir(str(BUNDLE_DIR), ref).blob
    assert rendered.blob == expected
    assert rendered.blob["image"] == ref
    assert ("", ref) in [(item["name"], item["image"]) for item in rendered.blob["relatedImages"]]
    assert rendered.channels == ["stable"]
    assert catalog.packages["node-healthcheck-operator"].bundles["node-healthcheck-operator.v0.12.0"].to_blob() \
        == expected
    assert os.listdir(tmp_path) == ["layout-v0.12.0"]  # the unpacked image was removed


def test_image_without_a_bundle_is_refused(plain_registry, tmp_path):
    ref = push_bundle(None, tmp_path, plain_registry, "bundles/empty", "v1",
                      layers=[[("etc", None), ("etc/motd", b"not a bundle\n")]], labels={})
    pool = make_pool(plain_registry)
    try:
        with pytest.raises(CatalogError, match=r"bundle image .*bundles/empty:v1: no /manifests and /metadata"):
            render_bundle_image(pool, ref, work_dir=str(tmp_path))
    finally:
        pool.close()
