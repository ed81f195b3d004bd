# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""endpoints.py: mirror destinations, as oc and oc-mirror read them."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import FileReference, parse_destination
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import target_for

D1 = "sha256:" + "1" * 64


@pytest.mark.parametrize(
    "text, registry, repository",
    [
        ("quay.io", "quay.io", ""),
        ("localhost:5000/org", "localhost:5000", "org"),
        ("docker://mirror.example.com/a/b/", "mirror.example.com", "a/b"),
        # the first component of a destination is always the registry
        ("myregistry/mynamespace", "myregistry", "mynamespace"),
        ("index.docker.io/me", "docker.io", "me"),
    ],
)
def test_parse_destination(text, registry, repository):
    dest = parse_destination(text)
    assert (dest.registry, dest.repository, dest.tag, dest.digest) == (registry, repository, None, None)


def test_parse_destination_file():
    assert parse_destination("file:///local/index") == FileReference("local/index")
    assert str(parse_destination("file://a/b")) == "file://a/b"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("quay.io/org:tag", "has a tag"),
        ("quay.io/org@" + D1, "has a digest"),
        ("quay.io/Org", "not valid"),
        ("bad host!/org", "not a registry"),
        ("file://", "no directory"),
    ],
)
def test_bad_destinations_name_the_option(text, reason):
    with pytest.raises(ConfigError, match=rf"^dest .*{reason}|^dest is {reason}"):
        target_for("quay.io/a/b:1", text)
