# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bytes of a tar member as the archive writer lays them out: header, data, padding."""

from __future__ import annotations

import os
import tarfile
from typing import Dict, Iterator, List

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError

BLOCK = 512
END_OF_ARCHIVE = 2 * BLOCK


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


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """``os.pwrite`` until every byte is written (it may write fewer than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(f"wrote nothing at offset {offset} of an archive (disk full?)")
        view, offset = view[written:], offset + written


def stream_member(spans: List[List[int]], size: int, chunks: Iterator[bytes], fds: Dict[int, int]) -> int:
    """Write the ``size`` bytes of ``chunks`` into the places ``spans`` (per part: archive number,
    header offset, data offset, data size) of the archives open as ``fds``; refuse a source
    that sends fewer or more bytes."""
    buffered = b""
    for number, _header, offset, part_size in spans:
        fd = fds[number]
        left = part_size
        while left:
            if not buffered:
                try:
                    buffered = bytes(next(chunks))
                except StopIteration:
                    raise ArchiveError(f"the source sent {size - _missing(spans, number, left)} bytes "
                                       f"of a {size}-byte member: the blob is shorter than its "
                                       "descriptor says") from None
            piece, buffered = buffered[:left], buffered[left:]
            pwrite_all(fd, piece, offset + part_size - left)
            left -= len(piece)
    # Reading on lets the client check the digest after the last chunk (and refuse extra bytes).
    extra = len(buffered) + sum(len(chunk) for chunk in chunks)
    if extra:
        raise ArchiveError(f"the source sent {size + extra} bytes for a {size}-byte blob: refused")
    return size


def _missing(spans: List[List[int]], number: int, left: int) -> int:
    """Bytes still missing when part ``number`` lacked ``left``."""
    missing, counting = 0, False
    for span in spans:
        if span[0] == number:
            counting = True
            missing += left
        elif counting:
            missing += span[3]
    return missing
