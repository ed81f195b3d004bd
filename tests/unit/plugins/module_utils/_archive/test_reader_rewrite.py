# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""rewrite.py and the import's target names: references moved from the planned prefix to dest,
mapping.txt and the cluster files rewritten, files written once."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import (
    ArchiveError,
    BaseBlob,
    Contents,
    HistoryInfo,
    ImageEntry,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.importer import _history, _needs, _target
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import MappingEntry
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.rewrite import (
    DestRewriter,
    normalize_prefix,
    sync_manifests,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import digest_tag
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, DigestMismatch

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize("old, new, text, expected", [
    ("mirror:5000/olm", "lab:8443/ocp", "mirror:5000/olm/ns-op:v1", "lab:8443/ocp/ns-op:v1"),
    ("mirror:5000/olm", "lab:8443", "mirror:5000/olm/ns/op@" + DIGEST, "lab:8443/ns/op@" + DIGEST),
    ("mirror:5000", "lab:8443/a/b", "mirror:5000/ns/op:v1", "lab:8443/a/b/ns/op:v1"),
    ("mirror:5000/olm", "lab:8443/ocp", "mirror:5000/olm", "lab:8443/ocp"),
    ("mirror:5000/olm", "lab:8443/ocp", "mirror:5000", "lab:8443"),  # a registry-scoped mirror
    ("mirror:5000/olm", "lab:8443/ocp", "mirror:5000/olmx/op:v1", "mirror:5000/olmx/op:v1"),
    ("mirror:5000/olm", "lab:8443/ocp", "quay.io/olm/op:v1", "quay.io/olm/op:v1"),
])
def test_ref(old, new, text, expected):
    assert DestRewriter(old, new).ref(text) == expected


@pytest.mark.parametrize("text", ["", "olm/ns", "https://", "mirror:5000/UPPER"])
def test_bad_prefix(text):
    with pytest.raises(ConfigError, match="dest"):
        normalize_prefix(text, "dest")


def test_prefix_forms():
    assert normalize_prefix("docker://lab.example.com:8443/olm/", "dest") == "lab.example.com:8443/olm"
    assert normalize_prefix("localhost:5000", "dest") == "localhost:5000"


def test_mapping_lines_keep_sources_and_comments():
    rewriter = DestRewriter("mirror:5000/olm", "lab:8443")
    text = ("# mirror:5000/olm/ns-index@" + DIGEST + ": the pruned catalog; not mirror:5000/olmx\n"
            "quay.io/ns/op@" + DIGEST + "=mirror:5000/olm/ns-op:1a2b  # pinned\n"
            "\n"
            "quay.io/ns/x:v1 mirror:5000/olm/ns-x:v1 mirror:5000/olm/ns-x:latest\n")
    assert rewriter.mapping(text) == ("# lab:8443/ns-index@" + DIGEST + ": the pruned catalog; not mirror:5000/olmx\n"
                                      "quay.io/ns/op@" + DIGEST + "=lab:8443/ns-op:1a2b  # pinned\n"
                                      "\n"
                                      "quay.io/ns/x:v1 lab:8443/ns-x:v1 lab:8443/ns-x:latest\n")


def test_cluster_files_rewritten_and_written_once(tmp_path):
    archive_dir = tmp_path / "archives"
    (archive_dir / "manifests" / "cs-ops").mkdir(parents=True)
    (archive_dir / "mapping.txt").write_text("quay.io/ns/op:v1=mirror:5000/olm/ns-op:v1\n")
    docs = [
        {"apiVersion": "config.openshift.io/v1", "kind": "ImageTagMirrorSet", "metadata": {"name": "x-0"},
         "spec": {"imageTagMirrors": [{"source": "quay.io/ns", "mirrors": ["mirror:5000/olm/ns"]}]}},
        {"apiVersion": "olm.operatorframework.io/v1", "kind": "ClusterCatalog", "metadata": {"name": "cc"},
         "spec": {"source": {"type": "Image", "image": {"ref": "mirror:5000/olm/ns-index@" + DIGEST}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "untouched"},
         "data": {"image": "mirror:5000/olm/kept"}},
    ]
    (archive_dir / "manifests" / "cs-ops" / "several.yaml").write_text(yaml.safe_dump_all(docs))
    (archive_dir / "manifests" / "cs-ops" / "notes.bin").write_bytes(b"\x00\xffmirror:5000/olm")
    os.symlink("/etc/passwd", archive_dir / "manifests" / "cs-ops" / "link.yaml")
    out = tmp_path / "out"

    rewriter = DestRewriter("mirror:5000/olm", "lab:8443/ocp")
    planned = sync_manifests(str(archive_dir), str(out), rewriter, check_mode=True)
    assert not out.exists() and planned["changed"] == planned["files"]
    assert sorted(os.path.relpath(p, out) for p in planned["files"]) == [
        "cs-ops/notes.bin", "cs-ops/several.yaml", "mapping.txt"]
    written = sync_manifests(str(archive_dir), str(out), rewriter, check_mode=False)
    assert written["changed"] == planned["files"]
    assert (out / "mapping.txt").read_text() == "quay.io/ns/op:v1=lab:8443/ocp/ns-op:v1\n"
    itms, catalog, config_map = list(yaml.safe_load_all((out / "cs-ops" / "several.yaml").read_text()))
    assert itms["spec"]["imageTagMirrors"] == [{"source": "quay.io/ns", "mirrors": ["lab:8443/ocp/ns"]}]
    assert catalog["spec"]["source"]["image"]["ref"] == "lab:8443/ocp/ns-index@" + DIGEST
    assert config_map == docs[2]
    assert (out / "cs-ops" / "notes.bin").read_bytes() == b"\x00\xffmirror:5000/olm"
    assert sync_manifests(str(archive_dir), str(out), rewriter, check_mode=False)["changed"] == []
    # without dest: copies, byte for byte
    copied = tmp_path / "copied"
    sync_manifests(str(archive_dir), str(copied), None, check_mode=False)
    assert (copied / "cs-ops" / "several.yaml").read_bytes() == (archive_dir / "manifests" / "cs-ops" /
                                                                 "several.yaml").read_bytes()


def test_bad_yaml_names_the_file(tmp_path):
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "bad.yaml").write_text("a: [\n")
    with pytest.raises(ArchiveError, match="bad.yaml is not valid YAML"):
        sync_manifests(str(tmp_path), str(tmp_path / "out"), DestRewriter("m:1/a", "n:2"), check_mode=True)


def test_targets_always_get_a_tag():
    rewriter = DestRewriter("mirror:5000/olm", "lab:8443")
    assert str(_target("mirror:5000/olm/ns-op:v1", "quay.io/ns/op:v1", DIGEST, rewriter, "x")) == "lab:8443/ns-op:v1"
    assert str(_target("mirror:5000/olm/ns-op", "quay.io/ns/op:v2", DIGEST, None, "x")) == "mirror:5000/olm/ns-op:v2"
    pinned = _target("mirror:5000/olm/ns-op@" + DIGEST, "quay.io/ns/op@" + DIGEST, DIGEST, None, "x")
    assert pinned.digest is None and pinned.tag == digest_tag("quay.io/ns/op@" + DIGEST, DIGEST, "oc")
    with pytest.raises(ArchiveError, match="names digest"):
        _target("mirror:5000/olm/ns-op@sha256:" + "b" * 64, "quay.io/ns/op:v1", DIGEST, None, "images[3]")


def test_history_of_an_earlier_prefix_is_kept_and_does_not_refuse_the_move():
    """An incremental export's history may name repositories of an earlier export with another
    prefix: they stay as they are (the base check looks there), and only this export's planned
    targets can refuse a dest."""
    other = "sha256:" + "b" * 64
    contents = Contents(created="2026-11-30T00:00:00Z", dest="reg.example.com:5000/team2", history=HistoryInfo(
        base_blobs=2,
        blobs=(BaseBlob(DIGEST, 10, "reg.example.com:5000/team1/app"), BaseBlob(other, 20, "reg.example.com:5000/team2/db")),
        images=(ImageEntry("src.example.com/team1/app:v1", "reg.example.com:5000/team1/app:v1", DIGEST),)))
    rewriter = DestRewriter(contents.dest, "new.example.com/x")
    repos, shipped = _history(contents, rewriter)
    assert repos == {DIGEST: "reg.example.com:5000/team1/app", other: "new.example.com/x/db"}
    assert [(str(ref), digest) for ref, digest in shipped] == [("reg.example.com:5000/team1/app:v1", DIGEST)]
    assert rewriter.unmatched == []
    # a planned target outside dest still refuses
    _target("reg.example.com:5000/team1/app:v1", "src.example.com/team1/app:v1", DIGEST, rewriter, "where")
    assert rewriter.unmatched == ["reg.example.com:5000/team1/app:v1"]


class _DamagedReader:
    """An archive reader whose one manifest does not hash to its digest."""

    @staticmethod
    def read_manifest(digest):
        raise DigestMismatch(f"manifest {digest}: the archived bytes hash to something else")

    @staticmethod
    def has(digest):
        del digest
        return True


def test_a_damaged_manifest_found_while_planning_leaves_the_record_of_checked_archives():
    entry = MappingEntry(source=parse("src.example.com/app@" + DIGEST), dest=parse("reg.example.com/app:v1"),
                         origin="contents.json images[0]")
    damaged = []
    with pytest.raises(DigestMismatch):
        _needs(_DamagedReader(), [entry], damaged.append)
    assert damaged == [DIGEST]
