# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What planning asks a registry target about child manifests (issue 11): nothing until an image
of the mapping was found complete there. A first run sends no HEAD of a child before its PUT; a
run stopped after the children were pushed resumes without sending a blob byte again, and, once
it found another image complete, without reading or pushing those children again."""

from __future__ import annotations

import hashlib
import threading
import time

from tests.integration.test_copy import mapping_lines, run_copy
from tests.support.faultproxy import hold, status


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


def test_a_resume_asks_for_the_children_once_an_image_was_found_complete(
        image_set, plain_registry, registry_factory, fault_proxy_factory):
    """Once phase 1 found an image of the mapping complete (a re-run, or a killed run's resume),
    the children an earlier run left are found by a HEAD: not read from the source, not pushed."""
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    source = fault_proxy_factory(plain_registry)
    done, stopped = image_set.images[:2]
    lines = [f"{source.host}/{image_set.pushed[i.name].split('/', 1)[1]}={proxy.host}/again/{i.name}:{i.tag}"
             for i in (done, stopped)]
    proxy.add_rule(status(400, body=b'{"errors":[{"code":"DENIED","message":"not now"}]}'),
                   method="PUT", path=f"/again/{stopped.name}/manifests/{stopped.tag}", count=None)
    first = run_copy(lines, source, proxy)
    assert [i.status for i in first.images] == ["copied", "failed"]

    proxy.reset()
    # the stopped image plans its children only once the complete one was found so: its source
    # manifest is held until then (at the source, which asks for no login: a request held at the
    # target could be the first one there, which the others wait for)
    released = threading.Event()
    source.add_rule(hold(released), method="GET", path=f"/{stopped.name}/manifests/{stopped.tag}")
    answered = f"/again/{done.name}/manifests/{done.tag}"

    def release():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(p.endswith(answered) and c == 200 for _m, p, c in proxy.log):
            time.sleep(0.01)
        time.sleep(0.2)  # the client records it right after the answer
        released.set()

    threading.Thread(target=release, daemon=True).start()
    again = run_copy(lines, source, proxy)
    assert [i.status for i in again.images] == ["present", "copied"], [i.error for i in again.images]
    for digest, seen in child_requests(proxy, stopped).items():
        assert [(m, code) for m, code in seen if code != 401] == [("HEAD", 200)], (digest, seen)
    assert proxy.count("PUT", "manifest") == 1 and proxy.upload_bytes == 0 and proxy.count("POST") == 0


def test_owner_probes_start_while_later_images_are_still_planning(image_set, plain_registry, registry_factory,
                                                                  fault_proxy_factory):
    """The blobs of the images planned first (in mapping order) are probed at once, not after the
    barrier that waits for the last image's planning."""
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    source = fault_proxy_factory(plain_registry)
    last = image_set.images[-1]
    lines = [f"{source.host}/{image_set.pushed[i.name].split('/', 1)[1]}={target.host}/early/{i.name}:{i.tag}"
             for i in image_set.images]
    released = threading.Event()
    held = source.add_rule(hold(released), method="GET", path=f"/{last.name}/manifests/{last.tag}")
    probed_while_held = []

    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not held.fired:
            time.sleep(0.01)
        while time.monotonic() < deadline and not probed_while_held:
            probed_while_held.extend(p for m, p, c in target.log if m == "HEAD" and "/blobs/" in p)
            time.sleep(0.01)
        released.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    report = run_copy(lines, source, target)
    watcher.join(35)
    assert [i.status for i in report.images] == ["copied"] * len(lines), [i.error for i in report.images]
    assert held.fired and probed_while_held
    # only the earlier images' blobs: the held one was not planned yet
    earlier = {d for i in image_set.images[:-1] for d in i.blobs}
    assert all(p.rsplit("/", 1)[1] in earlier for p in probed_while_held)
