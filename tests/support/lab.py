# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway two-registry lab for the demo (``make demo``), run from the repo root:

    python -m tests.support.lab up   --dir DIR [--images N]
    python -m tests.support.lab down --dir DIR

``up`` starts a source registry (plain HTTP, no auth) and a target (TLS from a throwaway CA
kept in DIR/ca, htpasswd), both in the background so they outlive the command; generates N
sample images (default 6) and pushes them to the source under ``sample/``; writes

- DIR/lab.json: source and target (host, url, tls, username, password, ca_path, cert_dir, pid,
  log_path), ``auth_file``, ``mapping``, ``images`` (name, tag, digest, source/target refs),
  ``total_blob_bytes``;
- DIR/auth.json: podman-style credentials for the target;
- DIR/mapping.txt: ``SRC=DST`` lines, the first image by digest only, the rest by tag;
- a sample operator catalog image ``sample/operator-index:v1`` in the source (FBC of the
  packages sample-operator and other-operator over the sample images; ``catalog`` in lab.json);
- unless ``--no-kube``: ``kube`` in lab.json, a TEST DOUBLE of an OpenShift cluster, the stand-in
  API server with simulated nodes and OLM (:mod:`tests.support.kube_lab`: url, kubeconfig,
  ca_path, pid), whose nodes reach the target registry only.

``down`` stops both registries and the stand-in API server (only processes recorded in lab.json
that are still docker-registry / kube_lab) and removes lab.json. ``up`` on a running lab takes it
down first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time

from . import kube_lab
from .catalog_images import push_catalog
from .images import make_image_set, push_image_set, pushed_ref, write_mapping
from .pki import CertificateAuthority
from .registry import REGISTRY_BIN, RegistryServer

SRC_PREFIX = "sample"
DST_PREFIX = "mirror"


def _alive_registry(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return os.path.basename(REGISTRY_BIN).encode() in f.read()
    except OSError:
        return False


def down(directory: str) -> list[int]:
    """Stop the lab's registries and stand-in API server; returns the pids that were stopped."""
    path = os.path.join(directory, "lab.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lab = json.load(f)
    stopped = []
    if kube_lab.stop(lab.get("kube")):
        stopped.append(lab["kube"]["pid"])
    for side in ("source", "target"):
        pid = (lab.get(side) or {}).get("pid")
        if not pid or not _alive_registry(pid):
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _alive_registry(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive_registry(pid):
            os.kill(pid, signal.SIGKILL)
        stopped.append(pid)
    os.remove(path)
    return stopped


def up(directory: str, count: int = 6, shared_layer_size: int = 1024 * 1024,
       own_layer_size: int = 256 * 1024, kube: bool = True) -> dict:
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    down(directory)
    # A new lab starts empty: a target left full by an earlier demo would have nothing to mirror.
    for side in ("source", "target"):
        shutil.rmtree(os.path.join(directory, side), ignore_errors=True)
    ca = CertificateAuthority(os.path.join(directory, "ca"))
    source = RegistryServer(tls=False, workdir=os.path.join(directory, "source"), detach=True)
    target = RegistryServer(tls=True, auth="htpasswd", workdir=os.path.join(directory, "target"),
                            ca=ca, username="mirror", detach=True)
    source.start()
    try:
        target.start()
    except Exception:
        source._kill()
        raise
    lab = {"source": source.describe(), "target": target.describe()}
    # Record the pids before the slow part, so `down` can clean up if pushing fails.
    _write_json(os.path.join(directory, "lab.json"), lab)

    meta = make_image_set(os.path.join(directory, "images"), count=count,
                          shared_layer_size=shared_layer_size, own_layer_size=own_layer_size, seed=42)
    push_image_set(meta, source, SRC_PREFIX)
    auth_file = target.write_auth_file(os.path.join(directory, "auth.json"))
    mapping = os.path.join(directory, "mapping.txt")
    by_digest = (meta.images[0].name,)
    pairs = write_mapping(meta, source, target, mapping, src_prefix=SRC_PREFIX, dst_prefix=DST_PREFIX,
                          by_digest=by_digest)
    catalog_ref = push_catalog(
        write_sample_catalog(os.path.join(directory, "catalog"), meta, source), directory, source,
        f"{SRC_PREFIX}/operator-index", "v1",
    )[0]
    lab.update({
        "catalog": catalog_ref,
        "auth_file": auth_file,
        "mapping": mapping,
        "ca_path": target.ca_path,
        "total_blob_bytes": meta.total_blob_bytes,
        "images": [
            {
                "name": img.name, "tag": img.tag, "digest": img.digest,
                "manifests": img.manifest_digests,
                "source": src, "target": dst,
                "source_by_tag": pushed_ref(img, source, SRC_PREFIX),
            }
            for img, (src, dst) in zip(meta.images, pairs)
        ],
    })
    _write_json(os.path.join(directory, "lab.json"), lab)
    if kube:
        # After lab.json names the target: the simulated nodes reach that registry only.
        lab["kube"] = kube_lab.start(directory)
        _write_json(os.path.join(directory, "lab.json"), lab)
    return lab


def write_sample_catalog(directory: str, meta, source) -> str:
    """A small File-Based Catalog over the sample images: package ``sample-operator`` (1.0.0
    replaced by the head 1.1.0, which relates a second image by digest) and ``other-operator``
    (0.1.0 replaced by the head 0.2.0). Needs at least 6 images. Returns the directory."""
    refs = [pushed_ref(img, source, SRC_PREFIX) for img in meta.images]
    by_digest = [ref.rsplit(":", 1)[0] + "@" + img.digest for ref, img in zip(refs, meta.images)]
    if len(refs) < 6:
        raise ValueError("the sample catalog needs 6 images (--images 6 or more)")

    def package(name, channel, bundles):
        blobs = [{"schema": "olm.package", "name": name, "defaultChannel": channel}]
        entries = []
        for version, image, related in bundles:
            entry = {"name": f"{name}.v{version}"}
            if entries:
                entry["replaces"] = entries[-1]["name"]
            entries.append(entry)
        blobs.append({"schema": "olm.channel", "package": name, "name": channel, "entries": entries})
        for version, image, related in bundles:
            blobs.append({
                "schema": "olm.bundle", "package": name, "name": f"{name}.v{version}", "image": image,
                "properties": [{"type": "olm.package", "value": {"packageName": name, "version": version}}],
                "relatedImages": [{"name": "bundle", "image": image}]
                + [{"name": "operator", "image": r} for r in related],
            })
        os.makedirs(os.path.join(directory, name), exist_ok=True)
        with open(os.path.join(directory, name, "catalog.json"), "w") as handle:
            for blob in blobs:
                handle.write(json.dumps(blob, indent=4) + "\n")

    shutil.rmtree(directory, ignore_errors=True)
    package("sample-operator", "stable", [("1.0.0", refs[0], []), ("1.1.0", refs[1], [by_digest[2]])])
    package("other-operator", "alpha", [("0.1.0", refs[3], [by_digest[4]]), ("0.2.0", refs[5], [])])
    return directory


def _write_json(path: str, data: dict) -> None:
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=2)
    os.chmod(path + ".tmp", 0o600)  # holds the target's password
    os.replace(path + ".tmp", path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.lab", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the registries and push sample images")
    p_up.add_argument("--dir", required=True)
    p_up.add_argument("--images", type=int, default=6)
    p_up.add_argument("--no-kube", action="store_true", help="no stand-in API server (registries only)")
    p_down = sub.add_parser("down", help="stop the registries")
    p_down.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    if args.command == "up":
        lab = up(args.dir, args.images, kube=not args.no_kube)
        print(f"source  {lab['source']['url']}  ({len(lab['images'])} images under {SRC_PREFIX}/, "
              f"{lab['total_blob_bytes']} blob bytes)")
        print(f"target  {lab['target']['url']}  (user {lab['target']['username']}, CA {lab['ca_path']})")
        print(f"catalog {lab['catalog']}  (packages sample-operator, other-operator)")
        if lab.get("kube"):
            print(f"kube    {lab['kube']['url']}  (TEST DOUBLE: a stand-in API server with simulated nodes and OLM, "
                  f"not a cluster; its nodes reach only the target {lab['target']['host']}; "
                  f"kubeconfig {lab['kube']['kubeconfig']})")
        print(f"wrote   {os.path.join(os.path.abspath(args.dir), 'lab.json')}, {lab['auth_file']}, {lab['mapping']}")
    else:
        stopped = down(args.dir)
        print(f"stopped {len(stopped)} process{'' if len(stopped) == 1 else 'es'} (registries, stand-in API server)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
