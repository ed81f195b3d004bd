# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base of an incremental import: what the archives leave out must already be in the target.

An export with a history leaves out the blobs an earlier export shipped (contents.json
``history``). Before anything is pushed, every blob an image needs and the archives lack is
looked for in the target registry: in the image's own repository, then in the repository the
history says it was shipped to, then in the other target repositories of the run on that
registry. One found elsewhere is mounted into the image's repository before the copy (a
cross-repository mount, or when the registry declines one, a copy within the registry). A blob
found nowhere fails the import before anything is pushed, naming the blobs and their images and
saying how to recover. Images the history lists as shipped must still be at their target.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AuthError, NotFound

_SHOWN = 5
_OTHER_REPOS = 8
RECOVERY = (
    "The archives were made incrementally (archive_history) and left out what an earlier export shipped, but "
    "the target registry does not hold it: run the export again with archive_history: false to ship everything, "
    "or reset the history file to what this registry holds (delete it, or re-run the export after importing the "
    "earlier archives here), then import the new archives"
)


@dataclass
class Needed:
    """A blob the archives lack, needed in ``repo`` on ``host`` by ``images``."""

    host: str
    repo: str
    blob: Descriptor
    images: List[str] = field(default_factory=list)
    found_in: Optional[str] = None  # another repository of the registry that holds it
    present: bool = False  # already in ``repo``


@dataclass
class BaseCheck:
    """The outcome: blobs to mount before the copy, and what is missing."""

    mounts: List[Needed] = field(default_factory=list)
    missing: List[Needed] = field(default_factory=list)
    missing_images: List[Tuple[str, str]] = field(default_factory=list)  # (target, why)

    def error(self) -> ArchiveError:
        parts = []
        if self.missing:
            shown = "; ".join(f"{n.blob.digest} ({n.blob.size} bytes, needed by {', '.join(sorted(set(n.images)))})"
                              for n in self.missing[:_SHOWN])
            more = f" and {len(self.missing) - _SHOWN} more" if len(self.missing) > _SHOWN else ""
            parts.append(f"{len(self.missing)} blob(s) are neither in the archives nor in the target registry: "
                         f"{shown}{more}")
        if self.missing_images:
            shown = "; ".join(f"{target} ({why})" for target, why in self.missing_images[:_SHOWN])
            more = f" and {len(self.missing_images) - _SHOWN} more" if len(self.missing_images) > _SHOWN else ""
            parts.append(f"{len(self.missing_images)} image(s) an earlier export shipped are not in the target "
                         f"registry: {shown}{more}")
        return ArchiveError(f"{'; '.join(parts)}. Nothing was pushed. {RECOVERY}")


def _head(client, repo: str, blob: Descriptor) -> bool:
    try:
        return client.blob_size(repo, blob.digest) == blob.size
    except (NotFound, AuthError):
        return False


def check_base(pool: Any, needs: List[Needed], candidates: Dict[str, List[str]], history_repos: Dict[str, str],
               shipped: List[Tuple[Any, str]], workers: int) -> BaseCheck:
    """Look for every needed blob in the target (see the module docstring).

    ``candidates``: host -> target repositories of the run; ``history_repos``: digest -> the
    repository (``host/path``) the history says the blob went to; ``shipped``: (target reference,
    digest) of images an earlier export shipped.
    """
    outcome = BaseCheck()

    def look(need: Needed) -> None:
        client = pool.client(need.host, need.repo)
        if _head(client, need.repo, need.blob):
            need.present = True
            return
        order: List[str] = []
        shipped_to = history_repos.get(need.blob.digest)
        if shipped_to and shipped_to.split("/", 1)[0] == need.host and "/" in shipped_to:
            order.append(shipped_to.split("/", 1)[1])
        # a few other repositories of the run: enough for base layers shared between images,
        # bounded so that a registry that lost everything fails in a few HEADs per blob
        order.extend([r for r in candidates.get(need.host, []) if r not in order and r != need.repo][:_OTHER_REPOS])
        for repo in order:
            if repo != need.repo and _head(pool.client(need.host, repo), repo, need.blob):
                need.found_in = repo
                return

    def look_image(item: Tuple[Any, str]) -> Optional[Tuple[str, str]]:
        ref, digest = item
        found = pool.client(ref.api_host, ref.repository).head_manifest(ref.repository, ref.tag or digest)
        if found is None:
            return str(ref), "manifest unknown"
        if found.digest != digest:
            return str(ref), f"holds {found.digest}, not {digest}"
        return None

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="airgap-base") as executor:
        list(executor.map(look, needs))
        outcome.missing_images = [m for m in executor.map(look_image, shipped) if m is not None]
    outcome.mounts = [n for n in needs if n.found_in is not None]
    outcome.missing = [n for n in needs if n.found_in is None and not n.present]
    return outcome


def mount_all(pool: Any, mounts: List[Needed], workers: int) -> int:
    """Make every blob of ``mounts`` present in its repository; returns the bytes copied within the
    registry (0 when every mount was accepted)."""

    def one(need: Needed) -> int:
        client = pool.client(need.host, need.repo)
        digest, size = need.blob.digest, need.blob.size
        try:
            # confirmed by the 201's Docker-Content-Digest, or else by a HEAD of its size
            mounted = client.mount_blob(need.repo, digest, need.found_in, size=size)
        except (NotFound, AuthError):
            mounted = False
        if not mounted:
            source = pool.client(need.host, need.found_in)
            return client.upload_blob(need.repo, digest, size,
                                      lambda: source.open_blob(need.found_in, digest, size=size), verified=True)
        return 0

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="airgap-mount") as executor:
        return sum(executor.map(one, mounts))
