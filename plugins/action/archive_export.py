# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs archive_export and shows its progress in the job output (see plugin_utils/progress_action.py)."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.plugin_utils.progress_action import ProgressAction


class ActionModule(ProgressAction):
    MODULE = "airgap.operatorhub.archive_export"
