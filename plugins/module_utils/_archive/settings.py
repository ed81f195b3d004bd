# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an export to archives is asked to do, as a typed value (the ``archive`` of the mapping
and catalog mirror requests in ``_mirror/requests.py``).

It lives here, not beside those requests: Ansible ships every module_utils file a module imports,
at any depth, and parses each one on the controller at every run, so image_mirror_from_mapping
(which refuses archive_dir, run by archive_export instead) names nothing of _archive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import HISTORY_FILE, parse_size
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


@dataclass(frozen=True)
class ArchiveSettings:
    """Write the images into size-limited archives in ``directory`` instead of pushing them.

    ``size``: bytes per archive (int, or text such as ``4GiB`` / ``500MB``; None: unlimited).
    ``history``: True for ``<directory>/history.json``, a path, or False / None to ship
    everything. ``dest``: the planned target prefix recorded in contents.json (catalog_mirror's
    ``dest``; None: the common prefix of the targets). ``built``: images computed here to archive
    too (``_archive/built.BuiltExport``, catalog_mirror's pruned catalogs). Normalized here:
    ``size`` becomes an int or None, ``history`` an absolute path or None.
    """

    directory: str
    size: Any = None
    history: Any = True
    dest: Optional[str] = None
    built: Tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.directory or not str(self.directory).strip():
            raise ConfigError("archive_dir is empty: give the directory that receives the archives")
        directory = os.path.abspath(os.path.expanduser(str(self.directory)))
        object.__setattr__(self, "directory", directory)
        object.__setattr__(self, "size", parse_size(self.size, "archive_size"))
        history = self.history
        if history is True:
            history = os.path.join(directory, HISTORY_FILE)
        elif history is False or history is None or not str(history).strip():
            history = None
        else:
            history = os.path.abspath(os.path.expanduser(str(history)))
            if os.path.isdir(history):
                raise ConfigError(f"archive_history {history} is a directory: give a file path, such as "
                                  f"{os.path.join(history, HISTORY_FILE)}")
        object.__setattr__(self, "history", history)
