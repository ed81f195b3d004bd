# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phase 1 of the copy engine (see :mod:`.transfer`): find what the destination lacks.

Read-only. Per image, first decide whether the destination tag already points at the digest we
would push; if so, the image is *present* and left alone. For a digest-pinned line (what
``oc adm catalog mirror`` writes) without ``filter_by_os`` that is one HEAD, without asking the
source at all; otherwise the source manifest is read first (by digest when the line has one,
checking that digest) and ``filter_by_os`` applied, then one HEAD. This is what makes a re-run
cheap. For an image that is not present, read the child manifests the destination lacks (asked
only once some image of the mapping was found complete: see ``PlanPhase._asks_for_children``). A dry
run then HEADs every blob in the image's destination repository; a real run HEADs each blob once
per target host, in the repository of its owner, from the end of the owner's planning (in mapping
order) up to the barrier (:meth:`PlanPhase._planned`, :meth:`PlanPhase._probe_owners`).

``filter_by_os`` is a regular expression searched in each index entry's ``os/arch[/variant]``:
one match pushes that platform's manifest itself under the tag (like ``oc image mirror
--filter-by-os``); several push a new index of the matches; all of them keep the index as it is.
A source that is a single manifest is copied as is.

Blobs that sit only in the repositories of images found present (left alone without reading
their blobs) are located after the barrier by reading those images' manifests from the
destination, within a budget, only when something would otherwise be uploaded.

Every plan is held from phase 1 to its phase 2, so a plan keeps only what phase 2 needs of its
manifests (:class:`PlannedManifest`: bytes, media type, digest, blobs; not the parsed document)
and drops them once its phase 2 has run (:meth:`ImagePlan.release`). The probe table keeps a
probe's answer, not its future, once it is known.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import BlobOutcome, CopyOptions, ImageResult
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor, Manifest, filter_index
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch, RegistryError

# An index nested deeper than this is refused (a loop in a hostile or broken registry).
_MAX_DEPTH = 4

# The outcome of a blob a probe found in place (the blob table's value: no one did the work).
_PRESENT = BlobOutcome("present")


def landed(value: Future | BlobOutcome | None) -> BlobOutcome | None:
    """The outcome of a value of the blob table when the blob is present there: the table holds
    a future while the blob is being made present, its outcome once it is."""
    if isinstance(value, BlobOutcome):
        return value
    if value is not None and value.done() and value.exception() is None:
        return value.result()
    return None


class PlannedManifest(Manifest):
    """A manifest as a plan holds it until its phase 2: its exact bytes, media type, digest and
    blobs (config first, then layers), without the parsed document (parsed again if asked for).

    ``shared`` maps each blob descriptor to the run's one copy of it (equal descriptors: same
    media type, digest and size), so a base layer that every image lists is held once."""

    def __init__(self, manifest: Manifest, shared: dict[Descriptor, Descriptor]):
        super().__init__(raw=manifest.raw, media_type=sys.intern(manifest.media_type), digest=manifest.digest)
        blobs = []
        for blob in manifest.blobs:
            known = shared.get(blob)
            if known is None:
                known = replace(blob, media_type=sys.intern(blob.media_type))
                shared[known] = known
            blobs.append(known)
        self._blob_list = tuple(blobs)

    @property
    def blobs(self) -> list[Descriptor]:
        return list(self._blob_list)


@dataclass
class ImagePlan:
    """Phase 1's findings for one image that is not already at its destination."""

    entry: Any
    result: ImageResult
    src: Any
    dst: Any
    # what goes under the tag; None once released
    top: Manifest | None
    started: float = 0.0
    # manifests to push, children first, the top one last; empty once released
    manifests: list[Manifest] = field(default_factory=list)
    # id() of ``result``: the owner of the BlobOutcomes of the work done for this image (one int
    # for all of them)
    owner: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.owner = id(self.result)

    def compact(self, shared: dict[Descriptor, Descriptor]) -> None:
        """Keep of each manifest only what phase 2 reads (:class:`PlannedManifest`); ``top``
        stays one of ``manifests``."""
        planned = [m if isinstance(m, PlannedManifest) else PlannedManifest(m, shared) for m in self.manifests]
        for old, new in zip(self.manifests, planned):
            if old is self.top:
                self.top = new
        self.manifests = planned

    def release(self) -> None:
        """Drop the manifests once phase 2 has run: the run still holds the plan of a blob's
        owner (for the mounts of later images), never its manifests."""
        self.manifests = []
        self.top = None


@dataclass
class _Present:
    """An image already complete at its destination: its blobs are all in ``dst``'s ``repo``."""

    host: str
    repo: str
    source_repo: str
    dst: Any
    digest: str
    manifest: Manifest | None = None  # what sits at the destination, when already read


class PlanPhase:
    """Phase 1 and the hints taken from it, mixed into :class:`.transfer.Copier`.

    Copier owns the run's state (set in ``Copier._reset``) and the per-image bookkeeping
    (``_submit_blob_job``, ``_fail``, ``_finish``, ``_cancel``) used here.
    """

    options: CopyOptions
    progress: Any
    pool: Any
    _pattern: re.Pattern | None
    _lock: threading.Lock
    _stop: threading.Event
    _blobs: dict[tuple[str, str], dict[str, Future | BlobOutcome]]
    _sizes: dict[tuple[str, str], int]
    _probes: dict[tuple[str, str, str], Future | bool]
    _present: list[_Present]
    _hints: dict[tuple[str, str], str]
    _owners: dict[tuple[str, str], ImagePlan]
    _descriptors: dict[Descriptor, Descriptor]

    # --- per image ------------------------------------------------------------------------

    def _destination(self, entry):
        """What phase 1 asks about the destination: its registry client (the archive export
        answers from its history instead, see _archive/copier.py)."""
        return self.pool.client(entry.dest.api_host, entry.dest.repository)

    def _phase1(self, entry, result: ImageResult) -> ImagePlan | None:
        if self._stop.is_set():
            self._cancel(result)
            return None
        if self.progress is not None:
            self.progress.image_started(entry)
        started = time.monotonic()
        stage = "checking the destination"
        try:
            src = self.pool.client(entry.source.api_host, entry.source.repository)
            dst = self._destination(entry)
            if entry.source.digest and self._pattern is None:
                # A digest-pinned line (what oc adm catalog mirror writes) names the digest the
                # destination must have: one HEAD decides, without asking the source at all.
                result.source_digest = result.dest_digest = entry.source.digest
                if self._already_there(entry, dst, entry.source.digest, None):
                    result.status = "present"
                    self._finish(result, started)
                    return None

            stage = "reading the source"
            source = src.get_manifest(entry.source.repository, entry.source.ref)
            if entry.source.digest and source.digest != entry.source.digest:
                raise DigestMismatch(
                    f"the source served manifest {source.digest}, not the {entry.source.digest} the line names"
                )
            result.source_digest = source.digest
            top, child_desc = self._choose_top(source)
            target_digest = child_desc.digest if child_desc is not None else top.digest
            result.dest_digest = target_digest
            result.digest_changed = target_digest != source.digest

            if not (entry.source.digest and self._pattern is None):
                stage = "checking the destination"
                if self._already_there(entry, dst, target_digest, None if child_desc is not None else top):
                    result.status = "present"
                    self._finish(result, started)
                    return None

            stage = "reading the source"
            if child_desc is not None:
                top = self._get_by_digest(src, entry.source.repository, child_desc.digest)
            plan = ImagePlan(entry=entry, result=result, src=src, dst=dst, top=top, started=started)
            stage = "planning"
            self._collect(plan, top, depth=0)
            with self._lock:
                plan.compact(self._descriptors)
            if self.options.dry_run:
                stage = "checking the destination's blobs"
                missing = self._probe_blobs(plan)
        except Exception as exc:  # noqa: BLE001 - one image's failure must not stop the others
            self._fail(entry, result, exc, stage)
            self._finish(result, started)
            return None

        if self.options.dry_run:
            result.status = "missing"
            result.missing_blobs = len(missing)
            result.missing_bytes = sum(b.size for b in missing)
            self._finish(result, started)
            return None
        return plan

    def _already_there(self, entry, dst, digest: str, manifest: Manifest | None) -> bool:
        """Whether the destination tag resolves to ``digest``; if so, remember the image as a
        place its blobs can be mounted from (see :meth:`_locate`)."""
        current = dst.head_manifest(entry.dest.repository, entry.dest.tag)
        if current is None or current.digest != digest:
            return False
        with self._lock:
            self._present.append(_Present(
                host=entry.dest.api_host, repo=entry.dest.repository, source_repo=entry.source.repository,
                dst=dst, digest=digest, manifest=manifest,
            ))
        return True

    def _choose_top(self, source: Manifest) -> tuple[Manifest, Descriptor | None]:
        """What goes under the tag: the source as is, a filtered index, or (with one platform
        matching) the descriptor of the single child to push instead of an index."""
        if self._pattern is None or not source.is_index:
            return source, None
        filtered = filter_index(source, self.options.filter_by_os or "")
        platforms = [c for c in filtered.children if c.platform_string and self._pattern.search(c.platform_string)]
        if len(platforms) == 1:
            return source, platforms[0]
        if len(filtered.children) == len(source.children):
            return source, None  # everything matches: keep the original bytes and digest
        return filtered, None

    def _get_by_digest(self, src, repo: str, digest: str) -> Manifest:
        manifest = src.get_manifest(repo, digest)
        if manifest.digest != digest:
            raise DigestMismatch(f"the source served manifest {manifest.digest} when asked for {digest}")
        return manifest

    def _collect(self, plan: ImagePlan, manifest: Manifest, depth: int) -> None:
        """Append to ``plan.manifests`` what the destination lacks, children before parents."""
        if depth > _MAX_DEPTH:
            raise RegistryError(f"index {manifest.digest} nests indexes more than {_MAX_DEPTH} deep; refusing it")
        repo = plan.entry.dest.repository
        for child in manifest.children:
            if any(m.digest == child.digest for m in plan.manifests):
                continue
            if self._asks_for_children():
                there = plan.dst.head_manifest(repo, child.digest)
                if there is not None and there.digest == child.digest:
                    continue  # pushed by an earlier run: its blobs are there too
            self._collect(plan, self._get_by_digest(plan.src, plan.entry.source.repository, child.digest), depth + 1)
        plan.manifests.append(manifest)

    def _asks_for_children(self) -> bool:
        """Whether planning asks the destination for each child manifest of an image it lacks:
        only once an image of the mapping was found complete there (a re-run, or the resume of a
        killed run, where children it left are skipped with their blobs and source reads). On a
        first run into an empty target every such HEAD would miss; a resume that found no image
        complete pushes the children again (their blobs are found by the owners' probes)."""
        return bool(self._present)

    def _probe_blobs(self, plan: ImagePlan) -> list[Descriptor]:
        """A dry run's check: HEAD every blob of the plan in the destination repository (in the
        blob pool, shared between images); record what is present. Returns the missing ones."""
        host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
        wanted: dict[str, Descriptor] = {}
        for manifest in plan.manifests:
            for blob in manifest.blobs:
                wanted.setdefault(blob.digest, blob)
        probes = {digest: self._probe(plan.dst, host, repo, blob) for digest, blob in wanted.items()}
        missing = []
        for digest, future in probes.items():
            if not future.result():
                missing.append(wanted[digest])
        return missing

    def _planned(self, index: int, plan: ImagePlan | None) -> None:
        """Phase 1 of entry ``index`` has ended (``plan`` None: nothing to copy). Once every entry
        before it has ended too, the blobs of those plans get their owners, in mapping order as
        :meth:`_probe_owners` would name them, and their probes start while planning goes on, at
        most ``4 x parallel_layers`` of them queued or running: the barrier then waits for their
        answers (or sends the rest) instead of sending every probe after it."""
        if self.options.dry_run:
            return
        with self._prefix_lock:
            self._prefix[index] = plan
            while self._prefix_next in self._prefix:
                ready = self._prefix.pop(self._prefix_next)
                self._prefix_next += 1
                if ready is not None:
                    self._claim_owners(ready)

    def _claim_owners(self, plan: ImagePlan) -> None:
        host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
        for manifest in plan.manifests:
            for blob in manifest.blobs:
                key = (host, blob.digest)
                with self._lock:
                    if key in self._owners:
                        continue
                    self._owners[key] = plan
                    if self._early_probes >= 4 * self.options.parallel_layers:
                        continue  # the barrier sends it
                    self._early_probes += 1
                self._probe(plan.dst, host, repo, blob).add_done_callback(self._early_probe_done)

    def _early_probe_done(self, _future: Future) -> None:
        with self._lock:
            self._early_probes -= 1

    def _probe_owners(self, plans: list[ImagePlan]) -> None:
        """After the barrier, before any upload: name each blob's owner, the first image of the
        mapping that needs it on its host, and HEAD the blob in the owner's repository only
        (:meth:`_planned` did both for most blobs while planning went on: here their answers are
        collected, and the probes it left out are sent).

        Phase 2 makes the blob present in the owner's repository first (uploaded, or found by
        this HEAD) and mounts it into the others: one probe per (host, digest), not per
        repository. The owner is the same image on a
        re-run of the same mapping, so a killed run's uploads are found where they landed; a
        blob that landed only in the repository of an image phase 1 found complete is found by
        :meth:`_locate`. When the run looks like a re-run (an owner's probe found its blob, or
        phase 1 found an image complete), a blob its owner's probe missed is asked for in the
        other repositories that need it, so that what a killed run left there is mounted rather
        than sent again when the owner changed (the mapping changed, or the former owner failed
        phase 1); a first run into an empty target keeps one probe per blob. A probe that fails
        is only a lost hint: phase 2 HEADs again before uploading.

        At most a few probes per blob thread are in flight (queued or running) at a time, so the
        barrier does not hold a future per blob of the mapping."""
        found: dict[tuple[str, str], bool | None] = {}
        inflight: deque[tuple[tuple[str, str], Future]] = deque()
        window = 4 * self.options.parallel_layers
        for plan in plans:
            host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    key = (host, blob.digest)
                    with self._lock:
                        owner = self._owners.setdefault(key, plan)  # named already by _planned, mostly
                    if owner is not plan or key in found:
                        continue
                    found[key] = None
                    # the probe _planned started (its answer, or its future), else a new one
                    inflight.append((key, self._probe(plan.dst, host, repo, blob)))
                    while len(inflight) > window:
                        done_key, future = inflight.popleft()
                        found[done_key] = self._probe_result(future)
        for done_key, future in inflight:
            found[done_key] = self._probe_result(future)
        inflight.clear()
        with self._lock:
            rerun = any(found.values()) or bool(self._present)
        if not rerun:
            return
        others: deque[Future] = deque()
        for plan in plans:
            host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    key = (host, blob.digest)
                    if key in found and not found[key] and self._owners[key].entry.dest.repository != repo:
                        others.append(self._probe(plan.dst, host, repo, blob))
                        while len(others) > window:
                            self._probe_result(others.popleft())
        for future in others:
            self._probe_result(future)

    @staticmethod
    def _probe_result(future: Future) -> bool | None:
        """A probe's answer, ``None`` when it failed (phase 2 asks again)."""
        try:
            return bool(future.result())
        except Exception:  # noqa: BLE001 - see _probe_owners: only a lost hint
            return None

    def _probe(self, dst, host: str, repo: str, blob: Descriptor) -> Future:
        """A future for whether ``blob`` is in ``repo`` (one HEAD per (host, repo, digest) in the
        run); the table keeps the answer instead of the future once it is known."""
        key = (host, repo, blob.digest)
        with self._lock:
            self._sizes.setdefault((host, blob.digest), blob.size)
            known = self._probes.get(key)
            if isinstance(known, Future):
                return known
            if known is None and landed(self._blobs.get((host, blob.digest), {}).get(repo)) is not None:
                known = self._probes[key] = True
            if known is not None:
                answered: Future = Future()
                answered.set_result(known)
                return answered
            future: Future = Future()
            self._probes[key] = future
        future.add_done_callback(lambda f: self._keep_answer(key, f))

        def job() -> bool:
            size = dst.blob_size(repo, blob.digest)
            present = size is not None and size == blob.size
            if present and not self.options.dry_run:
                self._record_present(host, repo, blob.digest)
            return present

        self._submit_blob_job(job, future)
        return future

    def _keep_answer(self, key: tuple[str, str, str], future: Future) -> None:
        """A probe that answered leaves its answer in the table (a failed one keeps its future,
        whose exception the images of a dry run that share it report)."""
        if future.exception() is not None:
            return
        with self._lock:
            if self._probes.get(key) is future:
                self._probes[key] = bool(future.result())

    def _record_present(self, host: str, repo: str, digest: str) -> None:
        with self._lock:
            self._blobs.setdefault((host, digest), {}).setdefault(repo, _PRESENT)

    # --- after the barrier: what phase 2 can mount, and how much it will send --------------

    def _locate(self, plans: list[ImagePlan]) -> None:
        """Find where blobs that are missing everywhere we looked might already be.

        A blob missing from its destination repository and not seen in any other one may still
        sit on that registry in the repository of an image that phase 1 found complete
        (a previous, killed run finished it; or an earlier mirror shares base layers). Read the
        manifests of those images, most likely first (same source repository), until every such
        blob is located or a budget of manifest reads is spent; phase 2 then mounts instead of
        uploading. Nothing here is needed for correctness: a wrong hint costs one mount request.
        """
        need: dict[str, set[str]] = {}
        wanted_repos: set[tuple[str, str]] = set()
        with self._lock:
            for plan in plans:
                host = plan.entry.dest.api_host
                for manifest in plan.manifests:
                    for blob in manifest.blobs:
                        if not self._blobs.get((host, blob.digest)):
                            need.setdefault(host, set()).add(blob.digest)
                            wanted_repos.add((host, plan.entry.source.repository))
            present = [s for s in self._present if need.get(s.host)]
        if not present:
            return
        present.sort(key=lambda s: (s.host, s.source_repo) not in wanted_repos)
        budget = max(32, 4 * sum(len(v) for v in need.values()))
        for image in present:
            left = need[image.host]
            if not left:
                continue
            if budget <= 0:
                break
            top = image.manifest
            if top is None:
                budget -= 1
                try:
                    top = image.dst.get_manifest(image.repo, image.digest)
                except Exception:  # noqa: BLE001 - only a hint: an unreadable one is skipped
                    continue
            manifests = [top]
            budget -= len(top.children)
            futures = []
            for child in top.children:
                future: Future = Future()
                self._submit_blob_job(lambda c=child, i=image: i.dst.get_manifest(i.repo, c.digest), future)
                futures.append(future)
            for future in futures:
                try:
                    manifests.append(future.result())
                except Exception:  # noqa: BLE001 - only a hint: an unreadable one is skipped
                    continue
            for manifest in manifests:
                for blob in manifest.blobs:
                    if blob.digest in left:
                        left.discard(blob.digest)
                        with self._lock:
                            self._hints.setdefault((image.host, blob.digest), image.repo)

    def _announce_planned_bytes(self, plans: list) -> None:
        """Tell Progress how many bytes phase 2 will send: blobs present nowhere on their host."""
        if self.progress is None:
            return
        total = 0
        seen: set[tuple[str, str]] = set()
        for plan in plans:
            if plan is None:
                continue
            host = plan.entry.dest.api_host
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    key = (host, blob.digest)
                    if key in seen:
                        continue
                    seen.add(key)
                    if not self._blobs.get(key) and key not in self._hints:
                        total += blob.size
        self.progress.add_planned(total)
