# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes air-gap archive directories for the import tests, independently of the collection's export.

The format is the shared one of issue 10 (see the archive_import module): ``contents.json``,
``mapping.txt``, optional ``manifests/``, and ``archive-0001.tar`` ... holding members
``blobs/sha256/<hex>`` (a blob larger than an archive as ``<hex>.part-0001`` ..., one part per
archive), the last archive also ``oci-layout`` and ``index.json``. The content comes from an OCI
image layout written by :mod:`tests.support.images` (the same digests the image_set fixture
pushed). Written with :mod:`tarfile` alone, so the import tests do not rest on the export code.

``skip`` leaves blobs or manifests out (an incremental archive whose base is in the target);
:func:`flip_byte` damages an archive inside a chosen member.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import tarfile

FORMAT = "airgap.operatorhub/archive/v1"
BLOCK = 512
# tarfile ends an archive with two zero blocks and pads it to a record of 20 blocks.
_END = 2 * BLOCK + 20 * BLOCK


def _load(layout: str, digest: str) -> bytes:
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as handle:
        return handle.read()


def _walk(layout: str, digest: str, media_type: str, manifests: dict, blobs: dict) -> list[str]:
    """Record ``digest``'s manifest tree; returns the child manifest digests of an index."""
    raw = _load(layout, digest)
    manifests[digest] = (len(raw), media_type)
    doc = json.loads(raw)
    children = []
    for entry in doc.get("manifests") or []:
        children.append(entry["digest"])
        _walk(layout, entry["digest"], entry["mediaType"], manifests, blobs)
    for entry in ([doc["config"]] if "config" in doc else []) + list(doc.get("layers") or []):
        blobs[entry["digest"]] = (entry["size"], entry.get("mediaType"))
    return children


class _Packer:
    def __init__(self, out_dir: str, archive_size: int | None):
        self.out_dir = out_dir
        self.limit = archive_size
        self.archives: list[dict] = []
        self.tar = None
        self.used = 0

    def _open(self) -> None:
        if self.tar is not None:
            self.tar.close()
        name = f"archive-{len(self.archives) + 1:04d}.tar"
        self.archives.append({"name": name})
        self.tar = tarfile.open(os.path.join(self.out_dir, name), "w", format=tarfile.USTAR_FORMAT)
        self.used = _END

    def room(self) -> int | None:
        if self.limit is None:
            return None
        return self.limit - self.used - BLOCK

    def add(self, member: str, data_source, size: int) -> tuple[str, int]:
        """Add a member (``data_source``: a file object); returns (archive name, data offset)."""
        cost = BLOCK + -(-size // BLOCK) * BLOCK
        if self.tar is None or (self.limit is not None and self.used + cost > self.limit):
            self._open()
        info = tarfile.TarInfo(member)
        info.size = size
        info.mtime = 1700000000
        info.mode = 0o644
        offset = self.tar.offset + len(info.tobuf(self.tar.format, self.tar.encoding, self.tar.errors))
        self.tar.addfile(info, data_source)
        self.used += cost
        return self.archives[-1]["name"], offset

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()
        for archive in self.archives:
            path = os.path.join(self.out_dir, archive["name"])
            sha = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(chunk)
            archive.update(size=os.path.getsize(path), sha256=sha.hexdigest())


def write_archives(out_dir: str, layout: str, images: list[dict], dest: str | None,
                   archive_size: int | None = None, skip: set | frozenset = frozenset(),
                   manifests_dir: dict | None = None, history: dict | None = None) -> dict:
    """Write an archive directory into ``out_dir`` from the OCI layout ``layout``.

    ``images``: ``{"source", "target", "digest", "media_type"}`` each (the top manifest in the layout).
    ``skip``: digests (blobs or manifests) left out of the archives. ``manifests_dir``:
    ``{relative path: text}`` written under ``out_dir/manifests``. Returns contents.json's document.
    """
    os.makedirs(out_dir, exist_ok=True)
    manifests: dict = {}
    blobs: dict = {}
    listed = []
    for image in images:
        children = _walk(layout, image["digest"], image["media_type"], manifests, blobs)
        listed.append({"source": image["source"], "target": image["target"], "digest": image["digest"],
                       "manifests": children})
    packer = _Packer(out_dir, archive_size)
    blob_entries = []
    for digest, (size, media_type) in sorted(blobs.items()):
        if digest in skip:
            continue
        path = os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])
        entry = {"digest": digest, "size": size}
        if media_type:
            entry["media_type"] = media_type
        if archive_size is not None and BLOCK + -(-size // BLOCK) * BLOCK + _END > archive_size:
            parts = []
            with open(path, "rb") as handle:
                done, number = 0, 0
                while done < size:
                    packer._open()
                    piece = min(size - done, packer.room() // BLOCK * BLOCK)
                    number += 1
                    data = handle.read(piece)
                    archive, offset = packer.add(f"blobs/sha256/{digest[7:]}.part-{number:04d}", io.BytesIO(data),
                                                 piece)
                    parts.append({"archive": archive, "offset": offset, "size": piece})
                    done += piece
            entry.update(archive=parts[0]["archive"], offset=parts[0]["offset"], parts=parts)
        else:
            with open(path, "rb") as handle:
                entry["archive"], entry["offset"] = packer.add(f"blobs/sha256/{digest[7:]}", handle, size)
        blob_entries.append(entry)
    manifest_entries = []
    for digest, (size, media_type) in sorted(manifests.items()):
        if digest in skip:
            continue
        data = _load(layout, digest)
        archive, offset = packer.add(f"blobs/sha256/{digest[7:]}", io.BytesIO(data), size)
        manifest_entries.append({"digest": digest, "size": size, "media_type": media_type, "archive": archive,
                                 "offset": offset})
    refs = [{"mediaType": manifests[i["digest"]][1], "digest": i["digest"], "size": manifests[i["digest"]][0],
             "annotations": {"org.opencontainers.image.ref.name": i["target"]}} for i in listed]
    for name, doc in (("oci-layout", {"imageLayoutVersion": "1.0.0"}),
                      ("index.json", {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                      "manifests": refs})):
        data = json.dumps(doc).encode()
        packer.add(name, io.BytesIO(data), len(data))
    packer.close()
    contents = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "dest": dest,
        "archives": packer.archives,
        "blobs": blob_entries,
        "manifests": manifest_entries,
        "images": listed,
        "history": history,
    }
    with open(os.path.join(out_dir, "contents.json"), "w") as handle:
        json.dump(contents, handle, indent=1)
    with open(os.path.join(out_dir, "mapping.txt"), "w") as handle:
        handle.writelines(f"{i['source']}={i['target']}\n" for i in listed)
    for relative, text in (manifests_dir or {}).items():
        path = os.path.join(out_dir, "manifests", relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
    return contents


def member_of(contents: dict, digest: str) -> dict:
    """The blobs[] or manifests[] entry of ``digest``."""
    for entry in contents["blobs"] + contents["manifests"]:
        if entry["digest"] == digest:
            return entry
    raise KeyError(digest)


def flip_byte(out_dir: str, archive: str, offset: int) -> None:
    """Invert one byte of ``archive`` at ``offset`` (its size stays, its sha256 changes)."""
    with open(os.path.join(out_dir, archive), "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))
