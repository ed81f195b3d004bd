# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One mirroring run from mapping lines to a result: the engine behind image_mirror_from_mapping.

Kept out of the module file so that it can be driven from tests and benchmarks without Ansible.
"""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier, CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import load_mappings, select_shard
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import Progress
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryPool

# How many failures the task message spells out; the full list is in `failures` and the report.
_MSG_FAILURES = 5

_IMAGE_KEYS = ("origin", "source", "dest", "source_digest", "dest_digest", "digest_changed", "bytes_sent")


def _positive(params: dict, name: str) -> int:
    value = params.get(name)
    if value is None or value < 1:
        raise ConfigError(f"{name} must be 1 or more, got {value!r}")
    return value


def run_mapping_mirror(params: dict, auth: AuthStore, check_mode: bool = False) -> dict:
    """Mirror the mapping lines described by module ``params``; return the module result."""
    parallel_images = _positive(params, "parallel_images")
    parallel_layers = _positive(params, "parallel_layers")
    if params.get("retries", 0) < 0:
        raise ConfigError(f"retries must be 0 or more, got {params['retries']!r}")

    entries, problems = load_mappings(
        params.get("mapping_file") or [],
        params.get("mapping") or [],
        include=params.get("include"),
        exclude=params.get("exclude"),
        digest_tag_mode=params.get("digest_tag") or "oc",
    )
    entries, problems = select_shard(entries, problems, params.get("shard_index") or 0, params.get("shard_count") or 1)
    options = CopyOptions(
        parallel_images=parallel_images,
        parallel_layers=parallel_layers,
        filter_by_os=params.get("filter_by_os"),
        continue_on_error=params.get("continue_on_error", True),
        dry_run=check_mode,
    )
    progress = Progress(len(entries), params.get("report_file"), interval=params.get("progress_interval") or 5.0)
    pool = RegistryPool(
        auth,
        retries=params.get("retries", 5),
        pool_size=parallel_images + parallel_layers,
        timeout=params.get("timeout") or 60.0,
    )
    try:
        report = Copier(pool, options, progress).run(entries)
    finally:
        pool.close()

    secrets = auth.secrets()
    failures = [
        {"origin": p.origin, "text": redact(p.text, secrets), "error": redact(p.reason, secrets)} for p in problems
    ]
    by_status: dict[str, list[dict]] = {"copied": [], "skipped": [], "missing": [], "failed": [], "cancelled": []}
    for image in report.images:
        item = {key: getattr(image, key) for key in _IMAGE_KEYS}
        if image.status == "missing":
            item.update(missing_blobs=image.missing_blobs)
        if image.status in ("failed", "cancelled"):
            item["error"] = redact(image.error or image.status, secrets)
            failures.append(item)
        by_status.setdefault(image.status, []).append(item)

    summary = {
        "images": len(report.images),
        "copied": len(by_status["copied"]),
        "skipped": len(by_status["skipped"]),
        "missing": len(by_status["missing"]),
        "failed": len(by_status["failed"]),
        "cancelled": len(by_status["cancelled"]),
        "bad_lines": len(problems),
        "blobs_uploaded": report.blobs_uploaded,
        "blobs_mounted": report.blobs_mounted,
        "blobs_present": report.blobs_present,
        "bytes_sent": report.bytes_sent,
        "retries": report.retries,
        "elapsed_seconds": round(report.elapsed, 3),
    }
    result = {
        "changed": bool(by_status["missing"]) if check_mode else bool(by_status["copied"]),
        "copied": by_status["copied"],
        # "skipped" would be read by Ansible as "the task was skipped"
        "present": by_status["skipped"],
        "failures": failures,
        "bytes_sent": report.bytes_sent,
        "summary": summary,
    }
    if check_mode:
        result["missing"] = by_status["missing"]
    if params.get("report_file"):
        result["report_file"] = params["report_file"]
    if failures:
        shown = "; ".join(f"{f['origin']}: {f['error']}" for f in failures[:_MSG_FAILURES])
        more = f" (and {len(failures) - _MSG_FAILURES} more, see failures)" if len(failures) > _MSG_FAILURES else ""
        result["msg"] = (
            f"{len(failures)} of {len(entries) + len(problems)} mapping lines failed "
            f"({summary['copied']} copied, {summary['skipped']} already present): {shown}{more}"
        )
    progress.finish(report, extra={"failures": failures, "summary": summary})
    result["warnings"] = list(auth.warnings)
    return result
