# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Images computed on the connected side (catalog_mirror's pruned catalogs) written into the
archives with the mapping's images, as :func:`_build.push.push_image` would push them: the base
layers streamed from the base registry (digest-checked), the catalog layer from its file, the
configs, the per-platform manifests, then the top one. Nothing here reads a mapping line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Set, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ImageEntry


@dataclass(frozen=True)
class BuiltExport:
    """A built image (``prepared``: a ``_build.build.Prepared``) to archive under ``dest`` (an
    ImageReference with a tag), as the CatalogSource points at it."""

    prepared: Any
    dest: Any

    @property
    def target(self) -> str:
        return str(self.dest)

    @property
    def source(self) -> str:
        return f"built on {self.prepared.base_ref}"

    @property
    def digest(self) -> str:
        return self.prepared.digest


@dataclass
class BuiltOutcome:
    image: ImageEntry
    blobs_written: int
    bytes_written: int
    shipped: Set[Tuple[str, int, str]]
    manifests: List[str]
    base: Dict[str, Tuple[int, str]]


def archive_built(item: BuiltExport, writer, pool, history) -> BuiltOutcome:
    """Write ``item`` into ``writer``; blobs already archived or shipped (``history``) are not
    written again."""
    built, base_ref, dest = item.prepared.built, item.prepared.base_ref, item.dest
    host, repository = dest.registry, f"{dest.registry}/{dest.repository}"
    base_client = pool.client(base_ref.api_host, base_ref.repository)
    outcome = BuiltOutcome(image=ImageEntry(source=item.source, target=item.target, digest=built.digest,
                                            manifests=tuple(p.manifest.digest for p in built.platforms)
                                            if built.index is not None else ()),
                           blobs_written=0, bytes_written=0, shipped=set(), manifests=[], base={})

    def known(digest: str, size: int) -> Optional[Tuple[int, str]]:
        found = history.blob(host, digest) if history.enabled else None
        return found if found is not None and found[0] == size else None

    def put(digest: str, size: int, media_type: Optional[str], opener) -> None:
        previous = known(digest, size)
        if previous is not None:
            outcome.base.setdefault(digest, previous)
            return
        outcome.shipped.add((digest, size, repository))
        if writer.has(digest):
            return
        with opener() as chunks:
            writer.add_blob(digest, size, chunks, media_type)
        outcome.blobs_written += 1
        outcome.bytes_written += size

    for image in built.platforms:
        for layer in image.base_layers:
            put(layer.digest, layer.size, layer.media_type,
                lambda d=layer.digest, s=layer.size: base_client.open_blob(base_ref.repository, d, size=s))
    put(built.layer.digest, built.layer.size, None, lambda: _iterable(built.layer.chunks()))
    for image in built.platforms:
        put(image.config.digest, image.config.size, image.config.media_type,
            lambda raw=image.config_raw: _iterable(iter((raw,))))
    manifests = [p.manifest for p in built.platforms] if built.index is not None else []
    for manifest in manifests + [built.top]:
        writer.add_manifest(manifest.digest, manifest.raw, manifest.media_type)
        outcome.manifests.append(manifest.digest)
    return outcome


def missing_blobs(item: BuiltExport, history) -> Tuple[int, int]:
    """(count, bytes) of the blobs of ``item`` the history does not hold: what check mode reports."""
    built, host = item.prepared.built, item.dest.registry
    blobs = {built.layer.digest: built.layer.size}
    for image in built.platforms:
        blobs[image.config.digest] = image.config.size
        blobs.update((layer.digest, layer.size) for layer in image.base_layers)
    missing = {d: s for d, s in blobs.items()
               if not history.enabled or (history.blob(host, d) or (None,))[0] != s}
    return len(missing), sum(missing.values())


@contextlib.contextmanager
def _iterable(chunks):
    yield chunks
