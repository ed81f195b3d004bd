# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""urls.py: origins, the URLs a registry hands back (the TLS-terminating proxy rule), path segments."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.urls import (
    _parse_origin,
    origin,
    ref_segment,
    registry_url,
    repo_path,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import RegistryError

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize("url, expected", [
    ("https://Reg.Example/v2/", ("https", "reg.example", 443)),
    ("https://reg.example:443/v2/", ("https", "reg.example", 443)),
    ("http://reg.example/v2/", ("http", "reg.example", 80)),
    ("http://127.0.0.1:5000/x", ("http", "127.0.0.1", 5000)),
])
def test_origin(url, expected):
    assert origin(url) == expected


@pytest.mark.parametrize("url", [
    "https://Reg.Example:5000/v2/x?y=http://other:1/", "HTTP://H:80?x", "https://h#f", "https://[::1]:5000/v2/",
    "https://u:p@h:1/x", "https://h:bad/x", " https://h/x", "https://h\t/x", "httpx", "/v2/a?u=http://b/",
    "ftp://h/x",
])
def test_origin_read_from_the_netloc_is_the_whole_urls(url):
    # origin() remembers the origin of each scheme://netloc; it must be what parsing the whole URL gives
    assert origin(url) == _parse_origin(url)


@pytest.mark.parametrize("registry, location, expected", [
    # relative: the registry itself
    ("https://reg.example", "/v2/r/blobs/uploads/1?s=2", "https://reg.example/v2/r/blobs/uploads/1?s=2"),
    # a TLS-terminating proxy's http Location for its own host (and port): upgraded
    ("https://reg.example", "http://reg.example/v2/r/u/1", "https://reg.example/v2/r/u/1"),
    ("https://reg.example", "http://REG.example:443/v2/r/u/1", "https://reg.example/v2/r/u/1"),
    ("https://reg.example:5000", "http://reg.example:5000/v2/r/u/1", "https://reg.example:5000/v2/r/u/1"),
    # another port, another host, or an http registry: left as they are (and sent without credentials)
    ("https://reg.example:5000", "http://reg.example/v2/r/u/1", "http://reg.example/v2/r/u/1"),
    ("https://reg.example", "http://reg.example:8080/v2/r/u/1", "http://reg.example:8080/v2/r/u/1"),
    ("https://reg.example", "http://evil.example/v2/r/u/1", "http://evil.example/v2/r/u/1"),
    ("https://reg.example", "https://evil.example/v2/r/u/1", "https://evil.example/v2/r/u/1"),
    ("http://reg.example", "http://reg.example/v2/r/u/1", "http://reg.example/v2/r/u/1"),
])
def test_registry_url(registry, location, expected):
    assert registry_url(registry, registry + "/v2/r/blobs/uploads/", location) == expected


@pytest.mark.parametrize("repo, expected", [("ns/app", "ns/app"), ("a/b/c", "a/b/c"), ("a b", "a%20b")])
def test_repo_path(repo, expected):
    assert repo_path(repo, "reg") == expected


@pytest.mark.parametrize("repo", ["", "/ns", "ns/", "ns//app", "./app", "ns/..", "ns/../x"])
def test_repo_path_refuses_dot_and_empty_segments(repo):
    with pytest.raises(RegistryError, match="reg.example"):
        repo_path(repo, "reg.example")


@pytest.mark.parametrize("ref", ["v1", "latest", "1.2.3-rc_1", DIGEST, "sha512:" + "a" * 128])
def test_ref_segment(ref):
    assert ref_segment(ref, "reg") == ref


@pytest.mark.parametrize("ref", ["", "..", ".hidden", "a/b", "v1\n", DIGEST + "\n", "sha256:../../x",
                                 "sha256:" + "A" * 64, "sha256:" + "0" * 63, "md5:" + "0" * 32 + "/x"])
def test_ref_segment_refuses(ref):
    with pytest.raises(RegistryError):
        ref_segment(ref, "reg")
