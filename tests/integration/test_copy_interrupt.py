# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A copy interrupted by SIGTERM or Ctrl-C (issue 7, item 14): the engine, in a child process,
stops its transfers in flight, cancels what is queued, writes a final "interrupted" report and
leaves no temporary file; the next run resumes without sending a finished blob again."""

from __future__ import annotations

import json
import os
import signal

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from tests.support.driver import signal_when, start_driver
from tests.support.faultproxy import slow_response
from tests.support.images import push_image_set
from tests.support.registry import registry_options

_DRIVER = r"""
import json, sys
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import (
    MappingMirrorRequest, TransferSettings)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import run_mapping_mirror
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings

config = json.load(open(sys.argv[1]))
request = MappingMirrorRequest(
    mapping=tuple(config["lines"]),
    transfer=TransferSettings(parallel_images=3, parallel_layers=4, report_file=config["report"],
                              progress_interval=0.2),
    connection=ConnectionSettings(retries=1))
try:
    run_mapping_mirror(request, AuthStore(registries=config["registries"], env={}))
except KeyboardInterrupt as exc:
    print("INTERRUPTED", getattr(exc, "signame", "SIGINT"), flush=True)
    sys.exit(130)
print("FINISHED", flush=True)
"""

# Slow enough that a slow blob takes a minute: a run that ends within seconds of the signal
# stopped its transfers rather than finishing them.
RATE = 128 * 1024
OWN_LAYER = 8 * 1024 * 1024


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_copy_reports_cleans_up_and_resumes(image_cache, plain_registry, registry_factory,
                                                        fault_proxy_factory, tmp_path, signum):
    images = image_cache.image_set(count=3, platforms=("linux/amd64",), shared_layers=1,
                                   shared_layer_size=32 * 1024, own_layer_size=OWN_LAYER, seed=77)
    images.pushed = push_image_set(images, plain_registry, "src-int")
    source = fault_proxy_factory(plain_registry)
    target = fault_proxy_factory(registry_factory())
    slow = {m.layers[-1].digest for image in images.images[1:] for m in image.manifests}
    for digest in slow:
        source.add_rule(slow_response(RATE), method="GET", path=digest.split(":", 1)[1], count=None)
    lines = [f"{source.host}/src-int/{i.name}:{i.tag}={target.host}/int/{i.name}" for i in images.images]
    expected_done = set(images.blob_sizes) - slow

    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    proc = start_driver(tmp_path, _DRIVER, {"lines": lines, "registries": registry_options(source, target),
                                            "report": str(report_dir / "report.json")})

    def uploaded():
        with target._lock:
            return set(target.uploaded_by_digest)

    # every fast blob committed, and the slow ones well under way
    out, err, stopped_after = signal_when(
        proc, lambda: expected_done <= uploaded() and source.download_bytes >= 2 * len(slow) * RATE, signum,
        timeout=120, progress=lambda: sorted(uploaded()))

    name = signal.Signals(signum).name
    assert proc.returncode == 130 and f"INTERRUPTED {name}" in out, (out, err)
    assert "Traceback" not in err, err
    # the transfers stopped at their next chunk, long before a slow blob could have finished
    assert stopped_after < 30
    first_run = dict(target.uploaded_by_digest)
    assert set(first_run) == expected_done

    report = json.loads((report_dir / "report.json").read_text())
    assert report["state"] == "interrupted" and report["interrupted"] == name
    by_name = {image["dest"].rsplit("/", 1)[-1].split(":")[0]: image for image in report["images"]}
    assert by_name[images.images[0].name]["status"] == "copied"
    for image in images.images[1:]:
        assert by_name[image.name]["status"] == "cancelled"
        assert f"interrupted by {name}" in by_name[image.name]["error"]
    assert report["summary"]["copied"] == 1 and report["summary"]["cancelled"] == 2
    progress = json.loads((report_dir / "report.progress.json").read_text())
    assert progress["state"] == "interrupted"
    assert sorted(os.listdir(report_dir)) == ["report.json", "report.progress.json"]  # no temporary file

    # the second run resumes: only what the first could not finish is sent
    source.reset()
    target.reset()
    entries, problems = parse_lines(lines, "mapping.txt")
    assert problems == []
    pool = RegistryPool(AuthStore(registries=registry_options(source, target), env={}), retries=2, backoff=0.05)
    try:
        again = Copier(pool, CopyOptions()).run(entries)
    finally:
        pool.close()
    assert [i.status for i in again.images] == ["present", "copied", "copied"], [i.error for i in again.images]
    second_run = dict(target.uploaded_by_digest)
    assert not set(first_run) & set(second_run)
    assert set(second_run) == slow
