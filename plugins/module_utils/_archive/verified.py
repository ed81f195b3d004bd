# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of archives already checked, so that a resumed import does not hash them again.

Hashing every archive takes minutes on a large set, and an import that was interrupted (or that
refused one damaged archive) is run again on the same files. Once an archive's sha256 matched
contents.json, its file identity is recorded: size, mtime and ctime in nanoseconds, inode and
device, with the sha256 contents.json gave it and the time its check began. A later run trusts
the archive, without hashing it, only when all of these are still the same and contents.json
still gives the same sha256; anything else hashes it again.

The ctime is what makes this safe against a file rewritten in place with its mtime put back
(``cp -p``, ``touch -r``, ``rsync -t`` onto the same inode): every write and every change of
mtime sets the ctime to the current time, and no call sets it back. An archive written less than
:data:`RACY_NS` before its check began is not trusted later (as git treats a "racily clean"
file): a write in the same timestamp tick as the end of an earlier write would leave the
timestamps unchanged.

What the record cannot see is damage below the file system (a failing disk or USB stick flipping
bits in place). Such damage is still caught: every blob and manifest is hashed again while it
streams to the registry (:mod:`.reader`), so the image that needs it fails naming the blob,
nothing damaged is stored, and the archive leaves the record (``importer._forget_damaged``), so
the next run hashes it and refuses it. Only the promise "nothing pushed when an archive is damaged" is then
lost for that archive, which ``verify: always`` keeps.

The record is ``archive_dir/.import-state.json`` when the directory is writable, else
``$XDG_CACHE_HOME/airgap.operatorhub/import-state/<sha256 of the directory's path>.json``
(``~/.cache/...`` when unset); both are read, the newer check of an archive counting. It is a
cache: unreadable, of another format or for another directory, it is ignored and the archives
are hashed. It adds no trust that the directory did not hold: whoever can write a record beside
the archives can as well rewrite contents.json and the archives to match.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveFile
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

STATE_FILE = ".import-state.json"
STATE_FORMAT = "airgap.operatorhub/import-state/v1"
# An archive changed less than this before its check began is hashed again next time.
RACY_NS = 1_000_000_000
VERIFY_CHOICES = ("changed", "always")


def cache_state_path(archive_dir: str) -> str:
    """Where the record goes when ``archive_dir`` is not writable (read-only media)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(os.path.realpath(archive_dir).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(base, "airgap.operatorhub", "import-state", key + ".json")


@dataclass(frozen=True)
class Identity:
    """What says a file was not touched: a write changes the size, the mtime or the ctime; a copy
    replacing it changes the inode."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int

    @classmethod
    def of(cls, stat: os.stat_result) -> "Identity":
        return cls(stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)


@dataclass(frozen=True)
class Verified:
    """One archive whose sha256 matched: the sha256 contents.json gave, and the file as it was."""

    sha256: str
    identity: Identity
    checked_ns: int  # wall-clock time its check began

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, **asdict(self.identity), "checked_ns": self.checked_ns}

    @classmethod
    def from_dict(cls, doc: dict) -> "Verified":
        identity = Identity(*(int(doc[key]) for key in ("size", "mtime_ns", "ctime_ns", "ino", "dev")))
        sha256 = doc["sha256"]
        if not isinstance(sha256, str):
            raise TypeError("sha256")
        return cls(sha256, identity, int(doc["checked_ns"]))


class VerifiedArchives:
    """The record of one archive directory (see the module docstring). ``trusted`` and
    ``verified`` list, in order, the archives this run trusted and hashed."""

    def __init__(self, archive_dir: str, names: Iterable[str]):
        self.archive_dir = os.path.abspath(archive_dir)
        self.names = set(names)
        self.beside = os.path.join(self.archive_dir, STATE_FILE)
        self.cache = cache_state_path(self.archive_dir)
        self.entries: Dict[str, Verified] = {}
        self.trusted: List[str] = []
        self.verified: List[str] = []
        self.path: Optional[str] = None  # where the record was last written
        self.write_error: Optional[str] = None
        self._dirty = False

    @classmethod
    def load(cls, archive_dir: str, names: Iterable[str]) -> "VerifiedArchives":
        record = cls(archive_dir, names)
        for path in (record.beside, record.cache):
            for name, entry in (record._read(path) or {}).items():
                known = record.entries.get(name)
                if known is None or entry.checked_ns > known.checked_ns:
                    record.entries[name] = entry
                    record.path = path
        return record

    def _read(self, path: str) -> Optional[Dict[str, Verified]]:
        try:
            with open(path, "rb") as handle:
                doc = json.loads(handle.read(1 << 22))
            if doc.get("format") != STATE_FORMAT or doc.get("archive_dir") != self.archive_dir:
                return None
            return {name: Verified.from_dict(item) for name, item in doc["archives"].items() if name in self.names}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # a cache: anything wrong with it means hashing again

    def trusts(self, archive: ArchiveFile, stat: os.stat_result) -> bool:
        """Whether ``archive`` (as contents.json lists it, its file as ``stat`` shows it) was hashed
        by an earlier run and not touched since."""
        entry = self.entries.get(archive.name)
        if entry is None or entry.sha256 != archive.sha256 or entry.identity.size != archive.size:
            return False
        if entry.identity != Identity.of(stat):
            return False
        return max(entry.identity.mtime_ns, entry.identity.ctime_ns) + RACY_NS <= entry.checked_ns

    def passed(self, archive: ArchiveFile, stat: os.stat_result, checked_ns: int) -> None:
        self.verified.append(archive.name)
        self.entries[archive.name] = Verified(archive.sha256, Identity.of(stat), checked_ns)
        self._dirty = True

    def forget(self, name: str) -> None:
        if self.entries.pop(name, None) is not None:
            self._dirty = True

    def save(self) -> None:
        """Write the record when it changed: beside the archives, else in the cache directory.
        A record that cannot be written only costs a later run the hashing: ``write_error`` says why."""
        if not self._dirty:
            return
        doc = {"format": STATE_FORMAT, "archive_dir": self.archive_dir,
               "archives": {name: self.entries[name].to_dict() for name in sorted(self.entries)}}
        data = (json.dumps(doc, indent=1) + "\n").encode("utf-8")
        errors = []
        for path in (self.beside, self.cache):
            if path == self.beside and not os.access(self.archive_dir, os.W_OK):
                errors.append(f"{self.archive_dir} is not writable")
                continue
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_atomic(path, data, max_mode=0o644)
            except OSError as exc:
                errors.append(f"{path}: {exc.strerror or exc}")
                continue
            self.path, self.write_error, self._dirty = path, None, False
            return
        self.write_error = ("the record of the archives checked could not be written (" + "; ".join(errors)
                            + "), so the next run hashes them all again")
