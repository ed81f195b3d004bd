# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One export: mapping entries -> archives, contents.json and mapping.txt in ``archive_dir``.

:func:`run_mapping_export` is the archive_export module's engine (image_mirror_from_mapping with
archive_dir runs that module): it reads the mapping as the registry mirror does
(``_mirror/runner.mapping_entries``); catalog_mirror calls :func:`run_archive_export` with its own
plan. The plan (lines and target names) is the direct mirror's; only the destination differs.

- A re-run of a complete export with the same plan that finds nothing new (every image already
  archived there with the same digest, or present in the history) changes nothing: a dry phase 1
  decides before anything is written.
- An interrupted export (journal in ``.state/``) resumes: what it wrote is kept and not fetched
  again.
- Otherwise the directory's earlier export (archives and contents.json) is replaced, and the
  history decides which blobs are left out. The history is updated only when every image was
  archived; with failures the journal stays, so the next run resumes and retries them.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Dict, List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.built import archive_built, missing_blobs
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.copier import ArchiveCopier
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    CONTENTS_FILE,
    MAPPING_FILE,
    STATE_DIR,
    ArchiveError,
    BaseBlob,
    Contents,
    HistoryInfo,
    ImageEntry,
    archive_number,
    index_json,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.history import History
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import ArchiveWriter
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import Progress
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyOptions, failures_text
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import mapping_entries
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic
from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible, signal_name


def plan_fingerprint(entries: list, filter_by_os: Optional[str], settings) -> str:
    """What makes two exports the same: the mapping lines, the platform filter, archive_size and
    whether a history is kept."""
    document = {"lines": sorted(e.line for e in entries), "filter_by_os": filter_by_os,
                "archive_size": settings.size, "history": settings.history is not None,
                "built": sorted([b.target, b.digest] for b in settings.built)}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def common_dest(entries: list) -> Optional[str]:
    """The registry host[/path] all targets share (their names less the last component), or None."""
    prefix: Optional[List[str]] = None
    for entry in entries:
        parts = [entry.dest.registry] + entry.dest.repository.split("/")[:-1]
        if prefix is None:
            prefix = parts
        else:
            common = 0
            while common < min(len(prefix), len(parts)) and prefix[common] == parts[common]:
                common += 1
            prefix = prefix[:common]
    return "/".join(prefix) if prefix else None


def complete_export(directory: str) -> Optional[Contents]:
    """The contents of the complete export in ``directory`` (archives all there with their
    recorded sizes, no journal), else None."""
    if os.path.isdir(os.path.join(directory, STATE_DIR)):
        return None
    try:
        contents = Contents.read(os.path.join(directory, CONTENTS_FILE))
    except ArchiveError:
        return None
    for archive in contents.archives:
        try:
            if os.path.getsize(os.path.join(directory, archive.name)) != archive.size:
                return None
        except OSError:
            return None
    return contents


def _options(transfer, dry_run: bool) -> CopyOptions:
    return CopyOptions(parallel_images=transfer.parallel_images, parallel_layers=transfer.parallel_layers,
                       filter_by_os=transfer.filter_by_os, continue_on_error=transfer.continue_on_error,
                       dry_run=dry_run)


def _nothing_new(results: list, built: tuple, history: History, previous: Optional[Contents]) -> bool:
    """Whether a dry phase 1 found only images present in the history or archived in ``previous``
    (and the built images are there too)."""
    if previous is None:
        return False
    archived = {(i.target, i.digest) for i in previous.images}
    for item in built:
        if (item.target, item.digest) not in archived and not _built_in_history(item, history):
            return False
    for result in results:
        if result.status == "present":
            continue
        if result.status != "missing" or (result.dest, result.dest_digest) not in archived:
            return False
    return True


def _built_in_history(item, history: History) -> bool:
    return history.enabled and history.image(item.dest.registry, f"{item.dest.repository}:{item.dest.tag}") == item.digest


def _export_built(settings, writer, pool, history: History, copier: ArchiveCopier, check_mode: bool) -> Dict[str, list]:
    """Archive (or in check mode, list) the built images of ``settings``; their result items."""
    out: Dict[str, list] = {"archived": [], "in_history": [], "missing": [], "failures": []}
    for item in settings.built:
        entry = {"origin": "catalog build", "source": item.source, "dest": item.target, "source_digest": None,
                 "dest_digest": item.digest, "digest_changed": False, "bytes_written": 0, "blobs_written": 0}
        if _built_in_history(item, history):
            out["in_history"].append(entry)
        elif check_mode:
            count, size = missing_blobs(item, history)
            out["missing"].append(dict(entry, missing_blobs=count, missing_bytes=size))
        else:
            try:
                outcome = archive_built(item, writer, pool, history)
            except AirgapError as exc:
                entry["error"] = f"{item.target}: archiving the catalog image built {item.source}: {exc}"
                out["failures"].append(entry)
                continue
            copier.add_extra(outcome)
            entry.update(bytes_written=outcome.bytes_written, blobs_written=outcome.blobs_written)
            out["archived"].append(entry)
    return out


def _item(result, with_missing: bool = False) -> Dict[str, Any]:
    item = {"origin": result.origin, "source": result.source, "dest": result.dest,
            "source_digest": result.source_digest, "dest_digest": result.dest_digest,
            "digest_changed": result.digest_changed, "bytes_written": result.bytes_sent,
            "blobs_written": result.blobs_uploaded}
    if with_missing:
        item.update(missing_blobs=result.missing_blobs, missing_bytes=result.missing_bytes)
    return item


def run_mapping_export(request, auth, check_mode: bool = False) -> dict:
    """Export the mapping lines of ``request`` (a MappingMirrorRequest with ``archive`` settings)
    into its archives; return the module result."""
    if request.archive is None:
        raise ConfigError("archive_dir is required: the directory that receives the archives")
    entries, problems = mapping_entries(request)
    return run_archive_export(request, entries, problems, auth, check_mode)


def run_archive_export(request, entries: list, problems: list, auth, check_mode: bool) -> dict:
    """Export ``entries`` into ``request.archive``; return the module result."""
    settings, transfer = request.archive, request.transfer
    directory = settings.directory
    shards = getattr(request, "shard_count", 1)
    if shards > 1:
        # One export is one OCI layout, one contents.json and one history, written by one host:
        # hosts sharing a directory would replace each other's archives, and a part of the plan in
        # each host's own directory would need as many imports (and histories kept apart).
        raise ConfigError(f"archive_dir with shard_count {shards}: an export to archives is written by one host, "
                          "whole; leave shard_count and shard_index out of the export (they split a mirror to a "
                          "registry between hosts), or give each host its own mapping file and archive_dir")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigError(f"archive_dir {directory} exists and is not a directory")
    history = History(settings.history)
    fingerprint = plan_fingerprint(entries, transfer.filter_by_os, settings)
    previous = complete_export(directory)
    if previous is not None and previous.plan != fingerprint:
        previous = None
    writer = ArchiveWriter(directory, settings.size, fingerprint)
    pool = RegistryPool(auth, retries=request.connection.retries,
                        pool_size=transfer.parallel_images + transfer.parallel_layers,
                        timeout=request.connection.timeout)
    progress = Progress(len(entries), transfer.report_file, interval=transfer.progress_interval)
    try:
        with interruptible():
            return _run(request, entries, problems, auth, check_mode, writer, history, previous, pool, progress,
                        fingerprint)
    finally:
        try:
            writer.close()  # however _run ends: what is complete is journaled (a no-op once finished)
        finally:
            pool.close()


def _run(request, entries, problems, auth, check_mode, writer, history, previous, pool, progress, fingerprint):
    """A dry phase 1 when it can save the run (a re-run) or is all there is to do (check mode),
    then the export itself."""
    settings, transfer = request.archive, request.transfer
    if previous is not None or check_mode:
        dry = ArchiveCopier(pool, _options(transfer, True), progress if check_mode else None, writer, history)
        report = dry.run(entries)
        unchanged = _nothing_new(report.images, settings.built, history, previous)
        if check_mode or unchanged:
            built = _export_built(settings, writer, pool, history, dry, True)
            return _result(request, entries, problems, auth, report, dry, progress, None, unchanged, check_mode,
                           built)
    copier = ArchiveCopier(pool, _options(transfer, False), progress, writer, history)
    try:
        report = copier.run(entries)
    except KeyboardInterrupt as exc:
        writer.close()
        partial = copier.last_report
        summary = partial.to_dict()["summary"] if partial is not None else {}
        progress.finish(partial, extra={"interrupted": signal_name(exc), "summary": summary}, state="interrupted")
        raise
    built = _export_built(settings, writer, pool, history, copier, False) if not report.cancelled else {}
    contents = None
    complete = not report.failed and not report.cancelled and not built.get("failures")
    if copier.images_in_order(report.images) or writer.members_written or complete:
        contents = _complete(settings, entries, report, copier, writer, history, fingerprint, complete)
    else:
        writer.close()
    return _result(request, entries, problems, auth, report, copier, progress, contents, False, False, built)


def in_archive_order(entries) -> tuple:
    """Members by archive number (archive-10000 after archive-9999), then offset."""
    return tuple(sorted(entries, key=lambda e: (archive_number(e.archive), e.offset)))


def _complete(settings, entries, report, copier: ArchiveCopier, writer: ArchiveWriter, history: History,
              fingerprint: str, complete: bool) -> Contents:
    """Finish the last archive, write contents.json and mapping.txt; when nothing failed,
    record the shipment in the history and drop the journal."""
    images = copier.images_in_order(report.images)
    archives = writer.finish(index_json(images, writer.manifests))
    in_history = [ImageEntry(source=r.source, target=r.dest, digest=r.dest_digest or "")
                  for r in report.images if r.status == "present" and r.dest_digest]
    contents = Contents(
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        dest=settings.dest or common_dest(entries),
        archives=tuple(archives),
        blobs=in_archive_order(writer.blobs.values()),
        manifests=in_archive_order(writer.manifests.values()),
        images=tuple(images),
        history=HistoryInfo(path=history.path, base_blobs=len(copier.base),
                            blobs=tuple(BaseBlob(d, s, r) for d, (s, r) in sorted(copier.base.items())),
                            images=tuple(in_history)),
        plan=fingerprint,
    )
    directory = settings.directory
    lines = "".join(f"{e.line}\n" for e in entries)
    write_atomic(os.path.join(directory, MAPPING_FILE), lines.encode("utf-8"), fsync=True)
    contents.write(os.path.join(directory, CONTENTS_FILE))
    if complete:
        if history.enabled:
            for host, blobs in copier.shipped.items():
                history.record(host, blobs, copier.shipped_manifests.get(host, ()),
                               copier.shipped_images.get(host, {}).items())
            history.save({"created": contents.created, "archive_dir": directory, "images": len(images),
                          "archives": [a.name for a in archives], "blob_bytes": copier.blob_bytes_written})
        writer.discard_state()
    return contents


def _result(request, entries, problems, auth, report, copier: ArchiveCopier, progress, contents: Optional[Contents],
            unchanged: bool, check_mode: bool, built: Dict[str, list]) -> dict:
    settings = request.archive
    secrets = auth.secrets()
    failures = [{"origin": p.origin, "text": redact(p.text, secrets), "error": redact(p.reason, secrets)}
                for p in problems]
    archived, in_history, missing = [], [], []
    for image in report.images:
        if image.status == "copied":
            archived.append(_item(image))
        elif image.status == "present":
            in_history.append(_item(image))
        elif image.status == "missing":
            missing.append(_item(image, with_missing=True))
        else:
            item = _item(image)
            item["error"] = redact(image.error or image.status, secrets)
            failures.append(item)
    archived += built.get("archived", [])
    in_history += built.get("in_history", [])
    missing += built.get("missing", [])
    failures += [dict(f, error=redact(f["error"], secrets)) for f in built.get("failures", [])]
    directory = settings.directory
    if contents is None and unchanged:
        contents = complete_export(directory)
    archives = [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in (contents.archives if contents else ())]
    summary = {
        "images": len(report.images) + len(request.archive.built),
        "archived": len(archived),
        "in_history": len(in_history),
        "failed": len(failures) - len(problems),
        "bad_lines": len(problems),
        "blobs_written": copier.blobs_written,
        "blob_bytes_written": copier.blob_bytes_written,
        "bytes_written": copier.writer.bytes_written,
        "base_blobs": len(copier.base) if contents is None else contents.history.base_blobs,
        "archives": len(archives),
        "archive_bytes": sum(a["size"] for a in archives),
        "retries": report.retries,
        "elapsed_seconds": round(report.elapsed, 3),
    }
    result: Dict[str, Any] = {
        "changed": (bool(missing) and not unchanged) if check_mode else (not unchanged and contents is not None),
        "archive_dir": directory,
        "archives": archives,
        "contents": os.path.join(directory, CONTENTS_FILE) if contents is not None else None,
        "mapping": os.path.join(directory, MAPPING_FILE) if contents is not None else None,
        "history": settings.history,
        "archived": archived,
        "in_history": in_history,
        "failures": failures,
        "bytes_written": copier.writer.bytes_written,
        "summary": summary,
    }
    if unchanged and not check_mode:
        # a re-run that found the same images archived there already (history off)
        result["already_archived"] = missing
        result["summary"]["already_archived"] = len(missing)
    if check_mode:
        result["missing"] = [] if unchanged else missing
        result["summary"]["would_archive"] = 0 if unchanged else len(missing)
        result["summary"]["would_write_bytes"] = 0 if unchanged else sum(m["missing_bytes"] for m in missing)
    if failures:
        shown = failures_text(failures, "origin")
        kept = ("; the export is not complete: the history was not updated and the journal in "
                f"{os.path.join(directory, STATE_DIR)} stays, so running it again resumes and retries them")
        result["msg"] = (f"{len(failures)} of {len(entries) + len(problems) + len(settings.built)} images failed "
                         f"({len(archived)} archived, {len(in_history)} already shipped): {shown}{kept}")
    progress.finish(report, extra={"failures": failures, "summary": summary})
    result["warnings"] = list(auth.warnings)
    return result
