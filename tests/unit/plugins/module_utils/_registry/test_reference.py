# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse

D = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "text, registry, repository, tag, digest, api_host",
    [
        ("busybox", "docker.io", "library/busybox", None, None, "registry-1.docker.io"),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", None, "registry-1.docker.io"),
        ("docker.io/busybox", "docker.io", "library/busybox", None, None, "registry-1.docker.io"),
        ("index.docker.io/foo/bar:x", "docker.io", "foo/bar", "x", None, "registry-1.docker.io"),
        ("foo/bar", "docker.io", "foo/bar", None, None, "registry-1.docker.io"),
        ("quay.io/ns/a/b/c:v1.2.3", "quay.io", "ns/a/b/c", "v1.2.3", None, "quay.io"),
        ("localhost/img", "localhost", "img", None, None, "localhost"),
        ("localhost:5000/img:t", "localhost:5000", "img", "t", None, "localhost:5000"),
        ("127.0.0.1:5000/ns/img@" + D, "127.0.0.1:5000", "ns/img", None, D, "127.0.0.1:5000"),
        ("reg.example.com:8443/ns/img:tag@" + D, "reg.example.com:8443", "ns/img", "tag", D, "reg.example.com:8443"),
        ("registry.redhat.io/redhat/redhat-operator-index:v4.14", "registry.redhat.io",
         "redhat/redhat-operator-index", "v4.14", None, "registry.redhat.io"),
        ("[::1]:5000/img:t", "[::1]:5000", "img", "t", None, "[::1]:5000"),
        ("a.b/x__y/z-1.w_2:T_ag-1.0", "a.b", "x__y/z-1.w_2", "T_ag-1.0", None, "a.b"),
    ],
)
def test_parse(text, registry, repository, tag, digest, api_host):
    ref = parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest, ref.api_host) == (registry, repository, tag, digest, api_host)


@pytest.mark.parametrize(
    "text",
    [
        "quay.io/ns/img:v1",
        "quay.io/ns/img@" + D,
        "quay.io/ns/img:v1@" + D,
        "localhost:5000/a/b/c:latest",
        "docker.io/library/busybox:1",
    ],
)
def test_round_trip(text):
    assert str(parse(text)) == text
    assert parse(str(parse(text))) == parse(text)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("quay.io/ns/Img:v1", "path component 'Img'"),
        ("quay.io/ns//img", "path component ''"),
        ("quay.io/ns/img:-bad", "tag '-bad'"),
        ("quay.io/ns/img:" + "t" * 129, "tag"),
        ("quay.io/ns/img@sha256:abc", "sha256"),
        ("quay.io/ns/img@sha256:" + "A" * 64, "lower-case"),
        ("quay.io/ns/img@md5", "algorithm:hex"),
        ("quay.io/ns img:v1", "white space"),
        ("quay.io/", "no repository"),
        ("bad_host.io:x/img", "registry"),
        ("quay.io/" + "a" * 300, "longer than 255"),
    ],
)
def test_invalid(text, fragment):
    with pytest.raises(InvalidReference) as info:
        parse(text)
    assert fragment in str(info.value)


def test_helpers():
    ref = parse("quay.io/ns/img:v1")
    assert ref.ref == "v1"
    assert ref.with_digest(D).ref == D
    assert parse("quay.io/ns/img").ref == "latest"
    assert ref.name == "quay.io/ns/img"
    assert str(ref.with_tag(None).with_digest(D)) == "quay.io/ns/img@" + D
    assert str(ref.with_repository("other/x")) == "quay.io/other/x:v1"
    with pytest.raises(InvalidReference):
        ref.with_tag("bad tag")
    with pytest.raises(InvalidReference):
        ref.with_repository("Bad")
