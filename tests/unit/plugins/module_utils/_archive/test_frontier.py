# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""frontier.py and the writer's use of it: an archive's sha256 computed from its complete prefix
while later members stream, never from a member not yet complete; fsync without the writer's lock."""

from __future__ import annotations

import hashlib
import os
import random
import threading

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.frontier import ArchiveHash
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import ArchiveWriter


def blob(size, seed):
    data = random.Random(seed).randbytes(size)
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def chunks(data, size=4096):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_only_the_complete_prefix_is_hashed(tmp_path):
    path = tmp_path / "a.tar"
    parts = [b"a" * 1024, b"b" * 2048, b"c" * 512]
    path.write_bytes(b"".join(parts))
    fd = os.open(path, os.O_RDWR)
    try:
        hashing = ArchiveHash(fd)
        hashing.add(0, 1024)
        hashing.add(1024, 3072)
        hashing.add(3072, 3584)
        hashing.complete(3072)
        hashing.advance()
        assert hashing.frontier == 0  # the first member is not complete
        hashing.complete(0)
        hashing.advance()
        assert hashing.frontier == 1024  # the second holds it back
        # the second member's bytes change (a failed try, then the right bytes) before it completes
        os.pwrite(fd, b"B" * 2048, 1024)
        hashing.complete(1024)
        tail = b"\0" * 1024
        digest = hashing.hexdigest(3584, tail)
    finally:
        os.close(fd)
    assert digest == hashlib.sha256(path.read_bytes() + tail).hexdigest()
    assert b"B" * 2048 in path.read_bytes()


def test_an_archive_is_hashed_while_its_last_blob_still_streams(tmp_path):
    writer = ArchiveWriter(str(tmp_path), None, "plan")
    first_digest, first = blob(300_000, 1)
    writer.add_blob(first_digest, len(first), chunks(first))
    seen = []

    def watched(data):
        for i, piece in enumerate(chunks(data)):
            if i == 3:
                seen.append(writer._hashes[1].frontier)
            yield piece

    second_digest, second = blob(200_000, 2)
    writer.add_blob(second_digest, len(second), watched(second))
    entry = writer.blobs[first_digest]
    assert seen and seen[0] >= entry.offset + len(first)  # the first member was hashed already
    archives = writer.finish(b"{}")
    data = (tmp_path / archives[0].name).read_bytes()
    assert archives[0].sha256 == hashlib.sha256(data).hexdigest() and len(data) == archives[0].size


def test_other_threads_write_while_the_archives_are_synced(tmp_path, monkeypatch):
    writer = ArchiveWriter(str(tmp_path), None, "plan", sync_interval=0)
    real_fsync = os.fsync
    blocked, release = threading.Event(), threading.Event()
    syncing = []

    def slow_fsync(fd):
        if threading.current_thread() is syncing[0] and not release.is_set():
            blocked.set()
            release.wait(10)
        real_fsync(fd)

    first_digest, first = blob(50_000, 3)
    second_digest, second = blob(60_000, 4)
    small_digest, small = blob(100, 5)
    writer.add_blob(small_digest, len(small), chunks(small))  # the directory and journal made first
    thread = threading.Thread(target=writer.add_blob, args=(first_digest, len(first), chunks(first)))
    syncing.append(thread)
    monkeypatch.setattr(os, "fsync", slow_fsync)
    thread.start()
    try:
        assert blocked.wait(10)  # the first blob's thread is in fsync
        other = threading.Thread(target=writer.add_blob, args=(second_digest, len(second), chunks(second)))
        other.start()
        for _attempt in range(500):
            if writer.has(second_digest):
                break
            release.wait(0.01)
        written_meanwhile = writer.has(second_digest)
    finally:
        release.set()
        thread.join()
    other.join()
    assert written_meanwhile  # placed and written without waiting for the fsync
    monkeypatch.undo()
    archives = writer.finish(b"{}")
    data = (tmp_path / archives[0].name).read_bytes()
    assert archives[0].sha256 == hashlib.sha256(data).hexdigest()
    for digest, content in ((first_digest, first), (second_digest, second)):
        entry = writer.blobs[digest]
        assert data[entry.offset:entry.offset + entry.size] == content


def test_a_resumed_archive_is_hashed_from_its_start(tmp_path):
    """Killed after an archive's members were journaled complete, before it was journaled closed:
    the next run ends it (its sha256 from the file's first byte) and hashes the open one on."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt
    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import JOURNAL, MIN_ARCHIVE_SIZE

    limit = 2 * MIN_ARCHIVE_SIZE
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    first = [blob(9000, n) for n in range(5)]
    for digest, data in first:
        writer.add_blob(digest, len(data), chunks(data))
    writer.close()
    journal = tmp_path / fmt.STATE_DIR / JOURNAL
    lines = journal.read_bytes().splitlines(keepends=True)
    assert any(b'"closed"' in line for line in lines)
    journal.write_bytes(b"".join(line for line in lines if b'"closed"' not in line))
    resumed = ArchiveWriter(str(tmp_path), limit, "plan")
    assert resumed.resumed and all(resumed.has(d) for d, _data in first)
    more = [blob(7000, n) for n in range(10, 13)]
    for digest, data in more:
        resumed.add_blob(digest, len(data), chunks(data))
    archives = resumed.finish(b"{}")
    assert len(archives) >= 3
    for archive in archives:
        data = (tmp_path / archive.name).read_bytes()
        assert len(data) == archive.size and hashlib.sha256(data).hexdigest() == archive.sha256
    for digest, content in first + more:
        entry = resumed.blobs[digest]
        assert (tmp_path / entry.archive).read_bytes()[entry.offset:entry.offset + entry.size] == content


def test_close_stops_a_thread_hashing_a_long_prefix(tmp_path, monkeypatch):
    path = tmp_path / "a.tar"
    size = 64 << 20
    with open(path, "wb") as out:
        out.truncate(size)
    fd = os.open(path, os.O_RDONLY)
    reading, release = threading.Event(), threading.Event()
    reads = []
    real_pread = os.pread

    def slow_pread(fdesc, length, offset):
        reads.append(offset)
        reading.set()
        release.wait(5)
        return real_pread(fdesc, length, offset)

    try:
        hashing = ArchiveHash(fd)
        hashing.add(0, size, complete=True)
        monkeypatch.setattr(os, "pread", slow_pread)
        worker = threading.Thread(target=hashing.advance, kwargs={"wait": True})
        worker.start()
        assert reading.wait(5)
        closer = threading.Thread(target=hashing.close)
        closer.start()
        while not hashing._stop.is_set():
            threading.Event().wait(0.001)
        release.set()
        closer.join(5)
        worker.join(5)
        assert not closer.is_alive() and not worker.is_alive()
    finally:
        os.close(fd)
    assert hashing.fd == -1
    assert len(reads) == 1  # 64 chunks to hash: the one under way when close() came, then none
    assert hashing.frontier == 1 << 20
