# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_registry/blobs.py helpers that need no registry."""

from __future__ import annotations

import contextlib

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.blobs import read_small_blob


class _ChunkedBlobs:
    """A client whose blob arrives in fixed chunks, counting how many were read."""

    def __init__(self, chunks):
        self.chunks = chunks
        self.read = 0

    def open_blob(self, repo, digest):
        @contextlib.contextmanager
        def opened():
            def gen():
                for chunk in self.chunks:
                    self.read += 1
                    yield chunk
            yield gen()
        return opened()


def test_read_small_blob_stops_as_soon_as_the_limit_is_passed():
    whole = _ChunkedBlobs([b"ab", b"cd"])
    assert read_small_blob(whole, "r", "sha256:x", 4) == b"abcd"
    big = _ChunkedBlobs([b"abc", b"def", b"ghi"])
    assert read_small_blob(big, "r", "sha256:x", 4) is None
    assert big.read == 2  # the third chunk is never asked for
