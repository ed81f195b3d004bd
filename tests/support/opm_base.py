# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for an ose-operator-registry base image, for catalog_build tests.

Two platforms (linux/amd64, linux/arm64) under an OCI index. Each platform has two layers: a
shared one with ``tmp/cache/`` holding a stale opm cache (what the real images carry, and what a
built catalog must not be served from), and its own with ``bin/opm`` (a shell script naming the
platform) and ``etc/os-release``. The config sets the Entrypoint, a Cmd that serves a
pre-built cache, and labels that the built image must keep. Written as an OCI layout and pushed
with skopeo (an independent tool).
"""

from __future__ import annotations

import os

from .catalog_images import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, OciLayout, tar_layer
from .images import skopeo

PLATFORMS = ("linux/amd64", "linux/arm64")
CREATED = "2023-11-14T22:13:20Z"
LABELS = {"com.redhat.component": "ose-operator-registry-fake", "io.k8s.display-name": "fake opm base"}
STALE_CACHE = b'{"digest": "stale-cache-for-other-content"}\n'


def opm_script(platform):
    return f"#!/bin/sh\necho fake opm for {platform} \"$@\"\n".encode()


def build_opm_base(layout_dir, ref_name="base", platforms=PLATFORMS):
    """Write the base image into ``layout_dir`` under ``ref_name``; returns its index digest and
    ``{platform: [layer digests]}``."""
    layout = OciLayout(layout_dir)
    shared, shared_diff = tar_layer([("tmp", None), ("tmp/cache", None), ("tmp/cache/cache.json", STALE_CACHE),
                                     ("tmp/cache/packages.json", b"{}\n")])
    shared_desc = layout.put(shared, OCI_LAYER)
    entries = []
    layers_of = {}
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        own, own_diff = tar_layer([("bin", None), ("bin/opm", opm_script(platform)), ("etc", None),
                                   ("etc/os-release", f"ID=fake\nPLATFORM={platform}\n".encode())])
        own_desc = layout.put(own, OCI_LAYER)
        config = layout.put_json({
            "architecture": arch, "os": os_name, "created": CREATED,
            "config": {"Labels": dict(LABELS), "Entrypoint": ["/bin/opm"],
                       "Cmd": ["serve", "/configs", "--cache-dir=/tmp/cache", "--cache-only"],
                       "User": "1001", "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [shared_diff, own_diff]},
            "history": [{"created": CREATED, "created_by": "stale cache"},
                        {"created": CREATED, "created_by": f"opm for {platform}"}],
        }, OCI_CONFIG)
        manifest = layout.put_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                                    "layers": [shared_desc, own_desc]}, OCI_MANIFEST)
        manifest["platform"] = {"os": os_name, "architecture": arch}
        entries.append(manifest)
        layers_of[platform] = [shared_desc["digest"], own_desc["digest"]]
    top = layout.put_json({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}, OCI_INDEX)
    top["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
    layout.refs.append(top)
    layout.write_index()
    return top["digest"], layers_of


def push_opm_base(tmp_dir, registry, repo="base/opm", tag="v4.16"):
    """Build and push the base; returns (``HOST/repo:tag``, index digest, layers per platform)."""
    layout = os.path.join(str(tmp_dir), "opm-base-layout")
    digest, layers_of = build_opm_base(layout, tag)
    ref = f"{registry.host}/{repo}:{tag}"
    skopeo("copy", "--all", "--preserve-digests", "--quiet", *registry.skopeo_args("dest"),
           f"oci:{layout}:{tag}", f"docker://{ref}")
    return ref, digest, layers_of
