# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sha256 of an archive, computed while it is written.

Members are reserved one after another at the end of an archive, and their data arrives in any
order. :class:`ArchiveHash` knows every member's extent (header to end of padding) and whether
it is complete; its *frontier* is the end of the archive's longest prefix made of complete
members. :meth:`ArchiveHash.advance` feeds the bytes between the old and the new frontier to
the hasher, read back from the file (the page cache, just written), so that when the archive is
ended only its end blocks are left to hash. A member is hashed only once complete: a place whose
data failed (and may be written again with other bytes) or that may yet be renamed ``trash/``
holds the frontier back.

Two locks: ``_mutex`` guards the extents and is only ever held briefly (the writer takes it
under its own lock); ``_busy`` is held while bytes are read and hashed, never with the writer's
lock, so blobs keep streaming meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Dict, List

_READ = 1 << 20


class ArchiveHash:
    """The running sha256 of the archive open as ``fd``; see the module docstring."""

    def __init__(self, fd: int):
        self.fd = fd
        self.frontier = 0
        self._hasher = hashlib.sha256()
        self._extents: Dict[int, List[int]] = {}  # start -> [end, complete]
        self._mutex = threading.Lock()
        self._busy = threading.Lock()
        self._stop = threading.Event()  # set by close(): a thread hashing gives up at its next chunk

    def add(self, start: int, end: int, complete: bool = False) -> None:
        """A member reserved over ``[start, end)``."""
        with self._mutex:
            self._extents[start] = [end, int(complete)]

    def complete(self, start: int) -> None:
        """The member that starts at ``start`` holds its final bytes."""
        with self._mutex:
            extent = self._extents.get(start)
            if extent is not None:
                extent[1] = 1

    def _ready(self, frontier: int) -> int:
        """The end of the complete members from ``frontier`` on (``frontier`` when none is)."""
        with self._mutex:
            extent = self._extents.get(frontier)
            while extent is not None and extent[1]:
                del self._extents[frontier]
                frontier = extent[0]
                extent = self._extents.get(frontier)
            return frontier

    def advance(self, wait: bool = False) -> None:
        """Hash what became complete. Without ``wait``, a thread already hashing this archive is
        left to do it (it looks again before it stops)."""
        if not self._busy.acquire(blocking=wait):
            return
        try:
            while self.fd >= 0:
                end = self._ready(self.frontier)
                if end == self.frontier:
                    return
                offset = self.frontier
                while offset < end:
                    if self._stop.is_set():
                        self.frontier = offset  # what the hasher holds; the archive is being closed
                        return
                    chunk = os.pread(self.fd, min(_READ, end - offset), offset)
                    if not chunk:
                        raise OSError(f"archive shorter than its members: nothing at offset {offset}")
                    self._hasher.update(chunk)
                    offset += len(chunk)
                self.frontier = end
        finally:
            self._busy.release()

    def close(self) -> None:
        """Stop hashing (the file is about to be closed): a thread hashing it stops at its next
        chunk (an interrupt does not wait for a long prefix to be hashed), and is waited for."""
        self._stop.set()
        with self._busy:
            self.fd = -1

    def hexdigest(self, size: int, tail: bytes) -> str:
        """The sha256 of the whole archive: its ``size`` bytes of members (all complete by now)
        followed by ``tail`` (the end blocks, in hand)."""
        self.advance(wait=True)
        with self._busy:
            if self.frontier != size:
                raise OSError(f"archive hashed up to {self.frontier} of {size} bytes: a member is not complete")
            hasher = self._hasher.copy()
        hasher.update(tail)
        return hasher.hexdigest()
