# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What earlier exports shipped, per target registry, kept on the connected side.

``archive_history`` (default ``<archive_dir>/history.json``) records, per target registry
(the planned host, e.g. ``mirror.example.com:5000``), every blob shipped (its size and a target
repository that holds it, for the import to check or mount it from), every manifest digest, and
every image (target ``repository:tag`` -> digest). The next export leaves out the blobs it
holds, and images whose target already got the same digest; manifests of the images it
archives are always shipped. The history is updated only once an export is complete, so an
interrupted or failed export never makes the next one leave out something that was not carried.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError, is_digest
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

HISTORY_FORMAT = "airgap.operatorhub/archive-history/v1"
_MAX_BYTES = 512 * 1024 * 1024


class History:
    """The history file at ``path`` (None: disabled, everything is shipped)."""

    def __init__(self, path: Optional[str]):
        self.path = path
        self.targets: Dict[str, Dict[str, Any]] = {}
        self.exports: list = []
        if path is not None:
            self._load()

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(_MAX_BYTES + 1)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ArchiveError(f"archive_history {self.path} cannot be read: {exc.strerror or exc}") from None
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("format") != HISTORY_FORMAT or not isinstance(raw.get("targets"), dict):
                raise ValueError(f"format {raw.get('format')!r} is not {HISTORY_FORMAT!r}")
            for host, target in raw["targets"].items():
                self.targets[host] = {
                    "blobs": {d: (int(v[0]), str(v[1])) for d, v in target.get("blobs", {}).items() if is_digest(d)},
                    "manifests": {d for d in target.get("manifests", []) if is_digest(d)},
                    "images": {str(k): str(v) for k, v in target.get("images", {}).items()},
                }
            self.exports = list(raw.get("exports") or [])
        except (UnicodeDecodeError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ArchiveError(
                f"archive_history {self.path} is not a history this collection wrote ({exc}): move it away to ship "
                "everything again, or set archive_history: false") from None

    def _target(self, host: str) -> Dict[str, Any]:
        return self.targets.setdefault(host, {"blobs": {}, "manifests": set(), "images": {}})

    def blob(self, host: str, digest: str) -> Optional[Tuple[int, str]]:
        """(size, repository) of a blob shipped to ``host``, or None."""
        target = self.targets.get(host)
        return target["blobs"].get(digest) if target else None

    def image(self, host: str, name: str) -> Optional[str]:
        """The digest shipped as ``repository:tag`` (or ``repository@digest``) to ``host``, or None."""
        target = self.targets.get(host)
        return target["images"].get(name) if target else None

    def record(self, host: str, blobs: Iterable[Tuple[str, int, str]], manifests: Iterable[str],
               images: Iterable[Tuple[str, str]]) -> None:
        """Add a complete export's blobs (digest, size, repository), manifests and images
        (``repository:tag``, digest) for ``host``. A blob keeps the repository it was first
        shipped to: that is where the target holds it for sure."""
        target = self._target(host)
        for digest, size, repository in blobs:
            target["blobs"].setdefault(digest, (size, repository))
        target["manifests"].update(manifests)
        target["images"].update(images)

    def save(self, export: Dict[str, Any]) -> None:
        """Write the file atomically, adding ``export`` (when, where, how much) to its log."""
        if self.path is None:
            return
        self.exports.append(export)
        document = {
            "format": HISTORY_FORMAT,
            "targets": {
                host: {
                    "blobs": {d: [s, r] for d, (s, r) in sorted(t["blobs"].items())},
                    "manifests": sorted(t["manifests"]),
                    "images": dict(sorted(t["images"].items())),
                }
                for host, t in sorted(self.targets.items())
            },
            "exports": self.exports,
        }
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
            write_atomic(self.path, (json.dumps(document, indent=1) + "\n").encode("utf-8"), fsync=True)
        except OSError as exc:
            raise ArchiveError(f"archive_history {self.path} cannot be written: {exc.strerror or exc}") from None
