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
archive, then one part per archive. An archive's sha256 is computed as it is written: its prefix
of complete members is hashed while later members still stream (:mod:`.frontier`), so when every
member reserved in it is complete the archive is ended (end blocks written, synced) with only the
rest to hash. Hashing and fsync happen outside the writer's lock.

A member whose data fails (digest mismatch, interrupt, short body) keeps its place: the next try
of the same blob fills it. A place still empty when the export ends is renamed ``trash/...``
(same header length), so every archive stays a valid tar and no blob name holds wrong bytes.

Resume: every reservation and every completed member (and every ended archive) is a line of
``.state/journal.jsonl``, written in batches after an fsync of the archives, so a line never
points at data that could be lost. A batch is written when a member completes ``sync_interval``
after the last one, and by a background thread when nothing completes for that long (a long
blob streaming does not keep the ones finished before it out of the journal). A killed export's successor with the same plan keeps
everything the journal names: each archive is cut back to the end of its last journaled
reservation, the places reserved and not completed are filled by the blobs they were for, and the
blobs already complete are not fetched again (:meth:`ArchiveWriter.has`).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import weakref
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
    sync_in_background,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.frontier import ArchiveHash
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.members import (  # noqa: F401 (member_header: tests)
    BLOCK,
    END_OF_ARCHIVE,
    member_header,
    padded,
    pwrite_all,
    stream_member,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import fsync_directory

# Smallest archive_size accepted: room for a few headers and data blocks.
MIN_ARCHIVE_SIZE = 16 * 1024
# A split blob starts in the current archive only when at least this much data fits there.
MIN_PART = 4 * BLOCK
TRASH = "trash/"


class ArchiveWriter:
    """The archive files of one export in ``directory``; see the module docstring.

    ``fingerprint`` names the plan: a journal left by another plan is not resumed. Thread-safe:
    places are handed out under :attr:`lock`; data is written, hashed and synced without it.
    ``_sync_lock`` (taken before :attr:`lock`, never after) orders the journal's appends and
    keeps an archive's file open while it is synced.
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
        self._sync_lock = threading.RLock()  # taken before self.lock, never after
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
        self._hashes: Dict[int, ArchiveHash] = {}  # every archive not ended
        self._extents: Dict[int, List[Tuple[int, int, bool]]] = {}  # resumed: archive -> (start, end, complete)
        self._endable: List[int] = []  # archives whose members are all complete, to end outside the lock
        self._journal: Optional[JournalFile] = None
        self._unsynced: List[Dict[str, Any]] = []
        self._last_sync = time.monotonic()
        self._prepared = False
        self._journal_end = 0
        self._new_file = False
        self._syncer: Optional[threading.Thread] = None
        self.syncer_stop = threading.Event()
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
        ended, extents = replay.ended, replay.extents()
        sizes = {n: max(end for _start, end, _complete in e) for n, e in extents.items()}  # reserved end
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
        self._extents = extents
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
        if self.sync_interval > 0:  # at 0 every completion syncs
            self._syncer = threading.Thread(target=sync_in_background, args=(weakref.ref(self),),
                                            name="airgap-archive-sync", daemon=True)
            self._syncer.start()
        if self.resumed:
            self._remove_archives(after=self._number)
            for number, size in self._sizes.items():
                self._open(number, os.O_CREAT)
                os.ftruncate(self._fds[number], size)
                for start, end, complete in self._extents.get(number, ()):
                    self._hashes[number].add(start, end, complete)
            self._extents = {}
            self._journal = JournalFile(self.journal_path, end=self._journal_end)  # a cut line is cut off
            for number in sorted(self._sizes):
                if number < self._number and not self._pending.get(number):
                    self._endable.append(number)
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
        self._open(1, os.O_CREAT | os.O_TRUNC)
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

    def _open(self, number: int, flags: int) -> None:
        self._fds[number] = os.open(self._path(number), os.O_RDWR | flags, 0o644)
        self._hashes[number] = ArchiveHash(self._fds[number])

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
        pwrite_all(self._fds[number], header, start)
        pad = padded(size) - size
        if pad:
            pwrite_all(self._fds[number], b"\0" * pad, data + size)
        self._sizes[number] = data + padded(size)
        self._hashes[number].add(start, data + padded(size))
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
        self._open(self._number, os.O_CREAT | os.O_TRUNC)
        self._new_file = True  # its directory entry is synced before the journal names it
        if not self._pending.get(sealed):
            self._endable.append(sealed)

    def _end_archives(self) -> None:
        """End the archives whose members are all complete (:meth:`_end`), then sync: called
        without :attr:`lock`, so the hashing and the fsyncs do not hold the other threads."""
        with self._sync_lock:
            while True:
                with self.lock:
                    if not self._endable:
                        break
                    number = self._endable.pop(0)
                self._end(number)
            self.sync()

    def _end(self, number: int) -> None:
        """End a sealed archive: end blocks, fsync, the rest of its sha256; then journal it as
        closed. Called holding ``_sync_lock`` (its file is closed here), with or without
        :attr:`lock`."""
        with self.lock:
            fd, size, hashing = self._fds[number], self._sizes[number], self._hashes[number]
        tail = b"\0" * END_OF_ARCHIVE
        pwrite_all(fd, tail, size)
        os.ftruncate(fd, size + END_OF_ARCHIVE)
        os.fsync(fd)
        archive = ArchiveFile(archive_name(number), size + END_OF_ARCHIVE, hashing.hexdigest(size, tail))
        with self.lock:
            del self._fds[number], self._sizes[number], self._hashes[number]
            os.close(fd)
            self.bytes_written += END_OF_ARCHIVE
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
            if self._endable:  # the reservation sealed an archive whose members were all complete
                self._end_archives()
            written = stream_member(region.spans, region.size, iter(chunks), self._fds)
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
            hashes = []
            for number, header, _data, _size in region.spans:
                hashing = self._hashes.get(number)  # none once closed by an interrupt
                if hashing is not None:
                    hashing.complete(header)
                    hashes.append(hashing)
                self._pending[number] -= 1
                if number < self._number and number in self._sizes and not self._pending[number]:
                    self._endable.append(number)
            ending = bool(self._endable)
            due = time.monotonic() - self._last_sync >= self.sync_interval
        for hashing in hashes:  # the complete prefix, while the other threads stream on
            hashing.advance()
        if ending:
            self._end_archives()
        elif due and self._sync_lock.acquire(blocking=False):  # else another thread is syncing
            try:
                self.sync()
            finally:
                self._sync_lock.release()

    def sync(self) -> None:
        """Make what is journaled durable: fsync the archives, then append the journal lines.
        The lines are taken under :attr:`lock`, the fsyncs run without it: a line is written
        only after the archives holding what it names were synced."""
        with self._sync_lock:
            with self.lock:
                if not self._unsynced or self._journal is None:
                    return
                records, self._unsynced = self._unsynced, []
                fds, new_file = list(self._fds.values()), self._new_file
                self._new_file = False
            try:
                for fd in fds:
                    os.fsync(fd)
                if new_file:
                    fsync_directory(self.directory)
                self._journal.append(records)
            except BaseException:
                with self.lock:
                    self._unsynced[:0] = records
                    self._new_file = self._new_file or new_file
                raise
            self._last_sync = time.monotonic()

    def sync_if_due(self) -> None:
        """Journal what completed if it has waited ``sync_interval``. Never blocks on
        ``_sync_lock``: :meth:`finish` joins the background thread while holding it."""
        if not self._sync_lock.acquire(blocking=False):  # another thread is syncing or ending
            return
        try:
            with self.lock:
                due = bool(self._unsynced) and time.monotonic() - self._last_sync >= self.sync_interval
            if due:
                self.sync()
        finally:
            self._sync_lock.release()

    # --- the end -------------------------------------------------------------------------------

    def _rename(self, region: Region, trash: bool) -> None:
        """Write the headers of ``region`` again: under its blob names, or (``trash``) out of blobs/
        with names of the same length, so that a place nobody filled holds no blob name."""
        for part, (number, header, _data, size) in enumerate(region.spans, start=1):
            name = blob_member(region.digest) if len(region.spans) == 1 else part_member(region.digest, part)
            block = member_header(TRASH + name[len("blobs/"):] if trash else name, size)
            if len(block) != len(member_header(name, size)):  # pragma: no cover - names of one length
                raise ArchiveError(f"cannot rename the unused member {name}")
            pwrite_all(self._fds[number], block, header)

    def finish(self, index: bytes) -> List[ArchiveFile]:
        """Rename the places still empty, write ``oci-layout`` and ``index.json`` into the last
        archive (a new one when they do not fit) and end every archive; returns them in order.
        The metadata members are not journaled: a resumed run cuts them off."""
        with self._sync_lock, self.lock:
            self._prepare()
            if self._writing:
                raise ArchiveError(f"{len(self._writing)} blob(s) still being written")
            self._end_archives()
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
                self._end_archives()
            for region in self._slots.values():
                self._rename(region, trash=True)
                for number, header, _data, _size in region.spans:
                    self._hashes[number].complete(header)  # its bytes are final now
                    self._pending[number] -= 1
            self._slots = {}
            for name, data in members:
                number, header, offset, size = self._place(name, len(data))
                pwrite_all(self._fds[number], data, offset)
                self._hashes[number].complete(header)
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
        self.syncer_stop.set()
        if self._syncer is not None and self._syncer is not threading.current_thread():
            self._syncer.join()
        with self._sync_lock, self.lock:
            if self._fds:
                self.sync()
            for hashing in self._hashes.values():
                hashing.close()  # no thread reads a file closed below
            for fd in self._fds.values():
                os.close(fd)
            self._fds = {}
            self._hashes = {}
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
