# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""writer.py: members at their recorded offsets, size limit, split blobs, members cut off on
failure, resume from the journal, archive sha256 as written; every archive read back with tarfile."""

from __future__ import annotations

import hashlib
import json
import os
import random
import tarfile
import time

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import (
    JOURNAL,
    MIN_ARCHIVE_SIZE,
    ArchiveWriter,
    member_header,
)


def blob(size, seed):
    data = random.Random(seed).randbytes(size)
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def chunks(data, size=1000):
    return (data[i:i + size] for i in range(0, len(data), size))


def read_span(directory, archive, offset, size):
    with open(os.path.join(directory, archive), "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def blob_bytes(directory, entry):
    if not entry.parts:
        return read_span(directory, entry.archive, entry.offset, entry.size)
    return b"".join(read_span(directory, p.archive, p.offset, p.size) for p in entry.parts)


def check_archives(directory, archives, limit=None):
    """Each archive: as recorded (size, sha256), within the limit, a tar of its own."""
    names = []
    for archive in archives:
        path = os.path.join(directory, archive.name)
        data = open(path, "rb").read()
        assert len(data) == archive.size and hashlib.sha256(data).hexdigest() == archive.sha256
        if limit:
            assert archive.size <= limit
        with tarfile.open(path) as tar:
            names.extend(m.name for m in tar.getmembers())
    assert sorted(n for n in os.listdir(directory) if n.startswith("archive-")) == [a.name for a in archives]
    return names


def failing(data, after, exc=OSError("connection reset")):
    sent = 0
    for piece in chunks(data):
        if sent >= after:
            raise exc
        sent += len(piece)
        yield piece


def test_members_at_their_offsets_and_archives_within_the_limit(tmp_path):
    limit = 64 * 1024
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    blobs = [blob(size, n) for n, size in enumerate((10, 30000, 511, 512, 513, 20000, 40000, 0))]
    for digest, data in blobs:
        entry = writer.add_blob(digest, len(data), chunks(data), "application/x")
        assert not entry.parts
    assert writer.add_blob(blobs[0][0], 10, iter(())) is writer.blobs[blobs[0][0]]  # deduplicated, not read
    manifest = b'{"schemaVersion":2}'
    mdigest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    writer.add_manifest(mdigest, manifest, "application/vnd.oci.image.manifest.v1+json")
    archives = writer.finish(b'{"manifests":[]}')
    assert len(archives) > 1
    names = check_archives(str(tmp_path), archives, limit)
    for digest, data in blobs:
        assert blob_bytes(str(tmp_path), writer.blobs[digest]) == data
    assert read_span(str(tmp_path), writer.manifests[mdigest].archive, writer.manifests[mdigest].offset,
                     len(manifest)) == manifest
    assert names[-2:] == [fmt.OCI_LAYOUT_MEMBER, fmt.INDEX_MEMBER]
    assert not any(".part-" in n for n in names)
    assert writer.bytes_written == sum(a.size for a in archives)
    writer.discard_state()
    assert not os.path.exists(tmp_path / fmt.STATE_DIR)


def test_unlimited_is_one_archive(tmp_path):
    writer = ArchiveWriter(str(tmp_path), None, "plan")
    for n in range(5):
        digest, data = blob(50000, n)
        writer.add_blob(digest, len(data), chunks(data))
    archives = writer.finish(b"{}")
    assert [a.name for a in archives] == ["archive-0001.tar"]
    check_archives(str(tmp_path), archives)


def test_only_a_blob_larger_than_an_archive_is_split(tmp_path):
    limit = MIN_ARCHIVE_SIZE
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    small_digest, small = blob(3000, 1)
    big_digest, big = blob(3 * limit + 123, 2)
    after_digest, after = blob(5000, 3)
    writer.add_blob(small_digest, len(small), chunks(small))
    entry = writer.add_blob(big_digest, len(big), chunks(big, 7000))
    writer.add_blob(after_digest, len(after), chunks(after))
    archives = writer.finish(b"{}")
    assert len(entry.parts) >= 4 and sum(p.size for p in entry.parts) == len(big)
    assert (entry.archive, entry.offset) == (entry.parts[0].archive, entry.parts[0].offset)
    assert entry.parts[0].archive == "archive-0001.tar"  # the first part fills the current archive
    assert blob_bytes(str(tmp_path), entry) == big
    names = check_archives(str(tmp_path), archives, limit)
    assert [n for n in names if ".part-" in n] == [fmt.part_member(big_digest, i + 1) for i in range(len(entry.parts))]
    assert blob_bytes(str(tmp_path), writer.blobs[after_digest]) == after


def test_a_failed_member_keeps_its_place_for_the_next_try(tmp_path):
    limit = MIN_ARCHIVE_SIZE
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    first_digest, first = blob(2000, 1)
    writer.add_blob(first_digest, len(first), chunks(first))
    big_digest, big = blob(3 * limit, 2)
    with pytest.raises(OSError):  # dies in the third part
        writer.add_blob(big_digest, len(big), failing(big, 2 * limit + 100))
    assert not writer.has(big_digest)
    with pytest.raises(fmt.ArchiveError, match="shorter"):
        writer.add_blob(big_digest, len(big), chunks(big[:-1]))
    with pytest.raises(fmt.ArchiveError, match="1001 bytes for a 1000-byte"):
        writer.add_blob(big_digest, 1000, chunks(big[:1001]))  # another size: another place
    after_digest, after = blob(3000, 3)
    writer.add_blob(after_digest, len(after), chunks(after))
    entry = writer.add_blob(big_digest, len(big), chunks(big))  # a later try fills the first place
    assert entry.parts[0].archive == "archive-0001.tar" and len(entry.parts) == 4
    archives = writer.finish(b"{}")
    names = check_archives(str(tmp_path), archives, limit)
    assert blob_bytes(str(tmp_path), writer.blobs[big_digest]) == big
    assert blob_bytes(str(tmp_path), writer.blobs[first_digest]) == first
    assert blob_bytes(str(tmp_path), writer.blobs[after_digest]) == after
    # the place of the 1000-byte try holds no blob name
    assert names.count(fmt.blob_member(big_digest)) == 0
    assert names.count("trash/" + fmt.blob_member(big_digest)[len("blobs/"):]) == 1


def test_blobs_stream_into_their_places_at_the_same_time(tmp_path):
    import threading

    writer = ArchiveWriter(str(tmp_path), 200 * 1024, "plan")
    blobs = [blob(60000, n) for n in range(6)]
    turn = [threading.Event() for _blob in blobs]

    def interleaved(n, data):
        for i, piece in enumerate(chunks(data, 10000)):
            if i == 1:
                turn[n].set()  # every stream has its place and its first bytes before any ends
                for other in turn:
                    other.wait(10)
            yield piece

    threads = [threading.Thread(target=writer.add_blob, args=(d, len(data), interleaved(n, data)))
               for n, (d, data) in enumerate(blobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    archives = writer.finish(b"{}")
    check_archives(str(tmp_path), archives, 200 * 1024)
    for digest, data in blobs:
        assert blob_bytes(str(tmp_path), writer.blobs[digest]) == data
    assert len(archives) == 2


def test_a_killed_export_resumes_from_the_journal(tmp_path):
    limit = 40 * 1024
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    done = [blob(15000, n) for n in range(5)]
    for digest, data in done:
        writer.add_blob(digest, len(data), chunks(data))
    # one in flight when the run stopped: its place is journaled, its bytes are not all there
    flight_digest, flight = blob(20000, 8)
    with pytest.raises(OSError):
        writer.add_blob(flight_digest, len(flight), failing(flight, 5000))
    writer.sync()
    journal = open(tmp_path / fmt.STATE_DIR / JOURNAL, "rb").read()
    # the kill: half a member written after the last journaled one, a line cut in two
    current = sorted(n for n in os.listdir(tmp_path) if n.startswith("archive-"))[-1]
    with open(tmp_path / current, "ab") as handle:
        handle.write(member_header(fmt.blob_member(blob(9000, 9)[0]), 9000) + b"x" * 700)
    with open(tmp_path / fmt.STATE_DIR / JOURNAL, "ab") as handle:
        handle.write(b'{"kind": "blob", "dig')
    reserved = [json.loads(line) for line in journal.splitlines()[1:] if b'"reserve"' in line]
    span = [r for r in reserved if r["reserve"] == flight_digest][0]["spans"][0]
    writer_place = {"archive": fmt.archive_name(span[0]), "offset": span[2]}
    del writer

    other = ArchiveWriter(str(tmp_path), limit, "another plan")
    assert not other.resumed and not other.has(done[0][0])

    resumed = ArchiveWriter(str(tmp_path), limit, "plan")
    assert resumed.resumed and all(resumed.has(d) for d, _data in done)
    assert open(tmp_path / fmt.STATE_DIR / JOURNAL, "rb").read().startswith(journal)
    assert not resumed.has(flight_digest)
    place = resumed.add_blob(flight_digest, len(flight), chunks(flight))
    assert (place.archive, place.offset) == (writer_place["archive"], writer_place["offset"])
    more = [blob(12000, n) for n in range(10, 13)] + [(flight_digest, flight)]
    for digest, data in more[:-1]:
        resumed.add_blob(digest, len(data), chunks(data))
    archives = resumed.finish(b"{}")
    names = check_archives(str(tmp_path), archives, limit)
    assert sorted(n for n in names if n.startswith("blobs/")) == sorted(fmt.blob_member(d) for d, _data in done + more)
    for digest, data in done + more:
        assert blob_bytes(str(tmp_path), resumed.blobs[digest]) == data
    assert resumed.bytes_written < sum(a.size for a in archives)  # what the first run wrote was kept


def test_a_finished_blob_is_journaled_while_nothing_else_finishes(tmp_path):
    """A long blob streaming does not keep the ones finished before it out of the journal."""
    writer = ArchiveWriter(str(tmp_path), None, "plan", sync_interval=0.2)
    digest, data = blob(15000, 21)
    writer.add_blob(digest, len(data), chunks(data))
    journal = tmp_path / fmt.STATE_DIR / JOURNAL

    def done():
        lines = journal.read_bytes().split(b"\n")[1:]
        return {json.loads(line).get("done") for line in lines if line.endswith(b"}")}

    deadline = time.monotonic() + 30
    while digest not in done() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert digest in done()
    writer.close()
    assert writer._syncer is not None and not writer._syncer.is_alive()


def test_a_journal_whose_archives_are_gone_starts_again(tmp_path):
    writer = ArchiveWriter(str(tmp_path), MIN_ARCHIVE_SIZE, "plan")
    for n in range(3):
        digest, data = blob(9000, n)
        writer.add_blob(digest, len(data), chunks(data))
    writer.close()
    os.unlink(tmp_path / "archive-0001.tar")
    again = ArchiveWriter(str(tmp_path), MIN_ARCHIVE_SIZE, "plan")
    assert not again.resumed and not again.blobs
    digest, data = blob(100, 7)
    again.add_blob(digest, len(data), chunks(data))
    archives = again.finish(b"{}")
    assert [a.name for a in archives] == ["archive-0001.tar"]
    check_archives(str(tmp_path), archives)


def test_a_fresh_export_replaces_the_previous_one(tmp_path):
    first = ArchiveWriter(str(tmp_path), None, "one")
    digest, data = blob(100, 1)
    first.add_blob(digest, len(data), chunks(data))
    first.finish(b"{}")
    first.discard_state()
    (tmp_path / fmt.CONTENTS_FILE).write_text("{}")
    (tmp_path / "archive-0002.tar").write_bytes(b"stale")
    second = ArchiveWriter(str(tmp_path), None, "two")
    assert os.path.exists(tmp_path / fmt.CONTENTS_FILE)  # nothing removed before the first write
    digest, data = blob(200, 2)
    second.add_blob(digest, len(data), chunks(data))
    assert sorted(os.listdir(tmp_path)) == [fmt.STATE_DIR, "archive-0001.tar"]
    archives = second.finish(b"{}")
    assert check_archives(str(tmp_path), archives) == [fmt.blob_member(digest), fmt.OCI_LAYOUT_MEMBER, fmt.INDEX_MEMBER]


def test_index_json_that_does_not_fit_starts_a_last_archive(tmp_path):
    limit = MIN_ARCHIVE_SIZE
    writer = ArchiveWriter(str(tmp_path), limit, "plan")
    digest, data = blob(limit - 4096, 1)
    writer.add_blob(digest, len(data), chunks(data))
    index = json.dumps({"manifests": ["x" * 5000]}).encode()
    archives = writer.finish(index)
    assert len(archives) == 2
    with tarfile.open(tmp_path / archives[1].name) as tar:
        assert tar.getnames() == [fmt.OCI_LAYOUT_MEMBER, fmt.INDEX_MEMBER]
        assert tar.extractfile(fmt.INDEX_MEMBER).read() == index
    with pytest.raises(fmt.ArchiveError, match="index.json"):
        ArchiveWriter(str(tmp_path / "other"), limit, "plan").finish(b"x" * limit)


def test_long_names_and_sizes_get_pax_headers(tmp_path):
    digest = "sha512:" + "a" * 128
    name = fmt.part_member(digest, 1)
    assert len(name) > 100
    header = member_header(name, 9 * 1024 ** 3)  # past ustar's 8 GiB
    path = tmp_path / "one.tar"
    path.write_bytes(header)
    info = tarfile.TarInfo.frombuf(header[-512:], "utf-8", "strict") if len(header) == 512 else None
    assert info is None and len(header) > 512
    with open(path, "rb") as handle:
        parsed = tarfile.TarFile(fileobj=handle).next()
    assert parsed.name == name and parsed.size == 9 * 1024 ** 3
    assert len(member_header(fmt.blob_member("sha256:" + "b" * 64), 100)) == 512


def test_too_small_an_archive_size_is_refused(tmp_path):
    with pytest.raises(fmt.ArchiveError, match="too small"):
        ArchiveWriter(str(tmp_path), MIN_ARCHIVE_SIZE - 1, "plan")
