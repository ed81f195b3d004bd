# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading an archive directory on the disconnected side: check every archive, then read blobs
and manifests straight from the tars by offset.

Nothing is extracted: contents.json says where each blob's bytes sit in which archive (its
member's data offset), so a blob is streamed from there (a split blob from its parts in turn),
hashed on the way and refused at its end if it does not match its digest, as a blob read from a
registry is (``_registry/blobs.py``). :func:`verify_archives` streams every archive through
sha256 first; for an archive that fails, every blob and manifest whose bytes lie in it is hashed
again to name the ones the damage hit (or to say that it hit only tar headers or padding). An
archive an earlier run hashed, untouched since, is not hashed again (:mod:`.verified`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    CONTENTS_FILE,
    ArchiveError,
    BlobEntry,
    Contents,
    ManifestEntry,
    format_size,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.verified import Identity, VerifiedArchives
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import MAX_MANIFEST_BYTES
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Manifest, parse_manifest
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch, NotFound

CHUNK = 1 << 20
# Damaged blobs named in one message; the rest are counted.
_SHOWN = 5


def load_contents(archive_dir: str) -> Contents:
    """contents.json of ``archive_dir``, validated (ArchiveError naming the file and the field)."""
    if not os.path.isdir(archive_dir):
        raise ArchiveError(f"archive_dir {archive_dir} is not a directory: give the directory the export wrote "
                           f"(the one holding {CONTENTS_FILE} and archive-0001.tar ...)")
    path = os.path.join(archive_dir, CONTENTS_FILE)
    if not os.path.isfile(path):
        raise ArchiveError(f"{path} does not exist: archive_dir must be the directory the export wrote, carried "
                           "whole (contents.json, mapping.txt, manifests/ and every archive-NNNN.tar)")
    return Contents.read(path)


@dataclass
class Span:
    """Bytes of one blob or manifest in one archive: ``size`` bytes from ``offset``."""

    digest: str
    offset: int
    size: int
    part: Optional[int] = None  # 1-based part number of a split blob


@dataclass
class Damage:
    """A damaged archive: why, and the blobs or manifests whose bytes no longer match their digest."""

    archive: str
    reason: str
    members: List[Span] = field(default_factory=list)

    def describe(self) -> str:
        if not self.members:
            where = "no blob or manifest is affected (the damage is in tar headers or padding)"
        else:
            named = ", ".join(_span_text(s) for s in self.members[:_SHOWN])
            more = f" and {len(self.members) - _SHOWN} more" if len(self.members) > _SHOWN else ""
            where = f"damaged: {named}{more}"
        return f"{self.archive} {self.reason}; {where}"


def _span_text(span: Span) -> str:
    part = f" part {span.part}" if span.part else ""
    return f"{span.digest}{part} (bytes {span.offset}-{span.offset + span.size - 1})"


def spans_by_archive(contents: Contents) -> Dict[str, List[Span]]:
    """archive name -> every blob, blob part and manifest whose bytes lie in it, by offset."""
    out: Dict[str, List[Span]] = {a.name: [] for a in contents.archives}
    for blob in contents.blobs:
        if blob.parts:
            for number, part in enumerate(blob.parts, 1):
                out[part.archive].append(Span(blob.digest, part.offset, part.size, number))
        else:
            out[blob.archive].append(Span(blob.digest, blob.offset, blob.size))
    for manifest in contents.manifests:
        out[manifest.archive].append(Span(manifest.digest, manifest.offset, manifest.size))
    for spans in out.values():
        spans.sort(key=lambda s: s.offset)
    return out


class ArchiveReader:
    """Reads blobs and manifests of one archive directory by offset. Thread-safe: every read
    opens its own file handles."""

    def __init__(self, archive_dir: str, contents: Contents):
        self.archive_dir = archive_dir
        self.contents = contents
        self.blobs: Dict[str, BlobEntry] = contents.blob_index()
        self.manifests: Dict[str, ManifestEntry] = contents.manifest_index()

    def path(self, archive: str) -> str:
        return os.path.join(self.archive_dir, archive)

    def has(self, digest: str) -> bool:
        return digest in self.blobs or digest in self.manifests

    def _pieces(self, digest: str) -> Tuple[int, List[Tuple[str, int, int]]]:
        blob = self.blobs.get(digest)
        if blob is not None:
            if blob.parts:
                return blob.size, [(p.archive, p.offset, p.size) for p in blob.parts]
            return blob.size, [(blob.archive, blob.offset, blob.size)]
        manifest = self.manifests.get(digest)
        if manifest is not None:
            return manifest.size, [(manifest.archive, manifest.offset, manifest.size)]
        raise NotFound(f"{digest} is not in the archives of {self.archive_dir}")

    def archives_of(self, digest: str) -> List[str]:
        """The archives holding ``digest``'s bytes (several for a split blob)."""
        try:
            return sorted({archive for archive, dummy, dummy_size in self._pieces(digest)[1]})
        except NotFound:
            return []

    def _raw_chunks(self, pieces: List[Tuple[str, int, int]], chunk_size: int) -> Iterator[bytes]:
        for archive, offset, size in pieces:
            path = self.path(archive)
            try:
                handle = open(path, "rb")
            except OSError as exc:
                raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from None
            with handle:
                handle.seek(offset)
                left = size
                while left:
                    chunk = handle.read(min(chunk_size, left))
                    if not chunk:
                        raise ArchiveError(f"{path} ends before byte {offset + size} (a blob's data runs past its "
                                           "end): the archive is truncated; copy it again")
                    left -= len(chunk)
                    yield chunk

    def _checked(self, digest: str, size: int, chunks: Iterator[bytes]) -> Iterator[bytes]:
        algorithm = digest.split(":", 1)[0]
        hasher = hashlib.new(algorithm)
        count = 0
        for chunk in chunks:
            hasher.update(chunk)
            count += len(chunk)
            yield chunk
        actual = f"{algorithm}:{hasher.hexdigest()}"
        if actual != digest or count != size:
            raise DigestMismatch(f"{digest} read from the archives of {self.archive_dir}: {count} bytes hashing to "
                                 f"{actual}; the archive changed after it was checked: copy it again")

    @contextlib.contextmanager
    def open_blob(self, digest: str, chunk_size: int = CHUNK) -> Iterator[Iterator[bytes]]:
        """Stream a blob (a split one joined from its parts); DigestMismatch after the last chunk
        if the bytes do not hash to ``digest``, before the consumer sees the end."""
        size, pieces = self._pieces(digest)
        yield self._checked(digest, size, self._raw_chunks(pieces, chunk_size))

    def read_manifest(self, digest: str) -> Manifest:
        entry = self.manifests.get(digest)
        if entry is None:
            raise NotFound(f"manifest {digest} is not in the archives of {self.archive_dir}")
        if entry.size > MAX_MANIFEST_BYTES:
            raise ArchiveError(f"manifest {digest} in {entry.archive} is larger than {MAX_MANIFEST_BYTES} bytes; "
                               "refusing it")
        with self.open_blob(digest) as chunks:
            raw = b"".join(chunks)
        manifest = parse_manifest(raw, entry.media_type)
        if manifest.digest != digest:  # a sha512-addressed manifest
            manifest.digest = digest
        return manifest

    def blob_ok(self, digest: str) -> bool:
        """Whether the blob's bytes (all parts) still hash to its digest."""
        try:
            with self.open_blob(digest) as chunks:
                for _chunk in chunks:
                    pass
        except (DigestMismatch, ArchiveError):
            return False
        return True


def _hash_file(path: str, on_bytes: Optional[Callable[[int], None]]
               ) -> Tuple[int, str, os.stat_result, os.stat_result]:
    """(bytes read, sha256 hex, the file's stat before and after the read)."""
    hasher = hashlib.sha256()
    count = 0
    with open(path, "rb") as handle:
        before = os.fstat(handle.fileno())
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            hasher.update(chunk)
            count += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
        after = os.fstat(handle.fileno())
    return count, hasher.hexdigest(), before, after


def _locate(reader: ArchiveReader, archive: str, spans: List[Span], actual_size: int) -> List[Span]:
    """The spans of ``archive`` whose blob no longer matches its digest."""
    damaged = []
    checked: Dict[str, bool] = {}
    for span in spans:
        if span.offset + span.size > actual_size:
            damaged.append(span)
            continue
        if span.digest not in checked:
            checked[span.digest] = reader.blob_ok(span.digest)
        if not checked[span.digest]:
            damaged.append(span)
    return damaged


class VerifyProgress:
    """Bytes of the archives checked so far; ``report(snapshot)`` is called at most every ``interval`` s."""

    def __init__(self, total_bytes: int, archives: int, report: Optional[Callable[[dict], None]] = None,
                 interval: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self.total_bytes = total_bytes
        self.archives = archives
        self.report = report
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.done_bytes = 0
        self.done_archives = 0
        self.current: Optional[str] = None
        self._last: Optional[float] = None

    def add(self, count: int) -> None:
        self.done_bytes += count
        self.maybe_report()

    def snapshot(self) -> dict:
        elapsed = self.clock() - self.start
        rate = self.done_bytes / elapsed if elapsed > 0 else 0.0
        left = self.total_bytes - self.done_bytes
        return {
            "phase": "verifying archives",
            "archives_total": self.archives,
            "archives_done": self.done_archives,
            "archive": self.current,
            "bytes_total": self.total_bytes,
            "bytes_checked": self.done_bytes,
            "rate_bytes_per_second": round(rate, 1),
            "eta_seconds": round(left / rate, 1) if rate > 0 else None,
            "elapsed_seconds": round(elapsed, 3),
        }

    def maybe_report(self, force: bool = False) -> None:
        if self.report is None:
            return
        now = self.clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            self.report(self.snapshot())


def trusted_archives(reader: ArchiveReader, record: Optional[VerifiedArchives]) -> Dict[str, os.stat_result]:
    """The archives ``record`` says an earlier run hashed and nothing touched since, with their stat."""
    trusted: Dict[str, os.stat_result] = {}
    if record is None:
        return trusted
    for archive in reader.contents.archives:
        try:
            stat = os.stat(reader.path(archive.name))
        except OSError:
            continue
        if record.trusts(archive, stat):
            trusted[archive.name] = stat
    return trusted


def verify_archives(reader: ArchiveReader, progress: Optional[VerifyProgress] = None,
                    record: Optional[VerifiedArchives] = None,
                    trusted: Optional[Dict[str, os.stat_result]] = None) -> List[Damage]:
    """Check every archive's size and sha256 (streamed); the damaged ones, each with the blobs
    the damage hit. An empty list means every archive is as the export wrote it.

    With a ``record`` (a resumed import), the archives in ``trusted`` (:func:`trusted_archives`)
    are not hashed again; each archive that passes is recorded, and saved at once, so that an
    interrupted check keeps what it did. Each that fails is dropped from the record."""
    damages: List[Damage] = []
    spans = spans_by_archive(reader.contents)
    trusted = trusted or {}

    def damaged(damage: Damage) -> None:
        damages.append(damage)
        if record is not None:
            record.forget(damage.archive)
            record.save()

    for archive in reader.contents.archives:
        path = reader.path(archive.name)
        if archive.name in trusted:
            if record is not None:
                record.trusted.append(archive.name)
            if progress is not None:
                progress.done_archives += 1
            continue
        if progress is not None:
            progress.current = archive.name
        try:
            actual_size = os.path.getsize(path)
        except OSError:
            damaged(Damage(archive.name, "is missing from archive_dir", list(spans[archive.name])))
            continue
        if actual_size != archive.size:
            reason = (f"has {actual_size} bytes instead of {archive.size} (truncated or still being copied)"
                      if actual_size < archive.size else f"has {actual_size} bytes instead of {archive.size}")
            damaged(Damage(archive.name, reason, _locate(reader, archive.name, spans[archive.name], actual_size)))
            if progress is not None:
                progress.add(archive.size)
            continue
        checked_ns = time.time_ns()
        try:
            dummy, digest, before, after = _hash_file(path, progress.add if progress is not None else None)
        except OSError as exc:
            damaged(Damage(archive.name, f"cannot be read ({exc.strerror or exc})", []))
            continue
        if digest != archive.sha256:
            damaged(Damage(archive.name, f"has sha256 {digest}, not the {archive.sha256} the export recorded",
                           _locate(reader, archive.name, spans[archive.name], actual_size)))
        elif Identity.of(before) != Identity.of(after):
            damaged(Damage(archive.name, "changed while it was being checked (is it still being copied?)", []))
        elif record is not None:
            record.passed(archive, before, checked_ns)
            record.save()
        if progress is not None:
            progress.done_archives += 1
            progress.maybe_report()
    if progress is not None:
        progress.current = None
        progress.maybe_report(force=True)
    return damages


def damage_error(archive_dir: str, damages: List[Damage], total: int) -> ArchiveError:
    """The error that refuses an import because of ``damages``: every archive and blob named."""
    names = ", ".join(d.archive for d in damages)
    details = "; ".join(d.describe() for d in damages)
    return ArchiveError(
        f"{len(damages)} of {total} archives in {archive_dir} failed their checksum ({names}): {details}. "
        "Nothing was pushed. Copy the named archives again from the export side (the files there are "
        "unchanged; compare with sha256sum against contents.json) and run the import again"
    )


def total_size(contents: Contents) -> str:
    return format_size(sum(a.size for a in contents.archives))
