# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Size-limited tar archives of one OCI image layout, written as the blobs stream in.

One :class:`ArchiveWriter` owns the archive files of an export. Every blob's size is known from
its descriptor, so its member is *reserved* first, under the writer's lock: the header (built by
:mod:`tarfile`, pax only when a name or size needs it) and the padding are written at once and
the place of the data is set aside. The data is then written where it belongs (``os.pwrite``)
as it arrives from the source, without the lock, so several blobs stream in at the same time,
each straight from its source into its place: nothing is staged elsewhere on disk and at most
one chunk per blob is in memory.

A member goes into the current archive while it fits under ``max_size`` (keeping room for the
two zero blocks that end a tar); otherwise the archive is sealed and the next one started. Only a
blob that cannot fit in an empty archive is split: into ``<member>.part-0001`` filling the current
archive, then one part per archive. An archive is ended (its end blocks written, synced, its
sha256 read back) once every member reserved in it is complete.

A member whose data fails (digest mismatch, interrupt, short body) keeps its place: the next try
of the same blob fills it. A place still empty when the export ends is renamed ``trash/...``
(same header length), so every archive stays a valid tar and no blob name holds wrong bytes.

Resume: every reservation and every completed member (and every ended archive) is a line of
``.state/journal.jsonl``, written in batches after an fsync of the archives, so a line never
points at data that could be lost. A killed export's successor with the same plan keeps
everything the journal names: each archive is cut back to the end of its last journaled
reservation, the places reserved and not completed are filled by the blobs they were for, and the
blobs already complete are not fetched again (:meth:`ArchiveWriter.has`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    CONTENTS_FILE,
    INDEX_MEMBER,
    MANIFESTS_DIR,
    MAPPING_FILE,
    OCI_LAYOUT_CONTENT,
    OCI_LAYOUT_MEMBER,
    STATE_DIR,
    ArchiveError,
    ArchiveFile,
    BlobEntry,
    ManifestEntry,
    archive_name,
    archive_number,
    blob_member,
    format_size,
    part_member,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.journal import (
    JOURNAL,
    JOURNAL_VERSION,
    JournalFile,
    Region,
    add_entry,
    read_journal,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import fsync_directory

BLOCK = 512
END_OF_ARCHIVE = 2 * BLOCK
# Smallest archive_size accepted: room for a few headers and data blocks.
MIN_ARCHIVE_SIZE = 16 * 1024
# A split blob starts in the current archive only when at least this much data fits there.
MIN_PART = 4 * BLOCK
TRASH = "trash/"
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


class ArchiveWriter:
    """The archive files of one export in ``directory``; see the module docstring.

    ``fingerprint`` names the plan: a journal left by another plan is not resumed. Thread-safe:
    places are handed out under :attr:`lock`; data is written without it.
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
        self.ended: Dict[int, ArchiveFile] = {}
        self.bytes_written = 0  # by this run: headers, data and padding
        self.members_written = 0
        self.resumed = False
        self._number = 1
        self._sizes: Dict[int, int] = {1: 0}  # reserved end of every archive not ended
        self._pending: Dict[int, int] = {}  # archive -> places reserved there and not complete
        self._slots: Dict[Tuple[str, int, int], Region] = {}  # reserved, not complete, nobody writing
        self._writing: Dict[str, Region] = {}
        self._fds: Dict[int, int] = {}
        self._journal: Optional[JournalFile] = None
        self._unsynced: List[Dict[str, Any]] = []
        self._last_sync = time.monotonic()
        self._prepared = False
        self._journal_end = 0
        self._new_file = False
        self._load_journal()

    @property
    def closed(self) -> List[ArchiveFile]:
        return [self.ended[n] for n in sorted(self.ended)]

    # --- resume ------------------------------------------------------------------------------

    def _load_journal(self) -> None:
        """Take over what a killed run of the same plan journaled, if its files are still there.
        Reads only: nothing is truncated or removed before the first write (:meth:`_prepare`)."""
        replay = read_journal(self.journal_path, self._header())
        if replay is None:
            return
        ended = replay.ended
        sizes: Dict[int, int] = {}  # reserved end of every archive
        for region in replay.reserved:
            for number, _header, data, size in region.spans:
                sizes[number] = max(sizes.get(number, 0), data + padded(size))
        for number, archive in ended.items():
            if _size_of(os.path.join(self.directory, archive.name)) != archive.size:
                return  # an ended archive is gone or changed: start again
        for number, size in sizes.items():
            if number not in ended and (_size_of(self._path(number)) or 0) < size:
                return
        self.blobs, self.manifests, self.ended = replay.blobs, replay.manifests, ended
        self._journal_end = replay.end
        self._slots = regions = replay.open
        self._sizes = {n: s for n, s in sizes.items() if n not in ended}
        self._number = max([1] + list(sizes) + [n + 1 for n in ended])
        self._sizes.setdefault(self._number, 0)
        for region in regions.values():
            for number in region.numbers():
                self._pending[number] = self._pending.get(number, 0) + 1
        self.resumed = True

    def _header(self) -> Dict[str, Any]:
        return {"journal": JOURNAL_VERSION, "plan": self.fingerprint, "archive_size": self.max_size}

    def _prepare(self) -> None:
        """Before the first write: cut resumed archives back to their journaled places (and end
        those that are complete), or clear the directory of an earlier export and start a journal."""
        if self._prepared:
            return
        self._prepared = True
        os.makedirs(self.directory, exist_ok=True)
        if self.resumed:
            self._remove_archives(after=self._number)
            for number, size in self._sizes.items():
                self._fds[number] = os.open(self._path(number), os.O_RDWR | os.O_CREAT, 0o644)
                os.ftruncate(self._fds[number], size)
            self._journal = JournalFile(self.journal_path, end=self._journal_end)  # a cut line is cut off
            for number in sorted(self._sizes):
                if number < self._number and not self._pending.get(number):
                    self._end(number)
            return
        self._remove_archives(after=0)
        # what described the archives just removed: contents.json, the plan, the cluster files
        for name in (CONTENTS_FILE, MAPPING_FILE):
            try:
                os.unlink(os.path.join(self.directory, name))
            except FileNotFoundError:
                pass
        shutil.rmtree(os.path.join(self.directory, MANIFESTS_DIR), ignore_errors=True)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        os.makedirs(self.state_dir)
        self._journal = JournalFile(self.journal_path, header=self._header())
        self._fds[1] = os.open(self._path(1), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        fsync_directory(self.state_dir)
        fsync_directory(self.directory)

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

    # --- places ---------------------------------------------------------------------------------

    def has(self, digest: str) -> bool:
        # No lock: callers hold their own locks (one dict lookup is atomic, and an entry appears
        # only once its member is complete).
        return digest in self.blobs or digest in self.manifests

    def _room(self) -> Optional[int]:
        """Bytes that still fit in the current archive (its end blocks set aside); None: no limit."""
        if self.max_size is None:
            return None
        return self.max_size - self._sizes[self._number] - END_OF_ARCHIVE

    def _place(self, name: str, size: int) -> List[int]:
        """Reserve a member at the end of the current archive: header and padding written now."""
        number = self._number
        header = member_header(name, size)
        start = self._sizes[number]
        data = start + len(header)
        _pwrite_all(self._fds[number], header, start)
        pad = padded(size) - size
        if pad:
            _pwrite_all(self._fds[number], b"\0" * pad, data + size)
        self._sizes[number] = data + padded(size)
        self._pending[number] = self._pending.get(number, 0) + 1
        self.bytes_written += len(header) + pad
        return [number, start, data, size]

    def _reserve(self, digest: str, kind: str, size: int, media_type: Optional[str], split: bool) -> Region:
        self._prepare()
        need = len(member_header(blob_member(digest), size)) + padded(size)
        room = self._room()
        if room is not None and need > room:
            fits_alone = need <= self.max_size - END_OF_ARCHIVE
            if fits_alone or not split:
                if not fits_alone:
                    raise ArchiveError(f"{digest} ({size} bytes) does not fit in an archive of "
                                       f"{format_size(self.max_size)}: give a larger archive_size")
                if self._sizes[self._number]:
                    self._next_archive()
            elif room - 2 * BLOCK < MIN_PART:
                self._next_archive()
        room = self._room()
        if room is None or need <= room:
            spans = [self._place(blob_member(digest), size)]
        else:
            spans, left, part = [], size, 0
            while left:
                part += 1
                if part > 1:
                    self._next_archive()
                name = part_member(digest, part)
                take = min(left, (self._room() - len(member_header(name, size))) // BLOCK * BLOCK)
                if take <= 0:
                    raise ArchiveError(f"archive_size {format_size(self.max_size)} leaves no room for part {part} "
                                       f"of {digest}: give a larger archive_size")
                spans.append(self._place(name, take))
                left -= take
        region = Region(digest, kind, size, media_type, spans)
        self._unsynced.append(region.record())
        return region

    def _next_archive(self) -> None:
        """Seal the current archive (ended once its members are complete) and start the next."""
        sealed = self._number
        self._number += 1
        self._sizes[self._number] = 0
        self._fds[self._number] = os.open(self._path(self._number), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self._new_file = True  # its directory entry is synced before the journal names it
        if not self._pending.get(sealed):
            self._end(sealed)

    def _end(self, number: int) -> None:
        """End a sealed archive: end blocks, fsync, sha256 read back from the file."""
        fd, size = self._fds.pop(number), self._sizes.pop(number)
        _pwrite_all(fd, b"\0" * END_OF_ARCHIVE, size)
        os.ftruncate(fd, size + END_OF_ARCHIVE)
        self.bytes_written += END_OF_ARCHIVE
        os.fsync(fd)
        hasher = hashlib.sha256()
        offset = 0
        while True:
            chunk = os.pread(fd, _READ, offset)
            if not chunk:
                break
            hasher.update(chunk)
            offset += len(chunk)
        os.close(fd)
        archive = ArchiveFile(archive_name(number), size + END_OF_ARCHIVE, hasher.hexdigest())
        self.ended[number] = archive
        self._unsynced.append({"closed": archive.name, "size": archive.size, "sha256": archive.sha256})

    # --- writing -------------------------------------------------------------------------------

    def add_blob(self, digest: str, size: int, chunks: Iterable[bytes], media_type: Optional[str] = None) -> BlobEntry:
        """Write ``size`` bytes from ``chunks`` as the member(s) of ``digest``, in its place,
        without holding the lock while they arrive. The caller's chunks check the digest (the
        registry client does as the last chunk arrives); here the count is checked. On any
        exception the place stays reserved for the next try, and the exception is re-raised."""
        region = self._take(digest, "blob", size, media_type)
        if region is None:
            return self.blobs[digest]
        self._fill(region, chunks)
        return self.blobs[digest]

    def add_manifest(self, digest: str, data: bytes, media_type: str) -> ManifestEntry:
        """Write a manifest (already digest-checked by the registry client) as a member."""
        region = self._take(digest, "manifest", len(data), media_type)
        if region is None:
            return self.manifests[digest]
        self._fill(region, (data,))
        return self.manifests[digest]

    def _take(self, digest: str, kind: str, size: int, media_type: Optional[str]) -> Optional[Region]:
        with self.lock:
            if digest in self.blobs or digest in self.manifests:
                return None
            if digest in self._writing:
                raise ArchiveError(f"{digest} is being written by another thread")
            key = next((k for k, r in self._slots.items() if k[0] == digest and r.size == size and r.kind == kind), None)
            if key is None:
                region = self._reserve(digest, kind, size, media_type, split=kind == "blob")
            else:
                self._prepare()
                region = self._slots[key]
                self._rename(region, trash=False)  # an earlier finish may have renamed it
                del self._slots[key]  # only now: a failed rename leaves the place to the next try
            self._writing[digest] = region
            return region

    def _fill(self, region: Region, chunks: Iterable[bytes]) -> None:
        try:
            written = self._stream(region, iter(chunks))
        except BaseException:
            with self.lock:
                del self._writing[region.digest]
                self._slots[region.key] = region
            raise
        with self.lock:
            del self._writing[region.digest]
            self.bytes_written += written
            add_entry(region, self.blobs, self.manifests)
            self.members_written += 1
            self._unsynced.append({"done": region.digest, "at": region.spans[0][:2]})
            for number in region.numbers():
                self._pending[number] -= 1
                if number < self._number and number in self._sizes and not self._pending[number]:
                    self._end(number)
            if any("closed" in r for r in self._unsynced) or time.monotonic() - self._last_sync >= self.sync_interval:
                self.sync()

    def _stream(self, region: Region, chunks) -> int:
        buffered = b""
        for number, _header, offset, size in region.spans:
            fd = self._fds[number]
            left = size
            while left:
                if not buffered:
                    try:
                        buffered = bytes(next(chunks))
                    except StopIteration:
                        raise ArchiveError(f"the source sent {region.size - self._left(region, number, left)} bytes "
                                           f"of a {region.size}-byte member: the blob is shorter than its "
                                           "descriptor says") from None
                piece, buffered = buffered[:left], buffered[left:]
                _pwrite_all(fd, piece, offset + size - left)
                left -= len(piece)
        # Reading on lets the client check the digest after the last chunk (and refuse extra bytes).
        extra = len(buffered) + sum(len(chunk) for chunk in chunks)
        if extra:
            raise ArchiveError(f"the source sent {region.size + extra} bytes for a {region.size}-byte blob: refused")
        return region.size

    @staticmethod
    def _left(region: Region, number: int, left: int) -> int:
        """Bytes still missing when part ``number`` lacked ``left``."""
        missing, counting = 0, False
        for span in region.spans:
            if span[0] == number:
                counting = True
                missing += left
            elif counting:
                missing += span[3]
        return missing

    def sync(self) -> None:
        """Make what is journaled durable: fsync the archives, then append the journal lines."""
        with self.lock:
            if not self._unsynced or self._journal is None:
                return
            for fd in self._fds.values():
                os.fsync(fd)
            if self._new_file:
                fsync_directory(self.directory)
                self._new_file = False
            self._journal.append(self._unsynced)
            self._unsynced = []
            self._last_sync = time.monotonic()

    # --- the end -------------------------------------------------------------------------------

    def _rename(self, region: Region, trash: bool) -> None:
        """Write the headers of ``region`` again: under its blob names, or (``trash``) out of blobs/
        with names of the same length, so that a place nobody filled holds no blob name."""
        for part, (number, header, _data, size) in enumerate(region.spans, start=1):
            name = blob_member(region.digest) if len(region.spans) == 1 else part_member(region.digest, part)
            block = member_header(TRASH + name[len("blobs/"):] if trash else name, size)
            if len(block) != len(member_header(name, size)):  # pragma: no cover - names of one length
                raise ArchiveError(f"cannot rename the unused member {name}")
            _pwrite_all(self._fds[number], block, header)

    def finish(self, index: bytes) -> List[ArchiveFile]:
        """Rename the places still empty, write ``oci-layout`` and ``index.json`` into the last
        archive (a new one when they do not fit) and end every archive; returns them in order.
        The metadata members are not journaled: a resumed run cuts them off."""
        with self.lock:
            self._prepare()
            if self._writing:
                raise ArchiveError(f"{len(self._writing)} blob(s) still being written")
            members = [(OCI_LAYOUT_MEMBER, OCI_LAYOUT_CONTENT), (INDEX_MEMBER, index)]
            need = sum(len(member_header(n, len(d))) + padded(len(d)) for n, d in members)
            room = self._room()
            if room is not None and need > room:
                if need > self.max_size - END_OF_ARCHIVE:
                    raise ArchiveError(f"index.json ({len(index)} bytes) does not fit in an archive of "
                                       f"{format_size(self.max_size)}: give a larger archive_size")
                # before the empty places are counted out: an archive holding one must not be
                # journaled as closed (the next run fills the place)
                self._next_archive()
            for region in self._slots.values():
                self._rename(region, trash=True)
                for number in region.numbers():
                    self._pending[number] -= 1
            self._slots = {}
            for name, data in members:
                number, _header, offset, size = self._place(name, len(data))
                _pwrite_all(self._fds[number], data, offset)
                self.bytes_written += size
                self._pending[number] -= 1
            # journal what is complete first: the ended archives below are not (a re-run cuts them off)
            self.sync()
            for number in sorted(self._sizes):
                self._end(number)
            self._unsynced = []
            self.close()
            return self.closed

    def close(self) -> None:
        """Journal what is complete and close the files (after an interrupt or a failure too)."""
        with self.lock:
            if self._fds:
                self.sync()
            for fd in self._fds.values():
                os.close(fd)
            self._fds = {}
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def discard_state(self) -> None:
        """The export is complete: the journal is no longer needed."""
        shutil.rmtree(self.state_dir, ignore_errors=True)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """``os.pwrite`` until every byte is written (it may write fewer than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(f"wrote nothing at offset {offset} of an archive (disk full?)")
        view, offset = view[written:], offset + written


def _size_of(path: str) -> Optional[int]:
    try:
        return os.path.getsize(path)
    except OSError:
        return None
