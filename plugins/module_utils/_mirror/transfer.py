# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine: mirror the images of a mapping, registry to registry.

A run has two phases, both over a pool of ``parallel_images`` threads:

1. **plan**, read-only: per image, HEAD the destination tag. If it already points at the
   digest we would push, the image is *present* and left alone: one request for a digest-pinned line (what
   ``oc adm catalog mirror`` writes), two for a tag (the source manifest is read first). This is
   what makes a re-run cheap. Otherwise read the source manifest (by digest when the line has
   one, checking that digest), apply ``filter_by_os``, read the child manifests the destination
   lacks, and HEAD every blob in the destination repository. A dry run (check mode) stops here
   and reports what is missing.
2. **transfer and verify**: per image, make every blob present in the destination repository,
   push child manifests by digest once their blobs are there, then the top manifest under the
   tag, then HEAD digest and tag to prove the registry kept it (the "manifest unknown" of
   bugzilla 1800674 is caught here, not by the cluster).

The barrier between the phases is what makes a killed run resume without re-sending anything:
every blob a previous run finished in a repository whose image is still incomplete is found by a
phase 1 HEAD before any upload starts, and phase 2 mounts it from there instead of uploading it
again. Blobs that sit only in the repositories of images that are complete (so present,
left alone without reading their blobs) are located by reading those images' manifests from the
destination, within a budget, only when something would otherwise be uploaded.

``filter_by_os`` is a regular expression searched in each index entry's ``os/arch[/variant]``:
one match pushes that platform's manifest itself under the tag (like ``oc image mirror
--filter-by-os``); several push a new index of the matches; all of them keep the index as it is.
A source that is a single manifest is copied as is.

Blobs are deduplicated over the whole run by a table keyed by (target host, digest) holding,
per target repository, a future for "this blob is present there". The first image that needs a
blob uploads it (streamed from the source, never held whole in memory); images needing it in the
same repository wait on the same future; other repositories get it by cross-repository mount
once it is known somewhere on that host (falling back to an upload when the registry declines).
Blob work runs in its own pool of ``parallel_layers`` threads and never waits on anything, so
image threads can wait on blob futures without any risk of deadlock.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    AuthError,
    ConfigError,
    DigestMismatch,
    NotFound,
    RegistryError,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor, Manifest, filter_index

STATUSES = ("copied", "present", "failed", "missing", "cancelled")
# An index nested deeper than this is refused (a loop in a hostile or broken registry).
_MAX_DEPTH = 4


@dataclass
class CopyOptions:
    parallel_images: int = 4
    parallel_layers: int = 8
    filter_by_os: str | None = None
    continue_on_error: bool = True
    dry_run: bool = False


@dataclass
class ImageResult:
    """What happened to one mapping line. ``dest_digest`` is the digest pushed (or that would be)."""

    source: str
    dest: str
    origin: str
    status: str = "pending"
    source_digest: str | None = None
    dest_digest: str | None = None
    digest_changed: bool = False
    bytes_sent: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    manifests_pushed: int = 0
    missing_blobs: int = 0
    missing_bytes: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass
class CopyReport:
    """The run as a whole. Blob counters count each (target host, repository, digest) once.

    ``unique_blob_bytes`` is the size of the distinct (target host, digest) blobs the images that
    were not present need: on a first run into an empty registry, ``bytes_sent`` equals it.
    """

    images: list[ImageResult] = field(default_factory=list)
    bytes_sent: int = 0
    unique_blob_bytes: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    retries: int = 0
    elapsed: float = 0.0

    def _with(self, status: str) -> list[ImageResult]:
        return [i for i in self.images if i.status == status]

    @property
    def copied(self) -> list[ImageResult]:
        return self._with("copied")

    @property
    def present(self) -> list[ImageResult]:
        return self._with("present")

    @property
    def failed(self) -> list[ImageResult]:
        return self._with("failed")

    @property
    def missing(self) -> list[ImageResult]:
        return self._with("missing")

    @property
    def cancelled(self) -> list[ImageResult]:
        return self._with("cancelled")

    def to_dict(self) -> dict:
        summary: dict[str, Any] = {"images": len(self.images)}
        for status in STATUSES:
            summary[status] = len(self._with(status))
        summary.update(
            bytes_sent=self.bytes_sent,
            unique_blob_bytes=self.unique_blob_bytes,
            blobs_uploaded=self.blobs_uploaded,
            blobs_mounted=self.blobs_mounted,
            blobs_present=self.blobs_present,
            retries=self.retries,
            elapsed_seconds=round(self.elapsed, 3),
        )
        return {"summary": summary, "images": [asdict(i) for i in self.images]}


@dataclass
class _Outcome:
    """How a blob came to be present in one repository."""

    kind: str  # "uploaded", "mounted", "present"
    bytes_sent: int = 0
    owner: int = 0  # id() of the ImageResult that did the work


@dataclass
class _Plan:
    """Phase 1's findings for one image that is not already at its destination."""

    entry: Any
    result: ImageResult
    src: Any
    dst: Any
    top: Manifest
    started: float = 0.0
    # manifests to push, children first, the top one last
    manifests: list[Manifest] = field(default_factory=list)


@dataclass
class _Present:
    """An image already complete at its destination: its blobs are all in ``dst``'s ``repo``."""

    host: str
    repo: str
    source_repo: str
    dst: Any
    digest: str
    manifest: Manifest | None = None  # what sits at the destination, when already read


class Copier:
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
        self._secrets = self._find_secrets()
        self.pool.add_retry_listener(self._count_retry)
        self._reset()

    def _reset(self) -> None:
        self._stop = threading.Event()
        self._retries = 0
        # (host, digest) -> {repository: Future[_Outcome]}: where each blob is (being made) present
        self._blobs: dict[tuple[str, str], dict[str, Future]] = {}
        self._sizes: dict[tuple[str, str], int] = {}
        # (host, repository, digest) -> Future[bool]: phase 1 HEADs, shared between images
        self._probes: dict[tuple[str, str, str], Future] = {}
        # images found complete at their destination, and (host, digest) -> a repository whose
        # complete image lists that blob: where a blob a previous run finished can be mounted from
        self._present: list[_Present] = []
        self._hints: dict[tuple[str, str], str] = {}

    # --- plumbing ---------------------------------------------------------------------------

    def _find_secrets(self) -> list[str]:
        # a second line of defence: the registry client already keeps secrets out of messages
        return list(self.pool.auth.secrets())

    def _count_retry(self, message: str) -> None:
        with self._lock:
            self._retries += 1
        note = getattr(self.progress, "note_retry", None)
        if note is not None:
            note(message)

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets) if self._secrets else text

    def _submit_blob_job(self, job: Callable[[], _Outcome], future: Future) -> None:
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
        """Copy every entry; never raises for one image's failure (see ImageResult.status)."""
        start = time.monotonic()
        self._reset()
        results = [ImageResult(source=str(e.source), dest=str(e.dest), origin=e.origin) for e in entries]
        plans: list[_Plan | None] = [None] * len(entries)
        self._blob_pool = ThreadPoolExecutor(self.options.parallel_layers, thread_name_prefix="airgap-blob")
        try:
            # Planning is HEADs and small GETs, bound by round trips rather than bandwidth: it
            # gets the threads of both pools (the registry pool is sized for that many).
            planners = self.options.parallel_images + self.options.parallel_layers
            with ThreadPoolExecutor(planners, thread_name_prefix="airgap-plan") as planning:
                futures = [planning.submit(self._phase1, e, r) for e, r in zip(entries, results)]
                for i, future in enumerate(futures):
                    plans[i] = future.result()
            with ThreadPoolExecutor(self.options.parallel_images, thread_name_prefix="airgap-image") as images:
                if not self.options.dry_run:
                    try:
                        self._locate([p for p in plans if p is not None])
                    except Exception:  # noqa: BLE001 - hints only: without them, blobs are uploaded
                        pass
                    self._announce_planned_bytes(plans)
                    list(images.map(self._phase2, [p for p in plans if p is not None]))
        finally:
            self._blob_pool.shutdown(wait=True)
            self._blob_pool = None
        return self._report(results, time.monotonic() - start)

    def _report(self, results: list[ImageResult], elapsed: float) -> CopyReport:
        report = CopyReport(images=results, elapsed=elapsed, retries=self._retries)
        needed: set[tuple[str, str]] = set()
        for key, repos in self._blobs.items():
            for future in repos.values():
                if not future.done() or future.exception() is not None:
                    continue
                needed.add(key)
                outcome: _Outcome = future.result()
                report.bytes_sent += outcome.bytes_sent
                if outcome.kind == "uploaded":
                    report.blobs_uploaded += 1
                elif outcome.kind == "mounted":
                    report.blobs_mounted += 1
                else:
                    report.blobs_present += 1
        report.unique_blob_bytes = sum(self._sizes.get(key, 0) for key in needed)
        return report

    def _locate(self, plans: list[_Plan]) -> None:
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

    def _fail(self, entry, result: ImageResult, exc: BaseException, stage: str) -> None:
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
            hint = "; nothing was pushed for this image"
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

    # --- phase 1: plan ----------------------------------------------------------------------

    def _phase1(self, entry, result: ImageResult) -> _Plan | None:
        if self._stop.is_set():
            self._cancel(result)
            return None
        if self.progress is not None:
            self.progress.image_started(entry)
        started = time.monotonic()
        stage = "checking the destination"
        try:
            src = self.pool.client(entry.source.api_host, entry.source.repository)
            dst = self.pool.client(entry.dest.api_host, entry.dest.repository)
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
            plan = _Plan(entry=entry, result=result, src=src, dst=dst, top=top, started=started)
            stage = "planning"
            self._collect(plan, top, depth=0)
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

    def _collect(self, plan: _Plan, manifest: Manifest, depth: int) -> None:
        """Append to ``plan.manifests`` what the destination lacks, children before parents."""
        if depth > _MAX_DEPTH:
            raise RegistryError(f"index {manifest.digest} nests indexes more than {_MAX_DEPTH} deep; refusing it")
        repo = plan.entry.dest.repository
        for child in manifest.children:
            if any(m.digest == child.digest for m in plan.manifests):
                continue
            there = plan.dst.head_manifest(repo, child.digest)
            if there is not None and there.digest == child.digest:
                continue  # pushed by an earlier run: its blobs are there too
            self._collect(plan, self._get_by_digest(plan.src, plan.entry.source.repository, child.digest), depth + 1)
        plan.manifests.append(manifest)

    def _probe_blobs(self, plan: _Plan) -> list[Descriptor]:
        """HEAD every blob of the plan in the destination repository (in the blob pool, shared
        between images); record what is present. Returns the missing ones."""
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

    def _probe(self, dst, host: str, repo: str, blob: Descriptor) -> Future:
        key = (host, repo, blob.digest)
        with self._lock:
            self._sizes[(host, blob.digest)] = blob.size
            future = self._probes.get(key)
            if future is not None:
                return future
            repos = self._blobs.get((host, blob.digest), {})
            known = repos.get(repo)
            future = Future()
            self._probes[key] = future
        if known is not None and known.done() and known.exception() is None:
            future.set_result(True)
            return future

        def job() -> bool:
            size = dst.blob_size(repo, blob.digest)
            present = size is not None and size == blob.size
            if present and not self.options.dry_run:
                self._record_present(host, repo, blob.digest)
            return present

        self._submit_blob_job(job, future)
        return future

    def _record_present(self, host: str, repo: str, digest: str) -> None:
        done: Future = Future()
        done.set_result(_Outcome("present"))
        with self._lock:
            self._blobs.setdefault((host, digest), {}).setdefault(repo, done)

    # --- phase 2: transfer and verify -------------------------------------------------------

    def _phase2(self, plan: _Plan) -> None:
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
                pushed = plan.dst.put_manifest(repo, ref, manifest)
                if pushed and pushed != manifest.digest:
                    raise DigestMismatch(f"pushed {manifest.digest} but the registry stored {pushed}")
                result.manifests_pushed += 1
                stage = f"verifying manifest {manifest.digest}"
                self._verify(plan.dst, repo, manifest.digest, entry.dest.tag if is_top else None)
            for future in futures.values():
                outcome: _Outcome = future.result()
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

    def _ensure(self, plan: _Plan, blob: Descriptor) -> Future:
        """A future that completes when ``blob`` is present in the destination repository."""
        host, repo = plan.entry.dest.api_host, plan.entry.dest.repository
        key = (host, blob.digest)
        owner = id(plan.result)
        with self._lock:
            self._sizes[key] = blob.size
            repos = self._blobs.setdefault(key, {})
            future = repos.get(repo)
            if future is not None:
                return future
            future = Future()
            repos[repo] = future
            mount_from = None
            pending = None
            for other, other_future in repos.items():
                if other == repo:
                    continue
                if other_future.done():
                    if other_future.exception() is None:
                        mount_from = other
                        break
                elif pending is None:
                    pending = (other, other_future)
            probe = self._probes.get((host, repo, blob.digest))
            if mount_from is None and pending is None:
                mount_from = self._hints.get(key)
        known_missing = probe is not None and probe.done() and probe.exception() is None and not probe.result()
        future.add_done_callback(lambda f: self._forget_failure(key, repo, f))

        def job(from_repo: str | None) -> Callable[[], _Outcome]:
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

    def _forget_failure(self, key: tuple[str, str], repo: str, future: Future) -> None:
        """A failed blob is dropped from the table, so a later image tries it again."""
        if future.exception() is None:
            return
        with self._lock:
            repos = self._blobs.get(key)
            if repos is not None and repos.get(repo) is future:
                del repos[repo]

    def _put_blob(self, plan: _Plan, blob: Descriptor, from_repo: str | None, known_missing: bool,
                  owner: int) -> _Outcome:
        dst, repo = plan.dst, plan.entry.dest.repository
        if from_repo is not None:
            try:
                mounted = dst.mount_blob(repo, blob.digest, from_repo)
            except (NotFound, AuthError):
                mounted = False  # no pull right on the other repository: upload instead
            if mounted:
                size = dst.blob_size(repo, blob.digest)
                if size != blob.size:
                    raise RegistryError(
                        f"blob {blob.digest} was mounted from {from_repo} but a HEAD in {repo} answers "
                        f"size {size}, not {blob.size}"
                    )
                return _Outcome("mounted", 0, owner)
        elif not known_missing:
            if dst.blob_size(repo, blob.digest) == blob.size:
                return _Outcome("present", 0, owner)
        # open_blob checks the digest as the last chunk is read, before the upload is committed
        sent = dst.upload_blob(repo, blob.digest, blob.size, lambda: self._source(plan, blob), verified=True)
        return _Outcome("uploaded", sent, owner)

    @contextlib.contextmanager
    def _source(self, plan: _Plan, blob: Descriptor) -> Iterator[Iterator[bytes]]:
        with plan.src.open_blob(plan.entry.source.repository, blob.digest) as chunks:
            yield self._counted(chunks)

    def _counted(self, chunks) -> Iterator[bytes]:
        progress = self.progress
        for chunk in chunks:
            if progress is not None:
                progress.add_bytes(len(chunk))
            yield chunk
