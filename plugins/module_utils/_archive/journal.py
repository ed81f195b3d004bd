# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resume journal of an export (``.state/journal.jsonl``), one JSON record a line.

A header line names the plan; then ``reserve`` (a member's place), ``done`` (its data complete)
and ``closed`` (an archive ended, with its size and sha256) records. Lines are appended in
batches and synced; a line cut by a kill ends what is read, and is cut off before the next run
appends (else the next record would be glued to it and lost too).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    ArchiveError,
    ArchiveFile,
    BlobEntry,
    BlobPart,
    ManifestEntry,
    archive_name,
    archive_number,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.members import padded

JOURNAL = "journal.jsonl"
JOURNAL_VERSION = 2


class Region:
    """The place of one member: per part, (archive number, header offset, data offset, data size)."""

    def __init__(self, digest: str, kind: str, size: int, media_type: Optional[str], spans: List[List[int]]):
        self.digest = digest
        self.kind = kind
        self.size = size
        self.media_type = media_type
        self.spans = spans

    def record(self) -> Dict[str, Any]:
        return {"reserve": self.digest, "kind": self.kind, "size": self.size, "media_type": self.media_type,
                "spans": self.spans}

    def numbers(self) -> List[int]:
        return [span[0] for span in self.spans]

    @property
    def key(self) -> Tuple[str, int, int]:
        """Which place: the digest and where its first header is."""
        return self.digest, self.spans[0][0], self.spans[0][1]


def add_entry(region: Region, blobs: Dict[str, BlobEntry], manifests: Dict[str, ManifestEntry]) -> None:
    """Record the complete member of ``region`` in ``blobs`` or ``manifests``."""
    first = region.spans[0]
    if region.kind == "manifest":
        manifests[region.digest] = ManifestEntry(region.digest, region.size, region.media_type or "",
                                                 archive_name(first[0]), first[2])
        return
    parts = tuple(BlobPart(archive_name(n), data, size) for n, _h, data, size in region.spans)
    blobs[region.digest] = BlobEntry(region.digest, region.size, archive_name(first[0]), first[2],
                                     region.media_type, parts if len(parts) > 1 else ())


class Replay:
    """What a journal says: places still empty (``open``), every place reserved, complete members,
    ended archives, and ``end``: the byte offset after its last complete line."""

    def __init__(self, end: int):
        self.end = end
        self.open: Dict[Tuple[str, int, int], Region] = {}
        self.reserved: List[Region] = []
        self.blobs: Dict[str, BlobEntry] = {}
        self.manifests: Dict[str, ManifestEntry] = {}
        self.ended: Dict[int, ArchiveFile] = {}

    def extents(self) -> Dict[int, List[Tuple[int, int, bool]]]:
        """Per archive, every reserved member: (header offset, end of its padding, complete)."""
        extents: Dict[int, List[Tuple[int, int, bool]]] = {}
        for region in self.reserved:
            complete = region.key not in self.open
            for number, header, data, size in region.spans:
                extents.setdefault(number, []).append((header, data + padded(size), complete))
        return extents


def read_journal(path: str, header: Dict[str, Any]) -> Optional[Replay]:
    """The journal at ``path`` if it starts with ``header`` and reads back, else None."""
    try:
        with open(path, "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError:
        return None
    records, end = [], 0
    for line in lines[:-1]:  # the last piece never ended with a newline
        try:
            records.append(json.loads(line))
        except ValueError:
            break  # a line cut by the kill, and anything after it
        end += len(line) + 1
    if not records or records[0] != header:
        return None
    replay = Replay(end)
    try:
        for record in records[1:]:
            if "closed" in record:
                archive = ArchiveFile(record["closed"], record["size"], record["sha256"])
                replay.ended[archive_number(archive.name)] = archive
            elif "reserve" in record:
                region = Region(record["reserve"], record["kind"], record["size"], record["media_type"],
                                [list(s) for s in record["spans"]])
                replay.open[region.key] = region
                replay.reserved.append(region)
            elif "done" in record:
                region = replay.open.pop((record["done"], record["at"][0], record["at"][1]))
                add_entry(region, replay.blobs, replay.manifests)
    except (KeyError, TypeError, ValueError, ArchiveError):
        return None
    for region in replay.open.values():  # an archive with a place still empty is not ended
        for number in region.numbers():
            replay.ended.pop(number, None)
    return replay


class JournalFile:
    """The journal open for appending: :meth:`append` returns once the lines are on disk."""

    def __init__(self, path: str, header: Optional[Dict[str, Any]] = None, end: int = 0):
        """A new journal holding ``header``, or (no header) the journal at ``path`` cut to ``end``."""
        if header is not None:
            self._file = open(path, "wb")
            self.append([header])
        else:
            self._file = open(path, "r+b")
            self._file.truncate(end)
            self._file.seek(end)

    def append(self, records: List[Dict[str, Any]]) -> None:
        self._file.write(b"".join(json.dumps(r).encode() + b"\n" for r in records))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def sync_in_background(ref) -> None:
    """The body of an ArchiveWriter's background thread (``ref``: a weak reference to it): its
    journal synced when nothing completed for ``sync_interval``, until it is closed (or dropped
    unclosed: the thread holds no reference between its checks), or until a sync fails."""
    while True:
        writer = ref()
        if writer is None:
            return
        stop, wait = writer.syncer_stop, writer.sync_interval / 2
        del writer
        if stop.wait(wait):
            return
        writer = ref()
        if writer is None:
            return
        try:
            writer.sync_if_due()
        except Exception:  # noqa: BLE001 - the lines stay pending: the next sync (close at the latest) raises
            return  # a failing disk is not fsynced again every second: the writers' own syncs go on
        del writer
