#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: archive_import
short_description: Push mirror archives carried across the air gap into the private registry
version_added: 0.2.0
description:
  - The disconnected side of a mirror to disk. Reads the directory an export wrote
    (M(airgap.operatorhub.image_mirror_from_mapping) or M(airgap.operatorhub.catalog_mirror) with
    C(archive_dir)) after it was carried across the gap, and pushes its images into the private
    registry under their planned target names, as C(oc image mirror --from-dir) /
    C(oc adm catalog mirror file://...) or C(oc-mirror --from) do.
  - Every archive's size and sha256 is checked against C(contents.json) before anything is pushed.
    A damaged archive refuses the whole import, naming the archive and each blob or manifest the
    damage hit; nothing is pushed then.
  - Blobs are read straight from the tar files by offset (no extraction, no extra disk space; a blob
    split over several archives is joined from its parts as it streams), their digests checked while
    streaming. Blobs the registry already has are skipped; manifests are pushed children first once
    their blobs are in, and each is checked with a HEAD afterwards (the check that catches
    C(manifest unknown) at install time), as the direct mirror does, in the same bounded pools.
  - An interrupted import, run again, does not push again what landed, and does not hash again the
    archives an earlier run checked and nobody touched since (see O(verify)).
  - An incremental export (C(archive_history)) leaves out what an earlier export shipped. Those blobs
    must already be in the registry; they are mounted where the new images need them. When they are
    not there, the import fails before pushing anything, naming the missing blobs and their images,
    and says how to recover.
  - When the images are in, the plan's files (C(mapping.txt) and, from catalog_mirror, the
    ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet, CatalogSource and
    ClusterCatalog files of each catalog) are written to O(output_dir), rewritten for O(dest)
    when it is given.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
extends_documentation_fragment:
  - airgap.operatorhub.registry
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Checks every archive's checksum and the incremental base, reads the registry only, and lists
        what would be pushed (RV(missing)) and the files that would be written.
      - Check mode hashes every archive whatever O(verify) says, since checking the archives on arrival is
        what it is run for, and writes nothing, not even the record of the archives checked.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details: Images whose target tag already holds their digest are left alone (RV(present)); files already holding their content are not written.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - The action plugin shows the push's progress in the job output (see O(progress_display)); all work is done by the module.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
options:
  archive_dir:
    description:
      - The directory the export wrote, carried whole - C(contents.json), C(mapping.txt),
        C(manifests/) and every C(archive-NNNN.tar).
    type: path
    required: true
  dest:
    description:
      - Push under this registry (and optional path prefix), C(mirror.internal:5000/olm), instead of the
        destination the export planned (C(dest) in C(contents.json)). Each target keeps its path under
        the planned prefix - C(mirror.example.com:5000/olm/ubi9-ubi:9.4) with the planned prefix
        C(mirror.example.com:5000/olm) and O(dest=mirror.internal:5000/ocp) goes to
        C(mirror.internal:5000/ocp/ubi9-ubi:9.4).
      - The files written to O(output_dir) are rewritten for it - the destinations of C(mapping.txt), the
        C(mirrors) of the mirror sets and the image of each CatalogSource and ClusterCatalog.
      - Not set, the images go to their planned names and the files are copied unchanged.
    type: str
  output_dir:
    description:
      - Where the plan's files are written once every image is in - C(mapping.txt), and one directory per
        catalog holding its cluster files as C(catalog_mirror)'s C(output_dir) holds them, ready for
        C(oc apply -f) or the cluster roles. Created when missing.
      - Not set, no file is written.
    type: path
  verify:
    description:
      - Which archives have their sha256 checked against C(contents.json) before anything is pushed.
      - V(changed) hashes every archive except those an earlier run of this module hashed and that
        nobody touched since. After an archive's checksum passes, its file identity is recorded - size,
        modification and change times in nanoseconds, inode and device - with the sha256
        C(contents.json) gives it. An archive is trusted without hashing only when all of these are the
        same and C(contents.json) still gives that sha256; any difference hashes it again. So an
        interrupted import, or one that refused a damaged archive that was then copied again, re-checks
        only what changed instead of every archive (minutes on a large set). RV(archives_verified)
        lists the archives hashed by this run, RV(archives_trusted) those that were not.
      - V(always) hashes every archive on every run.
      - V(changed) is the default because it is as safe where it matters. A file rewritten in place
        with its modification time put back (C(cp -p), C(touch -r), C(rsync -t) onto the same inode) still
        gets a new change time, which nothing can set back, so it is hashed again; and an archive
        modified within a second before its check is not trusted later. What the record cannot see is
        damage below the file system, a failing disk or USB stick flipping a byte in place. Even then
        nothing damaged reaches the registry - every blob and manifest is hashed again while it streams
        to the registry, and the image that needs a damaged blob fails naming it; that archive leaves the
        record, so the next run hashes it and refuses it. What is lost is only that the import refuses
        such an archive before pushing anything. Use V(always) when the archives sit on media you do not
        trust between runs.
      - The record is C(.import-state.json) in O(archive_dir) when that directory is writable, else
        C($XDG_CACHE_HOME/airgap.operatorhub/import-state/<hash of the archive_dir path>.json)
        (C(~/.cache/...) when unset), see RV(verify_state_file). It is a cache - deleting it only makes the
        next run hash every archive. It is written with both settings, outside check mode.
    type: str
    choices: [changed, always]
    default: changed
  parallel_images:
    description: How many images are pushed at the same time.
    type: int
    default: 4
  parallel_layers:
    description: How many blobs are pushed at the same time, across all images.
    type: int
    default: 8
  continue_on_error:
    description:
      - Go on with the other images when one fails; the task fails at the end with a summary.
      - V(false) stops starting new images after the first failure.
    type: bool
    default: true
  report_file:
    description:
      - Write a JSON report here, updated while the run goes on (the archive check, then the push's
        progress and finished images) and complete at the end.
      - Beside it, a small file named after it (C(report.json) gives C(report.progress.json)) holds
        only the latest progress figures, for a progress display to poll.
    type: path
  progress_interval:
    description: Seconds between progress updates of O(report_file) and of the job output.
    type: float
    default: 5
  progress_display:
    description:
      - How the push's progress (images, bytes, rate, ETA) reaches the job output while the task runs,
        as for M(airgap.operatorhub.image_mirror_from_mapping) - V(auto), V(poll) or V(off).
    type: str
    choices: [auto, poll, "off"]
    default: auto
notes:
  - Check the archives on arrival, before the registry is even reachable, with a check-mode run - the
    checksums are verified first and a damaged archive is named.
seealso:
  - module: airgap.operatorhub.image_mirror_from_mapping
  - module: airgap.operatorhub.catalog_mirror
  - name: oc-mirror
    description: The tool whose C(--from) import this module replaces.
    link: https://docs.openshift.com/container-platform/latest/disconnected/mirroring/installing-mirroring-disconnected.html
"""

EXAMPLES = r"""
- name: Check the archives that just arrived (checksums, base of an incremental export, what would be pushed)
  airgap.operatorhub.archive_import:
    archive_dir: /media/usb/mirror
  check_mode: true

- name: Push them into the private registry under the names the export planned
  airgap.operatorhub.archive_import:
    archive_dir: /media/usb/mirror
    output_dir: /srv/mirror/manifests
    registries:
      - host: mirror.example.com:5000
        username: mirror
        password: "{{ vault_mirror_password }}"
        ca_path: /etc/pki/mirror-ca.pem
    report_file: /srv/mirror/import-report.json

- name: Resume an interrupted import, hashing again every archive (media not trusted between runs)
  airgap.operatorhub.archive_import:
    archive_dir: /media/usb/mirror
    output_dir: /srv/mirror/manifests
    verify: always

- name: Push into another registry than the planned one; the cluster files are rewritten for it
  airgap.operatorhub.archive_import:
    archive_dir: /media/usb/mirror
    dest: registry.lab.internal:8443/olm
    output_dir: /srv/mirror/manifests
"""

RETURN = r"""
pushed:
  description: Images pushed by this run, each with its target (C(dest)), digest and bytes sent.
  returned: always
  type: list
  elements: dict
  sample:
    - origin: contents.json images[0]
      source: registry.redhat.io/ubi9/ubi:9.4
      dest: mirror.example.com:5000/olm/ubi9-ubi:9.4
      dest_digest: sha256:0d5c...
      bytes_sent: 79204352
present:
  description: Images whose target already held their digest, so not pushed.
  returned: always
  type: list
  elements: dict
missing:
  description: In check mode, images the target does not hold yet, with the number of blobs and bytes to push.
  returned: check mode
  type: list
  elements: dict
failures:
  description: Images that could not be pushed, each with the reason. The task fails when this is not empty.
  returned: always
  type: list
  elements: dict
bytes_sent:
  description: Blob bytes written to the registry by this run.
  returned: always
  type: int
archives_verified:
  description:
    - The archives this run hashed, whose size and sha256 matched C(contents.json).
    - With O(verify=changed), the archives an earlier run checked are in RV(archives_trusted) instead;
      in check mode or with O(verify=always), every archive is here.
  returned: always
  type: list
  elements: str
  sample: [archive-0003.tar]
archives_trusted:
  description:
    - The archives not hashed by this run because an earlier run's check passed and their file (size,
      modification and change times, inode, device) and their sha256 in C(contents.json) are unchanged
      since (O(verify=changed)).
  returned: always
  type: list
  elements: str
  sample: [archive-0001.tar, archive-0002.tar]
verify_state_file:
  description:
    - Where the record of the archives checked is kept (see O(verify)); null in check mode, or when it
      could neither be read nor written (a warning then says why).
  returned: always
  type: str
  sample: /media/usb/mirror/.import-state.json
dest:
  description: The registry and prefix the images were pushed under (O(dest), else the planned one).
  returned: always
  type: str
files:
  description: Every file of the plan in O(output_dir).
  returned: always
  type: list
  elements: str
files_written:
  description: The files of O(output_dir) written by this run (in check mode, that would be written).
  returned: always
  type: list
  elements: str
files_pending:
  description: When some image failed, the files that were not written, so that none points at a partial mirror.
  returned: always
  type: list
  elements: str
summary:
  description: Counts of this run.
  returned: always
  type: dict
  sample:
    images: 40
    copied: 38
    present: 2
    missing: 0
    failed: 0
    cancelled: 0
    archives: 3
    archives_verified: 1
    archives_trusted: 2
    archive_bytes: 12884901888
    blobs_uploaded: 122
    blobs_mounted: 40
    blobs_present: 3
    base_blobs_mounted: 0
    bytes_sent: 1048576000
    retries: 0
    elapsed_seconds: 41.2
report_file:
  description: Path of the JSON report, when O(report_file) was given.
  returned: when O(report_file) is set
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import (
    COPY_ARGUMENT_SPEC,
    connection_settings,
    registry_argument_spec,
    run_module,
    transfer_settings,
)

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.importer import (
    ArchiveImportRequest,
    run_archive_import,
)


def archive_import_request(module):
    params = module.params
    return ArchiveImportRequest(
        archive_dir=params["archive_dir"],
        dest=params.get("dest"),
        output_dir=params.get("output_dir"),
        verify=params["verify"],
        transfer=transfer_settings(params),
        connection=connection_settings(params),
    )


def main():
    # the copy engine's options, but filter_by_os: the archives hold what the export chose
    copy_options = {name: spec for name, spec in COPY_ARGUMENT_SPEC.items() if name != "filter_by_os"}
    module = AnsibleModule(
        argument_spec=registry_argument_spec(
            archive_dir=dict(type="path", required=True),
            dest=dict(type="str"),
            output_dir=dict(type="path"),
            verify=dict(type="str", choices=["changed", "always"], default="changed"),
            **copy_options,
        ),
        supports_check_mode=True,
    )
    run_module(module, archive_import_request, run_archive_import, libraries=("urllib3", "PyYAML"))


if __name__ == "__main__":
    main()
