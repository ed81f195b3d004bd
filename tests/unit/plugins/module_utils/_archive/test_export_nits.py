# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small export-side rules: a host-only dest rewrites a comment's mention of the host, not of
another port on it; contents.json lists members in archive order past archive-9999."""

from __future__ import annotations

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import export
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import BlobEntry, archive_name
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.rewrite import DestRewriter


def test_comment_with_host_only_dest_leaves_another_port_of_the_host():
    rewriter = DestRewriter("mirror.example", "lab.example")
    text = rewriter.mapping("a/b:1=mirror.example/b:1 # pruned from mirror.example:5000/cat and mirror.example/x\n")
    assert text == "a/b:1=lab.example/b:1 # pruned from mirror.example:5000/cat and lab.example/x\n"


def test_comment_with_a_path_dest_still_rewrites_a_tagged_mention():
    rewriter = DestRewriter("mirror:5000/olm", "lab:8443")
    assert rewriter.mapping("# catalog mirror:5000/olm:v4.14\n") == "# catalog lab:8443:v4.14\n"


def test_members_are_listed_in_archive_number_order():
    entries = [BlobEntry(f"sha256:{n:064x}", 1, archive_name(n), 512, None, ()) for n in (10000, 9999, 2)]
    expected = [archive_name(2), archive_name(9999), archive_name(10000)]
    assert [e.archive for e in export.in_archive_order(entries)] == expected


def test_shard_count_with_archive_dir_is_refused_before_anything_is_written(tmp_path):
    import pytest

    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export
    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
    from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError

    directory = tmp_path / "carry"
    lines = ("src.example/a:1=mirror.example/a:1", "src.example/b:1=mirror.example/b:1")
    request = MappingMirrorRequest(mapping=lines, shard_count=2, shard_index=1,
                                   archive=ArchiveSettings(directory=str(directory)))
    with pytest.raises(ConfigError, match="archive_dir with shard_count 2.*leave shard_count and shard_index out"):
        run_mapping_export(request, AuthStore(registries=[], env={}))
    assert not directory.exists()
