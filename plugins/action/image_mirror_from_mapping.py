# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs image_mirror_from_mapping and shows its progress in the job output (see plugin_utils/progress_action.py).

A task with ``archive_dir`` runs archive_export instead: the same options and result, and the
image_mirror_from_mapping module ships none of the archive code (Ansible ships every module_utils
file a module imports, and parses each one on the controller at every run)."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.plugin_utils.progress_action import ProgressAction


EXPORT_MODULE = "airgap.operatorhub.archive_export"


class ActionModule(ProgressAction):
    MODULE = "airgap.operatorhub.image_mirror_from_mapping"

    def module_for(self, args):
        return EXPORT_MODULE if args.get("archive_dir") else self.MODULE
