# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator catalog images built from an FBC directory or a sqlite file, for tests and the demo.

Each image is written as an OCI layout by :func:`build_catalog_layout` and pushed with skopeo
(an independent tool). It has two layers: the first writes the catalog plus a junk file (invalid
JSON) and a whole extra package, the second whites both out, so loading it proves the layers are
applied in order with their whiteouts.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import LABEL_CONFIGS, LABEL_DATABASE

from .images import skopeo

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


def tar_layer(entries):
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


class OciLayout:
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
    layout = OciLayout(layout_dir)
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
        blob, diff_id = tar_layer(entries)
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


def write_demo_fbc(directory, image_set):
    """Package demo over the sample images app0..app2: v1.0.0 (bundle app0) replaced by the head
    v1.1.0 (bundle app2, related app1 by digest). Returns (app0, app1 by digest, app2)."""
    app0, app1, app2 = (image_set.pushed[f"app{i}"] for i in range(3))
    app1_digest = app1.rsplit(":", 1)[0] + "@" + image_set.image("app1").digest
    blobs = [
        {"schema": "olm.package", "name": "demo", "defaultChannel": "stable"},
        {"schema": "olm.channel", "package": "demo", "name": "stable",
         "entries": [{"name": "demo.v1.0.0"}, {"name": "demo.v1.1.0", "replaces": "demo.v1.0.0"}]},
        {"schema": "olm.bundle", "package": "demo", "name": "demo.v1.0.0", "image": app0,
         "properties": [{"type": "olm.package", "value": {"packageName": "demo", "version": "1.0.0"}}],
         "relatedImages": [{"name": "operator", "image": app0}]},
        {"schema": "olm.bundle", "package": "demo", "name": "demo.v1.1.0", "image": app2,
         "properties": [{"type": "olm.package", "value": {"packageName": "demo", "version": "1.1.0"}}],
         "relatedImages": [{"name": "bundle", "image": app2}, {"name": "operator", "image": app1_digest}]},
    ]
    os.makedirs(os.path.join(directory, "demo"))
    with open(os.path.join(directory, "demo", "catalog.json"), "w") as handle:
        for blob in blobs:
            handle.write(json.dumps(blob, indent=4) + "\n")
    return app0, app1_digest, app2
