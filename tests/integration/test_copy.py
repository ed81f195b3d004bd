# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copy engine against real registries, with skopeo and the fault proxy's counters as
independent witnesses of what reached the target."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import CopyOptions
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import Progress
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.pool import RegistryPool
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import digest_tag
from tests.support.faultproxy import hold, status
from tests.support.images import push_image_set
from tests.support.registry import registry_options

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def run_copy(lines, *endpoints, progress=None, **options):
    entries, problems = parse_lines(lines, "mapping.txt")
    assert problems == []
    pool = RegistryPool(AuthStore(registries=registry_options(*endpoints), env={}), backoff=0.05)
    try:
        return Copier(pool, CopyOptions(**options), progress).run(entries)
    finally:
        pool.close()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def mapping_lines(image_set, target, prefix="mirror"):
    return [f"{image_set.pushed[i.name]}={target.host}/{prefix}/{i.name}" for i in image_set.images]


def writes(proxy) -> int:
    return sum(proxy.count(method=m) for m in WRITES)


def test_index_copied_whole_then_rerun_skips(image_set, plain_registry, registry_factory, fault_proxy_factory,
                                             skopeo_inspect):
    target = registry_factory(tls=True, auth="htpasswd")
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)

    report = run_copy(lines, plain_registry, proxy)
    assert [i.status for i in report.images] == ["copied"] * len(lines), [i.error for i in report.images]
    for image, result in zip(image_set.images, report.images):
        raw = skopeo_inspect(target, f"mirror/{image.name}:{image.tag}", raw=True)
        assert sha256(raw) == image.digest == result.source_digest == result.dest_digest
        assert json.loads(raw)["mediaType"] == image.media_type
        assert result.digest_changed is False
        assert result.manifests_pushed == len(image.manifests) + 1
        for child in image.manifests:  # children reachable by digest, as a cluster pulls them
            assert sha256(skopeo_inspect(target, f"mirror/{image.name}@{child.digest}", raw=True)) == child.digest

    # Every blob crossed the wire once: shared base layers were uploaded to the first repository
    # and mounted into the others.
    unique = image_set.blob_sizes
    assert proxy.upload_bytes == sum(unique.values()) == report.bytes_sent == report.unique_blob_bytes
    assert dict(proxy.uploaded_by_digest) == unique
    shared = {d for d in unique if sum(d in i.blobs for i in image_set.images) > 1}
    assert shared
    assert report.blobs_uploaded == len(unique)
    assert report.blobs_mounted == sum(len(shared & set(i.blobs)) for i in image_set.images) - len(shared)
    assert any("mount=" in path and code == 201 for method, path, code in proxy.log if method == "POST")
    assert sum(i.blobs_mounted for i in report.images) == report.blobs_mounted
    assert sum(i.bytes_sent for i in report.images) == report.bytes_sent
    # One probe per unique blob (in the repository of the first image needing it), not one per
    # blob and image; a mount sends no HEAD: docker-registry's 201 names the digest it mounted.
    mounts = sum(1 for method, path, code in proxy.log if method == "POST" and "mount=" in path and code == 201)
    assert mounts == report.blobs_mounted
    assert proxy.count("HEAD", "blob") == len(unique)

    # One login challenge in the run: the first request met it, every other one sent credentials.
    assert [entry[2] for entry in proxy.log].count(401) == 1

    # Re-run: nothing sent, nothing written, the one challenge and one HEAD per image.
    proxy.reset()
    again = run_copy(lines, plain_registry, proxy)
    assert [i.status for i in again.images] == ["present"] * len(lines)
    assert proxy.upload_bytes == 0 and writes(proxy) == 0
    assert again.bytes_sent == 0
    assert [entry[2] for entry in proxy.log].count(401) == 1
    assert proxy.count() == proxy.count("HEAD", "manifest") == len(lines) + 1
    assert proxy.count(kind="blob") == 0


def test_dry_run_writes_nothing(image_set, plain_registry, registry_factory, fault_proxy_factory, skopeo_inspect):
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)
    # one image already there, one tag pointing elsewhere
    first, second = image_set.images[:2]
    run_copy([lines[0], f"{image_set.pushed[second.name]}={proxy.host}/mirror/{first.name}:other"],
             plain_registry, proxy)
    proxy.reset()

    report = run_copy(lines, plain_registry, proxy, dry_run=True)
    assert proxy.count() > 0
    assert writes(proxy) == 0 and proxy.upload_bytes == 0
    by_name = {r.dest.split("/")[-1].split(":")[0]: r for r in report.images}
    assert by_name[first.name].status == "present"
    for image in image_set.images[1:]:
        result = by_name[image.name]
        assert result.status == "missing", result.error
        # the shared base layers are missing in this repository too: a mount would fix them
        assert result.missing_blobs == len(image.blobs)
        assert result.missing_bytes == sum(image.blobs.values())
        assert result.dest_digest == image.digest
    assert report.bytes_sent == 0 and report.blobs_uploaded == 0
    with pytest.raises(RuntimeError):
        skopeo_inspect(target, f"mirror/{image_set.images[1].name}:v1", raw=True)


def test_filter_by_os_single_platform(image_set, plain_registry, registry_factory, fault_proxy_factory,
                                      skopeo_inspect):
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    image = image_set.images[0]
    arm = next(m for m in image.manifests if m.platform == "linux/arm64")
    report = run_copy(mapping_lines(image_set, proxy)[:1], plain_registry, proxy, filter_by_os="^linux/arm64$")
    result = report.images[0]
    assert result.status == "copied", result.error
    assert result.digest_changed is True
    assert result.source_digest == image.digest
    assert result.dest_digest == arm.digest
    raw = skopeo_inspect(target, f"mirror/{image.name}:v1", raw=True)
    assert sha256(raw) == arm.digest  # the platform's own manifest, like oc --filter-by-os
    assert set(proxy.uploaded_by_digest) == {b.digest for b in [arm.config, *arm.layers]}
    assert result.manifests_pushed == 1

    proxy.reset()
    again = run_copy(mapping_lines(image_set, proxy)[:1], plain_registry, proxy, filter_by_os="^linux/arm64$")
    assert again.images[0].status == "present" and writes(proxy) == 0


def test_filter_by_os_several_platforms(image_cache, plain_registry, registry_factory, skopeo_inspect):
    three = image_cache.image_set(count=1, platforms=("linux/amd64", "linux/arm64", "linux/ppc64le"),
                                  shared_layers=1, shared_layer_size=8 * 1024, own_layer_size=8 * 1024, seed=7)
    three.pushed = push_image_set(three, plain_registry, "src-three")
    image = three.images[0]
    target = registry_factory()
    line = f"{three.pushed[image.name]}={target.host}/three/{image.name}"

    report = run_copy([line], plain_registry, target, filter_by_os="linux/(amd64|arm64)")
    result = report.images[0]
    assert result.status == "copied", result.error
    assert result.digest_changed is True and result.source_digest == image.digest
    raw = skopeo_inspect(target, f"three/{image.name}:v1", raw=True)
    assert sha256(raw) == result.dest_digest != image.digest
    doc = json.loads(raw)
    assert doc["mediaType"] == image.media_type
    kept = {m.digest for m in image.manifests if m.platform != "linux/ppc64le"}
    assert {m["digest"] for m in doc["manifests"]} == kept
    for digest in kept:
        assert sha256(skopeo_inspect(target, f"three/{image.name}@{digest}", raw=True)) == digest

    # a filter every platform matches keeps the original bytes
    everything = run_copy([line.replace("/three/", "/all/")], plain_registry, target, filter_by_os=".*")
    assert everything.images[0].digest_changed is False
    assert sha256(skopeo_inspect(target, f"all/{image.name}:v1", raw=True)) == image.digest

    nothing = run_copy([line.replace("/three/", "/none/")], plain_registry, target, filter_by_os="windows")
    assert nothing.images[0].status == "failed"
    assert "linux/ppc64le" in nothing.images[0].error  # says which platforms there are

    with pytest.raises(ConfigError, match="filter_by_os"):
        run_copy([line], plain_registry, target, filter_by_os="(")


def test_bad_source_fails_only_its_line(image_set, plain_registry, registry_factory):
    target = registry_factory()
    good = mapping_lines(image_set, target)
    bad = f"{plain_registry.host}/src/does-not-exist:v1={target.host}/mirror/nothing"
    report = run_copy([good[0], bad, good[1]], plain_registry, target)
    assert [i.status for i in report.images] == ["copied", "failed", "copied"]
    error = report.images[1].error
    assert "src/does-not-exist" in error and "not found" in error
    assert report.images[1].origin == "mapping.txt:2"
    assert len(report.copied) == 2 and len(report.failed) == 1


def test_stop_on_first_error(image_set, plain_registry, registry_factory):
    target = registry_factory()
    good = mapping_lines(image_set, target)
    bad = f"{plain_registry.host}/src/does-not-exist:v1={target.host}/mirror/nothing"
    report = run_copy([bad] + good, plain_registry, target, continue_on_error=False, parallel_images=1)
    assert [i.status for i in report.images] == ["failed"] + ["cancelled"] * len(good)
    assert "continue_on_error" in report.images[1].error
    assert report.bytes_sent == 0


def test_digest_source_and_two_tags_in_one_repository(image_set, plain_registry, registry_factory,
                                                      skopeo_inspect):
    target = registry_factory()
    image = image_set.images[0]
    repo = image_set.pushed[image.name].split("/", 1)[1].rsplit(":", 1)[0]
    by_digest = f"{plain_registry.host}/{repo}@{image.digest}"
    lines = [
        f"{by_digest}={target.host}/pinned/{image.name}",
        f"{image_set.pushed[image.name]}={target.host}/pinned/{image.name}:also",
    ]
    report = run_copy(lines, plain_registry, target)
    assert [i.status for i in report.images] == ["copied", "copied"], [i.error for i in report.images]
    tag = digest_tag(by_digest, image.digest, "oc")
    assert report.images[0].dest.endswith(f":{tag}")
    for ref in (f"pinned/{image.name}:{tag}", f"pinned/{image.name}:also"):
        assert sha256(skopeo_inspect(target, ref, raw=True)) == image.digest
    # one repository, one copy of each blob
    assert report.blobs_uploaded == len(image.blobs) and report.blobs_mounted == 0
    assert report.bytes_sent == sum(image.blobs.values())


def test_two_lines_push_the_same_manifest_into_one_repository_one_at_a_time(
        image_set, plain_registry, registry_factory, fault_proxy_factory, skopeo_inspect):
    """docker-registry rewrites a manifest's link in place: two lines carrying the same image into
    one repository (a digest and a tag) must not PUT the same manifest at the same time, or one
    reads the other's half-written link as "unknown" (MANIFEST_BLOB_UNKNOWN, seen in CI)."""
    target = fault_proxy_factory(registry_factory())
    image = image_set.images[0]
    repo = image_set.pushed[image.name].split("/", 1)[1].rsplit(":", 1)[0]
    child = image.manifests[0].digest
    released = threading.Event()
    held = target.add_rule(hold(released), method="PUT", path=f"/pinned/{image.name}/manifests/{child}", count=1)
    lines = [f"{plain_registry.host}/{repo}@{image.digest}={target.host}/pinned/{image.name}",
             f"{image_set.pushed[image.name]}={target.host}/pinned/{image.name}:also"]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_copy, lines, plain_registry, target, parallel_images=2)
        try:
            deadline = time.monotonic() + 30
            while not held.fired and time.monotonic() < deadline:
                time.sleep(0.02)
            # the other line needs the same child now: give its PUT time to arrive, if it would
            quiet_until = time.monotonic() + 2
            while held.seen == 1 and time.monotonic() < quiet_until:
                time.sleep(0.02)
            second_put_while_held = held.seen > 1
        finally:
            released.set()
        report = running.result()
    assert held.fired == 1 and not second_put_while_held
    assert held.seen == 2  # the second line pushed it too, after the first
    assert [i.status for i in report.images] == ["copied", "copied"], [i.error for i in report.images]
    for ref in (f"pinned/{image.name}:{digest_tag(lines[0].split('=', maxsplit=1)[0], image.digest, 'oc')}",
                f"pinned/{image.name}:also"):
        assert sha256(skopeo_inspect(target, ref, raw=True)) == image.digest


def test_docker_manifest_list_to_token_registry(image_cache, plain_registry, token_registry, skopeo_inspect):
    docker = image_cache.image_set(count=2, fmt="docker", shared_layers=1, shared_layer_size=16 * 1024,
                                   own_layer_size=8 * 1024, seed=11)
    docker.pushed = push_image_set(docker, plain_registry, "src-docker")
    lines = [f"{docker.pushed[i.name]}={token_registry.host}/engine-docker/{i.name}" for i in docker.images]
    report = run_copy(lines, plain_registry, token_registry)
    assert [i.status for i in report.images] == ["copied", "copied"], [i.error for i in report.images]
    assert report.blobs_mounted >= 2  # bearer scopes for mount: pull on the other repository
    for image in docker.images:
        raw = skopeo_inspect(token_registry, f"engine-docker/{image.name}:v1", raw=True)
        assert sha256(raw) == image.digest
        assert json.loads(raw)["mediaType"] == image.media_type
    again = run_copy(lines, plain_registry, token_registry)
    assert [i.status for i in again.images] == ["present", "present"]


def test_large_layer_streamed_and_progress_reported(image_cache, plain_registry, registry_factory,
                                                    fault_proxy_factory, skopeo_inspect, tmp_path):
    # over the client's 1 MiB in-memory limit: the streamed path (one POST, one streamed PUT)
    big = image_cache.big_layer_image(size_bytes=3 << 20, seed=5)
    big.pushed = push_image_set(big, plain_registry, "src-big")
    image = big.images[0]
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    path = tmp_path / "report.json"
    lines = [f"{big.pushed[image.name]}={proxy.host}/big/{image.name}"]
    progress = Progress(1, str(path), interval=0.0)
    report = run_copy(lines, plain_registry, proxy, progress=progress)
    assert report.images[0].status == "copied", report.images[0].error
    assert max(image.blobs.values()) > 1 << 20
    assert proxy.count("PATCH") == 0
    assert proxy.count("PUT", "upload") == proxy.count("POST", "upload") == len(image.blobs)
    assert dict(proxy.uploaded_by_digest) == image.blobs
    assert sha256(skopeo_inspect(target, f"big/{image.name}:v1", raw=True)) == image.digest
    assert proxy.upload_bytes == sum(image.blobs.values()) == report.bytes_sent

    snap = progress.snapshot()
    assert snap["bytes_sent"] == report.bytes_sent
    assert snap["bytes_planned"] == report.bytes_sent
    assert snap["images_done"] == snap["images_copied"] == 1
    document = progress.finish(report)
    saved = json.loads(path.read_text())
    assert saved == json.loads(json.dumps(document))
    assert saved["state"] == "finished"
    assert saved["summary"]["copied"] == 1 and saved["summary"]["bytes_sent"] == report.bytes_sent
    assert saved["images"][0]["status"] == "copied"


def test_wrong_password_fails_every_image_without_leaking(image_set, plain_registry, registry_factory):
    target = registry_factory(tls=True, auth="htpasswd")
    entries, dummy = parse_lines(mapping_lines(image_set, target)[:2], "m")
    regs = registry_options(plain_registry) + [
        {"host": target.host, "ca_path": target.ca_path, "username": target.username, "password": "Wr0ng-S3cret!"}
    ]
    pool = RegistryPool(AuthStore(registries=regs, env={}), backoff=0.05)
    report = Copier(pool, CopyOptions()).run(entries)
    pool.close()
    assert [i.status for i in report.images] == ["failed", "failed"]
    for result in report.images:
        assert target.username in result.error or "credentials" in result.error
        assert "Wr0ng-S3cret!" not in json.dumps(report.to_dict())


def test_incremental_mirror_mounts_layers_of_complete_images(image_set, plain_registry, registry_factory,
                                                             fault_proxy_factory):
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)
    run_copy(lines[:1], plain_registry, proxy)
    proxy.reset()

    report = run_copy(lines, plain_registry, proxy)
    assert [i.status for i in report.images] == ["present", "copied", "copied"], [i.error for i in report.images]
    first = set(image_set.images[0].blobs)
    rest = set().union(*(set(i.blobs) for i in image_set.images[1:]))
    # what the complete first image already holds is mounted from its repository, not re-sent
    assert set(proxy.uploaded_by_digest) == rest - first
    assert proxy.upload_bytes == sum(image_set.blob_sizes[d] for d in rest - first)
    assert report.blobs_mounted == sum(len(first & set(i.blobs)) for i in image_set.images[1:])


def test_declined_mount_heads_before_uploading(image_set, plain_registry, registry_factory, fault_proxy_factory):
    """A registry that answers a mount with an upload session (202): a repository that was not
    probed is asked before anything is uploaded into it, so what an earlier run left is kept."""
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)
    first, second, third = image_set.images
    # an earlier run left every amd64 blob of the second image in its repository, under another tag
    run_copy([f"{image_set.pushed[second.name]}={proxy.host}/mirror/{second.name}:other"], plain_registry, proxy,
             filter_by_os="linux/amd64")
    proxy.reset()
    declined = proxy.add_rule(status(202), method="POST", path="mount=", count=None)

    report = run_copy(lines, plain_registry, proxy, filter_by_os="linux/amd64")
    assert [i.status for i in report.images] == ["copied"] * 3, [i.error for i in report.images]
    assert declined.fired and report.blobs_mounted == 0

    def uploads_into(image):
        return [p for m, p, c in proxy.log if m == "POST" and f"/mirror/{image.name}/blobs/uploads/" in p
                and "mount=" not in p]

    assert uploads_into(first) and uploads_into(third)  # the shared layers were not mountable
    assert uploads_into(second) == []  # everything was there already
    again = report.images[1]
    assert again.blobs_present > 0 and again.blobs_uploaded == again.blobs_mounted == again.bytes_sent == 0


def test_rerun_mounts_what_a_killed_run_left_outside_the_owners_repository(image_set, plain_registry,
                                                                           registry_factory, fault_proxy_factory):
    """A killed run left the second image's blobs in its repository (its tag not written); the
    re-run's owner of the layers it shares with the first image is the first image, whose probe
    misses: the other repositories are asked before anything is sent, and those layers mounted."""
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)
    first, second = image_set.images[:2]
    run_copy([f"{image_set.pushed[second.name]}={proxy.host}/mirror/{second.name}:other"], plain_registry, proxy,
             filter_by_os="linux/amd64")
    landed = set(proxy.uploaded_by_digest)
    shared = landed & set(first.blobs)
    assert shared and landed - shared  # what the owner's probe misses, and some other landed blob
    proxy.reset()

    report = run_copy(lines, plain_registry, proxy, filter_by_os="linux/amd64")
    assert [i.status for i in report.images] == ["copied"] * 3, [i.error for i in report.images]
    assert not landed & set(proxy.uploaded_by_digest)  # 0 bytes of them sent again
    assert report.images[0].blobs_mounted >= len(shared)
    mounted_from = [p for m, p, c in proxy.log if m == "POST" and f"/mirror/{first.name}/blobs/uploads/" in p
                    and f"from=mirror%2F{second.name}" in p.replace("/", "%2F") and c == 201]
    assert len(mounted_from) >= len(shared)


def test_a_failed_owner_upload_is_not_tried_again_for_each_image(image_set, plain_registry, registry_factory,
                                                                 fault_proxy_factory):
    """The owner's upload of a shared layer fails for good: the other images upload it into their
    own repositories, without a fresh upload into the owner's repository each."""
    target = registry_factory()
    proxy = fault_proxy_factory(target)
    lines = mapping_lines(image_set, proxy)
    first = image_set.images[0]

    def uploads_into(prefix):
        return sum(1 for m, p, c in proxy.log if m == "POST" and f"/{prefix}/{first.name}/blobs/uploads/" in p)

    # how many upload requests the first image's blobs cost when it is the only one needing them
    alone = proxy.add_rule(status(500), method="POST", path=f"/alone/{first.name}/blobs/uploads/", count=None)
    report = run_copy(mapping_lines(image_set, proxy, prefix="alone")[:1], plain_registry, proxy,
                      filter_by_os="linux/amd64")
    assert alone.fired and report.images[0].status == "failed"
    once = uploads_into("alone")

    broken = proxy.add_rule(status(500), method="POST", path=f"/mirror/{first.name}/blobs/uploads/", count=None)
    # one image at a time: the others ask for the blob after the owner's upload failed
    report = run_copy(lines, plain_registry, proxy, filter_by_os="linux/amd64", parallel_images=1)
    assert broken.fired and report.images[0].status == "failed"
    assert [i.status for i in report.images[1:]] == ["copied", "copied"], [i.error for i in report.images]
    assert uploads_into("mirror") == once  # not once more per image sharing its layers


def test_rerun_of_digest_pinned_lines_asks_only_the_target(image_set, plain_registry, registry_factory,
                                                           fault_proxy_factory):
    source = fault_proxy_factory(plain_registry)
    target = fault_proxy_factory(registry_factory())
    lines = []
    for image in image_set.images:
        repo = image_set.pushed[image.name].split("/", 1)[1].rsplit(":", 1)[0]
        lines.append(f"{source.host}/{repo}@{image.digest}={target.host}/pinned/{image.name}")
    first = run_copy(lines, source, target)
    assert [i.status for i in first.images] == ["copied"] * len(lines), [i.error for i in first.images]
    source.reset()
    target.reset()
    again = run_copy(lines, source, target)
    assert [i.status for i in again.images] == ["present"] * len(lines)
    assert all(i.source_digest == i.dest_digest for i in again.images)
    assert source.count() == 0  # what oc adm catalog mirror writes re-runs on HEADs alone
    assert target.count() == target.count("HEAD", "manifest") == len(lines)


def test_corrupt_source_blob_fails_its_image_and_lands_nothing(image_cache, registry_factory, skopeo_inspect):
    """A layer whose bytes no longer match its digest (bit rot on the source registry's disk)
    fails its image with a digest error; neither the blob nor any manifest of that image lands,
    and the other image is copied."""
    source = registry_factory()
    images = image_cache.image_set(count=2, shared_layers=1, shared_layer_size=32 * 1024,
                                   own_layer_size=(2 << 20) + 7, seed=33)
    images.pushed = push_image_set(images, source, "src-rot")
    bad, good = images.images
    layer = bad.manifests[0].layers[-1]
    hexpart = layer.digest.split(":", 1)[1]
    data = os.path.join(source.storage_dir, "docker", "registry", "v2", "blobs", "sha256", hexpart[:2], hexpart, "data")
    with open(data, "r+b") as handle:  # same size, other bytes: only a digest check can tell
        handle.seek(layer.size // 2)
        byte = handle.read(1)
        handle.seek(layer.size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    target = registry_factory()
    report = run_copy(mapping_lines(images, target, "rot"), source, target, parallel_layers=2)
    status = {i.source: i for i in report.images}
    failed = status[images.pushed[bad.name]]
    assert failed.status == "failed" and layer.digest in failed.error, failed.error
    assert status[images.pushed[good.name]].status == "copied"
    client = RegistryPool(AuthStore(registries=registry_options(target), env={})).client(target.host)
    try:
        assert client.blob_size(f"rot/{bad.name}", layer.digest) is None
        assert client.head_manifest(f"rot/{bad.name}", bad.tag) is None
        assert client.head_manifest(f"rot/{bad.name}", bad.manifests[0].digest) is None
    finally:
        client.close()
    assert sha256(skopeo_inspect(target, f"rot/{good.name}:{good.tag}", raw=True)) == good.digest


def test_repository_scoped_credentials_of_an_auth_file(image_set, plain_registry, registry_factory, tmp_path,
                                                       skopeo_inspect):
    """podman's repository-scoped keys (``host/namespace``) win over the host's own entry: the
    scoped namespace is written with its login, another namespace with the host's (wrong) one."""
    import base64

    target = registry_factory(tls=True, auth="htpasswd")

    def auth(user, password):
        return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}

    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {
        target.host: auth(target.username, "not-the-password"),
        f"{target.host}/scoped": auth(target.username, target.password),
    }}))
    image = image_set.images[0]
    lines = [f"{image_set.pushed[image.name]}={target.host}/scoped/{image.name}:{image.tag}",
             f"{image_set.pushed[image.name]}={target.host}/other/{image.name}:{image.tag}"]
    entries, problems = parse_lines(lines, "mapping.txt")
    assert problems == []
    store = AuthStore(auth_file=str(auth_file), env={},
                      registries=[{"host": plain_registry.host, "tls_verify": False},
                                  {"host": target.host, "ca_path": target.ca_path}])
    pool = RegistryPool(store, backoff=0.01)
    try:
        report = Copier(pool, CopyOptions()).run(entries)
    finally:
        pool.close()
    scoped, other = report.images
    assert scoped.status == "copied", scoped.error
    assert other.status == "failed" and "refused the credentials" in other.error
    assert "not-the-password" not in other.error and target.password not in other.error
    assert sha256(skopeo_inspect(target, f"scoped/{image.name}:{image.tag}", raw=True)) == image.digest
