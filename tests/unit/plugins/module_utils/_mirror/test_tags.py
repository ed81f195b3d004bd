# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import digest_tag, fnv1a32

UBI = "sha256:9285da611437622492f9ef4229877efe302589f1401bbd4052e9bb261b3d4387"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "811c9dc5"),  # FNV-1a offset basis
        ("a", "e40c292c"),  # published FNV-1a 32 test vector
        ("foobar", "bf9cf968"),  # published FNV-1a 32 test vector
        # oc adm catalog mirror's own expected tag (oc_mapping_cases.yaml, TestMappingForImages)
        ("registry.access.redhat.com/ubi8-minimal@" + UBI, "51f124fa"),
    ],
)
def test_fnv1a32(text, expected):
    assert fnv1a32(text) == expected


def test_fnv_is_not_zero_padded():
    # oc's expected target for this source (oc_mapping_cases.yaml, TestMirror): 7 characters, as Go's %x prints.
    source = "quay.io/coreos/etcd-operator@sha256:c0301e4686c3ed4206e370b42de5a3bd2229b9fb4906cf85f3f30650424abec2"
    assert fnv1a32(source) == "2f1eb95"


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("oc", "51f124fa"),
        ("oc-mirror", "sha256-" + UBI.split(":")[1]),
        ("short", "9285da61"),
    ],
)
def test_digest_tag(mode, expected):
    assert digest_tag("registry.access.redhat.com/ubi8-minimal@" + UBI, UBI, mode) == expected


def test_digest_tag_unknown_mode():
    with pytest.raises(ConfigError) as info:
        digest_tag("x@" + UBI, UBI, "fnv")
    assert "oc, oc-mirror, short" in str(info.value)
