# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bundle manifests come from bundle images of registries we do not control: their YAML is
bounded before it is built, as FBC YAML is."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.csv import load_documents
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def _alias_bomb(levels: int = 6) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 10)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_a_manifest_is_refused(tmp_path):
    path = tmp_path / "bomb.clusterserviceversion.yaml"
    path.write_text(_alias_bomb())
    with pytest.raises(CatalogError, match=r"bomb\.clusterserviceversion\.yaml.*alias bomb"):
        load_documents(str(path))


def test_ordinary_aliases_and_several_documents_still_load(tmp_path):
    path = tmp_path / "objects.yaml"
    path.write_text("kind: A\nlabels: &l {app: x}\nother: *l\n---\n---\nkind: B\ncreatedAt: 2024-01-02T03:04:05Z\n")
    docs = load_documents(str(path))
    assert docs == [{"kind": "A", "labels": {"app": "x"}, "other": {"app": "x"}},
                    {"kind": "B", "createdAt": "2024-01-02T03:04:05Z"}]
