# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The import on the disconnected side (archive_import): archives carried across the gap into the
private registry, then the plan's files into ``output_dir``.

1. contents.json is read and checked; ``dest``, when given, replaces the planned prefix in
   every target (:mod:`.rewrite`).
2. Every archive's size and sha256 is checked, streamed (:func:`.reader.verify_archives`). One
   damaged archive refuses the whole import before anything is pushed, naming each damaged
   archive and the blobs the damage hit. With ``verify="changed"`` an archive an earlier run
   hashed, and that nobody touched since, is trusted without hashing it again (:mod:`.verified`).
3. Blobs the archives leave out (an incremental export) are looked for in the target and
   mounted where they are needed; one found nowhere fails the import, still before anything is
   pushed (:mod:`.base`).
4. The images are pushed by the copy engine itself (``_mirror/transfer.py``), whose source is the
   archives: blobs streamed from the tars by offset and their digests checked while streaming,
   blobs the target already has skipped (a HEAD), manifests pushed children first once their
   blobs are in, each verified by a HEAD afterwards, in the engine's bounded pools. An
   interrupted import, run again, finds what landed and does not send it again.
5. Only when every image is in, mapping.txt and the cluster files are written to ``output_dir``
   (rewritten for ``dest``): files for ``oc apply`` never point at a partial mirror.

Check mode does steps 1-3 read-only and reports what would be pushed and written. It hashes every
archive whatever ``verify`` says (checking the archives on arrival is what it is run for) and
records nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.base import (
    Needed,
    check_base,
    mount_all,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import STATE_DIR, ArchiveError, Contents
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.reader import (
    ArchiveReader,
    VerifyProgress,
    damage_error,
    load_contents,
    trusted_archives,
    verify_archives,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.rewrite import DestRewriter, sync_manifests
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.verified import (
    VERIFY_CHOICES,
    VerifiedArchives,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import MappingEntry
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import (
    Progress,
    progress_file_for,
    write_json_atomic,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import STATUSES, CopyOptions, failures_text
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import digest_tag
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    ConfigError,
    DigestMismatch,
    InvalidReference,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible, signal_name

# The registry name the copy engine reads the archives under; ".invalid" is never a real host.
ARCHIVE_HOST = "archive.invalid"
_IMAGE_KEYS = ("origin", "source", "dest", "dest_digest", "bytes_sent")


@dataclass(frozen=True)
class ArchiveImportRequest:
    """Push an archive directory into a registry and write its plan's files (archive_import)."""

    archive_dir: str
    dest: Optional[str] = None
    output_dir: Optional[str] = None
    verify: str = "changed"
    transfer: TransferSettings = field(default_factory=TransferSettings)
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        if not self.archive_dir:
            raise ConfigError("archive_dir is required: the directory the export wrote, carried across the gap")
        if self.verify not in VERIFY_CHOICES:
            raise ConfigError(f"verify {self.verify!r}: one of {', '.join(VERIFY_CHOICES)}")


@dataclass(frozen=True)
class _ArchivedSource(ImageReference):
    """An image's source as the copy engine sees it (the archives), shown as its original source."""

    label: str = ""

    def __str__(self) -> str:
        return self.label


class _ArchiveClient:
    """The source side of the copy engine: the archives, by digest. ``on_damage(digest)`` is told
    of a blob or manifest whose bytes no longer hash to its digest."""

    host = ARCHIVE_HOST

    def __init__(self, reader: ArchiveReader, on_damage: Optional[Callable[[str], None]] = None):
        self.reader = reader
        self.on_damage = on_damage

    def _damaged(self, digest: str) -> None:
        if self.on_damage is not None:
            self.on_damage(digest)

    def get_manifest(self, repo: str, ref: str):
        try:
            return self.reader.read_manifest(ref)
        except DigestMismatch:
            self._damaged(ref)
            raise

    def head_manifest(self, repo: str, ref: str):
        entry = self.reader.manifests.get(ref)
        return None if entry is None else Descriptor(entry.media_type, entry.digest, entry.size)

    @contextlib.contextmanager
    def open_blob(self, repo: str, digest: str, chunk_size: int = 1 << 20,
                  size: Optional[int] = None) -> Iterator[Iterator[bytes]]:
        entry = self.reader.blobs.get(digest)
        if entry is not None and size is not None and entry.size != size:
            raise DigestMismatch(f"blob {digest}: the archives hold {entry.size} bytes, its descriptor says {size}")
        try:
            with self.reader.open_blob(digest, chunk_size) as chunks:
                yield chunks
        except DigestMismatch:
            self._damaged(digest)
            raise


class _ArchivePool:
    """The registry pool of the run, with the archives standing in for every source registry."""

    def __init__(self, pool: RegistryPool, reader: ArchiveReader, on_damage: Optional[Callable[[str], None]] = None):
        self._pool = pool
        self._archive = _ArchiveClient(reader, on_damage)

    @property
    def auth(self) -> AuthStore:
        return self._pool.auth

    def add_retry_listener(self, listener) -> None:
        self._pool.add_retry_listener(listener)

    def client(self, host: str, repository: Optional[str] = None):
        if host == ARCHIVE_HOST:
            return self._archive
        return self._pool.client(host, repository)


def _target(text: str, source: str, digest: str, rewriter: Optional[DestRewriter], where: str,
            planned: bool = True) -> ImageReference:
    """The reference an image is pushed to: its planned target (under ``dest``), always with a tag.
    Not ``planned`` (an earlier export's image, from the history), a target outside ``dest`` is
    kept as it is instead of refusing the move."""
    if rewriter is not None:
        text = rewriter.ref(text, record=planned)
    try:
        ref = parse(text)
    except InvalidReference as exc:
        raise ArchiveError(f"{where}: target {text!r}: {exc}") from None
    if ref.digest is not None and ref.digest != digest:
        raise ArchiveError(f"{where}: target {text} names digest {ref.digest}, but the image is {digest}")
    ref = ref.with_digest(None)
    if not ref.tag:
        # as a mapping line dst without a tag: the source's tag, or oc's tag for a digest-only source
        try:
            source_ref = parse(source)
        except InvalidReference:
            source_ref = None
        if source_ref is not None and source_ref.tag:
            ref = ref.with_tag(source_ref.tag)
        else:
            ref = ref.with_tag(digest_tag(source, digest, "oc"))
    return ref


def _entries(contents: Contents, rewriter: Optional[DestRewriter]) -> List[MappingEntry]:
    entries = []
    for index, image in enumerate(contents.images):
        where = f"contents.json images[{index}]"
        dest = _target(image.target, image.source, image.digest, rewriter, where)
        source = _ArchivedSource(registry=ARCHIVE_HOST, repository=dest.repository, digest=image.digest,
                                 label=image.source)
        entries.append(MappingEntry(source=source, dest=dest, origin=where))
    return entries


def _needs(reader: ArchiveReader, entries: List[MappingEntry],
           on_damage: Optional[Callable[[str], None]] = None) -> List[Needed]:
    """Blobs the images need that the archives lack, per target repository. A manifest whose bytes
    do not match its digest is reported to ``on_damage`` (its archives leave the record of checked
    archives) before the error goes on."""
    needs: Dict[Tuple[str, str, str], Needed] = {}
    manifests: Dict[str, Any] = {}

    def walk(digest: str, depth: int = 0) -> List[Descriptor]:
        if digest not in manifests:
            try:
                manifests[digest] = reader.read_manifest(digest)
            except DigestMismatch:
                if on_damage is not None:
                    on_damage(digest)
                raise
        manifest = manifests[digest]
        blobs = list(manifest.blobs)
        if depth < 4:
            for child in manifest.children:
                if reader.has(child.digest):
                    blobs.extend(walk(child.digest, depth + 1))
        return blobs

    for entry in entries:
        for blob in walk(entry.source.digest):
            if reader.has(blob.digest):
                continue
            key = (entry.dest.api_host, entry.dest.repository, blob.digest)
            need = needs.get(key)
            if need is None:
                need = needs[key] = Needed(entry.dest.api_host, entry.dest.repository, blob)
            if str(entry.dest) not in need.images:
                need.images.append(str(entry.dest))
    return list(needs.values())


def _history(contents: Contents, rewriter: Optional[DestRewriter]) -> Tuple[Dict[str, str], List[Tuple[Any, str]]]:
    """Where earlier exports shipped the blobs this one left out, and their images. An earlier
    export may have had another prefix than this one's ``dest``: those repositories are not moved
    (and do not refuse the import); the base check looks for the blobs there and elsewhere."""
    repos = {}
    for blob in contents.history.blobs:
        repos[blob.digest] = rewriter.ref(blob.repository, record=False) if rewriter is not None else blob.repository
    shipped = []
    for index, image in enumerate(contents.history.images):
        shipped.append((_target(image.target, image.source, image.digest, rewriter,
                                f"contents.json history.images[{index}]", planned=False), image.digest))
    return repos, shipped


@dataclass
class _Checked:
    """The archive check of this run: hashed, trusted from the record, and the record itself."""

    verified: List[str]
    trusted: List[str]
    record: Optional[VerifiedArchives]


def _verify(reader: ArchiveReader, archive_dir: str, request: ArchiveImportRequest, check_mode: bool) -> _Checked:
    contents = reader.contents
    transfer = request.transfer
    report = None
    if transfer.report_file:
        path = transfer.report_file

        def report(snapshot: dict) -> None:
            try:
                write_json_atomic(path, {"state": "verifying", "verify": snapshot})
                write_json_atomic(progress_file_for(path), {"state": "verifying", "verify": snapshot})
            except OSError:
                pass  # the run goes on; the final report says whether it could be written

    # check mode hashes everything and writes nothing: it is how archives are checked on arrival
    record = None if check_mode else VerifiedArchives.load(archive_dir, [a.name for a in contents.archives])
    trusted = trusted_archives(reader, record) if request.verify == "changed" else {}
    progress = VerifyProgress(sum(a.size for a in contents.archives if a.name not in trusted),
                              len(contents.archives), report, transfer.progress_interval)
    damages = verify_archives(reader, progress, record, trusted)
    if damages:
        raise damage_error(archive_dir, damages, len(contents.archives))
    if record is None:
        return _Checked([a.name for a in contents.archives], [], None)
    return _Checked(record.verified, record.trusted, record)


def _forget_damaged(reader: ArchiveReader, record: Optional[VerifiedArchives]) -> Optional[Callable[[str], None]]:
    """Damage found while pushing, in an archive trusted without hashing (damage its file identity
    does not show): the archives holding the blob leave the record, so the next run hashes them
    and refuses them naming the blob."""
    if record is None:
        return None
    lock = threading.Lock()

    def forget(digest: str) -> None:
        with lock:
            for archive in reader.archives_of(digest):
                record.forget(archive)
            record.save()

    return forget


def run_archive_import(request: ArchiveImportRequest, auth: AuthStore, check_mode: bool = False) -> dict:
    """Import ``request.archive_dir``; return the module result (see the module docstring)."""
    archive_dir = os.path.abspath(os.path.expanduser(request.archive_dir))
    contents = load_contents(archive_dir)
    rewriter = None
    if request.dest:
        if not contents.dest:
            raise ConfigError(
                f"dest {request.dest}: {archive_dir}/contents.json records no planned destination (its targets share "
                "no registry), so there is no prefix to replace; import without dest, or export with one target registry")
        rewriter = DestRewriter(contents.dest, request.dest)
    entries = _entries(contents, rewriter)
    history_repos, shipped = _history(contents, rewriter)
    if rewriter is not None and rewriter.unmatched:
        raise ConfigError(f"dest: {len(rewriter.unmatched)} planned target(s) are not under the planned destination "
                          f"{contents.dest} (e.g. {rewriter.unmatched[0]}), so they cannot be moved under "
                          f"{rewriter.new}; import without dest")
    reader = ArchiveReader(archive_dir, contents)
    verified = _verify(reader, archive_dir, request, check_mode)

    transfer = request.transfer
    pool = RegistryPool(auth, retries=request.connection.retries,
                        pool_size=transfer.parallel_images + transfer.parallel_layers,
                        timeout=request.connection.timeout)
    progress = Progress(len(entries), transfer.report_file, interval=transfer.progress_interval)
    copier = None
    try:
        candidates: Dict[str, List[str]] = {}
        for entry in entries:
            repos = candidates.setdefault(entry.dest.api_host, [])
            if entry.dest.repository not in repos:
                repos.append(entry.dest.repository)
        forget = _forget_damaged(reader, verified.record)
        needs = _needs(reader, entries, forget)
        base = check_base(pool, needs, candidates, history_repos, shipped, transfer.parallel_layers)
        if base.missing or base.missing_images:
            raise base.error()
        mounted_bytes = 0
        with interruptible():
            if base.mounts and not check_mode:
                mounted_bytes = mount_all(pool, base.mounts, transfer.parallel_layers)
            options = CopyOptions(parallel_images=transfer.parallel_images, parallel_layers=transfer.parallel_layers,
                                  continue_on_error=transfer.continue_on_error, dry_run=check_mode)
            copier = Copier(_ArchivePool(pool, reader, forget), options, progress)
            report = copier.run(entries)
    except KeyboardInterrupt as exc:
        partial = copier.last_report if copier is not None else None
        summary = partial.to_dict()["summary"] if partial is not None else {}
        progress.finish(partial, extra={"interrupted": signal_name(exc), "summary": summary}, state="interrupted")
        raise
    finally:
        pool.close()
    return _result(request, auth, check_mode, archive_dir, rewriter, contents, verified, base, mounted_bytes,
                   report, progress)


def _result(request, auth, check_mode, archive_dir, rewriter, contents, verified, base, mounted_bytes, report,
            progress) -> dict:
    secrets = auth.secrets()
    by_status: Dict[str, List[dict]] = {status: [] for status in STATUSES}
    failures = []
    for image in report.images:
        item = {key: getattr(image, key) for key in _IMAGE_KEYS}
        if image.status == "missing":
            item.update(missing_blobs=image.missing_blobs, missing_bytes=image.missing_bytes)
        if image.status in ("failed", "cancelled"):
            item["error"] = redact(image.error or image.status, secrets)
            failures.append(item)
        by_status.setdefault(image.status, []).append(item)

    files: Dict[str, List[str]] = {"files": [], "changed": []}
    pending: List[str] = []
    output_dir = request.output_dir
    if output_dir and not failures:
        files = sync_manifests(archive_dir, output_dir, rewriter, check_mode)
    elif output_dir:
        pending = sync_manifests(archive_dir, output_dir, rewriter, True)["files"]

    bytes_sent = report.bytes_sent + mounted_bytes
    summary = {"images": len(report.images)}
    summary.update((status, len(by_status[status])) for status in STATUSES)
    summary.update({
        "archives": len(contents.archives),
        "archives_verified": len(verified.verified),
        "archives_trusted": len(verified.trusted),
        "archive_bytes": sum(a.size for a in contents.archives),
        "blobs_uploaded": report.blobs_uploaded,
        "blobs_mounted": report.blobs_mounted,
        "blobs_present": report.blobs_present,
        # blobs of an incremental archive's base, in the registry but not yet in the repository that needs them
        "base_blobs_mounted": len(base.mounts),
        "bytes_sent": bytes_sent,
        "retries": report.retries,
        "elapsed_seconds": round(report.elapsed, 3),
    })
    pushed = by_status["copied"]
    result = {
        "changed": bool(by_status["missing"] or base.mounts or files["changed"]) if check_mode
        else bool(pushed or base.mounts or files["changed"]),
        "pushed": pushed,
        "present": by_status["present"],
        "failures": failures,
        "bytes_sent": bytes_sent,
        "archives_verified": verified.verified,
        "archives_trusted": verified.trusted,
        "verify_state_file": verified.record.path if verified.record is not None else None,
        "dest": rewriter.new if rewriter is not None else contents.dest,
        "files": files["files"],
        "files_written": files["changed"],
        "files_pending": pending,
        "summary": summary,
    }
    if check_mode:
        result["missing"] = by_status["missing"]
    if failures:
        shown = failures_text(failures, "dest")
        result["msg"] = (f"{len(failures)} of {len(report.images)} images failed ({summary['copied']} pushed, "
                         f"{summary['present']} already present): {shown}; the files for output_dir were not "
                         "written: run the import again once the failures are fixed (what landed is not sent again)")
    progress.finish(report, extra={"failures": failures, "summary": summary, "archives_verified": verified.verified,
                                   "archives_trusted": verified.trusted})
    warnings = list(auth.warnings)
    if verified.record is not None and verified.record.write_error:
        warnings.append(verified.record.write_error)
    if os.path.isdir(os.path.join(archive_dir, STATE_DIR)):
        warnings.append(f"{archive_dir} holds {STATE_DIR}/: the export that wrote it did not complete (an image failed "
                        "or it was interrupted), so the archives hold only the images it finished; run the export "
                        "again to complete it, and import its archives")
    if request.transfer.report_file:
        if progress.write_error:
            warnings.append(f"{progress.write_error}; the task result holds the outcome of the run")
            result["report_file_error"] = progress.write_error
        else:
            result["report_file"] = request.transfer.report_file
    result["warnings"] = warnings
    return result
