# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the catalog lives in a catalog image (its labels), and loading it once unpacked."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import (
    LABEL_CONFIGS,
    LABEL_DATABASE,
    IndexLocation,
    index_location,
    load_extracted,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


@pytest.mark.parametrize("labels,expected", [
    ({LABEL_CONFIGS: "/configs"}, IndexLocation("fbc", "/configs")),
    ({LABEL_DATABASE: "/database/index.db"}, IndexLocation("sqlite", "/database/index.db")),
    ({LABEL_DATABASE: "/database/index.db", LABEL_CONFIGS: "/configs"}, IndexLocation("fbc", "/configs")),
])
def test_index_location_from_labels(labels, expected):
    assert index_location(labels) == expected


def test_index_location_without_labels():
    with pytest.raises(CatalogError, match="quay.io/x/y:1: neither"):
        index_location({"other": "x"}, "quay.io/x/y:1")


def test_load_extracted_missing_configs(tmp_path):
    with pytest.raises(CatalogError, match="/configs: the FBC directory named by the"):
        load_extracted(str(tmp_path), IndexLocation("fbc", "/configs"))
