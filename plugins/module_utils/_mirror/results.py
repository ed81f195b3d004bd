# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the copy engine is told and what it reports: options, per-image, per-blob and per-run
results, and the statuses an image can end in."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

# How an image can end: pushed, already in the destination, failed, lacking something in a dry
# run, or not tried because an earlier image failed and continue_on_error is false.
STATUSES = ("copied", "present", "failed", "missing", "cancelled")


@dataclass
class CopyOptions:
    parallel_images: int = 4
    parallel_layers: int = 8
    filter_by_os: str | None = None
    continue_on_error: bool = True
    dry_run: bool = False


@dataclass
class ImageResult:
    """What happened to one mapping line. ``dest_digest`` is the digest pushed (or that would be)."""

    source: str
    dest: str
    origin: str
    status: str = "pending"
    source_digest: str | None = None
    dest_digest: str | None = None
    digest_changed: bool = False
    bytes_sent: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    manifests_pushed: int = 0
    missing_blobs: int = 0
    missing_bytes: int = 0
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """The fields as a dict. Every value is a scalar, so this is what ``dataclasses.asdict``
        gives without its deep copy of each value (which cost more than the rest of a re-run's
        per-image work)."""
        return {name: getattr(self, name) for name in _IMAGE_FIELDS}


_IMAGE_FIELDS = tuple(item.name for item in fields(ImageResult))


@dataclass
class CopyReport:
    """The run as a whole. Blob counters count each (target host, repository, digest) once.

    ``unique_blob_bytes`` is the size of the distinct (target host, digest) blobs the images that
    were not present need: on a first run into an empty registry, ``bytes_sent`` equals it.
    """

    images: list[ImageResult] = field(default_factory=list)
    bytes_sent: int = 0
    unique_blob_bytes: int = 0
    blobs_uploaded: int = 0
    blobs_mounted: int = 0
    blobs_present: int = 0
    retries: int = 0
    elapsed: float = 0.0

    def _with(self, status: str) -> list[ImageResult]:
        return [i for i in self.images if i.status == status]

    @property
    def copied(self) -> list[ImageResult]:
        return self._with("copied")

    @property
    def present(self) -> list[ImageResult]:
        return self._with("present")

    @property
    def failed(self) -> list[ImageResult]:
        return self._with("failed")

    @property
    def missing(self) -> list[ImageResult]:
        return self._with("missing")

    @property
    def cancelled(self) -> list[ImageResult]:
        return self._with("cancelled")

    def to_dict(self) -> dict:
        summary: dict[str, Any] = {"images": len(self.images)}
        summary.update((status, 0) for status in STATUSES)
        for image in self.images:
            if image.status in summary:
                summary[image.status] += 1
        summary.update(
            bytes_sent=self.bytes_sent,
            unique_blob_bytes=self.unique_blob_bytes,
            blobs_uploaded=self.blobs_uploaded,
            blobs_mounted=self.blobs_mounted,
            blobs_present=self.blobs_present,
            retries=self.retries,
            elapsed_seconds=round(self.elapsed, 3),
        )
        return {"summary": summary, "images": [image.as_dict() for image in self.images]}


# How many failures a task's message names; the result lists them all.
MSG_FAILURES = 5


def failures_text(failures: list, key: str) -> str:
    """The first failures as ``<key>: <error>; ...``, then how many more the result's failures list."""
    shown = "; ".join(f"{f[key]}: {f['error']}" for f in failures[:MSG_FAILURES])
    if len(failures) > MSG_FAILURES:
        shown += f" (and {len(failures) - MSG_FAILURES} more, see failures)"
    return shown


class BlobOutcome(NamedTuple):
    """How a blob came to be present in one repository: a value of the Copier's blob table,
    which :class:`CopyReport`'s blob counters count (a tuple: one is kept per repository and
    blob of the run)."""

    kind: str  # "uploaded", "mounted", "present"
    bytes_sent: int = 0
    owner: int = 0  # id() of the ImageResult that did the work
