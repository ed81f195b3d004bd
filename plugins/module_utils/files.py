# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files the collection writes (mapping.txt, manifests, reports) are replaced atomically: a
reader (oc apply, a progress watcher, a killed run's successor) sees the old file or the new
one, never half of one."""

from __future__ import annotations

import os
import tempfile


def _mode_for(path: str) -> int:
    """The mode of the file being replaced, else what ``open()`` would create (0666 less umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str, data: bytes, max_mode: int = 0o7777, fsync: bool = False) -> None:
    """Replace ``path`` with ``data`` through a temporary file in the same directory, keeping
    the replaced file's mode (never more open than ``max_mode``). Raises OSError; the temporary
    file never outlives a failure. ``fsync``: the data, then the rename (the directory), are on
    disk when it returns; for files that later writes rely on, not for often rewritten reports."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(path) & max_mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        fsync_directory(directory)


def fsync_directory(directory: str) -> None:
    """Make the entries of ``directory`` (files created, renamed, removed there) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
