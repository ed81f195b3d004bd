# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of archives already checked (archive_import verify=changed)."""

from __future__ import annotations

import hashlib
import json
import os
import random

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import reader
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveFile
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.verified import (
    RACY_NS,
    STATE_FILE,
    VerifiedArchives,
    cache_state_path,
)
from tests.support.archives import write_archives

SHA = "ab" * 32


@pytest.fixture
def archive(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "dir" / "archive-0001.tar"
    path.parent.mkdir()
    path.write_bytes(b"x" * 1024)
    return path, ArchiveFile("archive-0001.tar", 1024, SHA)


def _recorded(path, entry, checked_ns=None) -> VerifiedArchives:
    record = VerifiedArchives.load(str(path.parent), [entry.name])
    stat = os.stat(path)
    record.passed(entry, stat, checked_ns if checked_ns is not None else stat.st_ctime_ns + 2 * RACY_NS)
    record.save()
    assert record.write_error is None
    return VerifiedArchives.load(str(path.parent), [entry.name])


def test_an_untouched_archive_is_trusted_beside_the_archives(archive):
    path, entry = archive
    record = _recorded(path, entry)
    assert record.path == str(path.parent / STATE_FILE)
    assert record.trusts(entry, os.stat(path))


@pytest.mark.parametrize("change", ["sha256", "size", "mtime", "rewritten in place, mtime put back", "replaced"])
def test_any_difference_is_not_trusted(archive, change):
    path, entry = archive
    record = _recorded(path, entry)
    if change == "sha256":  # contents.json of another export
        entry = ArchiveFile(entry.name, entry.size, "cd" * 32)
    elif change == "size":
        path.write_bytes(b"x" * 1025)
    elif change == "mtime":
        os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 1))
    elif change == "rewritten in place, mtime put back":
        kept = os.stat(path)
        with open(path, "r+b") as handle:
            handle.write(b"y")
        os.utime(path, ns=(kept.st_atime_ns, kept.st_mtime_ns))
        assert os.stat(path).st_ino == kept.st_ino and os.stat(path).st_mtime_ns == kept.st_mtime_ns
    else:  # another file of the same size under the name
        other = path.parent / "copy"
        other.write_bytes(b"x" * 1024)
        os.replace(other, path)
    assert not record.trusts(entry, os.stat(path))


def test_an_archive_checked_right_after_a_write_is_hashed_again(archive):
    path, entry = archive
    record = _recorded(path, entry, checked_ns=os.stat(path).st_ctime_ns + RACY_NS // 2)
    assert not record.trusts(entry, os.stat(path))


def test_unwritable_beside_goes_to_the_cache_and_is_read_back(archive):
    path, entry = archive
    (path.parent / STATE_FILE).mkdir()  # a record that cannot be replaced there
    record = _recorded(path, entry)
    assert record.path == cache_state_path(str(path.parent))
    assert record.path.startswith(os.environ["XDG_CACHE_HOME"])
    assert record.trusts(entry, os.stat(path))


def test_a_record_nothing_can_write_says_so(archive, monkeypatch):
    path, entry = archive
    (path.parent / STATE_FILE).mkdir()
    cache = os.path.dirname(cache_state_path(str(path.parent)))
    os.makedirs(os.path.dirname(cache))
    with open(cache, "w"):
        pass  # a file where the cache directory should be
    record = VerifiedArchives.load(str(path.parent), [entry.name])
    record.passed(entry, os.stat(path), 0)
    record.save()
    assert record.path is None
    assert "could not be written" in record.write_error and "hashes them all again" in record.write_error


@pytest.mark.parametrize("text", ["not json", "[]", '{"format": "other"}',
                                  '{"format": "airgap.operatorhub/import-state/v1", "archive_dir": "/elsewhere", '
                                  '"archives": {}}',
                                  '{"format": "airgap.operatorhub/import-state/v1", "archive_dir": "DIR", '
                                  '"archives": {"archive-0001.tar": {"sha256": 1}}}'])
def test_a_broken_or_foreign_record_is_ignored(archive, text):
    path, entry = archive
    (path.parent / STATE_FILE).write_text(text.replace("DIR", str(path.parent)))
    record = VerifiedArchives.load(str(path.parent), [entry.name])
    assert record.entries == {} and not record.trusts(entry, os.stat(path))


def test_archives_no_longer_listed_are_dropped(archive):
    path, entry = archive
    _recorded(path, entry)
    other = path.parent / "archive-0002.tar"
    other.write_bytes(b"z" * 10)
    listed = ArchiveFile(other.name, 10, SHA)
    record = VerifiedArchives.load(str(path.parent), [listed.name])  # contents.json of a new export
    assert record.entries == {}
    record.passed(listed, os.stat(other), 0)
    record.save()
    doc = json.loads((path.parent / STATE_FILE).read_text())
    assert list(doc["archives"]) == [listed.name]


def test_an_interrupted_check_keeps_the_archives_it_finished(tmp_path, monkeypatch):
    """Ctrl-C while the third archive is hashed: the two checked before are in the record."""
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    rng = random.Random(3)
    descriptors = []
    for data in (b'{"architecture":"amd64","os":"linux"}', rng.randbytes(6000), rng.randbytes(6000),
                 rng.randbytes(6000)):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest, "size": len(data)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": dict(descriptors[0], mediaType="application/vnd.oci.image.config.v1+json"),
                           "layers": descriptors[1:]}).encode()
    top = "sha256:" + hashlib.sha256(manifest).hexdigest()
    (layout / "blobs" / "sha256" / top[7:]).write_bytes(manifest)
    out = tmp_path / "archives"
    contents = write_archives(str(out), str(layout), [{"source": "quay.io/x/op:v1", "target": "m.example/olm/op:v1",
                                                       "digest": top, "media_type": "application/vnd.oci.image."
                                                       "manifest.v1+json"}], "m.example/olm", archive_size=20 * 1024)
    names = [a["name"] for a in contents["archives"]]
    assert len(names) >= 3
    plain = reader._hash_file

    def interrupted(path, on_bytes):
        if os.path.basename(path) == names[2]:
            raise KeyboardInterrupt
        return plain(path, on_bytes)

    monkeypatch.setattr(reader, "_hash_file", interrupted)
    archives = reader.ArchiveReader(str(out), reader.load_contents(str(out)))
    record = VerifiedArchives.load(str(out), names)
    with pytest.raises(KeyboardInterrupt):
        reader.verify_archives(archives, None, record, {})
    doc = json.loads((out / STATE_FILE).read_text())
    assert sorted(doc["archives"]) == names[:2]
    assert {n: e["sha256"] for n, e in doc["archives"].items()} == {a["name"]: a["sha256"]
                                                                    for a in contents["archives"][:2]}
