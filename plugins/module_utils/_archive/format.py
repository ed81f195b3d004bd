# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive directory carried across the air gap: names, sizes and ``contents.json``.

Shared by the export (``writer.py``) and the import (``reader.py``): both sides agree on the
file and member names, on the size grammar of ``archive_size`` and on the contents manifest
through this file only. An archive directory after an export::

    contents.json        what the archives hold (:class:`Contents`), checksum of every archive
    mapping.txt          the plan: SRC=DST lines with the planned target names
    manifests/           catalog_mirror only: the cluster files (ICSP, IDMS, ITMS, CatalogSource)
    archive-0001.tar ... plain ustar/pax tars of one OCI image layout, each at most archive_size
    .state/              the export's resume journal, removed once the export is complete

Members are ``blobs/<algorithm>/<hex>`` (blobs and manifests alike); a blob larger than
``archive_size`` is split into ``blobs/<algorithm>/<hex>.part-0001``, ``.part-0002`` ... (one
per archive, in order); the last archive also holds ``oci-layout`` and ``index.json``.
Extracting every archive into one directory and joining the parts gives an OCI image layout.

contents.json comes from the other side of the gap: :meth:`Contents.from_dict` checks every
field (digest grammar, archive names, offsets within the archive) before anything trusts it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import human_bytes
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

FORMAT = "airgap.operatorhub/archive/v1"

CONTENTS_FILE = "contents.json"
MAPPING_FILE = "mapping.txt"
MANIFESTS_DIR = "manifests"
STATE_DIR = ".state"
HISTORY_FILE = "history.json"

OCI_LAYOUT_MEMBER = "oci-layout"
INDEX_MEMBER = "index.json"
OCI_LAYOUT_CONTENT = b'{"imageLayoutVersion":"1.0.0"}'
OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

# contents.json of a large export (tens of thousands of blobs) is a few MiB; anything far past
# that is not ours.
MAX_CONTENTS_BYTES = 256 * 1024 * 1024

_ARCHIVE_NAME = re.compile(r"^archive-(\d{4,9})\.tar$")
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_MEMBER = re.compile(r"^blobs/(sha256|sha512)/([a-f0-9]{64}|[a-f0-9]{128})(?:\.part-(\d{4,9}))?$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$", re.IGNORECASE)
_UNLIMITED = ("", "0", "none", "unlimited")
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


class ArchiveError(AirgapError):
    """An archive directory, contents.json or archive file that cannot be used, naming which."""


# --- names -----------------------------------------------------------------------------------

def archive_name(number: int) -> str:
    """``archive-0001.tar`` for 1: archives are numbered from 1, in writing order."""
    if number < 1:
        raise ValueError(f"archive numbers start at 1, got {number}")
    return f"archive-{number:04d}.tar"


def archive_number(name: str) -> int:
    """The number of an archive name (``archive-0012.tar`` -> 12); ArchiveError for any other name."""
    match = _ARCHIVE_NAME.match(name or "")
    if not match or int(match.group(1)) < 1:
        raise ArchiveError(f"{name!r} is not an archive name (archive-0001.tar, archive-0002.tar ...)")
    return int(match.group(1))


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and bool(_DIGEST.match(value))


def blob_member(digest: str) -> str:
    """The tar member (and OCI layout path) of a blob or manifest: ``blobs/sha256/<hex>``."""
    if not is_digest(digest):
        raise ArchiveError(f"{digest!r} is not a sha256 or sha512 digest")
    algorithm, hexpart = digest.split(":", 1)
    return f"blobs/{algorithm}/{hexpart}"


def part_member(digest: str, part: int) -> str:
    """The member of part ``part`` (from 1) of a split blob: ``blobs/sha256/<hex>.part-0001``."""
    if part < 1:
        raise ValueError(f"parts are numbered from 1, got {part}")
    return f"{blob_member(digest)}.part-{part:04d}"


def parse_member(name: str) -> Optional[Tuple[str, Optional[int]]]:
    """``(digest, part)`` of a blob member (part None for a whole blob), None for any other name
    (``oci-layout``, ``index.json``, pax headers)."""
    match = _MEMBER.match(name or "")
    if not match:
        return None
    part = int(match.group(3)) if match.group(3) else None
    if part == 0:
        return None
    return f"{match.group(1)}:{match.group(2)}", part


# --- sizes -----------------------------------------------------------------------------------

def parse_size(value: Any, name: str = "archive_size") -> Optional[int]:
    """Bytes from ``4GiB`` (powers of 1024), ``500MB`` / ``500M`` (powers of 1000), ``1.5GB``
    or a plain integer; None (unlimited) for None, ``""``, ``0``, ``none`` and ``unlimited``.
    Raises ArchiveError naming ``name`` for anything else."""
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ArchiveError(f"{name} must be a size such as 4GiB, 500MB or a number of bytes, got {value!r}")
        return None
    if isinstance(value, int):
        if value < 0:
            raise ArchiveError(f"{name} must not be negative, got {value}")
        return value or None
    text = str(value).strip()
    if text.lower() in _UNLIMITED:
        return None
    match = _SIZE.match(text)
    if not match or (match.group(3) and not match.group(2)):
        raise ArchiveError(
            f"{name} must be a size such as 4GiB (1024-based), 500MB (1000-based) or a number of bytes, got {value!r}")
    number, prefix, binary = match.group(1), match.group(2).lower(), match.group(3)
    base = 1024 if binary else 1000
    scale = base ** _POWERS[prefix]
    if "." in number:
        whole, frac = number.split(".")
        size = int(whole) * scale + (int(frac) * scale) // (10 ** len(frac))
    else:
        size = int(number) * scale
    return size or None


def format_size(size: Optional[int]) -> str:
    """``4.0 GiB``-style text for messages; ``unlimited`` for None."""
    return "unlimited" if size is None else human_bytes(size)


# --- contents.json ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ArchiveFile:
    """One tar file: its name in archive_dir, its size and sha256 (hex) as written."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BlobPart:
    """One part of a split blob: ``size`` bytes at ``offset`` in ``archive``."""

    archive: str
    offset: int
    size: int


@dataclass(frozen=True)
class BlobEntry:
    """A blob in the archives: its data is ``size`` bytes at ``offset`` (the member's data, past
    its header) in ``archive``. A split blob lists its ``parts`` in order; then ``archive`` and
    ``offset`` are those of the first part."""

    digest: str
    size: int
    archive: str
    offset: int
    media_type: Optional[str] = None
    parts: Tuple[BlobPart, ...] = ()


@dataclass(frozen=True)
class ManifestEntry:
    """A manifest (image manifest, index or child) stored as a blob member."""

    digest: str
    size: int
    media_type: str
    archive: str
    offset: int


@dataclass(frozen=True)
class ImageEntry:
    """An image of the plan that the archives carry: ``target`` as planned (tag or digest form, as
    in mapping.txt), ``digest`` its top manifest, ``manifests`` the children of an index."""

    source: str
    target: str
    digest: str
    manifests: Tuple[str, ...] = ()


@dataclass(frozen=True)
class BaseBlob:
    """A blob this export left out because an earlier one shipped it to ``repository`` (a target
    repository, ``host[/path]/name``): the import expects the target registry to have it."""

    digest: str
    size: int
    repository: str


@dataclass(frozen=True)
class HistoryInfo:
    """What the history made this export leave out. ``base_blobs`` counts ``blobs``; ``images``
    are planned images an earlier export already shipped to the same target with the same
    digest (not in ``Contents.images``)."""

    path: Optional[str] = None
    base_blobs: int = 0
    blobs: Tuple[BaseBlob, ...] = ()
    images: Tuple[ImageEntry, ...] = ()


@dataclass(frozen=True)
class Contents:
    """contents.json: everything an import needs to know without opening an archive."""

    created: str
    dest: Optional[str]
    archives: Tuple[ArchiveFile, ...] = ()
    blobs: Tuple[BlobEntry, ...] = ()
    manifests: Tuple[ManifestEntry, ...] = ()
    images: Tuple[ImageEntry, ...] = ()
    history: HistoryInfo = field(default_factory=HistoryInfo)
    format: str = FORMAT
    # the export's plan fingerprint (optional; the export uses it to recognise a re-run)
    plan: Optional[str] = None

    # --- serialisation ---------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        return {
            "format": self.format,
            "created": self.created,
            "dest": self.dest,
            "archives": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in self.archives],
            "blobs": [_blob_dict(b) for b in self.blobs],
            "manifests": [{"digest": m.digest, "size": m.size, "media_type": m.media_type,
                           "archive": m.archive, "offset": m.offset} for m in self.manifests],
            "images": [_image_dict(i) for i in self.images],
            "history": {
                "path": self.history.path,
                "base_blobs": self.history.base_blobs,
                "blobs": [{"digest": b.digest, "size": b.size, "repository": b.repository}
                          for b in self.history.blobs],
                "images": [_image_dict(i) for i in self.history.images],
            },
            "plan": self.plan,
        }

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n").encode("utf-8")

    def write(self, path: str) -> None:
        """Write atomically (a reader sees the old contents.json or the new one) and durably (the
        history that follows it never outlives it)."""
        self.validate()
        write_atomic(path, self.to_json(), fsync=True)

    @classmethod
    def read(cls, path: str) -> "Contents":
        """Read and validate ``path``; ArchiveError naming the file and the bad field."""
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_CONTENTS_BYTES + 1)
        except OSError as exc:
            raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > MAX_CONTENTS_BYTES:
            raise ArchiveError(f"{path} is larger than {format_size(MAX_CONTENTS_BYTES)}: not a contents.json")
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ArchiveError(f"{path} is not valid JSON: {exc}") from None
        try:
            return cls.from_dict(raw)
        except ArchiveError as exc:
            raise ArchiveError(f"{path}: {exc}") from None

    @classmethod
    def from_dict(cls, raw: Any) -> "Contents":
        _expect(isinstance(raw, dict), "the top level must be an object")
        _expect(raw.get("format") == FORMAT, f"format is {raw.get('format')!r}, this collection reads {FORMAT!r}")
        history_raw = raw.get("history") or {}
        _expect(isinstance(history_raw, dict), "history must be an object")
        contents = cls(
            format=FORMAT,
            created=_str(raw, "created"),
            dest=_opt_str(raw, "dest"),
            archives=tuple(ArchiveFile(_str(a, "name"), _int(a, "size"), _str(a, "sha256"))
                           for a in _list(raw, "archives", "archives")),
            blobs=tuple(_blob_from(b) for b in _list(raw, "blobs", "blobs")),
            manifests=tuple(ManifestEntry(_str(m, "digest"), _int(m, "size"), _str(m, "media_type"),
                                          _str(m, "archive"), _int(m, "offset"))
                            for m in _list(raw, "manifests", "manifests")),
            images=tuple(_image_from(i) for i in _list(raw, "images", "images")),
            history=HistoryInfo(
                path=_opt_str(history_raw, "path"),
                base_blobs=_int(history_raw, "base_blobs") if "base_blobs" in history_raw else 0,
                blobs=tuple(BaseBlob(_str(b, "digest"), _int(b, "size"), _str(b, "repository"))
                            for b in _list(history_raw, "blobs", "history.blobs")),
                images=tuple(_image_from(i) for i in _list(history_raw, "images", "history.images")),
            ),
            plan=_opt_str(raw, "plan"),
        )
        contents.validate()
        return contents

    # --- checks ----------------------------------------------------------------------------

    def validate(self) -> None:
        """Every digest well formed, every archive named and sized, every member inside its
        archive, parts adding up to their blob, every image's manifests present."""
        sizes: Dict[str, int] = {}
        for archive in self.archives:
            archive_number(archive.name)
            _expect(archive.name not in sizes, f"archive {archive.name} is listed twice")
            _expect(archive.size >= 0, f"archive {archive.name} has a negative size")
            _expect(bool(re.match(r"^[a-f0-9]{64}$", archive.sha256)),
                    f"archive {archive.name}: sha256 {archive.sha256!r} is not 64 hex digits")
            sizes[archive.name] = archive.size
        seen = set()
        for blob in self.blobs:
            _check_digest(blob.digest, "blobs")
            _expect(blob.digest not in seen, f"blob {blob.digest} is listed twice")
            seen.add(blob.digest)
            if blob.parts:
                _expect(len(blob.parts) >= 2, f"blob {blob.digest}: a split blob has two parts or more")
                _expect(sum(p.size for p in blob.parts) == blob.size,
                        f"blob {blob.digest}: its parts add up to {sum(p.size for p in blob.parts)} bytes, not {blob.size}")
                _expect((blob.archive, blob.offset) == (blob.parts[0].archive, blob.parts[0].offset),
                        f"blob {blob.digest}: archive and offset must be those of its first part")
                numbers = [archive_number(p.archive) for p in blob.parts]
                _expect(numbers == sorted(set(numbers)), f"blob {blob.digest}: parts must be in distinct archives, in order")
                for part in blob.parts:
                    _check_span(sizes, part.archive, part.offset, part.size, f"blob {blob.digest}")
            else:
                _check_span(sizes, blob.archive, blob.offset, blob.size, f"blob {blob.digest}")
        manifests = set()
        for manifest in self.manifests:
            _check_digest(manifest.digest, "manifests")
            _expect(manifest.digest not in manifests, f"manifest {manifest.digest} is listed twice")
            _expect(manifest.digest not in seen, f"manifest {manifest.digest} is also listed as a blob")
            manifests.add(manifest.digest)
            _check_span(sizes, manifest.archive, manifest.offset, manifest.size, f"manifest {manifest.digest}")
        for image in self.images:
            _check_digest(image.digest, f"image {image.target}")
            for digest in (image.digest,) + tuple(image.manifests):
                _check_digest(digest, f"image {image.target}")
                _expect(digest in manifests, f"image {image.target}: manifest {digest} is not in manifests")
        for base in self.history.blobs:
            _check_digest(base.digest, "history.blobs")
        _expect(self.history.base_blobs >= 0, "history.base_blobs must not be negative")

    def blob_index(self) -> Dict[str, BlobEntry]:
        return {b.digest: b for b in self.blobs}

    def manifest_index(self) -> Dict[str, ManifestEntry]:
        return {m.digest: m for m in self.manifests}


def index_json(images: Iterable[ImageEntry], manifests: Dict[str, ManifestEntry]) -> bytes:
    """The layout's index.json: one descriptor per image, named by its planned target ref, so
    ``skopeo copy oci:DIR:<target>`` finds it."""
    entries: List[Dict[str, Any]] = []
    for image in images:
        top = manifests[image.digest]
        entries.append({"mediaType": top.media_type, "digest": top.digest, "size": top.size,
                        "annotations": {REF_NAME_ANNOTATION: image.target}})
    document = {"schemaVersion": 2, "mediaType": OCI_INDEX_MEDIA_TYPE, "manifests": entries}
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


# --- helpers ---------------------------------------------------------------------------------

def _blob_dict(blob: BlobEntry) -> Dict[str, Any]:
    out: Dict[str, Any] = {"digest": blob.digest, "size": blob.size}
    if blob.media_type:
        out["media_type"] = blob.media_type
    out["archive"] = blob.archive
    out["offset"] = blob.offset
    if blob.parts:
        out["parts"] = [{"archive": p.archive, "offset": p.offset, "size": p.size} for p in blob.parts]
    return out


def _image_dict(image: ImageEntry) -> Dict[str, Any]:
    return {"source": image.source, "target": image.target, "digest": image.digest,
            "manifests": list(image.manifests)}


def _blob_from(raw: Any) -> BlobEntry:
    parts = tuple(BlobPart(_str(p, "archive"), _int(p, "offset"), _int(p, "size"))
                  for p in _list(raw, "parts", "parts"))
    return BlobEntry(digest=_str(raw, "digest"), size=_int(raw, "size"), archive=_str(raw, "archive"),
                     offset=_int(raw, "offset"), media_type=_opt_str(raw, "media_type"), parts=parts)


def _image_from(raw: Any) -> ImageEntry:
    children = _list(raw, "manifests", "images[].manifests")
    _expect(all(isinstance(c, str) for c in children), "images[].manifests must be digests")
    return ImageEntry(source=_str(raw, "source"), target=_str(raw, "target"), digest=_str(raw, "digest"),
                      manifests=tuple(children))


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ArchiveError(message)


def _str(raw: Any, key: str) -> str:
    _expect(isinstance(raw, dict), f"expected an object holding {key!r}")
    value = raw.get(key)
    _expect(isinstance(value, str) and value != "", f"{key!r} must be a non-empty string, got {value!r}")
    return value


def _opt_str(raw: Any, key: str) -> Optional[str]:
    value = raw.get(key)
    _expect(value is None or isinstance(value, str), f"{key!r} must be a string or null, got {value!r}")
    return value


def _int(raw: Any, key: str) -> int:
    _expect(isinstance(raw, dict), f"expected an object holding {key!r}")
    value = raw.get(key)
    _expect(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            f"{key!r} must be a non-negative integer, got {value!r}")
    return value


def _list(raw: Any, key: str, where: str) -> List[Any]:
    _expect(isinstance(raw, dict), f"expected an object holding {where!r}")
    value = raw.get(key, [])
    _expect(isinstance(value, list), f"{where} must be a list")
    return value


def _check_digest(digest: str, where: str) -> None:
    _expect(is_digest(digest), f"{where}: {digest!r} is not a sha256 or sha512 digest")


def _check_span(sizes: Dict[str, int], archive: str, offset: int, size: int, what: str) -> None:
    _expect(archive in sizes, f"{what} is in {archive!r}, which is not among the archives")
    _expect(offset + size <= sizes[archive],
            f"{what}: {size} bytes at offset {offset} run past the end of {archive} ({sizes[archive]} bytes)")
