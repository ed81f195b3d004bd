# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""format.py: archive and member names, archive_size grammar, contents.json round trip and checks."""

from __future__ import annotations

import json

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
HEX = "a" * 64


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("unlimited", None), ("0", None), (0, None),
    (1000, 1000), ("1000", 1000), ("4GiB", 4 * 1024 ** 3), ("500MB", 500 * 1000 ** 2),
    ("500M", 500 * 1000 ** 2), ("64KiB", 65536), ("64kib", 65536), ("1.5GB", 1500 * 1000 ** 2),
    ("1.5 GiB", 3 * 1024 ** 3 // 2), ("10B", 10), ("2T", 2 * 1000 ** 4),
])
def test_parse_size(value, expected):
    assert fmt.parse_size(value) == expected


@pytest.mark.parametrize("value", ["4 gigs", "-1", -5, "GiB", "1iB", "4XB", True, "1..5GB"])
def test_parse_size_refuses(value):
    with pytest.raises(fmt.ArchiveError, match="archive_size"):
        fmt.parse_size(value)


def test_names():
    assert fmt.archive_name(1) == "archive-0001.tar"
    assert fmt.archive_name(12345) == "archive-12345.tar"
    assert fmt.archive_number("archive-0012.tar") == 12
    for bad in ("archive-1.tar", "archive-0000.tar", "../archive-0001.tar", "archive-0001.tar.gz"):
        with pytest.raises(fmt.ArchiveError):
            fmt.archive_number(bad)
    assert fmt.blob_member(D1) == "blobs/sha256/" + "1" * 64
    assert fmt.part_member(D1, 2) == "blobs/sha256/" + "1" * 64 + ".part-0002"
    assert fmt.parse_member(fmt.part_member(D1, 2)) == (D1, 2)
    assert fmt.parse_member(fmt.blob_member(D1)) == (D1, None)
    for other in ("index.json", "oci-layout", "blobs/sha256/../x", "blobs/md5/" + HEX, fmt.blob_member(D1) + ".part-0000"):
        assert fmt.parse_member(other) is None
    with pytest.raises(fmt.ArchiveError):
        fmt.blob_member("sha256:XYZ")


def sample():
    return fmt.Contents(
        created="2026-11-30T10:00:00Z", dest="mirror.example.com:5000/olm",
        archives=(fmt.ArchiveFile("archive-0001.tar", 10240, HEX), fmt.ArchiveFile("archive-0002.tar", 8192, HEX)),
        blobs=(fmt.BlobEntry(D1, 100, "archive-0001.tar", 512, media_type="application/x"),
               fmt.BlobEntry(D2, 6000, "archive-0001.tar", 2048,
                             parts=(fmt.BlobPart("archive-0001.tar", 2048, 4000),
                                    fmt.BlobPart("archive-0002.tar", 512, 2000)))),
        manifests=(fmt.ManifestEntry(D3, 300, "application/vnd.oci.image.manifest.v1+json", "archive-0002.tar", 3072),),
        images=(fmt.ImageEntry("quay.io/a/b:1", "mirror.example.com:5000/olm/a-b:1", D3),),
        history=fmt.HistoryInfo(path="/h.json", base_blobs=1,
                                blobs=(fmt.BaseBlob("sha256:" + "4" * 64, 7, "mirror.example.com:5000/olm/a-b"),)),
    )


def test_contents_round_trip(tmp_path):
    path = str(tmp_path / fmt.CONTENTS_FILE)
    sample().write(path)
    raw = json.loads(open(path, encoding="utf-8").read())
    assert raw["format"] == fmt.FORMAT
    assert "parts" not in raw["blobs"][0] and raw["blobs"][1]["parts"][1]["archive"] == "archive-0002.tar"
    assert fmt.Contents.read(path) == sample()


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(format="other/v9"), "format"),
    (lambda r: r["archives"][0].update(name="../x.tar"), "not an archive name"),
    (lambda r: r["archives"][0].update(sha256="xyz"), "64 hex"),
    (lambda r: r["blobs"][0].update(offset=10200), "run past the end of archive-0001.tar"),
    (lambda r: r["blobs"][0].update(archive="archive-0009.tar"), "not among the archives"),
    (lambda r: r["blobs"][0].update(digest="sha256:abc"), "not a sha256"),
    (lambda r: r["blobs"][1]["parts"][1].update(size=1999), "add up"),
    (lambda r: r["blobs"].append(dict(r["blobs"][0])), "listed twice"),
    (lambda r: r["images"][0].update(digest=D1), "not in manifests"),
    (lambda r: r["manifests"][0].update(size=-1), "non-negative"),
    (lambda r: r.update(blobs={}), "must be a list"),
])
def test_contents_refuses(tmp_path, change, message):
    raw = sample().to_dict()
    change(raw)
    path = tmp_path / fmt.CONTENTS_FILE
    path.write_text(json.dumps(raw))
    with pytest.raises(fmt.ArchiveError, match=message) as info:
        fmt.Contents.read(str(path))
    assert str(path) in str(info.value)


def test_contents_not_json(tmp_path):
    path = tmp_path / fmt.CONTENTS_FILE
    path.write_bytes(b"\xff{")
    with pytest.raises(fmt.ArchiveError, match="not valid JSON"):
        fmt.Contents.read(str(path))


def test_index_json():
    contents = sample()
    index = json.loads(fmt.index_json(contents.images, contents.manifest_index()))
    assert index["manifests"] == [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D3, "size": 300,
                                   "annotations": {fmt.REF_NAME_ANNOTATION: "mirror.example.com:5000/olm/a-b:1"}}]
    assert json.loads(fmt.OCI_LAYOUT_CONTENT) == {"imageLayoutVersion": "1.0.0"}
