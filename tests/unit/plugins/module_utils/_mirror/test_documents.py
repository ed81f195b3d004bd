# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""documents.py: objects written as YAML the way oc writes them, and the size arithmetic mirror sets rely on."""

from __future__ import annotations

import pytest

pytest.importorskip("yaml")

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import (
    document_size,
    dump_yaml,
    dump_yaml_documents,
    list_item_size,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import mirror_set_objects


def test_yaml_is_written_like_oc():
    obj = mirror_set_objects("ImageContentSourcePolicy", "c", {"docker.io": ["quay.io"]},
                             labels={"operators.openshift.org/catalog": "true"})[0]
    text = (
        "apiVersion: operator.openshift.io/v1alpha1\n"
        "kind: ImageContentSourcePolicy\n"
        "metadata:\n"
        "  labels:\n"
        '    operators.openshift.org/catalog: "true"\n'
        "  name: c-0\n"
        "spec:\n"
        "  repositoryDigestMirrors:\n"
        "  - mirrors:\n"
        "    - quay.io\n"
        "    source: docker.io\n"
    )
    assert dump_yaml(obj) == text
    assert dump_yaml_documents([obj, obj]) == "---\n" + text + "---\n" + text


def test_long_references_are_not_folded():
    ref = "m.example.com/" + "/".join(["component"] * 20) + ":" + "t" * 100
    assert dump_yaml({"image": ref}) == f"image: {ref}\n"


def test_no_documents_make_an_empty_string():
    assert dump_yaml_documents([]) == ""


@pytest.mark.parametrize("exact", [True, False])
def test_list_items_add_up_to_the_document_size(exact):
    """What mirror sets split on: size with entries = size with an empty list - len(' []') + each entry's size."""
    entries = [
        {"mirrors": ["m.example.com/a/b"], "source": "quay.io/a/b"},
        {"mirrors": ["m.example.com/x'y", "m.example.com/\u00e9"], "source": 'quay.io/a"b'},
        {"mirrors": ["m.example.com/" + "c" * 300], "source": "true"},
    ]

    def document(items):
        return {"kind": "ImageDigestMirrorSet", "metadata": {"name": "x-0"}, "spec": {"imageDigestMirrors": items}}

    expected = document_size(document([])) - 3 + sum(list_item_size(entry, 2, exact) for entry in entries)
    assert document_size(document(entries)) == expected
    assert len(dump_yaml(document(entries)).encode("utf-8")) == expected
