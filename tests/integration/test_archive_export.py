# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror to archives (issue 10, export side), from a real registry, checked with skopeo.

The archives are extracted with Python's tarfile (parts joined with cat's logic), and skopeo
reads every image of the resulting OCI layout (``skopeo inspect --raw oci:DIR:REF`` gives the
source digest; ``skopeo copy oci:… docker://…`` verifies every blob). Resume is checked against
a run killed with SIGKILL in a child process, counting source GETs at a fault proxy; the
incremental export against the exact bytes of the new image version.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import copier as copier_module
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import format as fmt
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.writer import BLOCK, END_OF_ARCHIVE, padded
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest, TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.results import BlobOutcome
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from tests.support.driver import signal_when, start_driver
from tests.support.faultproxy import hold, slow_response
from tests.support.images import push_image_set, skopeo
from tests.support.registry import registry_options

TARGET = "mirror.example.com:5000/olm"


def export(lines, endpoints, directory, size=None, history=True, check_mode=False, **transfer):
    request = MappingMirrorRequest(
        mapping=tuple(lines),
        transfer=TransferSettings(**transfer),
        connection=ConnectionSettings(retries=1),
        archive=ArchiveSettings(directory=str(directory), size=size, history=history),
    )
    return run_mapping_export(request, AuthStore(registries=registry_options(*endpoints), env={}), check_mode)


def lines_for(images, host, prefix):
    return [f"{host}/{prefix}/{i.name}:{i.tag}={TARGET}/{i.name}:{i.tag}" for i in images.images]


def extract(directory, out):
    """Every archive extracted into ``out``, split blobs joined: the OCI layout an import rebuilds."""
    names = sorted(n for n in os.listdir(directory) if n.startswith("archive-"))
    for name in names:
        with tarfile.open(os.path.join(directory, name)) as tar:
            tar.extractall(out, filter="data")
    blobs = os.path.join(out, "blobs", "sha256")
    parts = sorted(n for n in os.listdir(blobs) if ".part-" in n)
    for part in parts:
        whole = os.path.join(blobs, part.split(".part-")[0])
        with open(whole, "ab") as target, open(os.path.join(blobs, part), "rb") as piece:
            target.write(piece.read())
        os.unlink(os.path.join(blobs, part))
    return out


def oci_raw(layout, ref):
    return skopeo("inspect", "--raw", f"oci:{layout}:{ref}").stdout


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_contents(directory, size_limit=None):
    """contents.json valid, every archive's size and sha256 as recorded and within the limit."""
    contents = fmt.Contents.read(os.path.join(directory, fmt.CONTENTS_FILE))
    on_disk = sorted(n for n in os.listdir(directory) if n.startswith("archive-"))
    assert on_disk == [a.name for a in contents.archives]
    for archive in contents.archives:
        path = os.path.join(directory, archive.name)
        assert os.path.getsize(path) == archive.size
        assert sha256_file(path) == archive.sha256
        if size_limit:
            assert archive.size <= size_limit
    return contents


def tar_overhead(contents, index_size):
    """Bytes of the archives that are not blob data: headers, padding, metadata members, end blocks."""
    members = [(b.size,) if not b.parts else tuple(p.size for p in b.parts) for b in contents.blobs]
    data = sum(s for sizes in members for s in sizes) + sum(m.size for m in contents.manifests)
    total = sum(BLOCK + padded(s) for sizes in members for s in sizes)
    total += sum(BLOCK + padded(m.size) for m in contents.manifests)
    total += BLOCK + padded(len(fmt.OCI_LAYOUT_CONTENT)) + BLOCK + padded(index_size)
    total += END_OF_ARCHIVE * len(contents.archives)
    return total, data


def test_export_reads_back_with_source_digests_and_reruns_as_no_op(image_set, plain_registry, tmp_path):
    directory = tmp_path / "export"
    lines = lines_for(image_set, plain_registry.host, "src")

    check = export(lines, [plain_registry], directory, check_mode=True)
    assert check["changed"] and len(check["missing"]) == 3 and not directory.exists()

    result = export(lines, [plain_registry], directory)
    assert result["changed"] and not result["failures"], result
    assert [i["dest"] for i in result["archived"]] == [line.split("=")[1] for line in lines]
    contents = check_contents(directory)
    assert len(contents.archives) == 1 and not (directory / fmt.STATE_DIR).exists()
    assert (directory / fmt.MAPPING_FILE).read_text().splitlines() == lines
    assert contents.dest == TARGET

    # bytes on disk: the unique blobs once each, plus manifests and tar headers
    unique = image_set.blob_sizes
    assert {b.digest: b.size for b in contents.blobs} == unique
    layout = extract(directory, tmp_path / "layout")
    index_size = os.path.getsize(layout / "index.json")
    overhead, data = tar_overhead(contents, index_size)
    assert contents.archives[0].size == overhead
    assert data - image_set.total_blob_bytes == sum(m.size for m in contents.manifests)

    for image, line in zip(image_set.images, lines):
        ref = line.split("=")[1]
        raw = oci_raw(layout, ref)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
    # skopeo copies one image out of the layout into a registry: every blob is verified on the way
    ref = lines[0].split("=")[1]
    skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:{ref}",
           f"docker://{plain_registry.host}/archive-check/app0:v1")
    pushed = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{plain_registry.host}/archive-check/app0:v1")
    assert "sha256:" + hashlib.sha256(pushed.stdout).hexdigest() == image_set.images[0].digest

    # a re-run with the same plan and nothing new changes nothing
    before = {n: (directory / n).stat().st_mtime_ns for n in os.listdir(directory)}
    again = export(lines, [plain_registry], directory)
    assert not again["changed"] and not again["archived"] and len(again["in_history"]) == 3, again
    assert again["archives"] == result["archives"]
    assert {n: (directory / n).stat().st_mtime_ns for n in os.listdir(directory)} == before
    check = export(lines, [plain_registry], directory, check_mode=True)
    assert not check["changed"] and check["missing"] == []


def test_small_archive_size_splits_only_the_large_blobs(image_set, plain_registry, tmp_path):
    directory = tmp_path / "split"
    lines = lines_for(image_set, plain_registry.host, "src")
    size = 200 * 1024  # smaller than the 256 KiB shared layers, larger than anything else
    result = export(lines, [plain_registry], directory, size=size, history=False)
    assert result["changed"] and not result["failures"], result
    contents = check_contents(directory, size_limit=size)
    assert len(contents.archives) > 2
    large = {d for d, s in image_set.blob_sizes.items() if s > size}
    assert large and {b.digest for b in contents.blobs if b.parts} == large
    for blob in contents.blobs:
        if blob.parts:
            assert [p.archive for p in blob.parts] == sorted({p.archive for p in blob.parts})
    # each archive is a tar of its own; only the parts of the large blobs cross from one to the next
    for archive in contents.archives:
        with tarfile.open(directory / archive.name) as tar:
            for member in tar.getmembers():
                parsed = fmt.parse_member(member.name)
                if parsed and parsed[1] is not None:
                    assert parsed[0] in large
                elif parsed:
                    assert member.size == {**image_set.blob_sizes, **{m.digest: m.size for m in contents.manifests}}[parsed[0]]
    layout = extract(directory, tmp_path / "layout")
    for image, line in zip(image_set.images, lines):
        assert "sha256:" + hashlib.sha256(oci_raw(layout, line.split("=")[1])).hexdigest() == image.digest
    ref = lines[1].split("=")[1]
    skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:{ref}",
           f"docker://{plain_registry.host}/archive-split/app1:v1")
    # without a history, a re-run finds the same digests archived there and changes nothing
    again = export(lines, [plain_registry], directory, size=size, history=False)
    assert not again["changed"] and len(again["already_archived"]) == 3 and again["archives"] == result["archives"]


_DRIVER = r"""
import json, sys
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest, TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings

config = json.load(open(sys.argv[1]))
request = MappingMirrorRequest(
    mapping=tuple(config["lines"]), transfer=TransferSettings(parallel_images=1, parallel_layers=4),
    connection=ConnectionSettings(retries=1), archive=ArchiveSettings(directory=config["dir"], size=config["size"]))
run_mapping_export(request, AuthStore(registries=config["registries"], env={}))
print("FINISHED", flush=True)
"""

# The slow blob takes half a minute: a signal a few seconds in hits it mid-member. One image at a
# time (the slow one last), so the others' blobs are in the archive before it starts.
RATE = 128 * 1024
OWN_LAYER = 3 * 1024 * 1024


def journal_records(directory):
    try:
        with open(os.path.join(directory, fmt.STATE_DIR, "journal.jsonl"), "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError:
        return []
    records = []
    for line in lines[1:]:
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


def journal_state(directory):
    """(blobs complete, {digest: (archive, data offset)} of the places reserved) per the journal."""
    records = journal_records(directory)
    finished = {r["done"] for r in records if "done" in r}
    places = {r["reserve"]: (fmt.archive_name(r["spans"][0][0]), r["spans"][0][2]) for r in records if "reserve" in r}
    return finished, places


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_killed_export_resumes_without_fetching_finished_blobs(image_cache, plain_registry, fault_proxy_factory,
                                                               tmp_path, signum):
    images = image_cache.image_set(count=3, platforms=("linux/amd64",), shared_layers=1,
                                   shared_layer_size=32 * 1024, own_layer_size=OWN_LAYER, seed=78)
    push_image_set(images, plain_registry, "src-arch-int")
    source = fault_proxy_factory(plain_registry)
    slow = images.images[2].manifests[0].layers[-1].digest
    slow_rule = source.add_rule(slow_response(RATE), method="GET", path=slow.split(":", 1)[1], count=None)
    lines = lines_for(images, source.host, "src-arch-int")
    directory = tmp_path / "export"
    size = 5 * 1024 * 1024  # two big layers never share an archive
    proc = start_driver(tmp_path, _DRIVER, {"lines": lines, "registries": registry_options(source),
                                            "dir": str(directory), "size": size})

    def half_way():
        # a few blobs journaled, the slow one started, and a member half-written after the journal's last
        if len(journal_state(directory)[0]) >= 3 and slow_rule.fired:
            time.sleep(1)  # the slow blob streaming into its place for a while
            return True
        return False

    _out, err, _seconds = signal_when(proc, half_way, signum, progress=lambda: journal_state(directory)[0])
    finished, places = journal_state(directory)
    assert slow not in finished and len(finished) >= 3
    if signum == signal.SIGTERM:  # stopped: everything complete journaled, and the place of the slow blob
        assert "Interrupted: interrupted by SIGTERM" in err and slow in places, err[-2000:]
    assert not (directory / fmt.CONTENTS_FILE).exists()

    source.reset()
    result = export(lines, [source], directory, size=size, parallel_layers=4)
    assert result["changed"] and not result["failures"] and len(result["archived"]) == 3, result
    fetched = {path.rsplit("/", 1)[-1] for method, path, _status in source.log if method == "GET" and "/blobs/" in path}
    assert fetched == set(images.blob_sizes) - finished, "a blob the killed run finished was fetched again"
    contents = check_contents(directory, size_limit=size)
    assert not (directory / fmt.STATE_DIR).exists()
    if slow in places:  # the blob in flight went into the place the killed run had reserved for it
        entry = contents.blob_index()[slow]
        assert (entry.archive, entry.offset) == places[slow]
    layout = extract(directory, tmp_path / "layout")
    overhead, _data = tar_overhead(contents, os.path.getsize(layout / "index.json"))
    assert sum(a.size for a in contents.archives) == overhead  # the blob cut off left nothing behind
    for image, line in zip(images.images, lines):
        assert "sha256:" + hashlib.sha256(oci_raw(layout, line.split("=")[1])).hexdigest() == image.digest
    ref = lines[2].split("=")[1]
    skopeo("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", f"oci:{layout}:{ref}",
           f"docker://{plain_registry.host}/archive-resume/app2:v1")


@pytest.fixture
def watched(monkeypatch):
    """The ArchiveCopier of each export run in this process, and the futures of the blob jobs
    submitted to its blob threads."""
    seen = SimpleNamespace(copiers=[], jobs=[])
    real_run, real_submit = copier_module.ArchiveCopier.run, copier_module.ArchiveCopier._submit_blob_job

    def run(self, entries):
        seen.copiers.append(self)
        return real_run(self, entries)

    def submit(self, job, future):
        seen.jobs.append(future)
        return real_submit(self, job, future)

    monkeypatch.setattr(copier_module.ArchiveCopier, "run", run)
    monkeypatch.setattr(copier_module.ArchiveCopier, "_submit_blob_job", submit)
    return seen


def test_planned_images_are_archived_while_another_is_still_being_planned(image_cache, plain_registry,
                                                                          fault_proxy_factory, tmp_path, watched):
    """The export streams an image's blobs as soon as that image is planned: the source holding
    back one image's manifest does not hold back the others' blobs. Once archived, a blob's entry
    in the run's table is its outcome, not a future."""
    copiers, jobs = watched.copiers, watched.jobs
    images = image_cache.image_set(count=3, platforms=("linux/amd64",), shared_layers=1,
                                   shared_layer_size=64 * 1024, own_layer_size=64 * 1024, seed=83)
    push_image_set(images, plain_registry, "src-arch-early")
    source = fault_proxy_factory(plain_registry)
    held = images.images[2]
    released = threading.Event()
    rule = source.add_rule(hold(released), method="GET", path=f"/src-arch-early/{held.name}/manifests/", count=1)
    others = set().union(*(image.blobs for image in images.images[:2]))
    directory = tmp_path / "export"

    def fetched():
        return {path.rsplit("/", 1)[-1] for method, path, _status in list(source.log)
                if method == "GET" and "/blobs/" in path}

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(export, lines_for(images, source.host, "src-arch-early"), [source], directory)
        try:
            deadline = time.monotonic() + 30
            while not others <= fetched() and time.monotonic() < deadline and not running.done():
                time.sleep(0.05)
            archived_while_held = others <= fetched() and not released.is_set()
        finally:
            released.set()
        result = running.result()
    assert rule.fired == 1
    assert archived_while_held, "no blob of the planned images was fetched until the last image was planned"
    assert not result["failures"] and len(result["archived"]) == 3, result
    table = copiers[-1]._archiving
    assert set(table) == set(images.blob_sizes)
    # one job per blob: no owner probe (of the registry copy) waits in the blob threads' queue
    assert len(jobs) == len(images.blob_sizes)
    assert all(isinstance(outcome, BlobOutcome) and outcome.kind == "uploaded" for outcome in table.values())
    layout = extract(directory, tmp_path / "layout")
    for image, line in zip(images.images, lines_for(images, source.host, "src-arch-early")):
        assert "sha256:" + hashlib.sha256(oci_raw(layout, line.split("=")[1])).hexdigest() == image.digest


def test_stopped_at_a_failure_the_export_fetches_no_blob_it_had_queued(image_cache, plain_registry,
                                                                       fault_proxy_factory, tmp_path, watched):
    """continue_on_error false: once an image fails, the blobs phase 1 queued for the others are
    not fetched; those images are cancelled, not failed."""
    copiers, jobs = watched.copiers, watched.jobs
    images = image_cache.image_set(count=2, platforms=("linux/amd64",), shared_layers=1,
                                   shared_layer_size=64 * 1024, own_layer_size=64 * 1024, seed=84)
    push_image_set(images, plain_registry, "src-arch-stop")
    source = fault_proxy_factory(plain_registry)
    released, failing = threading.Event(), threading.Event()
    # the one blob thread busy with a blob when the bad line fails, and more blobs queued behind it
    blob_rule = source.add_rule(hold(released), method="GET", path="/blobs/", count=1)
    source.add_rule(hold(failing), method="GET", path="/absent/manifests/", count=1)
    bad = f"{source.host}/src-arch-stop/absent:v1={TARGET}/absent:v1"
    lines = lines_for(images, source.host, "src-arch-stop") + [bad]

    def blob_gets():
        return [path for method, path, _status in list(source.log) if method == "GET" and "/blobs/" in path]

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(export, lines, [source], tmp_path / "export", continue_on_error=False,
                              parallel_images=1, parallel_layers=1)
        try:
            deadline = time.monotonic() + 30
            while not blob_rule.fired and time.monotonic() < deadline:
                time.sleep(0.05)
            failing.set()
            while not (copiers and copiers[-1]._stop.is_set()) and time.monotonic() < deadline:
                time.sleep(0.05)
            stopped_while_held = bool(copiers) and copiers[-1]._stop.is_set() and blob_rule.fired == 1
            queued_at_stop = len(jobs)
        finally:
            failing.set()
            released.set()
        result = running.result()
    assert stopped_while_held
    assert queued_at_stop <= 2  # phase 1 runs at most 2 x parallel_layers blobs ahead
    assert len(blob_gets()) == 1, blob_gets()  # only the one in flight when the run stopped
    errors = {f["source"] if "source" in f else f["text"]: f["error"] for f in result["failures"]}
    assert any("absent" in key for key in errors), errors
    cancelled = [e for k, e in errors.items() if "absent" not in k]
    assert len(cancelled) == 2 and all("continue_on_error is false" in e for e in cancelled), errors
    assert result["summary"]["archived"] == 0 and result["summary"]["blobs_written"] <= 1, result["summary"]


def test_second_export_holds_only_the_new_version(image_cache, plain_registry, tmp_path):
    first_set = image_cache.image_set(count=2, shared_layers=2, shared_layer_size=64 * 1024,
                                      own_layer_size=16 * 1024, seed=5)
    push_image_set(first_set, plain_registry, "src-arch-inc")
    history = tmp_path / "connected" / "history.json"
    lines = lines_for(first_set, plain_registry.host, "src-arch-inc")
    first = export(lines, [plain_registry], tmp_path / "first", history=str(history))
    assert first["changed"] and len(first["archived"]) == 2 and history.exists()
    shipped = check_contents(tmp_path / "first")
    assert shipped.history.base_blobs == 0

    # one new version: app0:v2 shares the base layers, its own layers and configs are new
    grown = image_cache.image_set(count=3, shared_layers=2, shared_layer_size=64 * 1024,
                                  own_layer_size=16 * 1024, seed=5)
    new = grown.images[2]
    skopeo("copy", "--all", "--preserve-digests", "--quiet", "--dest-tls-verify=false", new.source,
           f"docker://{plain_registry.host}/src-arch-inc/app0:v2")
    lines.append(f"{plain_registry.host}/src-arch-inc/app0:v2={TARGET}/app0:v2")
    check = export(lines, [plain_registry], tmp_path / "second", history=str(history), check_mode=True)
    assert [m["dest"] for m in check["missing"]] == [f"{TARGET}/app0:v2"] and len(check["in_history"]) == 2
    new_blobs = set(new.blobs) - set(shipped.blob_index())
    assert check["missing"][0]["missing_bytes"] == sum(new.blobs[d] for d in new_blobs)

    second = export(lines, [plain_registry], tmp_path / "second", history=str(history))
    assert second["changed"] and [i["dest"] for i in second["archived"]] == [f"{TARGET}/app0:v2"], second
    contents = check_contents(tmp_path / "second")
    assert {b.digest for b in contents.blobs} == new_blobs
    assert {b.digest for b in contents.history.blobs} == set(new.blobs) - new_blobs
    assert contents.history.base_blobs == len(set(new.blobs) - new_blobs) > 0
    assert all(b.repository.startswith(TARGET + "/") for b in contents.history.blobs)
    assert {m.digest for m in contents.manifests} == {new.digest, *new.manifest_digests}
    index_size = len(fmt.index_json(contents.images, contents.manifest_index()))
    overhead = tar_overhead(contents, index_size)[0]
    assert second["summary"]["archive_bytes"] == overhead
    assert second["summary"]["blob_bytes_written"] == sum(new.blobs[d] for d in new_blobs)


def test_mirror_role_to_archives(tmp_path, plain_registry, image_set):
    """The mirror role with mirror_archive_dir: a filtered catalog (its images, and the pruned catalog
    image built here) and a mapping file of extra images, exported into two archive directories,
    the cluster files beside; re-runs change nothing."""
    from tests.support.catalog_images import push_catalog, write_demo_fbc
    from tests.support.playbook import run_playbook

    write_demo_fbc(str(tmp_path / "fbc"), image_set)
    index_ref = push_catalog(str(tmp_path / "fbc"), tmp_path, plain_registry, "src/archive-demo-index", "v1")[0]
    extra = tmp_path / "extra-mapping.txt"
    extra.write_text(f"{image_set.pushed['app0']}={TARGET}/extra/app0:v1\n")
    archive = tmp_path / "carry"
    extra_vars = {
        "mirror_catalogs": [{"source": index_ref, "packages": ["demo"]}],
        "mirror_dest": TARGET,  # never contacted: everything goes into the archives
        "mirror_output_dir": str(tmp_path / "out"),
        "mirror_mapping_files": [str(extra)],
        "mirror_archive_dir": str(archive),
        "mirror_archive_size": "300KiB",
        "mirror_cache_dir": str(tmp_path / "cache"),
        "mirror_registries": registry_options(plain_registry),
    }
    playbook = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "playbooks", "mirror.yml")
    results = {}
    # three of the four ways: check mode after a complete export is checked on the module above
    for label, check in (("check", True), ("real", False), ("real-again", False)):
        run = run_playbook(str(tmp_path / label), playbook, extra_vars, check=check)
        assert run.rc == 0, (label, run.output[-3000:])
        facts = [t["result"]["ansible_facts"]["mirror_result"] for t in run.result["tasks"]
                 if t["task"].endswith("Set mirror_result")]
        results[label] = (run, facts[-1])
        if label == "check":
            assert not archive.exists(), "check mode wrote archives"
    check, real = results["check"][1], results["real"][1]
    # the head bundle and its related image, and the pruned catalog
    assert check["changed"] and check["catalog_copy"]["would_archive"] == 3 and check["mapping_copy"]["would_archive"] == 1
    assert real["changed"] and real["catalog_copy"]["archived"] == 3 and real["mapping_copy"]["archived"] == 1
    assert real["archive_dirs"] == [str(archive), str(archive / "images")]
    run, again = results["real-again"]
    assert run.result["stats"]["localhost"]["changed"] == 0, run.output[-3000:]
    assert again["changed"] is False and again["catalog_copy"]["in_history"] == 3
    catalogs = check_contents(archive, size_limit=300 * 1024)
    assert len(catalogs.images) == 3 and catalogs.dest == TARGET
    pruned = yaml.safe_load((archive / fmt.MANIFESTS_DIR / "archive-demo-index" / "catalogSource.yaml").read_text())
    assert pruned["spec"]["image"] == real["catalogs"][0]["catalog_image"]
    name, digest = pruned["spec"]["image"].split("@")
    assert [(i.target.rsplit(":", 1)[0], i.digest) for i in catalogs.images][-1] == (name, digest)
    images = check_contents(archive / "images", size_limit=300 * 1024)
    assert [i.target for i in images.images] == [f"{TARGET}/extra/app0:v1"]
    manifests = archive / fmt.MANIFESTS_DIR / "archive-demo-index"
    for name in ("mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "catalogSource.yaml"):
        assert (manifests / name).read_text() == (tmp_path / "out" / "archive-demo-index" / name).read_text(), name
    layout = extract(archive, tmp_path / "layout")
    for image in catalogs.images:
        assert "sha256:" + hashlib.sha256(oci_raw(layout, image.target)).hexdigest() == image.digest


def test_a_catalog_with_no_image_to_copy_still_exports_its_pruned_catalog(plain_registry, tmp_path):
    """catalog_mirror to archives, a local catalog whose one bundle lists no image (its manifests
    travel in the catalog): nothing to copy, but the catalog image built on base_image goes into
    the archives, complete (manifests and every layer, base layers included)."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import catalog_specs
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalogs import catalog_mirror
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CatalogMirrorRequest
    from tests.support.opm_base import push_opm_base

    base_ref = push_opm_base(tmp_path / "base", plain_registry, repo="base/archive-opm")[0]
    fbc = tmp_path / "fbc" / "solo"
    fbc.mkdir(parents=True)
    blobs = [{"schema": "olm.package", "name": "solo", "defaultChannel": "stable"},
             {"schema": "olm.channel", "package": "solo", "name": "stable", "entries": [{"name": "solo.v1.0.0"}]},
             {"schema": "olm.bundle", "package": "solo", "name": "solo.v1.0.0", "image": "",
              "properties": [{"type": "olm.package", "value": {"packageName": "solo", "version": "1.0.0"}}]}]
    (fbc / "catalog.json").write_text("".join(json.dumps(b) + "\n" for b in blobs))
    directory = tmp_path / "carry"
    request = CatalogMirrorRequest(
        catalogs=tuple(catalog_specs([{"source": str(tmp_path / "fbc"), "packages": ["solo"],
                                       "target_name": "local/solo-index", "target_tag": "v1"}])),
        dest=TARGET, output_dir=str(tmp_path / "out"), base_image=base_ref,
        transfer=TransferSettings(filter_by_os="linux/amd64"), connection=ConnectionSettings(retries=1),
        archive=ArchiveSettings(directory=str(directory), history=False, dest=TARGET))
    auth = AuthStore(registries=registry_options(plain_registry), env={})
    check = catalog_mirror(request, auth, check_mode=True)
    assert check["changed"] and check["summary"]["would_archive"] == 1 and not directory.exists(), check
    result = catalog_mirror(request, auth)
    assert not result["failures"] and result["images"] == 0, result
    build = result["catalogs"][0]["build"]
    assert [i["dest"] for i in result["archived"]] == [build["dest"]], result
    contents = check_contents(directory)
    assert [(i.target, i.digest) for i in contents.images] == [(build["dest"], build["digest"])]
    layout = extract(directory, tmp_path / "layout")
    assert "sha256:" + hashlib.sha256(oci_raw(layout, build["dest"])).hexdigest() == build["digest"]
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:{build['dest']}",
           f"docker://{plain_registry.host}/archive-solo/index:v1")  # every blob read and checked
    cs = yaml.safe_load((directory / fmt.MANIFESTS_DIR / result["catalogs"][0]["name"] / "catalogSource.yaml").read_text())
    assert cs["spec"]["image"] == result["catalogs"][0]["catalog_image"]
    again = catalog_mirror(request, auth)
    assert not again["changed"] and again["archives"] == result["archives"], again
