# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Size-limited tar archives of one OCI image layout, written as the blobs stream in.

One :class:`ArchiveWriter` owns the archive files of an export. A blob is written as one tar
member: its header (built by :mod:`tarfile`, pax only when a name or size needs it), then its
bytes as they arrive from the source, then the padding to the next 512-byte block. Nothing is
staged elsewhere on disk and at most one chunk is in memory. The sha256 of every archive is
computed while writing; a member that fails half-way (digest mismatch, interrupt, short body)
is cut off again with the file truncated and the hash state restored from before it.

A member goes into the current archive while it fits under ``max_size`` (keeping room for the
two zero blocks that end a tar); otherwise the archive is ended and the next one started. Only
a blob that cannot fit in an empty archive is split: into ``<member>.part-0001`` filling the
current archive, then one part per archive.

Resume: every committed member (and every ended archive, with its size and sha256) is a line of
``.state/journal.jsonl``. Lines are written in batches, each after an fsync of the archive
data it names, so a line never points at data that could be lost. A killed export's successor
with the same plan keeps everything the journal names: the open archive is truncated to its
last committed member, its hash recomputed from disk, and the blobs already written are not
fetched again (:meth:`ArchiveWriter.has`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    CONTENTS_FILE,
    INDEX_MEMBER,
    OCI_LAYOUT_CONTENT,
    OCI_LAYOUT_MEMBER,
    STATE_DIR,
    ArchiveError,
    ArchiveFile,
    BlobEntry,
    BlobPart,
    ManifestEntry,
    archive_name,
    archive_number,
    blob_member,
    format_size,
    part_member,
)

BLOCK = 512
END_OF_ARCHIVE = 2 * BLOCK
# Smallest archive_size accepted: room for a few headers and data blocks.
MIN_ARCHIVE_SIZE = 16 * 1024
# A split blob starts in the current archive only when at least this much data fits there.
MIN_PART = 4 * BLOCK
JOURNAL = "journal.jsonl"
JOURNAL_VERSION = 1
_READ = 1 << 20


def padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def member_header(name: str, size: int) -> bytes:
    """The header block(s) of a regular file member: ustar, or pax when the name or size needs it.
    Fixed mode, owner and time, so the same content always gives the same archive bytes."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.type = tarfile.REGTYPE
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")


class _Mark:
    """Where the writer stood before a member: enough to cut the member off again."""

    def __init__(self, writer: "ArchiveWriter"):
        self.number = writer._number
        self.position = writer._position
        self.hasher = writer._hasher.copy()
        self.closed = len(writer.closed)


class ArchiveWriter:
    """The archive files of one export in ``directory``; see the module docstring.

    ``fingerprint`` names the plan: a journal left by another plan is not resumed. Thread-safe:
    members are written one at a time under :attr:`lock` (held while a blob streams in).
    """

    def __init__(self, directory: str, max_size: Optional[int], fingerprint: str, sync_interval: float = 2.0):
        if max_size is not None and max_size < MIN_ARCHIVE_SIZE:
            raise ArchiveError(f"archive_size {max_size} is too small: give at least {format_size(MIN_ARCHIVE_SIZE)} "
                               "(sizes such as 4GiB or 700MB suit removable media)")
        self.directory = directory
        self.max_size = max_size
        self.fingerprint = fingerprint
        self.sync_interval = sync_interval
        self.lock = threading.RLock()
        self.state_dir = os.path.join(directory, STATE_DIR)
        self.journal_path = os.path.join(self.state_dir, JOURNAL)
        self.blobs: Dict[str, BlobEntry] = {}
        self.manifests: Dict[str, ManifestEntry] = {}
        self.closed: List[ArchiveFile] = []
        self.bytes_written = 0  # by this run: headers, data and padding
        self.members_written = 0
        self.resumed = False
        self._number = 1
        self._position = 0
        self._hasher = hashlib.sha256()
        self._file: Any = None
        self._journal: Any = None
        self._pending: List[Dict[str, Any]] = []  # records of the member being written
        self._unsynced: List[Dict[str, Any]] = []  # committed, not yet in the journal
        self._last_sync = time.monotonic()
        self._prepared = False
        self._load_journal()

    # --- resume ------------------------------------------------------------------------------

    def _load_journal(self) -> None:
        """Take over what a killed run of the same plan committed, if its files are still there.
        Reads only: nothing is truncated or removed before the first write (:meth:`_prepare`)."""
        try:
            with open(self.journal_path, "rb") as handle:
                lines = handle.read().split(b"\n")
        except OSError:
            return
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                break  # a line cut by the kill, and anything after it
        if not records or records[0] != self._header():
            return
        blobs: Dict[str, BlobEntry] = {}
        manifests: Dict[str, ManifestEntry] = {}
        closed: List[ArchiveFile] = []
        end = 0
        try:
            for record in records[1:]:
                if "closed" in record:
                    closed.append(ArchiveFile(record["closed"], record["size"], record["sha256"]))
                    end = 0
                elif record.get("kind") == "manifest":
                    manifests[record["digest"]] = ManifestEntry(record["digest"], record["size"], record["media_type"],
                                                                record["archive"], record["offset"])
                    end = record["end"]
                else:
                    parts = tuple(BlobPart(*p) for p in record.get("parts") or ())
                    blobs[record["digest"]] = BlobEntry(record["digest"], record["size"], record["archive"],
                                                        record["offset"], record.get("media_type"), parts)
                    end = record["end"]
        except (KeyError, TypeError):
            return
        for archive in closed:
            if _size_of(os.path.join(self.directory, archive.name)) != archive.size:
                return  # an ended archive is gone or changed: start again
        number = len(closed) + 1
        current = _size_of(os.path.join(self.directory, archive_name(number)))
        if end and (current is None or current < end):
            return
        self.blobs, self.manifests, self.closed = blobs, manifests, closed
        self._number, self._position = number, end
        self.resumed = True

    def _header(self) -> Dict[str, Any]:
        return {"journal": JOURNAL_VERSION, "plan": self.fingerprint, "archive_size": self.max_size}

    def _prepare(self) -> None:
        """Before the first write: truncate a resumed archive to its last committed member (and
        hash what stays), or clear the directory of an earlier export and start a journal."""
        if self._prepared:
            return
        self._prepared = True
        os.makedirs(self.directory, exist_ok=True)
        if self.resumed:
            self._remove_archives(after=self._number)
            path = self._path(self._number)
            self._file = open(path, "r+b" if os.path.exists(path) else "w+b")
            self._file.truncate(self._position)
            self._file.seek(0)
            remaining = self._position
            while remaining:
                chunk = self._file.read(min(_READ, remaining))
                if not chunk:
                    raise ArchiveError(f"{path} ended before byte {self._position} while resuming")
                self._hasher.update(chunk)
                remaining -= len(chunk)
            self._file.seek(self._position)
            self._journal = open(self.journal_path, "ab")
            return
        self._remove_archives(after=0)
        try:
            os.unlink(os.path.join(self.directory, CONTENTS_FILE))  # it described the archives just removed
        except FileNotFoundError:
            pass
        shutil.rmtree(self.state_dir, ignore_errors=True)
        os.makedirs(self.state_dir)
        self._journal = open(self.journal_path, "wb")
        self._journal.write(json.dumps(self._header()).encode() + b"\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._file = open(self._path(1), "w+b")

    def _remove_archives(self, after: int) -> None:
        for name in os.listdir(self.directory):
            try:
                number = archive_number(name)
            except ArchiveError:
                continue
            if number > after:
                os.unlink(os.path.join(self.directory, name))

    def _path(self, number: int) -> str:
        return os.path.join(self.directory, archive_name(number))

    # --- writing -------------------------------------------------------------------------------

    def has(self, digest: str) -> bool:
        # No lock: a blob can stream in for minutes under it, and callers hold their own locks
        # (one dict lookup is atomic; an entry appears only once its member is complete).
        return digest in self.blobs or digest in self.manifests

    def add_blob(self, digest: str, size: int, chunks: Iterable[bytes], media_type: Optional[str] = None) -> BlobEntry:
        """Write ``size`` bytes from ``chunks`` as the member(s) of ``digest``. The caller's
        chunks check the digest (the registry client does as the last chunk arrives); here the
        count is checked. On any exception the member is cut off and the exception re-raised."""
        with self.lock:
            existing = self.blobs.get(digest)
            if existing is not None:
                return existing
            spans = self._write(digest, size, chunks)
            archive, offset = spans[0][0], spans[0][1]
            parts = tuple(BlobPart(a, o, s) for a, o, s in spans) if len(spans) > 1 else ()
            entry = BlobEntry(digest, size, archive, offset, media_type, parts)
            self.blobs[digest] = entry
            record = {"kind": "blob", "digest": digest, "size": size, "media_type": media_type, "archive": archive,
                      "offset": offset, "parts": [[a, o, s] for a, o, s in spans] if parts else [],
                      "end": self._position}
            self._commit(record)
            return entry

    def add_manifest(self, digest: str, data: bytes, media_type: str) -> ManifestEntry:
        """Write a manifest (already digest-checked by the registry client) as a member."""
        with self.lock:
            existing = self.manifests.get(digest)
            if existing is not None:
                return existing
            spans = self._write(digest, len(data), (data,), split=False)
            entry = ManifestEntry(digest, len(data), media_type, spans[0][0], spans[0][1])
            self.manifests[digest] = entry
            self._commit({"kind": "manifest", "digest": digest, "size": len(data), "media_type": media_type,
                          "archive": entry.archive, "offset": entry.offset, "end": self._position})
            return entry

    def _room(self) -> Optional[int]:
        """Bytes that still fit in the current archive (its end blocks set aside); None: no limit."""
        if self.max_size is None:
            return None
        return self.max_size - self._position - END_OF_ARCHIVE

    def _write(self, digest: str, size: int, chunks: Iterable[bytes], split: bool = True) -> List[Tuple[str, int, int]]:
        """Write the member(s); [(archive, data offset, data size)] per part."""
        self._prepare()
        mark = _Mark(self)
        try:
            return self._write_parts(digest, size, iter(chunks), split)
        except BaseException:
            self._rollback(mark)
            raise

    def _write_parts(self, digest: str, size: int, chunks, split: bool) -> List[Tuple[str, int, int]]:
        whole = member_header(blob_member(digest), size)
        need = len(whole) + padded(size)
        room = self._room()
        if room is not None and need > room:
            fits_alone = need <= self.max_size - END_OF_ARCHIVE
            if fits_alone or not split:
                if not fits_alone:
                    raise ArchiveError(f"{digest} ({size} bytes) does not fit in an archive of "
                                       f"{format_size(self.max_size)}: give a larger archive_size")
                if self._position:
                    self._next_archive()
            elif room - 2 * BLOCK < MIN_PART:
                self._next_archive()
        room = self._room()
        if room is None or len(whole) + padded(size) <= room:
            offset = self._member(whole, size, chunks)
            return [(archive_name(self._number), offset, size)]
        spans: List[Tuple[str, int, int]] = []
        left = size
        part = 0
        buffered = b""
        while left:
            part += 1
            if part > 1:
                self._next_archive()
            header = member_header(part_member(digest, part), size)  # the longest header it can need
            take = min(left, (self._room() - len(header)) // BLOCK * BLOCK)
            if take <= 0:
                raise ArchiveError(f"archive_size {format_size(self.max_size)} leaves no room for part {part} of "
                                   f"{digest}: give a larger archive_size")
            header = member_header(part_member(digest, part), take)
            buffered, offset = self._member_from(header, take, chunks, buffered)
            spans.append((archive_name(self._number), offset, take))
            left -= take
        self._check_exhausted(chunks, buffered, size)
        return spans

    def _member(self, header: bytes, size: int, chunks) -> int:
        buffered, offset = self._member_from(header, size, chunks, b"")
        self._check_exhausted(chunks, buffered, size)
        return offset

    def _member_from(self, header: bytes, size: int, chunks, buffered: bytes) -> Tuple[bytes, int]:
        """Write a header and ``size`` data bytes (``buffered`` first, then from ``chunks``) and the
        padding; returns what was read past ``size`` and the data offset."""
        self._put(header)
        offset = self._position
        left = size
        while left:
            if not buffered:
                try:
                    buffered = next(chunks)
                except StopIteration:
                    raise ArchiveError(f"the source sent {size - left} bytes of a {size}-byte member: "
                                       "the blob is shorter than its descriptor says") from None
                buffered = bytes(buffered)
            piece, buffered = buffered[:left], buffered[left:]
            self._put(piece)
            left -= len(piece)
            if self._unsynced and time.monotonic() - self._last_sync >= self.sync_interval:
                self.sync()  # a long blob does not hold back the journal of the ones before it
        pad = padded(size) - size
        if pad:
            self._put(b"\0" * pad)
        return buffered, offset

    def _check_exhausted(self, chunks, buffered: bytes, size: int) -> None:
        # Reading on lets the client check the digest after the last chunk (and refuse extra bytes).
        extra = len(buffered) + sum(len(chunk) for chunk in chunks)
        if extra:
            raise ArchiveError(f"the source sent {size + extra} bytes for a {size}-byte blob: refused")

    def _put(self, data: bytes) -> None:
        self._file.write(data)
        self._hasher.update(data)
        self._position += len(data)
        self.bytes_written += len(data)

    def _next_archive(self) -> None:
        self._end_archive()
        self._number += 1
        self._file = open(self._path(self._number), "w+b")
        self._position = 0
        self._hasher = hashlib.sha256()

    def _end_archive(self) -> ArchiveFile:
        self._put(b"\0" * END_OF_ARCHIVE)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        archive = ArchiveFile(archive_name(self._number), self._position, self._hasher.hexdigest())
        self.closed.append(archive)
        self._pending.append({"closed": archive.name, "size": archive.size, "sha256": archive.sha256})
        return archive

    def _rollback(self, mark: _Mark) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        for number in range(mark.number + 1, self._number + 1):
            try:
                os.unlink(self._path(number))
            except OSError:
                pass
        self._number, self._position, self._hasher = mark.number, mark.position, mark.hasher
        del self.closed[mark.closed:]
        self._pending = []
        self._file = open(self._path(self._number), "r+b")
        self._file.truncate(self._position)
        self._file.seek(self._position)

    def _commit(self, record: Dict[str, Any]) -> None:
        self.members_written += 1
        self._unsynced.extend(self._pending)
        self._unsynced.append(record)
        self._pending = []
        if self._unsynced and (any("closed" in r for r in self._unsynced)
                               or time.monotonic() - self._last_sync >= self.sync_interval):
            self.sync()

    def sync(self) -> None:
        """Make the committed members durable: fsync the archive, then journal them."""
        with self.lock:
            if not self._unsynced or self._journal is None:
                return
            self._file.flush()
            os.fsync(self._file.fileno())
            self._journal.write(b"".join(json.dumps(r).encode() + b"\n" for r in self._unsynced))
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._unsynced = []
            self._last_sync = time.monotonic()

    # --- the end -------------------------------------------------------------------------------

    def finish(self, index: bytes) -> List[ArchiveFile]:
        """Write ``oci-layout`` and ``index.json`` into the last archive (a new one when they do
        not fit) and end it; returns every archive. Not journaled: a resumed run cuts them off."""
        with self.lock:
            self._prepare()
            self.sync()
            members = [(member_header(OCI_LAYOUT_MEMBER, len(OCI_LAYOUT_CONTENT)), OCI_LAYOUT_CONTENT),
                       (member_header(INDEX_MEMBER, len(index)), index)]
            need = sum(len(h) + padded(len(d)) for h, d in members)
            room = self._room()
            if room is not None and need > room:
                if need > self.max_size - END_OF_ARCHIVE:
                    raise ArchiveError(f"index.json ({len(index)} bytes) does not fit in an archive of "
                                       f"{format_size(self.max_size)}: give a larger archive_size")
                self._next_archive()
            for header, data in members:
                self._member(header, len(data), iter((data,)))
            self._end_archive()
            self._pending = []
            self._file = None
            self.close()
            return list(self.closed)

    def close(self) -> None:
        """Journal what is committed and close the files (after an interrupt or a failure too)."""
        with self.lock:
            if self._file is not None and not self._file.closed:
                self.sync()
                self._file.close()
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def discard_state(self) -> None:
        """The export is complete: the journal is no longer needed."""
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _size_of(path: str) -> Optional[int]:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
