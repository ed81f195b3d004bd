# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the copy engine holds over a run (issue 11 goal 3, memory that stays flat with the
images): outcomes rather than futures in its blob and probe tables, plans that keep their
manifests' bytes and blobs but not the parsed documents and drop them after phase 2, one copy
of a blob descriptor that every image lists, and phases that never hold a future per image."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror import transfer
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import BlobOutcome, CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from tests.support.registry import registry_options


class _CountingExecutor(ThreadPoolExecutor):
    """Records the most calls a planning or image pool held at once (queued or running)."""

    most: dict = {}
    lock = threading.Lock()

    def __init__(self, *args, thread_name_prefix: str = "", **kwargs):
        super().__init__(*args, thread_name_prefix=thread_name_prefix, **kwargs)
        self.name = thread_name_prefix
        self.held = 0

    def submit(self, fn, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        with self.lock:
            self.held += 1
            self.most[self.name] = max(self.most.get(self.name, 0), self.held)
        future.add_done_callback(self._ended)
        return future

    def _ended(self, _future) -> None:
        with self.lock:
            self.held -= 1


def test_a_run_keeps_outcomes_and_releases_each_plan_after_its_phase_2(
        image_set, plain_registry, registry_factory, skopeo_inspect, monkeypatch):
    target = registry_factory()
    prefixes = ("one", "two", "three")  # the second and third mount what the first uploaded
    lines = [f"{image_set.pushed[i.name]}={target.host}/{p}/{i.name}" for p in prefixes for i in image_set.images]
    entries, problems = parse_lines(lines, "mapping.txt")
    assert problems == []
    _CountingExecutor.most = {}
    monkeypatch.setattr(transfer, "ThreadPoolExecutor", _CountingExecutor)
    pool = RegistryPool(AuthStore(registries=registry_options(plain_registry, target), env={}), backoff=0.05)
    options = CopyOptions(parallel_images=1, parallel_layers=1)
    copier = Copier(pool, options)
    seen = []
    phase2 = copier._phase2

    def watched(plan):
        # what phase 2 gets: each manifest's bytes and blobs, not its parsed document
        seen.append((plan, list(plan.manifests), plan.top, [m._doc for m in plan.manifests]))
        return phase2(plan)

    copier._phase2 = watched
    try:
        report = copier.run(entries)
    finally:
        pool.close()
    assert [i.status for i in report.images] == ["copied"] * len(lines), [i.error for i in report.images]
    assert len(seen) == len(lines)

    for plan, manifests, top, docs in seen:
        assert manifests and top is manifests[-1]
        assert docs == [None] * len(manifests)
        assert plan.manifests == [] and plan.top is None  # released once its phase 2 ran
    # a blob that several images list is one descriptor object in all their plans
    copies: dict = {}
    for _plan, manifests, _top, _docs in seen:
        for manifest in manifests:
            for blob in manifest.blobs:
                copies.setdefault(blob.digest, set()).add(id(blob))
    assert copies and all(len(ids) == 1 for ids in copies.values())

    # the tables hold answers and outcomes, no futures; the outcomes add up to the report
    values = [value for repos in copier._blobs.values() for value in repos.values()]
    assert values and all(isinstance(value, BlobOutcome) for value in values)
    assert copier._probes and not any(isinstance(value, Future) for value in copier._probes.values())
    assert sum(v.kind == "uploaded" for v in values) == report.blobs_uploaded == len(image_set.blob_sizes)
    assert sum(v.kind == "mounted" for v in values) == report.blobs_mounted > 0
    assert sum(v.bytes_sent for v in values) == report.bytes_sent == report.unique_blob_bytes

    # neither phase held a future per image: at most twice its threads' worth of calls
    planners = options.parallel_images + options.parallel_layers
    assert len(lines) > 2 * planners
    assert 0 < _CountingExecutor.most["airgap-plan"] <= 2 * planners
    assert 0 < _CountingExecutor.most["airgap-image"] <= 2 * options.parallel_images

    # the registry serves what was pushed (an independent witness)
    image = image_set.images[0]
    for prefix in prefixes:
        raw = skopeo_inspect(target, f"{prefix}/{image.name}:{image.tag}", raw=True)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
