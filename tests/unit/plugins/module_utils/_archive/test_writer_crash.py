# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""writer.py after crashes and partial failures: a place left empty by a finished but failed
export is filled by the next run, short writes are completed, a journal line cut by a kill does
not hide what the next run journals, a fresh export leaves nothing of the previous one."""

from __future__ import annotations

import hashlib
import os
import random
import tarfile

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils import files
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import writer as writer_module
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import (
    END_OF_ARCHIVE,
    JOURNAL,
    ArchiveWriter,
)

LIMIT = 16 * 1024


def blob(size, seed):
    data = random.Random(seed).randbytes(size)
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def member_bytes(directory, entry):
    with open(os.path.join(directory, entry.archive), "rb") as handle:
        handle.seek(entry.offset)
        return handle.read(entry.size)


def _failing(data):
    yield data[:50]
    raise RuntimeError("source dropped")


def _unfilled_place_then_metadata_in_new_archive(directory):
    """Archive 1 nearly full, its last place left empty by a failed blob; finish() then needs a
    second archive for oci-layout and index.json."""
    writer = ArchiveWriter(str(directory), LIMIT, "plan")
    first, first_data = blob(LIMIT - END_OF_ARCHIVE - 2048, 1)
    writer.add_blob(first, len(first_data), [first_data])
    second, second_data = blob(100, 2)
    with pytest.raises(RuntimeError):
        writer.add_blob(second, len(second_data), _failing(second_data))
    archives = writer.finish(fmt.index_json([], writer.manifests))
    assert [a.name for a in archives] == ["archive-0001.tar", "archive-0002.tar"]
    return (first, first_data), (second, second_data)


@pytest.mark.parametrize("retry", [True, False])
def test_place_left_empty_in_a_sealed_archive_is_filled_by_the_next_run(tmp_path, retry):
    (first, first_data), (second, second_data) = _unfilled_place_then_metadata_in_new_archive(tmp_path)
    again = ArchiveWriter(str(tmp_path), LIMIT, "plan")
    assert again.resumed and again.has(first) and not again.has(second)
    if retry:
        entry = again.add_blob(second, len(second_data), [second_data])
        assert member_bytes(tmp_path, entry) == second_data
    archives = again.finish(fmt.index_json([], again.manifests))
    names = []
    for archive in archives:
        with tarfile.open(os.path.join(tmp_path, archive.name)) as tar:
            names += tar.getnames()
    assert ("blobs/sha256/" + second[7:] in names) is retry
    assert ("trash/sha256/" + second[7:] in names) is not retry
    assert member_bytes(tmp_path, again.blobs[first]) == first_data
    # and a third run still loads the journal and can finish
    third = ArchiveWriter(str(tmp_path), LIMIT, "plan")
    assert third.has(first)
    third.finish(fmt.index_json([], third.manifests))


def test_short_writes_are_completed(tmp_path, monkeypatch):
    data = random.Random(1).randbytes(300_000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    real = os.pwrite

    def short_pwrite(fd, buf, offset):  # the kernel may write less than asked (ENOSPC, signals)
        return real(fd, bytes(buf[:max(1, len(buf) // 3)]), offset)

    monkeypatch.setattr(writer_module.os, "pwrite", short_pwrite)
    writer = ArchiveWriter(str(tmp_path), None, "p")
    entry = writer.add_blob(digest, len(data), (data[i:i + 100_000] for i in range(0, len(data), 100_000)))
    archives = writer.finish(fmt.index_json([], writer.manifests))
    monkeypatch.undo()
    assert member_bytes(tmp_path, entry) == data
    with tarfile.open(os.path.join(tmp_path, archives[0].name)) as tar:
        assert tar.extractfile("blobs/sha256/" + digest[7:]).read() == data
        assert tar.extractfile("oci-layout").read() == fmt.OCI_LAYOUT_CONTENT


def test_pwrite_that_writes_nothing_raises(tmp_path, monkeypatch):
    writer = ArchiveWriter(str(tmp_path), None, "p")
    digest, data = blob(5000, 3)
    monkeypatch.setattr(writer_module.os, "pwrite", lambda fd, buf, offset: 0)
    with pytest.raises(OSError):
        writer.add_blob(digest, len(data), [data])
    monkeypatch.undo()
    writer.close()


def test_records_after_a_torn_journal_line_are_read_by_the_next_run(tmp_path):
    writer = ArchiveWriter(str(tmp_path), None, "p")
    first, first_data = blob(5000, 1)
    writer.add_blob(first, len(first_data), [first_data])
    writer.close()
    with open(os.path.join(tmp_path, fmt.STATE_DIR, JOURNAL), "ab") as handle:
        handle.write(b'{"reserve": "sha256:ab')  # killed in the middle of a line
    second_run = ArchiveWriter(str(tmp_path), None, "p")
    assert second_run.resumed and second_run.has(first)
    second, second_data = blob(7000, 2)
    second_run.add_blob(second, len(second_data), [second_data])
    second_run.close()
    third_run = ArchiveWriter(str(tmp_path), None, "p")
    assert third_run.has(first) and third_run.has(second)
    assert member_bytes(tmp_path, third_run.blobs[second]) == second_data


def _leftovers(directory):
    old = os.path.join(directory, fmt.MANIFESTS_DIR, "old-catalog")
    os.makedirs(old)
    with open(os.path.join(old, "catalogSource.yaml"), "w", encoding="utf-8") as handle:
        handle.write("kind: CatalogSource\n")
    with open(os.path.join(directory, fmt.MAPPING_FILE), "w", encoding="utf-8") as handle:
        handle.write("old/image:1=mirror/old/image:1\n")


def test_a_fresh_export_leaves_no_cluster_files_or_plan_of_the_previous_one(tmp_path):
    writer = ArchiveWriter(str(tmp_path), None, "old plan")
    digest, data = blob(3000, 1)
    writer.add_blob(digest, len(data), [data])
    writer.finish(fmt.index_json([], writer.manifests))
    _leftovers(str(tmp_path))
    fresh = ArchiveWriter(str(tmp_path), None, "new plan")
    assert not fresh.resumed
    other, other_data = blob(2000, 2)
    fresh.add_blob(other, len(other_data), [other_data])
    fresh.close()
    assert not os.path.exists(os.path.join(tmp_path, fmt.MANIFESTS_DIR))
    assert not os.path.exists(os.path.join(tmp_path, fmt.MAPPING_FILE))


def test_a_resumed_export_keeps_its_plan(tmp_path):
    writer = ArchiveWriter(str(tmp_path), None, "plan")
    digest, data = blob(3000, 1)
    writer.add_blob(digest, len(data), [data])
    writer.close()
    _leftovers(str(tmp_path))
    again = ArchiveWriter(str(tmp_path), None, "plan")
    other, other_data = blob(2000, 2)
    again.add_blob(other, len(other_data), [other_data])
    again.close()
    assert again.resumed
    assert os.path.exists(os.path.join(tmp_path, fmt.MAPPING_FILE))


def test_a_new_archive_is_in_its_directory_on_disk_before_the_journal_names_it(tmp_path, monkeypatch):
    journal = os.path.join(tmp_path, fmt.STATE_DIR, JOURNAL)
    seen = []
    real = files.fsync_directory

    def fsync_directory(directory):
        with open(journal, "rb") as handle:
            named = b'"spans": [[2,' in handle.read()
        seen.append((directory, os.path.exists(os.path.join(tmp_path, "archive-0002.tar")), named))
        real(directory)

    monkeypatch.setattr(writer_module, "fsync_directory", fsync_directory, raising=False)
    writer = ArchiveWriter(str(tmp_path), LIMIT, "plan", sync_interval=0)
    for seed in range(4):
        digest, data = blob(6000, seed)
        writer.add_blob(digest, len(data), [data])
    writer.close()
    with open(journal, "rb") as handle:
        assert b'"spans": [[2,' in handle.read()
    assert (str(tmp_path), True, False) in seen


def test_an_interrupt_outside_the_copy_still_journals_what_was_written(tmp_path, monkeypatch):
    """export.run_archive_export closes the writer however _run ends (here: interrupted while the
    built images are archived, after the copy)."""
    from types import SimpleNamespace

    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import export

    digest, data = blob(4000, 5)

    def interrupted_run(request, entries, problems, auth, check_mode, writer, *rest):
        writer.sync_interval = 3600  # nothing journaled on the way
        writer.add_blob(digest, len(data), [data])
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_run", interrupted_run)
    monkeypatch.setattr(export, "RegistryPool", lambda *a, **k: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(export, "Progress", lambda *a, **k: None)
    settings = SimpleNamespace(directory=str(tmp_path), size=None, history=None, built=(), dest=None)
    transfer = SimpleNamespace(filter_by_os=None, parallel_images=1, parallel_layers=1, report_file=None,
                               progress_interval=1)
    request = SimpleNamespace(archive=settings, transfer=transfer,
                              connection=SimpleNamespace(retries=0, timeout=1))
    with pytest.raises(KeyboardInterrupt):
        export.run_archive_export(request, [], [], None, False)
    again = ArchiveWriter(str(tmp_path), None, export.plan_fingerprint([], None, settings))
    assert again.resumed and again.has(digest)
    assert member_bytes(tmp_path, again.blobs[digest]) == data
