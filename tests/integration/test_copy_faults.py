# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine under faults injected by the test proxy: dropped connections, 5xx, 429 with
Retry-After, and a run killed half-way then resumed. Every digest is checked with skopeo."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from tests.support.faultproxy import drop_request_after, drop_response_after, status
from tests.support.images import push_image_set
from tests.support.registry import registry_options

UPLOAD_PATH = r"/blobs/uploads/"


def run_copy(lines, *endpoints, retries=5, **options):
    entries, problems = parse_lines(lines, "mapping.txt")
    assert problems == []
    pool = RegistryPool(AuthStore(registries=registry_options(*endpoints), env={}), retries=retries, backoff=0.05)
    try:
        return Copier(pool, CopyOptions(**options)).run(entries)
    finally:
        pool.close()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def assert_all_there(image_set, target, prefix, skopeo_inspect):
    for image in image_set.images:
        assert sha256(skopeo_inspect(target, f"{prefix}/{image.name}:{image.tag}", raw=True)) == image.digest
        for child in image.manifests:
            assert sha256(skopeo_inspect(target, f"{prefix}/{image.name}@{child.digest}", raw=True)) == child.digest
            config = skopeo_inspect(target, f"{prefix}/{image.name}@{child.digest}", config=True)
            assert sha256(config) == child.config.digest


def lines_for(image_set, target, prefix):
    return [f"{image_set.pushed[i.name]}={target.host}/{prefix}/{i.name}" for i in image_set.images]


def test_dropped_uploads_500s_and_429(image_set, plain_registry, registry_factory, fault_proxy_factory,
                                      skopeo_inspect):
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    # connections cut in the middle of a blob body, twice
    dropped = proxy.add_rule(drop_request_after(20000), method="PUT", path=UPLOAD_PATH, count=2)
    # 500 on starting uploads and on manifest HEADs
    proxy.add_rule(status(500), method="POST", path=UPLOAD_PATH, count=2, after=3)
    proxy.add_rule(status(503), method="HEAD", path="/manifests/", count=2)
    # throttled manifest pushes: the client must wait Retry-After
    throttled = proxy.add_rule(status(429, {"Retry-After": "1"}), method="PUT", path="/manifests/", count=2)
    started = time.monotonic()
    report = run_copy(lines_for(image_set, proxy, "faults"), plain_registry, proxy)
    elapsed = time.monotonic() - started

    assert [i.status for i in report.images] == ["copied"] * len(image_set.images), [i.error for i in report.images]
    assert dropped.fired == 2 and throttled.fired == 2
    assert report.retries >= 8
    assert elapsed >= 1.0  # Retry-After honoured
    # a cut blob was restarted whole: only committed bytes count per digest, and they are exact
    unique = image_set.blob_sizes
    assert dict(proxy.uploaded_by_digest) == unique
    assert proxy.upload_bytes > sum(unique.values())
    assert_all_there(image_set, target, "faults", skopeo_inspect)


def test_dropped_downloads_resume(image_set, plain_registry, registry_factory, fault_proxy_factory, skopeo_inspect):
    source = fault_proxy_factory(plain_registry)
    target = registry_factory()
    # cut the downloads of the 256 KiB base layers after 100 kB
    base = {m.layers[0].digest.split(":", 1)[1] for i in image_set.images for m in i.manifests}
    cut = source.add_rule(drop_response_after(100000), method="GET", path="|".join(sorted(base)), count=3)
    image_set_lines = [
        line.replace(plain_registry.host, source.host, 1) for line in lines_for(image_set, target, "resumed")
    ]
    report = run_copy(image_set_lines, source, target)
    assert [i.status for i in report.images] == ["copied"] * len(image_set.images), [i.error for i in report.images]
    assert cut.fired == 3 and report.retries >= 3
    assert report.bytes_sent == sum(image_set.blob_sizes.values())
    assert_all_there(image_set, target, "resumed", skopeo_inspect)


def test_retries_exhausted_fail_that_image_only(image_set, plain_registry, registry_factory, fault_proxy_factory,
                                                skopeo_inspect):
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    victim = image_set.images[1]
    proxy.add_rule(status(500), path=f"/broken/{victim.name}/", count=None)
    lines = lines_for(image_set, proxy, "broken")
    report = run_copy(lines, plain_registry, proxy, retries=1)
    statuses = {r.dest.split("/")[-1].split(":")[0]: r for r in report.images}
    assert statuses[victim.name].status == "failed"
    assert "after 2 attempt(s)" in statuses[victim.name].error
    for image in image_set.images:
        if image is not victim:
            assert statuses[image.name].status == "copied", statuses[image.name].error
            assert sha256(skopeo_inspect(target, f"broken/{image.name}:v1", raw=True)) == image.digest


_DRIVER = r"""
import json, sys
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool

config = json.load(open(sys.argv[1]))
entries, _ = parse_lines(config["lines"], "mapping.txt")
pool = RegistryPool(AuthStore(registries=config["registries"], env={}), retries=config["retries"], backoff=0.5)
report = Copier(pool, CopyOptions(**config["options"])).run(entries)
print(json.dumps(report.to_dict()["summary"]))
"""


def test_killed_run_resumes_without_resending(image_cache, plain_registry, registry_factory, fault_proxy_factory,
                                              skopeo_inspect, tmp_path):
    images = image_cache.image_set(count=4, shared_layers=2, shared_layer_size=64 * 1024,
                                   own_layer_size=48 * 1024, seed=21)
    images.pushed = push_image_set(images, plain_registry, "src-kill")
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    lines = lines_for(images, proxy, "killed")

    # The last two images' own layers cannot be committed (the registry "keeps failing" them) and
    # one of them is cut mid-body each time, so the first run is stuck half-way, with some blobs
    # finished, some half-sent and some images complete, when it is killed.
    blocked = {layer.digest for image in images.images[2:] for m in image.manifests for layer in m.layers[-1:]}
    for i, digest in enumerate(sorted(blocked)):
        hexpart = digest.split(":", 1)[1]
        action = drop_request_after(10000) if i == 0 else status(503)
        proxy.add_rule(action, method="PUT", path=hexpart, count=None)
    # and the shared base layers, finished in the first repositories, cannot be mounted into
    # the last two: the re-run must mount them from where they are, not upload them again
    mounts = [
        proxy.add_rule(status(503), method="POST", path=f"/killed/{image.name}/blobs/uploads/\\?mount=", count=None)
        for image in images.images[2:]
    ]
    expected_done = set(images.blob_sizes) - blocked

    config = tmp_path / "run.json"
    config.write_text(json.dumps({
        "lines": lines, "registries": registry_options(plain_registry, proxy), "retries": 8,
        # Enough blob threads that the stuck uploads and mounts never starve the finishable blobs.
        "options": {"parallel_images": 2, "parallel_layers": 32},
    }))
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, str(driver), str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Generous: on a loaded 2-core machine the first run needs far longer than the usual 5 s.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with proxy._lock:
                done = set(proxy.uploaded_by_digest)
                puts = [path for method, path, dummy in proxy.log if method == "PUT"]
            tried = all(any(d.split(":", 1)[1] in path for path in puts) for d in blocked)
            if expected_done <= done and tried and all(rule.fired for rule in mounts):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        else:
            raise AssertionError(f"the first run did not get half-way: {sorted(done)}")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    first_run = dict(proxy.uploaded_by_digest)
    assert set(first_run) == expected_done
    assert not blocked & set(first_run)
    complete_before = [
        i.name for i in images.images
        if any(m == "PUT" and c == 201 and p.endswith(f"/killed/{i.name}/manifests/v1") for m, p, c in proxy.log)
    ]
    assert set(complete_before) <= {i.name for i in images.images[:2]}

    proxy.reset()
    report = run_copy(lines, plain_registry, proxy)
    assert all(i.status in ("copied", "present") for i in report.images), [i.error for i in report.images]
    assert [i.status for i in report.images][2:] == ["copied", "copied"]
    second_run = dict(proxy.uploaded_by_digest)
    # no finished blob sent again, in any repository; only what the first run could not finish
    assert not set(first_run) & set(second_run)
    assert set(second_run) == blocked
    assert proxy.upload_bytes == sum(images.blob_sizes[d] for d in blocked)
    assert report.blobs_uploaded == len(blocked)
    base = {m.layers[0].digest for i in images.images for m in i.manifests}
    assert report.blobs_mounted >= 2 * len(base)
    assert_all_there(images, target, "killed", skopeo_inspect)
