# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""reader.py: contents.json errors that name the file and the field, blobs read by offset (split
ones joined), the archive check and where it locates damage. Archives are written by the
independent test writer tests/support/archives.py from a small hand-made OCI layout."""

from __future__ import annotations

import hashlib
import json
import os
import random

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.reader import (
    ArchiveReader,
    VerifyProgress,
    damage_error,
    load_contents,
    verify_archives,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch, NotFound
from tests.support.archives import flip_byte, member_of, write_archives

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def _put(layout, data: bytes) -> tuple[str, int]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest[7:]), "wb") as handle:
        handle.write(data)
    return digest, len(data)


@pytest.fixture(name="layout")
def _layout(tmp_path):
    """One image: a config and two layers (a 40 KiB one and a 3 KiB one)."""
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    rng = random.Random(7)
    config = _put(str(layout), b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    big = _put(str(layout), rng.randbytes(40 * 1024))
    small = _put(str(layout), rng.randbytes(3 * 1024))
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config[0], "size": config[1]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s}
                   for d, s in (big, small)]}).encode()
    top = _put(str(layout), manifest)
    return {"path": str(layout), "config": config[0], "big": big[0], "small": small[0], "top": top[0]}


def _write(tmp_path, layout, **kwargs):
    out = tmp_path / "archives"
    image = {"source": "quay.io/example/op:v1", "target": "mirror.example.com:5000/olm/example-op:v1",
             "digest": layout["top"], "media_type": OCI_MANIFEST}
    contents = write_archives(str(out), layout["path"], [image], "mirror.example.com:5000/olm", **kwargs)
    return out, contents


def _read(reader, digest):
    with reader.open_blob(digest) as chunks:
        return b"".join(chunks)


def _blob(layout, digest):
    with open(os.path.join(layout["path"], "blobs", "sha256", digest[7:]), "rb") as handle:
        return handle.read()


def test_blobs_are_read_by_offset_and_split_ones_joined(tmp_path, layout):
    out, contents = _write(tmp_path, layout, archive_size=16 * 1024)
    assert len(member_of(contents, layout["big"])["parts"]) >= 3
    reader = ArchiveReader(str(out), load_contents(str(out)))
    for name in ("config", "big", "small"):
        assert _read(reader, layout[name]) == _blob(layout, layout[name])
    manifest = reader.read_manifest(layout["top"])
    assert manifest.digest == layout["top"] and [b.digest for b in manifest.layers] == [layout["big"], layout["small"]]
    with pytest.raises(NotFound):
        reader.open_blob("sha256:" + "0" * 64).__enter__()
    assert verify_archives(reader) == []


def test_a_blob_changed_after_the_check_is_refused_at_its_end(tmp_path, layout):
    out, contents = _write(tmp_path, layout)
    entry = member_of(contents, layout["small"])
    reader = ArchiveReader(str(out), load_contents(str(out)))
    flip_byte(str(out), entry["archive"], entry["offset"] + 5)
    with pytest.raises(DigestMismatch, match=layout["small"]):
        _read(reader, layout["small"])


def test_the_check_names_the_damaged_archive_and_blob(tmp_path, layout):
    out, contents = _write(tmp_path, layout, archive_size=16 * 1024)
    part = member_of(contents, layout["big"])["parts"][1]
    flip_byte(str(out), part["archive"], part["offset"] + 1000)
    reader = ArchiveReader(str(out), load_contents(str(out)))
    reports = []
    progress = VerifyProgress(sum(a["size"] for a in contents["archives"]), len(contents["archives"]),
                              reports.append, interval=0)
    damages = verify_archives(reader, progress)
    assert [d.archive for d in damages] == [part["archive"]]
    assert [(s.digest, s.part) for s in damages[0].members] == [(layout["big"], 2)]
    message = str(damage_error(str(out), damages, len(contents["archives"])))
    assert part["archive"] in message and f"{layout['big']} part 2" in message and "Nothing was pushed" in message
    assert reports[-1]["bytes_checked"] == reports[-1]["bytes_total"]
    assert reports[-1]["archives_done"] == len(contents["archives"])


def test_damage_outside_every_blob_and_truncation(tmp_path, layout):
    out, contents = _write(tmp_path, layout)
    archive = contents["archives"][0]["name"]
    flip_byte(str(out), archive, 10)  # the first member's tar header
    reader = ArchiveReader(str(out), load_contents(str(out)))
    damages = verify_archives(reader)
    assert len(damages) == 1 and damages[0].members == []
    assert "tar headers or padding" in damages[0].describe()

    out2, contents2 = _write(tmp_path / "t", layout)
    big = member_of(contents2, layout["big"])
    with open(out2 / big["archive"], "r+b") as handle:
        handle.truncate(big["offset"] + 100)
    damages = verify_archives(ArchiveReader(str(out2), load_contents(str(out2))))
    assert "truncated" in damages[0].reason
    assert layout["big"] in [s.digest for s in damages[0].members]

    os.unlink(out2 / big["archive"])
    damages = verify_archives(ArchiveReader(str(out2), load_contents(str(out2))))
    assert damages[0].reason == "is missing from archive_dir"


@pytest.mark.parametrize("change, field", [
    (lambda c: c.update(format="other/v9"), "format"),
    (lambda c: c["blobs"][0].update(digest="sha256:xyz"), "'sha256:xyz'"),
    (lambda c: c["blobs"][0].update(offset=-1), "'offset'"),
    (lambda c: c["archives"][0].update(sha256="abc"), "sha256"),
    (lambda c: c["images"][0].update(target=None), "'target'"),
])
def test_malformed_contents_names_the_file_and_field(tmp_path, layout, change, field):
    out, contents = _write(tmp_path, layout)
    change(contents)
    (out / "contents.json").write_text(json.dumps(contents))
    with pytest.raises(ArchiveError) as caught:
        load_contents(str(out))
    assert str(out / "contents.json") in str(caught.value) and field in str(caught.value)


def test_not_an_archive_dir(tmp_path):
    with pytest.raises(ArchiveError, match="is not a directory"):
        load_contents(str(tmp_path / "nowhere"))
    with pytest.raises(ArchiveError, match="contents.json does not exist"):
        load_contents(str(tmp_path))
    (tmp_path / "contents.json").write_text("{not json")
    with pytest.raises(ArchiveError, match="is not valid JSON"):
        load_contents(str(tmp_path))
