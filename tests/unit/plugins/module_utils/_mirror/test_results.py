# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failures a task message names (the mirror, the export and the import share it)."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import failures_text


def test_failures_text_names_five_and_counts_the_rest():
    failures = [{"origin": f"mapping.txt:{n}", "dest": f"reg/app{n}:v1", "error": "manifest unknown"} for n in range(1, 8)]
    assert failures_text(failures[:2], "origin") == "mapping.txt:1: manifest unknown; mapping.txt:2: manifest unknown"
    text = failures_text(failures, "dest")
    assert text.startswith("reg/app1:v1: manifest unknown; ") and "reg/app5:v1" in text and "reg/app6:v1" not in text
    assert text.endswith("reg/app5:v1: manifest unknown (and 2 more, see failures)")
    assert failures_text([], "origin") == ""
