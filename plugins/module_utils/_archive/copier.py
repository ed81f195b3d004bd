# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine with archives as its destination.

:class:`ArchiveCopier` is the :class:`.transfer.Copier` with phase 2 replaced: phase 1 (read
the source manifests, ``filter_by_os``, children before parents) runs unchanged against a
destination that is the export history instead of a registry (:class:`HistoryTarget`): an
image whose target already got the same digest is *present*, a blob an earlier export shipped
to that registry is left out. Phase 2 streams each missing blob from the source into the
:class:`.writer.ArchiveWriter`, once per run whatever the number of images that share it, then
writes the image's manifests, children first.

An archive has no owners to probe and nothing to mount from (the owner probes of the registry
copy are skipped), so the export does not wait for the whole plan: each image's blobs start
streaming as soon as phase 1 has planned that image, while the others are still being planned,
up to ``2 x parallel_layers`` blobs ahead (what did not get a place then starts in phase 2, so
memory does not grow with the mapping). Phase 2 waits for an image's blobs and writes its
manifests once all of them are in. A blob started early is not fetched once the run stops
(``continue_on_error: false`` after a failure, or an interrupt). A dry run (check mode) only
plans.

Sources are read in parallel (``parallel_layers`` blob threads), each blob written into the
place the writer reserved for it as it arrives: a blob of up to 1 MiB is read whole first (its
digest checked; a source that fails reserves nothing), a larger one streams from the source
straight into the archive, its digest checked as the last chunk arrives (on a mismatch its place
waits for the next try). Memory stays at about 1 MiB per blob thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Dict, List, Optional, Set, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ImageEntry
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import BlobOutcome
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier, _Aborted
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.blobs import SMALL_BLOB
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor

# Descriptor media type of what HistoryTarget answers: only its digest is read.
_UNKNOWN = "application/octet-stream"
# How many blobs per blob thread phase 1 may start ahead of phase 2.
_EARLY_AHEAD = 2


class HistoryTarget:
    """Stands where the destination registry client stands in phase 1: answers from the
    history of earlier exports to ``host`` (nothing at all when the history is off)."""

    def __init__(self, history, host: str):
        self.history = history
        self.host = host

    def head_manifest(self, repo: str, ref: str) -> Optional[Descriptor]:
        if ref.startswith("sha256:") or ref.startswith("sha512:"):
            return None  # manifests of an archived image are always shipped
        digest = self.history.image(self.host, f"{repo}:{ref}") if self.history.enabled else None
        return Descriptor(media_type=_UNKNOWN, digest=digest, size=0) if digest else None

    def blob_size(self, repo: str, digest: str) -> Optional[int]:
        found = self.history.blob(self.host, digest) if self.history.enabled else None
        return found[0] if found else None


class ArchiveCopier(Copier):
    """Writes the images of mapping entries into ``writer``; see the module docstring."""

    def __init__(self, pool, options, progress, writer, history):
        self.writer = writer
        self.history = history
        super().__init__(pool, options, progress)

    def _reset(self) -> None:
        super()._reset()
        # digest -> Future[BlobOutcome] while being archived, then the BlobOutcome (a future, with
        # its lock and condition, per blob of the run would make memory grow with the images)
        self._archiving: Dict[str, Union[Future, BlobOutcome]] = {}
        # what the run archived: id(ImageResult) -> entry, plus the history's bookkeeping
        self.archived: Dict[int, ImageEntry] = {}
        self.shipped: Dict[str, Set[Tuple[str, int, str]]] = {}
        self.shipped_manifests: Dict[str, Set[str]] = {}
        self.shipped_images: Dict[str, Dict[str, str]] = {}
        self.base: Dict[str, Tuple[int, str]] = {}
        self.blobs_written = 0
        self.blob_bytes_written = 0
        # images archived besides the mapping's (catalog_mirror's built catalogs), after them
        self.extra_images: List[ImageEntry] = []
        self._record_lock = threading.Lock()
        # digests whose bytes were added to the progress's planned total (once each)
        self._announced: Set[str] = set()
        # blobs started by phase 1 and not done yet, at most _EARLY_AHEAD x parallel_layers
        self._early = threading.BoundedSemaphore(_EARLY_AHEAD * max(1, self.options.parallel_layers))

    # --- phase 1 hooks ----------------------------------------------------------------------

    def _destination(self, entry):
        return HistoryTarget(self.history, entry.dest.registry)

    def _locate(self, plans) -> None:
        """Nothing to mount from in an archive."""

    def _asks_for_children(self) -> bool:
        """The history answers for tags only (HistoryTarget): every child is archived."""
        return False

    def _planned(self, index, plan) -> None:
        """No owners in an archive (see _probe_owners)."""

    def _probe_owners(self, plans) -> None:
        """No owners in an archive: a blob is written once, wherever the history leaves it out."""

    def _phase1(self, entry, result):
        """Plan the image, then start archiving its blobs while there is room ahead (see the
        module docstring); phase 2 starts the others."""
        plan = super()._phase1(entry, result)
        if plan is None:
            return None
        for manifest in plan.manifests:
            for blob in manifest.blobs:
                if self._stop.is_set() or not self._early.acquire(blocking=False):
                    return plan
                future = self._archive_blob(plan, blob)
                future.add_done_callback(lambda _f: self._early.release())
        return plan

    def _announce_planned_bytes(self, plans: list) -> None:
        """Done blob by blob as each starts (:meth:`_archive_blob`)."""

    # --- phase 2 ----------------------------------------------------------------------------

    def _phase2(self, plan) -> None:
        entry, result = plan.entry, plan.result
        if self._stop.is_set():
            self._cancel(result)
            return
        host = entry.dest.registry
        repository = f"{host}/{entry.dest.repository}"
        stage = "archiving blobs"
        try:
            futures: Dict[str, Future] = {}
            wanted: Dict[str, Descriptor] = {}
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    if blob.digest not in futures:
                        wanted[blob.digest] = blob
                        futures[blob.digest] = self._archive_blob(plan, blob)
            for digest, future in futures.items():
                stage = f"archiving blob {digest} ({wanted[digest].size} bytes)"
                outcome: BlobOutcome = future.result()
                if outcome.kind == "uploaded" and outcome.owner == id(result):
                    result.blobs_uploaded += 1
                    result.bytes_sent += outcome.bytes_sent
                else:
                    result.blobs_present += 1
            for manifest in plan.manifests:
                stage = f"archiving manifest {manifest.digest}"
                self.writer.add_manifest(manifest.digest, manifest.raw, manifest.media_type)
                result.manifests_pushed += 1
            image = ImageEntry(source=str(entry.source), target=str(entry.dest), digest=plan.top.digest,
                               manifests=tuple(m.digest for m in plan.manifests if m is not plan.top))
            with self._record_lock:
                for digest, blob in wanted.items():
                    known = self._left_out(plan, blob)
                    if known is not None:
                        self.base.setdefault(digest, known)
                    else:
                        self.shipped.setdefault(host, set()).add((digest, blob.size, repository))
                self.shipped_manifests.setdefault(host, set()).update(m.digest for m in plan.manifests)
                self.shipped_images.setdefault(host, {})[f"{entry.dest.repository}:{entry.dest.tag}"] = plan.top.digest
                self.archived[id(result)] = image
            result.status = "copied"
        except _Aborted:
            if not self._interrupted.is_set():  # (an interrupt: run() marks it cancelled)
                self._cancel(result)  # its blobs were not fetched: the run stopped at another image's failure
                return
        except Exception as exc:  # noqa: BLE001 - one image's failure must not stop the others
            self._fail(entry, result, exc, stage)
        self._finish(result, plan.started)

    def _left_out(self, plan, blob: Descriptor) -> Optional[Tuple[int, str]]:
        """(size, repository) when the history says the target registry has ``blob``."""
        if not self.history.enabled:
            return None
        found = self.history.blob(plan.entry.dest.registry, blob.digest)
        return found if found is not None and found[0] == blob.size else None

    def _archive_blob(self, plan, blob: Descriptor) -> Future:
        """A future that completes once ``blob`` is in the archive or left out by the history."""
        owner = id(plan.result)
        with self._lock:
            known = self._archiving.get(blob.digest)
            if isinstance(known, Future):
                return known
            if known is not None:  # archived earlier in this run: its outcome names the image that wrote it
                done: Future = Future()
                done.set_result(known)
                return done
            if self.writer.has(blob.digest) or self._left_out(plan, blob) is not None:
                done = Future()
                done.set_result(BlobOutcome("present", 0, owner))
                return done
            future = Future()
            self._archiving[blob.digest] = future
            announce = self.progress is not None and blob.digest not in self._announced
            self._announced.add(blob.digest)
        if announce:
            self.progress.add_planned(blob.size)
        future.add_done_callback(lambda f: self._settle(blob.digest, f))
        self._submit_blob_job(lambda: self._write_blob(plan, blob, owner), future)
        return future

    def _settle(self, digest: str, future: Future) -> None:
        """A blob archived leaves its outcome in the table instead of its future; a blob that
        failed is dropped from it, so a later image tries it again."""
        with self._lock:
            if self._archiving.get(digest) is not future:
                return
            if not future.cancelled() and future.exception() is None:
                self._archiving[digest] = future.result()
            else:
                del self._archiving[digest]

    def _write_blob(self, plan, blob: Descriptor, owner: int) -> BlobOutcome:
        if self._interrupted.is_set():
            raise _Aborted(f"blob {blob.digest}: not started, the run was interrupted")
        if self._stop.is_set():  # continue_on_error false and an image failed: what is queued is not needed
            raise _Aborted(f"blob {blob.digest}: not started, the run stopped at the first failure")
        writer = self.writer
        if blob.size <= SMALL_BLOB:
            with self._source(plan, blob) as chunks:
                data = b"".join(chunks)  # the client checks the digest as the last chunk arrives
            if writer.has(blob.digest):
                return BlobOutcome("present", 0, owner)
            writer.add_blob(blob.digest, blob.size, (data,), blob.media_type)
        else:
            # streamed from the source into its place in the archive, beside the other blobs in flight
            with self._source(plan, blob) as chunks:
                writer.add_blob(blob.digest, blob.size, chunks, blob.media_type)
        with self._record_lock:
            self.blobs_written += 1
            self.blob_bytes_written += blob.size
        return BlobOutcome("uploaded", blob.size, owner)

    def images_in_order(self, results: List) -> List[ImageEntry]:
        """The archived images in the order of the mapping, then the extra ones."""
        return [self.archived[id(r)] for r in results if id(r) in self.archived] + list(self.extra_images)

    def add_extra(self, outcome) -> None:
        """Account for an image archived outside the mapping (a :class:`.built.BuiltOutcome`)."""
        image = outcome.image
        host = image.target.split("/", 1)[0]
        repository, tag = image.target.split("/", 1)[1].rsplit(":", 1)
        with self._record_lock:
            self.extra_images.append(image)
            self.shipped.setdefault(host, set()).update(outcome.shipped)
            self.shipped_manifests.setdefault(host, set()).update(outcome.manifests)
            self.shipped_images.setdefault(host, {})[f"{repository}:{tag}"] = image.digest
            for digest, known in outcome.base.items():
                self.base.setdefault(digest, known)
            self.blobs_written += outcome.blobs_written
            self.blob_bytes_written += outcome.bytes_written
