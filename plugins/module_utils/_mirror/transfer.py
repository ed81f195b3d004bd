# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine: mirror the images of a mapping, registry to registry.

A run has two phases with a barrier between them:

1. **plan** (:mod:`.transfer_plan`), read-only, over ``parallel_images + parallel_layers`` threads:
   per image, find what the destination lacks. An image whose destination tag already points
   at the digest we would push is *present* and left alone. A dry run (check mode) stops here
   and reports what is missing.
2. **transfer and verify** (this file), over ``parallel_images`` threads: per image, make every
   blob present in the destination repository, push child manifests by digest once their blobs
   are there, then the top manifest under the tag, then HEAD digest and tag to prove the
   registry kept it (the "manifest unknown" of bugzilla 1800674 is caught here, not by the
   cluster).

The barrier is what makes a killed run resume without re-sending anything. Each blob has an
owner, the first image of the mapping that needs it on its target host; before any upload (from
the end of that image's planning, in mapping order, up to the barrier), one HEAD per blob asks the
owner's repository (not every repository), and
phase 2 makes the blob present there first and mounts it into the others. A re-run of the same
mapping has the same owners, so what a killed run finished is found where it landed (or, in the
repository of an image phase 1 found complete, by :meth:`PlanPhase._locate`).

Blobs are deduplicated over the whole run by a table keyed by (target host, digest) holding,
per target repository, a future for "this blob is present there" while it is being made present,
then just its :class:`BlobOutcome` (a future, with its lock and condition, per (repository, blob)
of the run would make memory grow with the images). The owner's repository gets
the blob first (streamed from the source, never held whole in memory); images needing it in the
same repository wait on the same future; other repositories get it by cross-repository mount,
confirmed by the digest the registry's 201 names, or by a HEAD of its size when the 201 names
none (a mount of a blob already there answers 201 too, and counts as mounted). When the
registry declines a mount, a repository that was not probed is HEADed before the blob is
uploaded into it.
Blob work runs in its own pool of ``parallel_layers`` threads and never waits on anything, so
image threads can wait on blob futures without any risk of deadlock.

An interrupt (Ctrl-C, or SIGTERM under :func:`interrupt.interruptible`) reaches the thread that
called :meth:`Copier.run`: queued planning and image work is cancelled, blob transfers in flight
stop at their next chunk (an upload not committed leaves nothing behind), every image not done is
``cancelled``, :attr:`Copier.last_report` holds the partial report, and the interrupt is raised
again for the caller to report. What was committed stays, so the next run resumes from there.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer_plan import ImagePlan, PlanPhase, landed
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import (
    BlobOutcome,
    CopyOptions,
    CopyReport,
    ImageResult,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    AuthError,
    ConfigError,
    DigestMismatch,
    NotFound,
    RegistryError,
)


# Locks the manifest pushes are spread over (see Copier._manifest_locks_for).
_MANIFEST_STRIPES = 64


class _Aborted(AirgapError):
    """Raised in worker threads once the run is interrupted: stops their transfer where it is."""


class Copier(PlanPhase):
    """Copies mapping entries with a :class:`RegistryPool`; see the module docstring."""

    def __init__(self, pool, options: CopyOptions | None = None, progress=None):
        self.pool = pool
        self.options = options or CopyOptions()
        self.progress = progress
        if self.options.parallel_images < 1 or self.options.parallel_layers < 1:
            raise ConfigError("parallel_images and parallel_layers must be 1 or more")
        self._pattern = None
        if self.options.filter_by_os:
            try:
                self._pattern = re.compile(self.options.filter_by_os)
            except re.error as exc:
                raise ConfigError(
                    f"filter_by_os {self.options.filter_by_os!r} is not a valid regular expression: {exc}"
                ) from None
        self._lock = threading.Lock()
        self._blob_pool: ThreadPoolExecutor | None = None
        self.last_report: CopyReport | None = None
        self._interrupt_name: str | None = None
        self.pool.add_retry_listener(self._count_retry)
        self._reset()

    def _reset(self) -> None:
        self._stop = threading.Event()
        self._interrupted = threading.Event()
        self._interrupt_name = None
        self._retries = 0
        # (host, digest) -> {repository: Future[BlobOutcome] while being made present, then its
        # BlobOutcome}: where each blob is
        self._blobs: dict[tuple[str, str], dict[str, Future | BlobOutcome]] = {}
        self._sizes: dict[tuple[str, str], int] = {}
        # (host, repository, digest) -> Future[bool] until answered, then the bool: HEADs of
        # blobs, shared between images
        self._probes: dict[tuple[str, str, str], Future | bool] = {}
        # images found complete at their destination (typed in PlanPhase), and (host, digest) -> a
        # repository whose complete image lists that blob: where a blob a previous run finished can
        # be mounted from
        self._present = []
        self._hints: dict[tuple[str, str], str] = {}
        # (host, digest) -> the plan of the first image of the mapping that needs the blob there
        self._owners = {}
        # plans whose phase 1 ended before an earlier entry's did (index -> plan), the index of
        # the first entry still planning, and the owner probes started before the barrier that
        # have not answered yet (see PlanPhase._planned)
        self._prefix: dict[int, ImagePlan | None] = {}
        self._prefix_next = 0
        self._prefix_lock = threading.Lock()
        self._early_probes = 0
        # the one copy of each blob descriptor the plans list (see PlannedManifest), while planning
        self._descriptors = {}
        # (host, digest) whose upload into its owner's repository failed: the other images no
        # longer wait on the owner (no fresh owner upload, with its retries, per image)
        self._owner_failed: set[tuple[str, str]] = set()
        # pushes of a manifest, and of the indexes listing it, one at a time (see _manifest_locks_for)
        self._manifest_locks = [threading.Lock() for _dummy in range(_MANIFEST_STRIPES)]

    # --- plumbing ---------------------------------------------------------------------------

    def _find_secrets(self) -> list[str]:
        # a second line of defence: the registry client already keeps secrets out of messages.
        # Read at each message, not once: credential helpers answer during the run.
        return list(self.pool.auth.secrets())

    def _count_retry(self, message: str) -> None:
        with self._lock:
            self._retries += 1
        note = getattr(self.progress, "note_retry", None)
        if note is not None:
            note(message)

    def _redact(self, text: str) -> str:
        secrets = self._find_secrets()
        return redact(text, secrets) if secrets else text

    def _submit_blob_job(self, job: Callable[[], Any], future: Future) -> None:
        def run() -> None:
            try:
                future.set_result(job())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                future.set_exception(exc)

        if self._blob_pool is None:
            raise RuntimeError("blob work submitted outside Copier.run()")
        try:
            self._blob_pool.submit(run)
        except RuntimeError as exc:  # the pool is shutting down: the run is over
            if not future.done():
                future.set_exception(RegistryError(f"blob work was not started: {exc}"))

    # --- the run ----------------------------------------------------------------------------

    def run(self, entries: list) -> CopyReport:
        """Copy every entry; never raises for one image's failure (see ImageResult.status).
        Raises KeyboardInterrupt (or :class:`errors.Interrupted`) after cleaning up when
        interrupted; :attr:`last_report` is then the partial report."""
        start = time.monotonic()
        self._reset()
        self.last_report = None
        results = [ImageResult(source=str(e.source), dest=str(e.dest), origin=e.origin) for e in entries]
        plans: list[ImagePlan | None] = [None] * len(entries)
        self._blob_pool = ThreadPoolExecutor(self.options.parallel_layers, thread_name_prefix="airgap-blob")
        try:
            # Planning is HEADs and small GETs, bound by round trips rather than bandwidth: it
            # gets the threads of both pools (the registry pool is sized for that many).
            planners = self.options.parallel_images + self.options.parallel_layers
            with ThreadPoolExecutor(planners, thread_name_prefix="airgap-plan") as planning:
                plans = self._each(planning, self._plan, enumerate(zip(entries, results)), planners)
            self._descriptors.clear()  # the plans hold theirs until their phase 2
            with ThreadPoolExecutor(self.options.parallel_images, thread_name_prefix="airgap-image") as images:
                if not self.options.dry_run:
                    self._probe_owners([p for p in plans if p is not None])
                    try:
                        self._locate([p for p in plans if p is not None])
                    except Exception:  # noqa: BLE001 - hints only: without them, blobs are uploaded
                        pass
                    self._announce_planned_bytes(plans)
                    self._each(images, self._copy_image, ((p,) for p in plans if p is not None),
                               self.options.parallel_images)
        except KeyboardInterrupt as exc:
            self._interrupt(exc)
            raise
        finally:
            self._blob_pool.shutdown(wait=True)
            self._blob_pool = None
            if self._interrupted.is_set():
                reason = f"not copied: the run was interrupted by {self._interrupt_name}; run it again to resume"
                for result in results:
                    if result.status not in ("copied", "present", "failed", "missing"):
                        result.status, result.error = "cancelled", reason
                self.last_report = self._report(results, time.monotonic() - start)
        self.last_report = self._report(results, time.monotonic() - start)
        return self.last_report

    def _plan(self, index: int, pair: tuple) -> ImagePlan | None:
        """Phase 1 of one entry, then its blobs' owners and probes as soon as they are known."""
        plan = self._phase1(*pair)
        self._planned(index, plan)
        return plan

    def _interrupt(self, exc: BaseException) -> None:
        if not self._interrupted.is_set():
            self._interrupt_name = getattr(exc, "signame", "SIGINT")
            self._stop.set()
            self._interrupted.set()

    def _each(self, executor: ThreadPoolExecutor, fn: Callable, calls: Iterable[tuple], workers: int) -> list:
        """``fn(*args)`` for each ``args`` of ``calls`` in ``executor``, the results in order.

        At most twice ``workers`` calls are queued or running at a time: a phase holds a few
        futures, not one per image of the mapping. When interrupted while waiting, no more calls
        are submitted and the queued ones are cancelled (before the executor's exit waits for the
        running ones, which stop at their next chunk)."""
        results: list = []
        failures: list[tuple[int, BaseException]] = []
        inflight: dict[int, Future] = {}
        width = 2 * workers
        slots = threading.Semaphore(width)
        guard = threading.Lock()

        def settle(index: int, future: Future) -> None:
            with guard:
                inflight.pop(index, None)
                if not future.cancelled():
                    if future.exception() is not None:
                        failures.append((index, future.exception()))
                    else:
                        results[index] = future.result()
            slots.release()

        try:
            for index, args in enumerate(calls):
                slots.acquire()
                with guard:
                    results.append(None)
                    future = executor.submit(fn, *args)
                    inflight[index] = future
                future.add_done_callback(functools.partial(settle, index))
            for _slot in range(width):  # every slot back: every call has ended
                slots.acquire()
        except KeyboardInterrupt as exc:
            self._interrupt(exc)
            with guard:
                queued = list(inflight.values())
            for future in queued:
                future.cancel()
            raise
        if failures:
            raise min(failures, key=lambda failure: failure[0])[1]
        return results

    def _report(self, results: list[ImageResult], elapsed: float) -> CopyReport:
        report = CopyReport(images=results, elapsed=elapsed, retries=self._retries)
        needed: set[tuple[str, str]] = set()
        for key, repos in self._blobs.items():
            for value in repos.values():
                outcome = landed(value)
                if outcome is None:
                    continue
                needed.add(key)
                report.bytes_sent += outcome.bytes_sent
                if outcome.kind == "uploaded":
                    report.blobs_uploaded += 1
                elif outcome.kind == "mounted":
                    report.blobs_mounted += 1
                else:
                    report.blobs_present += 1
        report.unique_blob_bytes = sum(self._sizes.get(key, 0) for key in needed)
        return report

    # --- per-image bookkeeping, both phases ------------------------------------------------

    def _fail(self, entry, result: ImageResult, exc: BaseException, stage: str) -> None:
        if self._interrupted.is_set():
            return  # stopped by the interrupt, not failed: run() marks it cancelled
        result.status = "failed"
        if isinstance(exc, AirgapError):
            text = str(exc)
        else:  # a bug or an unexpected library error: keep its type for the bug report
            text = f"{type(exc).__name__}: {exc}"
        hint = ""
        if isinstance(exc, NotFound) and stage == "reading the source":
            hint = "; check the source reference and that it exists in the source registry"
        elif isinstance(exc, AuthError):
            hint = ""  # AuthError messages already say which credentials to fix
        elif isinstance(exc, DigestMismatch):
            hint = "; what did not match was not committed"
        result.error = self._redact(f"{entry.source} -> {entry.dest}: {stage}: {text}{hint}")
        if not self.options.continue_on_error:
            self._stop.set()

    def _finish(self, result: ImageResult, started: float) -> None:
        result.seconds = round(time.monotonic() - started, 3)
        if self.progress is not None:
            self.progress.image_finished(result)

    def _cancel(self, result: ImageResult) -> None:
        result.status = "cancelled"
        result.error = "not copied: an earlier image failed and continue_on_error is false"
        if self.progress is not None:
            self.progress.image_finished(result)

    # --- phase 2: transfer and verify -------------------------------------------------------

    def _copy_image(self, plan: ImagePlan) -> None:
        """Phase 2 of one image, then drop its manifests (the report needs only its result)."""
        try:
            self._phase2(plan)
        finally:
            plan.release()

    def _phase2(self, plan: ImagePlan) -> None:
        entry, result = plan.entry, plan.result
        started = plan.started
        if self._stop.is_set():
            self._cancel(result)
            return
        stage = "copying blobs"
        try:
            futures: dict[str, Future] = {}
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    if blob.digest not in futures:
                        futures[blob.digest] = self._ensure(plan, blob)
            repo = entry.dest.repository
            for manifest in plan.manifests:
                for blob in manifest.blobs:
                    stage = f"copying blob {blob.digest} ({blob.size} bytes)"
                    futures[blob.digest].result()
                is_top = manifest is plan.top
                ref = entry.dest.tag if is_top else manifest.digest
                stage = f"pushing manifest {manifest.digest}"
                with contextlib.ExitStack() as held:
                    for lock in self._manifest_locks_for(entry.dest.api_host, repo, manifest):
                        held.enter_context(lock)
                    pushed = plan.dst.put_manifest(repo, ref, manifest)
                    if pushed and pushed != manifest.digest:
                        raise DigestMismatch(f"pushed {manifest.digest} but the registry stored {pushed}")
                    result.manifests_pushed += 1
                    stage = f"verifying manifest {manifest.digest}"
                    self._verify(plan.dst, repo, manifest.digest, entry.dest.tag if is_top else None)
            for future in futures.values():
                outcome: BlobOutcome = future.result()
                if outcome.owner != id(result) or outcome.kind == "present":
                    result.blobs_present += 1
                elif outcome.kind == "uploaded":
                    result.blobs_uploaded += 1
                    result.bytes_sent += outcome.bytes_sent
                else:
                    result.blobs_mounted += 1
            result.status = "copied"
        except Exception as exc:  # noqa: BLE001 - one image's failure must not stop the others
            self._fail(entry, result, exc, stage)
        self._finish(result, started)

    def _manifest_locks_for(self, host: str, repo: str, manifest) -> list[threading.Lock]:
        """The locks held while ``manifest`` is pushed into ``repo`` and checked: its own and its
        children's. Two lines of a mapping often carry the same image into the same repository (a
        digest and its tags); docker-registry's filesystem storage rewrites a manifest's link in
        place, so a PUT of a manifest must not overlap another PUT of it, nor the PUT of an index
        that lists it (the registry reads the children's links then, and would answer
        MANIFEST_BLOB_UNKNOWN). Striped, taken in order: constant memory, no deadlock, rare waits
        between unrelated pushes."""
        digests = [manifest.digest] + [child.digest for child in manifest.children]
        stripes = sorted({hash((host, repo, digest)) % len(self._manifest_locks) for digest in digests})
        return [self._manifest_locks[stripe] for stripe in stripes]

    def _verify(self, dst, repo: str, digest: str, tag: str | None) -> None:
        """HEAD the pushed manifest by digest (and by tag): the registry must serve what we pushed."""
        refs = [digest] + ([tag] if tag else [])
        for ref in refs:
            found = dst.head_manifest(repo, ref)
            if found is None or found.digest != digest:
                seen = found.digest if found is not None else "nothing (manifest unknown)"
                raise RegistryError(
                    f"after the push, {dst.host}/{repo} {ref} resolves to {seen} instead of {digest}: the "
                    "registry did not keep the manifest (bugzilla 1800674); check the registry's storage and re-run"
                )

    def _ensure(self, plan: ImagePlan, blob: Descriptor) -> Future:
        """A future that completes when ``blob`` is present in the destination repository."""
        host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
        key = (host, blob.digest)
        owner = plan.owner
        with self._lock:
            seen = self._sizes.setdefault(key, blob.size)
            first = None if key in self._owner_failed else self._owners.get(key)
        if seen != blob.size:
            # Checked here, not by a HEAD after each mount: a blob has one size, and the one an
            # upload or probe verified is the first seen.
            inconsistent: Future = Future()
            inconsistent.set_exception(DigestMismatch(
                f"blob {blob.digest} has {blob.size} bytes in the manifests of {plan.entry.source} but {seen} "
                "in another image's of this run: the source's manifests are corrupt or inconsistent, so "
                "the manifests listing it here were not pushed"
            ))
            return inconsistent
        if first is not None and first.entry.dest.repository != repo:
            # the blob goes to its owner's repository first (where a killed run left it), on
            # the owner's behalf, and is mounted from there (no-op when already under way)
            self._ensure(first, blob)
        with self._lock:
            repos = self._blobs.setdefault(key, {})
            known = repos.get(repo)
            if isinstance(known, Future):
                return known
            if known is not None:
                done: Future = Future()
                done.set_result(known)
                return done
            future: Future = Future()
            repos[repo] = future
            mount_from = None
            pending = None
            for other, other_value in repos.items():
                if other == repo:
                    continue
                if not isinstance(other_value, Future) or other_value.done():
                    if landed(other_value) is not None:
                        mount_from = other
                        break
                elif pending is None:
                    pending = (other, other_value)
            probe = self._probes.get((host, repo, blob.digest))
            if mount_from is None and pending is None:
                mount_from = self._hints.get(key)
        if isinstance(probe, Future):
            probe = probe.result() if probe.done() and probe.exception() is None else None
        known_missing = probe is False
        future.add_done_callback(lambda f: self._settle(key, repo, f))

        def job(from_repo: str | None) -> Callable[[], BlobOutcome]:
            return lambda: self._put_blob(plan, blob, from_repo, known_missing, owner)

        if mount_from is not None:
            self._submit_blob_job(job(mount_from), future)
        elif pending is not None:
            other, other_future = pending
            # Wait for the upload to the other repository without holding a thread: its
            # completion schedules our mount (or, if it failed, our own upload).
            other_future.add_done_callback(
                lambda f: self._submit_blob_job(job(other if f.exception() is None else None), future)
            )
        else:
            same_host = plan.entry.source.api_host == host
            self._submit_blob_job(job(plan.entry.source.repository if same_host else None), future)
        return future

    def _settle(self, key: tuple[str, str], repo: str, future: Future) -> None:
        """A blob made present leaves its outcome in the table instead of its future. A failed
        blob is dropped from the table, so a later image tries it again (in its own repository
        when it was the owner's that failed)."""
        if future.exception() is None:
            with self._lock:
                repos = self._blobs.get(key)
                if repos is not None and repos.get(repo) is future:
                    repos[repo] = future.result()
            return
        with self._lock:
            first = self._owners.get(key)
            if first is not None and first.entry.dest.repository == repo:
                self._owner_failed.add(key)
            repos = self._blobs.get(key)
            if repos is not None and repos.get(repo) is future:
                del repos[repo]

    def _put_blob(self, plan: ImagePlan, blob: Descriptor, from_repo: str | None, known_missing: bool,
                  owner: int) -> BlobOutcome:
        if self._interrupted.is_set():
            raise _Aborted(f"blob {blob.digest}: not started, the run was interrupted")
        dst, repo = plan.dst, plan.entry.dest.repository
        if from_repo is not None:
            try:
                # confirmed by the 201's Docker-Content-Digest, or else by a HEAD of its size
                mounted = dst.mount_blob(repo, blob.digest, from_repo, size=blob.size)
            except (NotFound, AuthError):
                mounted = False  # no pull right on the other repository: upload instead
            if mounted:
                return BlobOutcome("mounted", 0, owner)
        if not known_missing and dst.blob_size(repo, blob.digest) == blob.size:
            # not probed here (or the probe failed): a killed run may have left it (resume)
            return BlobOutcome("present", 0, owner)
        # open_blob checks the digest as the last chunk is read, before the upload is committed
        sent = dst.upload_blob(repo, blob.digest, blob.size, lambda: self._source(plan, blob), verified=True)
        return BlobOutcome("uploaded", sent, owner)

    @contextlib.contextmanager
    def _source(self, plan: ImagePlan, blob: Descriptor) -> Iterator[Iterator[bytes]]:
        with plan.src.open_blob(plan.entry.source.repository, blob.digest, size=blob.size) as chunks:
            yield self._counted(chunks)

    def _counted(self, chunks) -> Iterator[bytes]:
        progress = self.progress
        for chunk in chunks:
            if self._interrupted.is_set():
                # Before the upload is committed: the registry drops the unfinished session.
                raise _Aborted("the run was interrupted")
            if progress is not None:
                progress.add_bytes(len(chunk))
            yield chunk
