# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""archive_import (issue 10, the import side) against real registries: archives written by the
independent fixture writer (tests/support/archives.py) from the generated images, pushed into a
TLS + htpasswd registry, checked with skopeo."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import ssl
import signal

import pytest
import yaml

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.importer import (
    ArchiveImportRequest,
    run_archive_import,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from tests.support.archives import flip_byte, member_of, write_archives
from tests.support.corpus import CRDS
from tests.support.crd_schemas import assert_matches_crd
from tests.support.driver import signal_when, start_driver
from tests.support.images import skopeo
from tests.support.playbook import run_playbook
from tests.support.registry import registry_options

PLANNED = "mirror.example.com:5000/olm"
PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "playbooks", "import.yml")
CRD_FILES = {
    "ImageDigestMirrorSet": CRDS / "openshift-api" / "0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml",
    "ImageContentSourcePolicy": CRDS / "openshift-api" / "0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml",
    "CatalogSource": CRDS / "operator-framework-api" / "operators.coreos.com_catalogsources.yaml",
}


def _images(image_set, prefix: str, names=None) -> list[dict]:
    return [{"source": image_set.pushed[i.name], "target": f"{prefix}/{i.name}:{i.tag}", "digest": i.digest,
             "media_type": i.media_type}
            for i in image_set.images if names is None or i.name in names]


def _cluster_files(prefix: str, image_set) -> dict:
    source_repo = image_set.pushed[image_set.images[0].name].rsplit(":", 1)[0]
    idms = {"apiVersion": "config.openshift.io/v1", "kind": "ImageDigestMirrorSet",
            "metadata": {"name": "cs-app-0", "labels": {"operators.openshift.org/catalog": "true"}},
            "spec": {"imageDigestMirrors": [{"source": source_repo, "mirrors": [f"{prefix}/app0"]}]}}
    icsp = {"apiVersion": "operator.openshift.io/v1alpha1", "kind": "ImageContentSourcePolicy",
            "metadata": {"name": "cs-app-0"},
            "spec": {"repositoryDigestMirrors": [{"source": source_repo, "mirrors": [f"{prefix}/app0"]}]}}
    catalog = {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "CatalogSource",
               "metadata": {"name": "cs-app", "namespace": "openshift-marketplace"},
               "spec": {"image": f"{prefix}/app1:v1", "sourceType": "grpc"}}
    return {"cs-app/imageDigestMirrorSet.yaml": "---\n" + yaml.safe_dump(idms),
            "cs-app/imageContentSourcePolicy.yaml": "---\n" + yaml.safe_dump(icsp),
            "cs-app/catalogSource.yaml": "---\n" + yaml.safe_dump(catalog),
            "cs-app/mapping.txt": "".join(f"{i['source']}={i['target']}\n" for i in _images(image_set, prefix))}


def _request(archive_dir, dest=None, output_dir=None, report=None, **transfer) -> ArchiveImportRequest:
    return ArchiveImportRequest(archive_dir=str(archive_dir), dest=dest, output_dir=output_dir and str(output_dir),
                                transfer=TransferSettings(report_file=report, progress_interval=0.2, **transfer),
                                connection=ConnectionSettings(retries=1))


def _auth(*endpoints) -> AuthStore:
    return AuthStore(registries=registry_options(*endpoints), env={})


_ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"


def _get(endpoint, path: str, method: str = "GET") -> tuple:
    """(status, JSON body or None) of one request with the registry's credentials."""
    context = ssl.create_default_context(cafile=endpoint.ca_path)
    connection = http.client.HTTPSConnection("127.0.0.1", endpoint.port, timeout=10, context=context)
    token = base64.b64encode(f"{endpoint.username}:{endpoint.password}".encode()).decode()
    try:
        connection.request(method, path, headers={"Authorization": f"Basic {token}", "Accept": _ACCEPT})
        response = connection.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body and method == "GET" else None
    finally:
        connection.close()


def _writes(proxy) -> list:
    return [(method, path) for method, path, dummy in proxy.log if method in ("PUT", "POST", "PATCH")]


def test_round_trip_split_blobs_check_mode_and_rerun(image_set, registry_factory, skopeo_inspect, tmp_path):
    """One ansible-playbook run: the module in check mode pushes nothing; playbooks/import.yml
    gives the source digests (a blob larger than archive_size joined from its parts) and writes the
    files unchanged; run again, it changes nothing."""
    target = registry_factory(tls=True, auth="htpasswd")
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    contents = write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix,
                              archive_size=200 * 1024, manifests_dir=_cluster_files(prefix, image_set))
    split = [b for b in contents["blobs"] if b.get("parts")]
    assert split and len(contents["archives"]) > 3  # the 256 KiB base layers were split
    out = tmp_path / "out"
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([
        {"name": "check", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "check the archives", "airgap.operatorhub.archive_import": {
                "archive_dir": "{{ import_archive_dir }}", "output_dir": "{{ import_output_dir }}",
                "registries": "{{ import_registries }}"}, "check_mode": True},
            {"name": "registry still empty", "ansible.builtin.uri": {
                "url": f"https://{target.host}/v2/_catalog", "ca_path": target.ca_path, "url_username": target.username,
                "url_password": target.password, "force_basic_auth": True}, "register": "catalog"},
            {"name": "record", "ansible.builtin.assert": {"that": ["catalog.json.repositories == []"]}}]},
        {"import_playbook": PLAYBOOK},
        {"import_playbook": PLAYBOOK},
    ], sort_keys=False))
    run = run_playbook(str(tmp_path / "run"), str(play), {
        "import_hosts": "localhost", "import_archive_dir": str(archive_dir), "import_output_dir": str(out),
        "import_registries": registry_options(target)})
    assert run.rc == 0, run.output
    assert target.password not in run.output
    tasks = {}
    for task in run.result["tasks"]:
        tasks.setdefault(task["task"].split(" : ", 1)[-1], []).append(task["result"])
    check = tasks["check the archives"][0]
    assert check["changed"] is True and check["pushed"] == [] and check["bytes_sent"] == 0
    assert sorted(i["dest"] for i in check["missing"]) == sorted(f"{prefix}/{i.name}:v1" for i in image_set.images)
    assert check["archives_verified"] == [a["name"] for a in contents["archives"]]
    assert check["files_written"] == check["files"] and len(check["files"]) == 5
    real, again = (r["ansible_facts"]["import_result"] for r in tasks["Set import_result"])
    assert real["changed"] is True and real["pushed"] == 3 and real["present"] == 0
    assert real["bytes_sent"] == image_set.total_blob_bytes
    assert sorted(real["files_written"]) == sorted(check["files"])
    assert again["changed"] is False and again["pushed"] == 0 and again["present"] == 3
    assert again["bytes_sent"] == 0 and again["files_written"] == []
    # the role's import_verify (changed): the re-run trusts what the first real run hashed
    names = [a["name"] for a in contents["archives"]]
    assert real["archives_verified"] == names and real["archives_trusted"] == []
    assert again["archives_verified"] == [] and again["archives_trusted"] == names
    for image in image_set.images:
        raw = skopeo_inspect(target, f"imp/{image.name}:v1", raw=True)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest
        for manifest in image.manifests:
            assert skopeo_inspect(target, f"imp/{image.name}@{manifest.digest}", raw=True)
    # every file of the plan, byte for byte, since no dest was given
    for relative, text in _cluster_files(prefix, image_set).items():
        assert (out / relative).read_text() == text
    assert (out / "mapping.txt").read_text() == (archive_dir / "mapping.txt").read_text()


def test_damaged_archive_is_refused_before_anything_is_pushed(image_set, registry_factory, fault_proxy_factory,
                                                              tmp_path):
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    contents = write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix,
                              archive_size=400 * 1024)
    assert len(contents["archives"]) >= 2
    own_layer = image_set.images[2].manifests[1].layers[-1].digest
    entry = member_of(contents, own_layer)
    assert entry["archive"] != contents["archives"][0]["name"]
    flip_byte(str(archive_dir), entry["archive"], entry["offset"] + 100)

    with pytest.raises(ArchiveError) as caught:
        run_archive_import(_request(archive_dir), _auth(target))
    message = str(caught.value)
    assert f"({entry['archive']})" in message and own_layer in message
    assert "Nothing was pushed" in message
    # only the damaged blob is named, and no other archive
    others = [a["name"] for a in contents["archives"] if a["name"] != entry["archive"]]
    assert not any(name in message for name in others)
    assert not [b["digest"] for b in contents["blobs"] if b["digest"] != own_layer and b["digest"] in message], message
    assert target.count() == 0  # not one request reached the target registry


def test_interrupted_import_resumes_without_pushing_again(image_set, registry_factory, fault_proxy_factory, tmp_path):
    """SIGTERM mid-way (two images in, the third one's own layer still streaming from a slowed
    archive read), then a re-run: nothing that landed is pushed again."""
    upstream = registry_factory(tls=True, auth="htpasswd")
    target = fault_proxy_factory(upstream)
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix)
    held = image_set.images[2]
    slow = held.manifests[0].layers[-1].digest
    report = tmp_path / "report.json"
    proc = start_driver(tmp_path, _DRIVER, {"archive_dir": str(archive_dir), "registries": registry_options(target),
                                            "report": str(report), "slow": slow})
    others = [i for i in image_set.images if i is not held]

    def half_way():
        tagged = [p for m, p, code in list(target.log) if m == "PUT" and p.endswith("/manifests/v1") and code == 201]
        with target._lock:
            done = set(target.uploaded_by_digest)
        return len(tagged) == len(others) and set(image_set.blob_sizes) - done == {slow}

    out, err, _seconds = signal_when(proc, half_way, signal.SIGTERM, progress=lambda: target.log)
    assert proc.returncode == 130 and "INTERRUPTED SIGTERM" in out, (out, err)
    assert "Traceback" not in err, err
    first_uploads = dict(target.uploaded_by_digest)
    assert set(first_uploads) == set(image_set.blob_sizes) - {slow}
    assert json.loads(report.read_text())["state"] == "interrupted"
    assert _get(upstream, f"/v2/imp/{held.name}/manifests/v1", "HEAD")[0] == 404

    target.reset()
    result = run_archive_import(_request(archive_dir), _auth(target))
    assert result["failures"] == [], result["failures"]
    assert [i["dest"] for i in result["pushed"]] == [f"{prefix}/{held.name}:v1"]
    assert sorted(i["dest"] for i in result["present"]) == sorted(f"{prefix}/{i.name}:v1" for i in others)
    # the re-run wrote only into the held image's repository: its missing blob and its manifests
    writes = _writes(target)
    assert writes and all(p.startswith(f"/v2/imp/{held.name}/") for dummy, p in writes), writes
    assert set(target.uploaded_by_digest) == {slow}
    assert result["bytes_sent"] == image_set.blob_sizes[slow]
    assert _get(upstream, f"/v2/imp/{held.name}/manifests/v1", "HEAD")[0] == 200


_DRIVER = r"""
import json, sys, time
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import reader
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.importer import (
    ArchiveImportRequest, run_archive_import)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.interrupt import interruptible

config = json.load(open(sys.argv[1]))
plain = reader.ArchiveReader.open_blob


def open_blob(self, digest, chunk_size=reader.CHUNK):
    # the one slow blob of the test: read 1 KiB every 0.2 s (a minute for its 32 KiB)
    return plain(self, digest, 1024 if digest == config["slow"] else chunk_size)


def slow_chunks(self, pieces, chunk_size):
    for chunk in reader.ArchiveReader._plain_chunks(self, pieces, chunk_size):
        if chunk_size == 1024:
            time.sleep(0.2)
        yield chunk


reader.ArchiveReader._plain_chunks = reader.ArchiveReader._raw_chunks
reader.ArchiveReader._raw_chunks = slow_chunks
reader.ArchiveReader.open_blob = open_blob
request = ArchiveImportRequest(
    archive_dir=config["archive_dir"],
    transfer=TransferSettings(parallel_images=3, parallel_layers=4, report_file=config["report"], progress_interval=0.2),
    connection=ConnectionSettings(retries=1))
try:
    with interruptible():
        run_archive_import(request, AuthStore(registries=config["registries"], env={}))
except KeyboardInterrupt as exc:
    print("INTERRUPTED", getattr(exc, "signame", "SIGINT"), flush=True)
    sys.exit(130)
print("FINISHED", flush=True)
"""


def test_dest_moves_images_and_rewrites_cluster_files(image_set, registry_factory, skopeo_inspect, tmp_path):
    target = registry_factory(tls=True, auth="htpasswd")
    archive_dir = tmp_path / "archives"
    write_archives(str(archive_dir), image_set.layout, _images(image_set, PLANNED), PLANNED,
                   manifests_dir=_cluster_files(PLANNED, image_set))
    (archive_dir / ".state").mkdir()  # as an export that did not complete leaves it
    out = tmp_path / "out"
    new = f"{target.host}/moved/here"
    result = run_archive_import(_request(archive_dir, dest=new, output_dir=out), _auth(target))
    assert result["failures"] == [] and len(result["pushed"]) == 3 and result["dest"] == new
    assert [w for w in result["warnings"] if "did not complete" in w]
    for image in image_set.images:
        assert skopeo_inspect(target, f"moved/here/{image.name}:v1", raw=True)
    idms = yaml.safe_load((out / "cs-app" / "imageDigestMirrorSet.yaml").read_text())
    icsp = yaml.safe_load((out / "cs-app" / "imageContentSourcePolicy.yaml").read_text())
    catalog = yaml.safe_load((out / "cs-app" / "catalogSource.yaml").read_text())
    for obj in (idms, icsp, catalog):
        assert_matches_crd(obj, CRD_FILES[obj["kind"]])
    source_repo = image_set.pushed[image_set.images[0].name].rsplit(":", 1)[0]
    assert idms["spec"]["imageDigestMirrors"] == [{"source": source_repo, "mirrors": [f"{new}/app0"]}]
    assert icsp["spec"]["repositoryDigestMirrors"] == [{"source": source_repo, "mirrors": [f"{new}/app0"]}]
    assert catalog["spec"]["image"] == f"{new}/app1:v1"
    # the catalog image the CatalogSource names is really there
    assert skopeo_inspect(target, catalog["spec"]["image"], raw=True)
    for mapping in (out / "mapping.txt", out / "cs-app" / "mapping.txt"):
        lines = mapping.read_text().splitlines()
        assert lines == [f"{image_set.pushed[i.name]}={new}/{i.name}:v1" for i in image_set.images]
    assert PLANNED not in "".join(p.read_text() for p in out.rglob("*") if p.is_file())


def test_incremental_archive_needs_its_base(image_set, registry_factory, fault_proxy_factory, skopeo_inspect,
                                            tmp_path):
    """An archive without the shared base layers: into an empty registry it fails before anything
    is pushed, naming the blobs and the recovery; once the base was imported, it completes (the
    base mounted from the repository the history names)."""
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    prefix = f"{target.host}/imp"
    first, second = image_set.images[0], image_set.images[1]
    base_layers = {layer.digest for m in first.manifests for layer in m.layers[:-1]}
    history = {"path": "/srv/export/history.json", "base_blobs": len(base_layers),
               "blobs": [{"digest": d, "size": image_set.blob_sizes[d], "repository": f"{prefix}/{first.name}"}
                         for d in sorted(base_layers)], "images": []}
    increment = tmp_path / "increment"
    write_archives(str(increment), image_set.layout, _images(image_set, prefix, [second.name]), prefix,
                   skip=base_layers, history=history)

    with pytest.raises(ArchiveError) as caught:
        run_archive_import(_request(increment), _auth(target))
    message = str(caught.value)
    for digest in base_layers:
        assert digest in message
    assert f"{prefix}/{second.name}:v1" in message
    assert "archive_history: false" in message and "reset the history" in message
    assert _writes(target) == []

    base = tmp_path / "base"
    write_archives(str(base), image_set.layout, _images(image_set, prefix, [first.name]), prefix)
    assert run_archive_import(_request(base), _auth(target))["failures"] == []
    target.reset()
    result = run_archive_import(_request(increment), _auth(target))
    assert result["failures"] == [] and [i["dest"] for i in result["pushed"]] == [f"{prefix}/{second.name}:v1"]
    assert result["summary"]["base_blobs_mounted"] == len(base_layers)
    assert not set(target.uploaded_by_digest) & base_layers  # mounted, not uploaded
    assert json.loads(skopeo_inspect(target, f"imp/{second.name}:v1", raw=True))["manifests"]
    for manifest in second.manifests:
        for layer in manifest.layers:
            assert _get(target, f"/v2/imp/{second.name}/blobs/{layer.digest}", "HEAD")[0] == 200


def test_export_then_import_through_the_modules(image_set, image_cache, plain_registry, registry_factory,
                                                skopeo_inspect, tmp_path):
    """The whole air gap in one ansible-playbook run: image_mirror_from_mapping writes archives
    (blobs split; its action plugin runs archive_export), archive_import pushes them under another
    registry (dest); a new image version exported with the history by archive_export run directly
    holds only its new blobs, and its import completes it."""
    target = registry_factory(tls=True, auth="htpasswd")
    new = image_cache.image_set(count=1, shared_layers=2, shared_layer_size=256 * 1024, own_layer_size=32 * 1024,
                                seed=1, name_prefix="next")
    version = new.images[0]
    skopeo("copy", "--all", "--preserve-digests", "--quiet", *plain_registry.skopeo_args("dest"), version.source,
           f"docker://{plain_registry.host}/src/app0:v2")
    first_lines = [f"{image_set.pushed[i.name]}={PLANNED}/{i.name}:v1" for i in image_set.images]
    second_lines = first_lines + [f"{plain_registry.host}/src/app0:v2={PLANNED}/app0:v2"]
    first, second = tmp_path / "first", tmp_path / "second"
    history = tmp_path / "history.json"
    dest = f"{target.host}/olm"

    def export(lines, directory, module="image_mirror_from_mapping"):
        return {f"airgap.operatorhub.{module}": {
            "mapping": lines, "archive_dir": str(directory), "archive_size": "200KiB",
            "archive_history": str(history), "registries": registry_options(plain_registry)}}

    def import_(directory, name):
        return {"name": name, "airgap.operatorhub.archive_import": {
            "archive_dir": str(directory), "dest": dest, "registries": registry_options(target)}}

    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "export", **export(first_lines, first)}, import_(first, "import"),
        {"name": "export again", **export(second_lines, second, "archive_export")}, import_(second, "import again"),
    ]}], sort_keys=False))
    run = run_playbook(str(tmp_path / "run"), str(play), {})
    assert run.rc == 0, run.output
    results = {task["task"]: task["result"] for task in run.result["tasks"]}

    contents = json.loads((first / "contents.json").read_text())
    assert any(b.get("parts") for b in contents["blobs"])
    for name, directory, count in (("export", first, 3), ("export again", second, 1)):
        exported = results[name]
        assert exported["changed"] and len(exported["archived"]) == count and exported["failures"] == []
        assert exported["contents"] == str(directory / "contents.json") and exported["summary"]["archived"] == count
    imported = results["import"]
    assert len(imported["pushed"]) == 3 and imported["dest"] == dest
    assert imported["bytes_sent"] == image_set.total_blob_bytes
    for image in image_set.images:
        raw = skopeo_inspect(target, f"olm/{image.name}:v1", raw=True)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == image.digest

    increment = json.loads((second / "contents.json").read_text())
    base = set(image_set.blob_sizes)
    assert {b["digest"] for b in increment["blobs"]} == set(version.blobs) - base
    assert [i["target"] for i in increment["images"]] == [f"{PLANNED}/app0:v2"]
    again = results["import again"]
    assert [i["dest"] for i in again["pushed"]] == [f"{dest}/app0:v2"]
    assert again["bytes_sent"] == sum(size for digest, size in version.blobs.items() if digest not in base)
    raw = skopeo_inspect(target, "olm/app0:v2", raw=True)
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == version.digest
    for manifest in version.manifests:
        for layer in manifest.layers:
            assert _get(target, f"/v2/olm/app0/blobs/{layer.digest}", "HEAD")[0] == 200
