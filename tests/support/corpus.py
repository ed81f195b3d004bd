# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the shared corpus of real catalogs is: ``shared/`` sits beside the repository, for
sessions and CI alike. Tests that read it are skipped, saying why, when it is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "catalogs"
CRDS = CORPUS.parent / "crds"

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "INVENTORY.json").is_file(),
    reason=f"catalog corpus not found at {CORPUS} (shared/ must sit beside the repo)",
)


def inventory() -> dict:
    """INVENTORY.json's items (counts per corpus item), or {} without the corpus."""
    try:
        with open(CORPUS / "INVENTORY.json", encoding="utf-8") as handle:
            return json.load(handle)["items"]
    except OSError:
        return {}
