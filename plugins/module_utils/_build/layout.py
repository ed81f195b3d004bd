# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a built catalog image into an OCI image layout on disk (``oci:DIR:TAG``).

The layout is what ``skopeo copy ... oci:DIR:TAG`` and ``umoci`` read: ``oci-layout``,
``index.json`` whose entry for the image carries the ``org.opencontainers.image.ref.name``
annotation, and ``blobs/sha256/<hex>``. Writing is resumable: a blob already in the layout is
kept when its content hashes to its name (else rewritten), and every file is written to a
temporary name and renamed into place. Other images of the layout are left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Any, Callable, Dict, Iterable, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import BuiltImage, canonical_json
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import MEDIA_OCI_INDEX
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, DigestMismatch
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

REF_NAME = "org.opencontainers.image.ref.name"
LAYOUT_FILE = {"imageLayoutVersion": "1.0.0"}
_CHUNK = 1 << 20


def parse_layout_dest(dest: str) -> tuple:
    """``oci:DIR[:TAG]`` as ``(DIR, TAG)``; TAG defaults to ``latest``."""
    body = dest[len("oci:"):]
    path, sep, tag = body.rpartition(":")
    if not sep or "/" in tag:
        path, tag = body, "latest"
    if not path:
        raise ConfigError(f"dest {dest!r}: an OCI layout destination is oci:DIR[:TAG]; DIR is empty")
    return os.path.expanduser(path), tag


def _blob_path(root: str, digest: str) -> str:
    algorithm, hexpart = digest.split(":", 1)
    return os.path.join(root, "blobs", algorithm, hexpart)


def _file_digest(path: str) -> Optional[str]:
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                sha.update(chunk)
    except FileNotFoundError:
        return None
    return "sha256:" + sha.hexdigest()


def read_index(root: str) -> Dict[str, Any]:
    """The layout's index.json, or an empty OCI index when there is none."""
    try:
        with open(os.path.join(root, "index.json"), encoding="utf-8") as handle:
            index = json.load(handle)
    except FileNotFoundError:
        return {"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": []}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{root}/index.json cannot be read as an OCI index ({exc}); give another directory") from None
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ConfigError(f"{root}/index.json is not an OCI index; give another directory")
    return index


def tagged_digest(root: str, tag: str) -> Optional[str]:
    """The digest the layout's index.json names ``tag``, or None."""
    for entry in read_index(root).get("manifests") or []:
        if isinstance(entry, dict) and (entry.get("annotations") or {}).get(REF_NAME) == tag:
            return entry.get("digest")
    return None


def is_complete(root: str, built: BuiltImage, tag: str) -> bool:
    """Whether ``tag`` names the built image and every blob of it is in the layout with its size
    (a cheap check: a blob of the right size but other content is caught only when rewritten)."""
    if tagged_digest(root, tag) != built.digest:
        return False
    sizes = {built.layer.digest: built.layer.size, built.top.digest: built.top.size}
    for image in built.platforms:
        sizes.update({layer.digest: layer.size for layer in image.base_layers})
        sizes[image.config.digest] = image.config.size
        sizes[image.manifest.digest] = image.manifest.size
    for digest, size in sizes.items():
        try:
            if os.path.getsize(_blob_path(root, digest)) != size:
                return False
        except OSError:
            return False
    return True


class _Writer:
    def __init__(self, root: str):
        self.root = root
        self.stats = {"blobs_written": 0, "blobs_present": 0, "bytes_written": 0}

    def blob(self, digest: str, chunks: Callable[[], Iterable[bytes]]) -> None:
        path = _blob_path(self.root, digest)
        if _file_digest(path) == digest:
            self.stats["blobs_present"] += 1
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
        sha = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks():
                    sha.update(chunk)
                    size += len(chunk)
                    handle.write(chunk)
            if "sha256:" + sha.hexdigest() != digest:
                raise DigestMismatch(f"blob {digest} for {self.root}: the source gave content hashing to "
                                     f"sha256:{sha.hexdigest()}; nothing was written")
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.stats["blobs_written"] += 1
        self.stats["bytes_written"] += size


def write_layout(pool: Any, built: BuiltImage, root: str, tag: str, base: ImageReference) -> Dict[str, int]:
    """Write ``built`` into the layout ``root`` under ``tag``; returns counts of what was written."""
    try:
        os.makedirs(root, exist_ok=True)
        if not os.path.exists(os.path.join(root, "oci-layout")):
            write_atomic(os.path.join(root, "oci-layout"), json.dumps(LAYOUT_FILE).encode("utf-8"))
        writer = _Writer(root)
        client = pool.client(base.api_host, base.repository) if pool is not None else None
        for image in built.platforms:
            for layer in image.base_layers:
                def download(digest=layer.digest, size=layer.size):
                    with client.open_blob(base.repository, digest, size=size) as chunks:
                        yield from chunks
                writer.blob(layer.digest, download)
        writer.blob(built.layer.digest, built.layer.chunks)
        for image in built.platforms:
            writer.blob(image.config.digest, lambda raw=image.config_raw: [raw])
            writer.blob(image.manifest.digest, lambda raw=image.manifest.raw: [raw])
        if built.index is not None:
            writer.blob(built.index.digest, lambda: [built.index.raw])
        index = read_index(root)
        entries = [e for e in index["manifests"]
                   if not (isinstance(e, dict) and (e.get("annotations") or {}).get(REF_NAME) == tag)]
        top = built.top
        entries.append({"mediaType": top.media_type, "digest": top.digest, "size": top.size,
                        "annotations": {REF_NAME: tag}})
        index["manifests"] = entries
        write_atomic(os.path.join(root, "index.json"), canonical_json(index))
    except OSError as exc:
        raise ConfigError(f"dest oci:{root}: cannot write the layout ({exc.strerror or exc}); "
                          "give a writable directory") from None
    return writer.stats
