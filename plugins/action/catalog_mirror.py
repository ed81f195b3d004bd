# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress display for catalog_mirror: the same as for image_mirror_from_mapping."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.action.image_mirror_from_mapping import (
    ActionModule as _MirrorActionModule,
)


class ActionModule(_MirrorActionModule):
    MODULE = "airgap.operatorhub.catalog_mirror"
