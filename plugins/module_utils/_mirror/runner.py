# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One mirroring run from mapping lines to a result: the engine behind image_mirror_from_mapping,
and the copy step of catalog_mirror. Driven by a :class:`MappingMirrorRequest`, so tests and
benchmarks run it without Ansible.

The same lines written into archives (``request.archive``) are ``_archive/export.run_mapping_export``'s,
which reads them with :func:`mapping_entries`: nothing here names _archive, since Ansible ships
every module_utils file a module imports, even inside a function."""

from __future__ import annotations

from typing import List, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import load_mappings, select_shard
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import Progress
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import STATUSES, CopyOptions, failures_text
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible, signal_name

_IMAGE_KEYS = ("origin", "source", "dest", "source_digest", "dest_digest", "digest_changed", "bytes_sent")


def _describe_input(request: MappingMirrorRequest) -> str:
    given = [f"mapping_file {path}" for path in request.mapping_files]
    if request.mapping:
        given.append(f"{len(request.mapping)} mapping line(s)")
    return ", ".join(given)


def mapping_entries(request: MappingMirrorRequest) -> Tuple[list, list]:
    """The mapping lines of ``request`` (files and inline lines, filtered, this host's shard) as
    ``(entries, problems)``: ConfigError when there is nothing to mirror."""
    if not request.mapping_files and not request.mapping:
        raise ConfigError("nothing to mirror: give mapping_file (files of SRC=DST lines, as oc image mirror -f "
                          "reads) or mapping (the lines themselves)")
    entries, problems = load_mappings(
        list(request.mapping_files),
        list(request.mapping),
        include=list(request.include) if request.include is not None else None,
        exclude=list(request.exclude) if request.exclude is not None else None,
        digest_tag_mode=request.digest_tag,
    )
    if not entries and not problems and request.include is None and request.exclude is None:
        raise ConfigError(f"nothing to mirror: {_describe_input(request)} hold(s) no SRC=DST line, only blank "
                          "lines and comments; check that the right file is given")
    return select_shard(entries, problems, request.shard_index, request.shard_count)


def run_mapping_mirror(request: MappingMirrorRequest, auth: AuthStore, check_mode: bool = False) -> dict:
    """Mirror the mapping lines of ``request`` to the registries; return the module result."""
    if request.archive is not None:
        raise ConfigError("archive settings are the export's: run _archive/export.run_mapping_export "
                          "(the archive_export module) to write the mapping into archives")
    entries, problems = mapping_entries(request)
    transfer = request.transfer
    options = CopyOptions(
        parallel_images=transfer.parallel_images,
        parallel_layers=transfer.parallel_layers,
        filter_by_os=transfer.filter_by_os,
        continue_on_error=transfer.continue_on_error,
        dry_run=check_mode,
    )
    progress = Progress(len(entries), transfer.report_file, interval=transfer.progress_interval)
    pool = RegistryPool(
        auth,
        retries=request.connection.retries,
        pool_size=transfer.parallel_images + transfer.parallel_layers,
        timeout=request.connection.timeout,
    )
    copier = Copier(pool, options, progress)
    try:
        with interruptible():
            report = copier.run(entries)
    except KeyboardInterrupt as exc:
        # The copy cleaned up; the report says where it stopped, for the re-run that resumes it.
        partial = copier.last_report
        summary = partial.to_dict()["summary"] if partial is not None else {}
        progress.finish(partial, extra={"interrupted": signal_name(exc), "summary": summary}, state="interrupted")
        raise
    finally:
        pool.close()

    secrets = auth.secrets()
    failures = [
        {"origin": p.origin, "text": redact(p.text, secrets), "error": redact(p.reason, secrets)} for p in problems
    ]
    by_status: dict[str, list[dict]] = {status: [] for status in STATUSES}
    for image in report.images:
        item = {key: getattr(image, key) for key in _IMAGE_KEYS}
        if image.status == "missing":
            item.update(missing_blobs=image.missing_blobs)
        if image.status in ("failed", "cancelled"):
            item["error"] = redact(image.error or image.status, secrets)
            failures.append(item)
        by_status.setdefault(image.status, []).append(item)

    summary = {"images": len(report.images)}
    # one name per outcome: the same in the result, its summary, the report and the mirror role
    summary.update((status, len(by_status[status])) for status in STATUSES)
    summary.update({
        "bad_lines": len(problems),
        "blobs_uploaded": report.blobs_uploaded,
        "blobs_mounted": report.blobs_mounted,
        "blobs_present": report.blobs_present,
        "bytes_sent": report.bytes_sent,
        "retries": report.retries,
        "elapsed_seconds": round(report.elapsed, 3),
    })
    result = {
        "changed": bool(by_status["missing"]) if check_mode else bool(by_status["copied"]),
        "copied": by_status["copied"],
        "present": by_status["present"],
        "failures": failures,
        "bytes_sent": report.bytes_sent,
        "summary": summary,
    }
    if check_mode:
        result["missing"] = by_status["missing"]
    if failures:
        shown = failures_text(failures, "origin")
        result["msg"] = (
            f"{len(failures)} of {len(entries) + len(problems)} mapping lines failed "
            f"({summary['copied']} copied, {summary['present']} already present): {shown}"
        )
    progress.finish(report, extra={"failures": failures, "summary": summary})
    warnings: List[str] = list(auth.warnings)
    if transfer.report_file:
        if progress.write_error:
            # The run itself is intact; only its report is missing, so warn rather than fail.
            warnings.append(f"{progress.write_error}; the task result holds the outcome of the run")
            result["report_file_error"] = progress.write_error
        else:
            result["report_file"] = transfer.report_file
    result["warnings"] = warnings
    return result
