# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible glue of the exports to archives (archive_export, catalog_mirror's archive_dir):
the archive options as :class:`ArchiveSettings`.

Apart from ``args.py`` for the reason ``args_catalog.py`` is: Ansible ships every module_utils
file a module imports, even inside a function, so image_mirror_from_mapping's glue names nothing
of _archive.
"""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import mapping_request, no_archive_options
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def archive_settings(params, dest=None):
    """The archive options as ArchiveSettings, or None without archive_dir."""
    directory = params.get("archive_dir")
    if not directory:
        no_archive_options(params)
        return None
    history = params.get("archive_history")
    if history is None or (isinstance(history, str) and history.strip().lower() in BOOLEANS_TRUE):
        history = True
    elif isinstance(history, bool):
        pass
    elif isinstance(history, str) and history.strip().lower() in BOOLEANS_FALSE:
        history = False
    elif not isinstance(history, str):
        raise ConfigError(f"archive_history must be a path or false, got {history!r}")
    return ArchiveSettings(directory=directory, size=params.get("archive_size"), history=history, dest=dest)


def mapping_export_request(module):
    """archive_export's parameters as a MappingMirrorRequest with its ``archive`` settings."""
    return mapping_request(module.params, archive=archive_settings(module.params))
