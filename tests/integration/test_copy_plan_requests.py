# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What planning asks a registry target about child manifests (issue 11): nothing. A first run
sends no HEAD of a child before its PUT, and a run killed after the children were pushed is
resumed without sending a blob byte again."""

from __future__ import annotations

import hashlib

from tests.integration.test_copy import mapping_lines, run_copy
from tests.support.faultproxy import status


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def child_requests(proxy, image):
    """(method, status) of the requests for each child manifest of ``image``, in order."""
    found = {child.digest: [] for child in image.manifests}
    for method, path, code in proxy.log:
        for digest, seen in found.items():
            if path.endswith(f"/manifests/{digest}"):
                seen.append((method, code))
    return found


def test_first_run_puts_children_without_asking_for_them(image_set, plain_registry, registry_factory,
                                                         fault_proxy_factory):
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy, prefix="fresh")

    report = run_copy(lines, plain_registry, proxy)
    assert [i.status for i in report.images] == ["copied"] * len(lines), [i.error for i in report.images]
    for image in image_set.images:
        for digest, seen in child_requests(proxy, image).items():
            # the PUT first, then the HEAD that proves the registry kept it
            assert [m for m, code in seen if code != 401] == ["PUT", "HEAD"], (digest, seen)
    # per image: the tag's HEAD in planning, then after the push each manifest by digest and the tag
    manifests = sum(len(i.manifests) + 1 for i in image_set.images)
    heads = [code for method, path, code in proxy.log if method == "HEAD" and "/manifests/" in path and code != 401]
    assert len(heads) == len(lines) + manifests + len(lines)


def test_run_stopped_after_the_children_resumes_without_resending(image_set, plain_registry, registry_factory,
                                                                  fault_proxy_factory, skopeo_inspect):
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    image = image_set.images[0]
    lines = mapping_lines(image_set, proxy, prefix="resumed")[:1]
    # the index (pushed under its tag, last) is refused: the children and every blob landed
    proxy.add_rule(status(400, body=b'{"errors":[{"code":"DENIED","message":"not now"}]}'),
                   method="PUT", path=f"/resumed/{image.name}/manifests/{image.tag}", count=None)
    first = run_copy(lines, plain_registry, proxy)
    assert first.images[0].status == "failed"
    assert "pushing manifest " + image.digest in first.images[0].error
    sent = proxy.upload_bytes
    assert sent == sum(image.blobs.values())
    for child in image.manifests:
        assert sha256(skopeo_inspect(target, f"resumed/{image.name}@{child.digest}", raw=True)) == child.digest

    proxy.reset()
    again = run_copy(lines, plain_registry, proxy)
    result = again.images[0]
    assert result.status == "copied", result.error
    assert proxy.upload_bytes == 0 and again.bytes_sent == 0
    assert result.blobs_uploaded == 0 and result.blobs_present == len(image.blobs)
    assert proxy.count("POST") == 0  # no upload session, no mount: every blob was found in place
    assert sha256(skopeo_inspect(target, f"resumed/{image.name}:{image.tag}", raw=True)) == image.digest
