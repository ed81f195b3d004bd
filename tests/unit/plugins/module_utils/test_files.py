# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""files.write_atomic(fsync=True): the new file's data, then the directory entry of the rename,
reach the disk before it returns (so what follows, such as a history entry, never outlives it)."""

from __future__ import annotations

import os
import stat

from ansible_collections.airgap.operatorhub.plugins.module_utils import files
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.history import History


def _record(monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind, os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", dst))
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    return events


def test_fsync_writes_the_file_before_the_rename_and_the_directory_after(tmp_path, monkeypatch):
    events = _record(monkeypatch)
    path = str(tmp_path / "contents.json")
    files.write_atomic(path, b"{}", fsync=True)
    assert [e[:2] for e in events] == [("fsync", "file"), ("replace", path), ("fsync", "dir")]
    assert events[2][2] == str(tmp_path)
    with open(path, "rb") as handle:
        assert handle.read() == b"{}"


def test_without_fsync_nothing_is_synced(tmp_path, monkeypatch):
    events = _record(monkeypatch)
    files.write_atomic(str(tmp_path / "report.json"), b"{}")
    assert [e[0] for e in events] == ["replace"]


def test_contents_json_and_the_history_are_synced(tmp_path, monkeypatch):
    events = _record(monkeypatch)
    fmt.Contents(created="2026-01-01T00:00:00Z", dest=None, archives=(), blobs=(), manifests=(),
                 images=()).write(str(tmp_path / fmt.CONTENTS_FILE))
    history = History(str(tmp_path / "history.json"))
    history.save({"created": "2026-01-01T00:00:00Z"})
    synced = [e[2] for e in events if e[:2] == ("fsync", "dir")]
    assert synced == [str(tmp_path), str(tmp_path)]
