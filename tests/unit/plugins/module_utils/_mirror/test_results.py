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


def test_image_result_as_dict_is_asdict_and_the_summary_counts_each_status():
    import dataclasses

    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyReport, ImageResult

    images = [ImageResult("s1", "d1", "m:1", status="present", source_digest="sha256:" + "a" * 64),
              ImageResult("s2", "d2", "m:2", status="copied", bytes_sent=7, seconds=0.5),
              ImageResult("s3", "d3", "m:3", status="failed", error="boom"),
              ImageResult("s4", "d4", "m:4", status="present")]
    assert [i.as_dict() for i in images] == [dataclasses.asdict(i) for i in images]
    document = CopyReport(images=images).to_dict()
    assert document["images"] == [dataclasses.asdict(i) for i in images]
    assert {k: document["summary"][k] for k in ("images", "copied", "present", "failed", "missing", "cancelled")} == \
        {"images": 4, "copied": 1, "present": 2, "failed": 1, "missing": 0, "cancelled": 0}
