#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_mirror_from_mapping
short_description: Mirror the images of a mapping.txt, verified, in parallel, resumable
version_added: 0.1.0
description:
  - Copies every C(SOURCE=DESTINATION) line of one or more mapping files (as written by
    C(oc adm catalog mirror --manifests-only) or trimmed by hand) from registry to registry.
    It replaces C(oc image mirror -f mapping.txt) and the C(skopeo copy --all) loop used when
    C(oc image mirror) leaves manifests missing.
  - A manifest list or OCI index is copied whole and byte-identical (same digest) unless
    O(filter_by_os) is set.
  - Blobs are deduplicated across the whole run, mounted across repositories of the target
    registry when one already holds them, skipped when already present, streamed with constant
    memory, and their digests verified while streaming. A manifest is pushed only after all its
    blobs are in place, children before parents, and every pushed manifest is checked with a
    HEAD afterwards (the check that catches C(manifest unknown) at install time).
  - A bad mapping line is reported with its file and line number and skipped; the other lines
    are mirrored; the task then fails with a summary. An interrupted run, run again, does not send
    again what already landed.
  - When the task runs on the controller (C(delegate_to=localhost) or a local connection),
    progress (images, bytes, rate, ETA) is shown in the job output while it runs; it is always
    written to O(report_file) when one is given.
  - With O(archive_dir) the images are written into size-limited archives to carry across the air
    gap instead of being pushed (registry to disk); the plan and the target names stay the same.
    The action plugin runs M(airgap.operatorhub.archive_export) for such a task (the module itself,
    run without its action plugin, refuses O(archive_dir)).
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
extends_documentation_fragment:
  - airgap.operatorhub.registry
  - airgap.operatorhub.copy
  - airgap.operatorhub.mapping
  - airgap.operatorhub.archive
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - A dry run that contacts the registries read-only and lists what is missing in the target.
      - With O(archive_dir), it reads the sources only and lists what would be archived (RV(missing)).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details:
      - Images whose destination tag already holds the source digest are left alone (RV(present)).
      - With O(archive_dir), a completed export run again with nothing new changes nothing.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - The action plugin shows progress in the job output (see O(progress_display)); all work is done by the module.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details:
      - With C(poll) above zero Ansible polls the job and the task returns the module's result; with
        C(poll=0) use M(ansible.builtin.async_status). No progress lines are shown then; O(report_file)
        is kept current as the run goes.
seealso:
  - module: airgap.operatorhub.archive_export
    description: The same mapping written into archives to carry across the air gap.
  - name: oc image mirror
    description: The command this module replaces.
    link: https://docs.openshift.com/container-platform/latest/cli_reference/openshift_cli/administrator-cli-commands.html#oc-image-mirror
"""

EXAMPLES = r"""
- name: Mirror what oc adm catalog mirror --manifests-only planned
  airgap.operatorhub.image_mirror_from_mapping:
    mapping_file: /srv/mirror/manifests-redhat-operator-index/mapping.txt
    auth_file: /srv/mirror/auth.json
    report_file: /srv/mirror/report.json
  delegate_to: localhost

- name: Mirror two images, the private registry with its own CA
  airgap.operatorhub.image_mirror_from_mapping:
    mapping:
      - registry.redhat.io/ubi9/ubi:9.4=mirror.example.com:5000/ubi9/ubi:9.4
      - quay.io/example/op@sha256:4b3f7c3e3d8cb7dbbfa4f49c2bcf37f8c8d4b1c4cbd3c39f4f0e9f3c6e5a1b2c=mirror.example.com:5000/example/op
    registries:
      - host: mirror.example.com:5000
        username: mirror
        password: "{{ vault_mirror_password }}"
        ca_path: /etc/pki/mirror-ca.pem

- name: Dry run, to see what is missing in the target
  airgap.operatorhub.image_mirror_from_mapping:
    mapping_file: mapping.txt
  check_mode: true
  register: plan

- name: Mirror one mapping from every host of a group, each host a part of it
  airgap.operatorhub.image_mirror_from_mapping:
    mapping_file: /srv/mirror/mapping.txt
    shard_count: "{{ ansible_play_hosts | length }}"
    shard_index: "{{ ansible_play_hosts.index(inventory_hostname) }}"

- name: Registry to disk, in archives of at most 4 GiB, leaving out what earlier exports shipped
  airgap.operatorhub.image_mirror_from_mapping:
    mapping_file: /srv/mirror/mapping.txt
    archive_dir: /media/usb/mirror
    archive_size: 4GiB
    archive_history: /srv/mirror/history.json
  register: exported

- name: Only the amd64 entries of a few operators
  airgap.operatorhub.image_mirror_from_mapping:
    mapping_file: mapping.txt
    include: ['/openshift-gitops', '/rhacm2/']
    filter_by_os: 'linux/amd64'
"""

RETURN = r"""
copied:
  description: Images copied by this run.
  returned: unless O(archive_dir) is set
  type: list
  elements: dict
  sample:
    - source: registry.redhat.io/ubi9/ubi:9.4
      dest: mirror.example.com:5000/ubi9/ubi:9.4
      source_digest: sha256:0d5c...
      dest_digest: sha256:0d5c...
      digest_changed: false
      bytes_sent: 79204352
present:
  description:
    - Images already present in the target with the same digest, so not copied. The same outcome
      is counted as C(present) in RV(summary), in O(report_file) and in the mirror role's summary.
  returned: unless O(archive_dir) is set
  type: list
  elements: dict
missing:
  description:
    - In check mode, images the target does not hold yet, with the number of blobs and bytes to send.
    - With O(archive_dir), the images that would be archived, with the blobs and bytes not in the history.
  returned: check mode
  type: list
  elements: dict
failures:
  description:
    - Mapping lines that could not be parsed and images that could not be copied, each with its
      origin (file:line) and the reason. The task fails when this is not empty.
  returned: always
  type: list
  elements: dict
  sample:
    - origin: mapping.txt:14
      text: quay.io/example/op=mirror.example.com/example/op
      error: the source has no tag or digest; add :tag or @sha256:... to the source
bytes_sent:
  description: Blob bytes written to the target registries by this run.
  returned: unless O(archive_dir) is set
  type: int
summary:
  description:
    - Counts of this run.
    - With O(archive_dir) - images, archived, in_history, failed, bad_lines, blobs_written,
      blob_bytes_written, bytes_written, base_blobs (left out, already shipped), archives,
      archive_bytes, retries, elapsed_seconds; in check mode also would_archive and would_write_bytes.
  returned: always
  type: dict
  sample:
    images: 40
    copied: 38
    present: 2
    missing: 0
    failed: 0
    cancelled: 0
    bad_lines: 0
    blobs_uploaded: 122
    blobs_mounted: 40
    blobs_present: 3
    bytes_sent: 1048576000
    retries: 1
    elapsed_seconds: 41.2
archived:
  description:
    - With O(archive_dir), images written into the archives by this run, each with the bytes and
      blobs it added (blobs shared with an image archived before count once).
  returned: when O(archive_dir) is set
  type: list
  elements: dict
  sample:
    - source: registry.redhat.io/ubi9/ubi:9.4
      dest: mirror.example.com:5000/ubi9/ubi:9.4
      source_digest: sha256:0d5c...
      dest_digest: sha256:0d5c...
      digest_changed: false
      bytes_written: 79204352
      blobs_written: 3
in_history:
  description:
    - With O(archive_dir), images an earlier export already shipped to the same target with the same
      digest (O(archive_history)), so not archived again.
  returned: when O(archive_dir) is set
  type: list
  elements: dict
already_archived:
  description:
    - With O(archive_dir), on a re-run that changes nothing, the images the export in O(archive_dir)
      already holds with the same digest (those the history does not list as shipped).
  returned: when O(archive_dir) is set and the run changed nothing
  type: list
  elements: dict
archives:
  description: With O(archive_dir), every archive of the export, in order, with its size and sha256 (hex).
  returned: when O(archive_dir) is set
  type: list
  elements: dict
  sample:
    - name: archive-0001.tar
      size: 4294966272
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
contents:
  description: With O(archive_dir), the path of C(contents.json) (null when nothing was written).
  returned: when O(archive_dir) is set
  type: str
  sample: /media/usb/mirror/contents.json
mapping:
  description: With O(archive_dir), the path of the C(mapping.txt) written beside the archives.
  returned: when O(archive_dir) is set
  type: str
archive_dir:
  description: With O(archive_dir), the directory as an absolute path.
  returned: when O(archive_dir) is set
  type: str
history:
  description: With O(archive_dir), the path of the history file, or null when O(archive_history=false).
  returned: when O(archive_dir) is set
  type: str
bytes_written:
  description: With O(archive_dir), bytes this run wrote into archives (blob data, tar headers and padding).
  returned: when O(archive_dir) is set
  type: int
report_file:
  description: Path of the JSON report, when O(report_file) was given.
  returned: when O(report_file) is set
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import (
    ARCHIVE_ARGUMENT_SPEC,
    mapping_argument_spec,
    mapping_mirror_request,
    run_module,
)

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import run_mapping_mirror


def main():
    module = AnsibleModule(
        # archive_dir: the action plugin runs archive_export instead; accepted here to refuse it clearly
        argument_spec=mapping_argument_spec(**ARCHIVE_ARGUMENT_SPEC),
        required_one_of=[("mapping_file", "mapping")],
        supports_check_mode=True,
    )
    run_module(module, mapping_mirror_request, run_mapping_mirror)


if __name__ == "__main__":
    main()
