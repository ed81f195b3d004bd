# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pushing a built catalog image to a registry, children before parents.

The base layers are copied blob by blob from the base registry: mounted when the base is on the
same registry under the same login, else streamed (``open_blob`` into ``upload_blob``; the
download checks the digest before the upload is committed). Then the catalog layer, the configs,
the per-platform manifests by digest, and last the tag; a HEAD of the tag checks that the
registry holds what was computed. A blob the destination already has is not sent again.

When the tag already points at the computed digest nothing is pushed and nothing changed; in
check mode nothing is pushed either way.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.image import BuiltImage
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch


def _bytes_source(data: bytes):
    @contextlib.contextmanager
    def source():
        yield iter((data,))
    return source


def _file_source(layer):
    @contextlib.contextmanager
    def source():
        yield layer.chunks()
    return source


def current_digest(client: Any, dest: ImageReference) -> str | None:
    """The digest the destination tag points at now, or None."""
    found = client.head_manifest(dest.repository, dest.ref)
    return found.digest if found is not None else None


class _Pusher:
    def __init__(self, pool: Any, dest: ImageReference, base: ImageReference):
        self.dest = dest
        self.base = base
        self.client = pool.client(dest.api_host, dest.repository)
        self.base_client = pool.client(base.api_host, base.repository)
        self.stats: Dict[str, int] = {"blobs_pushed": 0, "blobs_mounted": 0, "blobs_present": 0, "bytes_pushed": 0}
        self._done: set = set()

    def _present(self, digest: str) -> bool:
        if digest in self._done:
            return True
        if self.client.blob_size(self.dest.repository, digest) is not None:
            self._done.add(digest)
            self.stats["blobs_present"] += 1
            return True
        return False

    def base_blob(self, digest: str, size: int) -> None:
        if self._present(digest):
            return
        repo = self.dest.repository
        # one client means one registry and one login: the registry can mount without a copy
        if self.base_client is self.client and self.client.mount_blob(repo, digest, self.base.repository, size=size):
            self.stats["blobs_mounted"] += 1
        else:
            @contextlib.contextmanager
            def source():
                with self.base_client.open_blob(self.base.repository, digest, size=size) as chunks:
                    yield chunks
            self.stats["bytes_pushed"] += self.client.upload_blob(repo, digest, size, source, verified=True)
            self.stats["blobs_pushed"] += 1
        self._done.add(digest)

    def own_blob(self, digest: str, size: int, source) -> None:
        if self._present(digest):
            return
        self.stats["bytes_pushed"] += self.client.upload_blob(self.dest.repository, digest, size, source)
        self.stats["blobs_pushed"] += 1
        self._done.add(digest)


def push_image(pool: Any, built: BuiltImage, dest: ImageReference, base: ImageReference) -> Dict[str, int]:
    """Push ``built`` to ``dest`` (a reference with a tag); returns counts of what was sent."""
    pusher = _Pusher(pool, dest, base)
    repo = dest.repository
    for image in built.platforms:
        for layer in image.base_layers:
            pusher.base_blob(layer.digest, layer.size)
    pusher.own_blob(built.layer.digest, built.layer.size, _file_source(built.layer))
    for image in built.platforms:
        pusher.own_blob(image.config.digest, image.config.size, _bytes_source(image.config_raw))
    if built.index is not None:
        for image in built.platforms:
            pusher.client.put_manifest(repo, image.manifest.digest, image.manifest)
    pusher.client.put_manifest(repo, dest.tag, built.top)
    found = current_digest(pusher.client, dest)
    if found != built.digest:
        raise DigestMismatch(f"dest {dest}: pushed {built.digest} but the tag now points at {found}; "
                             "another client pushed to the same tag at the same time, or the registry rewrote it")
    return pusher.stats
