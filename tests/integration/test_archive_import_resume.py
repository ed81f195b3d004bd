# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""archive_import resumed (issue 10): the archives an earlier run checked are not hashed again
unless their file changed; a changed one is hashed and, damaged, refused naming the archive and
the blob. Archives from the independent fixture writer (tests/support/archives.py), pushed into a
TLS + htpasswd registry."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive import reader
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.format import ArchiveError
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.importer import (
    ArchiveImportRequest,
    run_archive_import,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.verified import RACY_NS, STATE_FILE
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from tests.support.archives import flip_byte, member_of, write_archives
from tests.support.driver import signal_when, start_driver
from tests.support.registry import registry_options


def _images(image_set, prefix: str) -> list[dict]:
    return [{"source": image_set.pushed[i.name], "target": f"{prefix}/{i.name}:{i.tag}", "digest": i.digest,
             "media_type": i.media_type} for i in image_set.images]


def _request(archive_dir, verify="changed", dest=None) -> ArchiveImportRequest:
    return ArchiveImportRequest(archive_dir=str(archive_dir), dest=dest, verify=verify,
                                transfer=TransferSettings(progress_interval=0.2),
                                connection=ConnectionSettings(retries=1))


def _auth(*endpoints) -> AuthStore:
    return AuthStore(registries=registry_options(*endpoints), env={})


@pytest.fixture
def hashed(monkeypatch) -> list:
    """The archives each run reads whole to hash them (reset by the test between runs)."""
    paths: list = []
    plain = reader._hash_file

    def spy(path, on_bytes):
        paths.append(os.path.basename(path))
        return plain(path, on_bytes)

    monkeypatch.setattr(reader, "_hash_file", spy)
    return paths


def _wait_past_racy_window() -> None:
    # An archive written less than RACY_NS before its check is hashed again next time (a write in
    # the same timestamp tick would go unseen): archives just written must age past it first.
    time.sleep(RACY_NS / 1e9 + 0.1)


def _interrupt_mid_push(tmp_path, archive_dir, target, image_set) -> None:
    """Run the import in a child whose read of one image's own layer crawls, and SIGTERM it once
    the other images landed."""
    held = image_set.images[2]
    slow = held.manifests[0].layers[-1].digest
    proc = start_driver(tmp_path, _DRIVER, {"archive_dir": str(archive_dir), "registries": registry_options(target),
                                            "slow": slow})

    def tagged():
        return [p for m, p, code in list(target.log) if m == "PUT" and p.endswith("/manifests/v1") and code == 201]

    out, err, _seconds = signal_when(proc, lambda: len(tagged()) == len(image_set.images) - 1, signal.SIGTERM,
                                     progress=lambda: target.log)
    assert proc.returncode == 130 and "INTERRUPTED SIGTERM" in out, (out, err)


def test_interrupted_import_is_resumed_without_hashing_the_archives_again(image_set, registry_factory,
                                                                          fault_proxy_factory, hashed, tmp_path):
    """Interrupted mid-push, the import is run again: every archive is trusted (none read to hash
    it) and the import completes. Check mode and verify=always still hash every archive."""
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    contents = write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix,
                              archive_size=400 * 1024)
    names = [a["name"] for a in contents["archives"]]
    assert len(names) >= 3
    _wait_past_racy_window()

    _interrupt_mid_push(tmp_path, archive_dir, target, image_set)
    state = json.loads((archive_dir / STATE_FILE).read_text())
    assert sorted(state["archives"]) == names
    assert {n: e["sha256"] for n, e in state["archives"].items()} == {a["name"]: a["sha256"]
                                                                      for a in contents["archives"]}

    result = run_archive_import(_request(archive_dir), _auth(target))
    assert result["failures"] == [], result["failures"]
    assert result["archives_trusted"] == names and result["archives_verified"] == []
    assert result["summary"]["archives_trusted"] == len(names) and result["summary"]["archives_verified"] == 0
    assert result["verify_state_file"] == str(archive_dir / STATE_FILE)
    assert hashed == []
    assert [i["dest"] for i in result["pushed"]] == [f"{prefix}/{image_set.images[2].name}:v1"]
    assert len(result["present"]) == len(image_set.images) - 1

    before = (archive_dir / STATE_FILE).read_bytes()
    check = run_archive_import(_request(archive_dir), _auth(target), check_mode=True)
    assert check["archives_verified"] == names and check["archives_trusted"] == []
    assert check["verify_state_file"] is None and check["changed"] is False
    assert hashed == names
    assert (archive_dir / STATE_FILE).read_bytes() == before  # check mode records nothing

    del hashed[:]
    always = run_archive_import(_request(archive_dir, verify="always"), _auth(target))
    assert always["archives_verified"] == names and always["archives_trusted"] == [] and hashed == names
    assert always["changed"] is False


def test_changed_archive_is_checked_again_and_refused(image_set, registry_factory, fault_proxy_factory, hashed,
                                                      tmp_path):
    """After a complete import, one archive rewritten in place with its mtime put back and another
    modified plainly: both are hashed again and refused, naming the archive and the blob, before
    any request reaches the registry; the untouched ones stay trusted."""
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    contents = write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix,
                              archive_size=400 * 1024)
    names = [a["name"] for a in contents["archives"]]
    _wait_past_racy_window()
    first = run_archive_import(_request(archive_dir), _auth(target))
    assert first["failures"] == [] and first["archives_verified"] == names and hashed == names

    # one image's own layer (rewritten in place, mtime put back), and a shared base layer
    own = image_set.images[1].manifests[0].layers[-1].digest
    base = image_set.images[0].manifests[0].layers[0].digest
    own_entry, base_entry = member_of(contents, own), member_of(contents, base)
    base_archive = (base_entry.get("parts") or [base_entry])[0]
    assert own_entry["archive"] != base_archive["archive"]
    own_path = archive_dir / own_entry["archive"]
    kept = os.stat(own_path)
    flip_byte(str(archive_dir), own_entry["archive"], own_entry["offset"] + 10)
    os.utime(own_path, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert os.stat(own_path).st_mtime_ns == kept.st_mtime_ns and os.stat(own_path).st_ino == kept.st_ino
    flip_byte(str(archive_dir), base_archive["archive"], base_archive["offset"] + 10)

    target.reset()
    del hashed[:]
    with pytest.raises(ArchiveError) as caught:
        run_archive_import(_request(archive_dir), _auth(target))
    message = str(caught.value)
    assert sorted(hashed) == sorted([own_entry["archive"], base_archive["archive"]])
    assert f"2 of {len(names)} archives" in message and "Nothing was pushed" in message
    assert f"{own_entry['archive']} has sha256" in message and f"{base_archive['archive']} has sha256" in message
    assert own in message and base in message
    assert target.count() == 0
    state = json.loads((archive_dir / STATE_FILE).read_text())
    assert sorted(state["archives"]) == sorted(set(names) - {own_entry["archive"], base_archive["archive"]})

    # copied again (here: the byte flipped back), only those two are hashed, and they pass
    flip_byte(str(archive_dir), own_entry["archive"], own_entry["offset"] + 10)
    flip_byte(str(archive_dir), base_archive["archive"], base_archive["offset"] + 10)
    del hashed[:]
    again = run_archive_import(_request(archive_dir), _auth(target))
    assert again["failures"] == [] and again["changed"] is False
    assert sorted(again["archives_verified"]) == sorted(hashed) == sorted([own_entry["archive"],
                                                                           base_archive["archive"]])
    assert sorted(again["archives_trusted"]) == sorted(set(names) - set(hashed))
    # checked within a second of their last write, they are not trusted on the next run yet
    del hashed[:]
    racy = run_archive_import(_request(archive_dir), _auth(target))
    assert sorted(racy["archives_verified"]) == sorted([own_entry["archive"], base_archive["archive"]])


def test_damage_the_record_cannot_see_is_caught_at_the_blob(image_set, registry_factory, fault_proxy_factory,
                                                            tmp_path):
    """A byte flipped below the file system (simulated: the record rewritten to the damaged file's
    identity) leaves the archive trusted; the blob is still hashed as it streams, so the image
    needing it fails naming the blob and the registry never stores it. The archive leaves the
    record, so the next run refuses it before pushing anything."""
    target = fault_proxy_factory(registry_factory(tls=True, auth="htpasswd"))
    prefix = f"{target.host}/imp"
    archive_dir = tmp_path / "archives"
    contents = write_archives(str(archive_dir), image_set.layout, _images(image_set, prefix), prefix,
                              archive_size=400 * 1024)
    _wait_past_racy_window()
    assert run_archive_import(_request(archive_dir), _auth(target))["failures"] == []

    held = image_set.images[1]
    own = held.manifests[0].layers[-1].digest
    entry = member_of(contents, own)
    flip_byte(str(archive_dir), entry["archive"], entry["offset"] + 10)
    state_path = archive_dir / STATE_FILE
    state = json.loads(state_path.read_text())
    now = os.stat(archive_dir / entry["archive"])
    state["archives"][entry["archive"]].update(mtime_ns=now.st_mtime_ns, ctime_ns=now.st_ctime_ns,
                                               checked_ns=now.st_ctime_ns + 2 * RACY_NS)
    state_path.write_text(json.dumps(state))

    target.reset()
    other = f"{target.host}/other"  # where the registry has nothing yet
    result = run_archive_import(_request(archive_dir, dest=other), _auth(target))
    assert entry["archive"] in result["archives_trusted"]
    assert [f["dest"] for f in result["failures"]] == [f"{other}/{held.name}:v1"]
    assert own in result["failures"][0]["error"]
    assert own not in target.uploaded_by_digest
    assert f"/v2/other/{held.name}/blobs/{own}" not in [p for m, p, code in target.log if m == "HEAD" and code == 200]
    assert len(result["pushed"]) == len(image_set.images) - 1
    # the damaged archive left the record: the next run hashes it and refuses it before pushing
    assert entry["archive"] not in json.loads(state_path.read_text())["archives"]
    target.reset()
    with pytest.raises(ArchiveError) as caught:
        run_archive_import(_request(archive_dir, dest=other), _auth(target))
    assert f"({entry['archive']})" in str(caught.value) and own in str(caught.value)
    assert target.count() == 0


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
plain_open, plain_chunks = reader.ArchiveReader.open_blob, reader.ArchiveReader._raw_chunks


def open_blob(self, digest, chunk_size=reader.CHUNK):
    # the one slow blob: 1 KiB every 0.2 s, so the run is still pushing it when it is interrupted
    return plain_open(self, digest, 1024 if digest == config["slow"] else chunk_size)


def slow_chunks(self, pieces, chunk_size):
    for chunk in plain_chunks(self, pieces, chunk_size):
        if chunk_size == 1024:
            time.sleep(0.2)
        yield chunk


reader.ArchiveReader._raw_chunks = slow_chunks
reader.ArchiveReader.open_blob = open_blob
request = ArchiveImportRequest(
    archive_dir=config["archive_dir"],
    transfer=TransferSettings(parallel_images=3, parallel_layers=4),
    connection=ConnectionSettings(retries=1))
try:
    with interruptible():
        run_archive_import(request, AuthStore(registries=config["registries"], env={}))
except KeyboardInterrupt as exc:
    print("INTERRUPTED", getattr(exc, "signame", "SIGINT"), flush=True)
    sys.exit(130)
print("FINISHED", flush=True)
"""
