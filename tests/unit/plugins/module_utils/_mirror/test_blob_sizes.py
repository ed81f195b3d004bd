# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A blob has one size: an image whose manifests give a blob another size than an earlier one of
the run is refused before any request for it (a mount's 201 is trusted without a HEAD of the size,
so the size an upload or a probe verified first is the one that holds)."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import ImageResult
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer_plan import ImagePlan
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.manifest import Descriptor
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import DigestMismatch

DIGEST = "sha256:" + "ab" * 32


def test_a_blob_listed_with_another_size_is_refused_without_a_request():
    entries, problems = parse_lines(["src.example/a/x:v1=dst.example/b/x:v1"], "mapping.txt")
    assert problems == []
    copier = Copier(RegistryPool(AuthStore(registries=[], env={"HOME": "/nonexistent"})))
    copier._sizes[("dst.example", DIGEST)] = 1000  # what an earlier image of the run listed
    plan = ImagePlan(entry=entries[0], result=ImageResult(source="s", dest="d", origin="mapping.txt:1"), src=None, dst=None, top=None)
    future = copier._ensure(plan, Descriptor(media_type="application/vnd.oci.image.layer.v1.tar", digest=DIGEST,
                                             size=999))
    with pytest.raises(DigestMismatch, match="has 999 bytes in the manifests of src.example/a/x:v1 but 1000"):
        future.result(timeout=0)
    assert copier._blobs == {}  # nothing was started for it (no blob pool: none could be)
