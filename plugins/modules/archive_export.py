#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: archive_export
short_description: Mirror the images of a mapping into archives to carry across the air gap
version_added: 0.2.0
description:
  - The connected side of a mirror to disk, the counterpart of M(airgap.operatorhub.archive_import).
    Reads the C(SOURCE=DESTINATION) lines of mapping files as
    M(airgap.operatorhub.image_mirror_from_mapping) does, and writes the images into size-limited
    archives in O(archive_dir) instead of pushing them (C(oc image mirror ... file://),
    C(oc-mirror --to file://)); the plan and the target names stay the ones of the mapping.
  - M(airgap.operatorhub.image_mirror_from_mapping) with O(archive_dir) runs this module; both take
    the same options and return the same result.
  - A manifest list or OCI index is archived whole and byte-identical (same digest) unless
    O(filter_by_os) is set. Blobs are deduplicated across the whole export, streamed with constant
    memory and their digests verified while streaming.
  - A bad mapping line is reported with its file and line number and skipped; the other lines are
    archived; the task then fails with a summary, and running it again resumes the export.
  - When the task runs on the controller (C(delegate_to=localhost) or a local connection),
    progress (images, bytes, rate, ETA) is shown in the job output while it runs; it is always
    written to O(report_file) when one is given.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
options:
  archive_dir:
    # the rest of this option is the archive fragment's
    required: true
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
      - Reads the sources only and lists what would be archived (RV(missing)); writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details:
      - A completed export run again with nothing new changes nothing (RV(already_archived), RV(in_history)).
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
  - module: airgap.operatorhub.archive_import
    description: Pushes the archives into the private registry on the other side of the gap.
  - module: airgap.operatorhub.image_mirror_from_mapping
    description: The same mapping mirrored registry to registry.
"""

EXAMPLES = r"""
- name: Registry to disk, in archives of at most 4 GiB, leaving out what earlier exports shipped
  airgap.operatorhub.archive_export:
    mapping_file: /srv/mirror/mapping.txt
    archive_dir: /media/usb/mirror
    archive_size: 4GiB
    archive_history: /srv/mirror/history.json
  register: exported

- name: See what an export would write, reading the sources only
  airgap.operatorhub.archive_export:
    mapping_file: /srv/mirror/mapping.txt
    archive_dir: /media/usb/mirror
  check_mode: true
  register: plan

- name: Everything, every time (no history), amd64 entries only
  airgap.operatorhub.archive_export:
    mapping:
      - registry.redhat.io/ubi9/ubi:9.4=mirror.example.com:5000/ubi9/ubi:9.4
    archive_dir: /media/usb/ubi
    archive_history: false
    filter_by_os: 'linux/amd64'
"""

RETURN = r"""
archived:
  description:
    - Images written into the archives by this run, each with the bytes and blobs it added (blobs
      shared with an image archived before count once).
  returned: always
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
    - Images an earlier export already shipped to the same target with the same digest
      (O(archive_history)), so not archived again.
  returned: always
  type: list
  elements: dict
already_archived:
  description:
    - On a re-run that changes nothing, the images the export in O(archive_dir) already holds with
      the same digest (those the history does not list as shipped).
  returned: when the run changed nothing
  type: list
  elements: dict
missing:
  description: In check mode, the images that would be archived, with the blobs and bytes not in the history.
  returned: check mode
  type: list
  elements: dict
failures:
  description:
    - Mapping lines that could not be parsed and images that could not be archived, each with its
      origin (file:line) and the reason. The task fails when this is not empty.
  returned: always
  type: list
  elements: dict
archives:
  description: Every archive of the export, in order, with its size and sha256 (hex).
  returned: always
  type: list
  elements: dict
  sample:
    - name: archive-0001.tar
      size: 4294966272
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
contents:
  description: The path of C(contents.json) (null when nothing was written).
  returned: always
  type: str
  sample: /media/usb/mirror/contents.json
mapping:
  description: The path of the C(mapping.txt) written beside the archives (null when nothing was written).
  returned: always
  type: str
archive_dir:
  description: O(archive_dir) as an absolute path.
  returned: always
  type: str
history:
  description: The path of the history file, or null when O(archive_history=false).
  returned: always
  type: str
bytes_written:
  description: Bytes this run wrote into archives (blob data, tar headers and padding).
  returned: always
  type: int
summary:
  description:
    - Counts of this run - images, archived, in_history, failed, bad_lines, blobs_written,
      blob_bytes_written, bytes_written, base_blobs (left out, already shipped), archives,
      archive_bytes, retries, elapsed_seconds; in check mode also would_archive and would_write_bytes;
      on a re-run that changed nothing, already_archived.
  returned: always
  type: dict
  sample:
    images: 40
    archived: 38
    in_history: 2
    failed: 0
    bad_lines: 0
    blobs_written: 122
    blob_bytes_written: 1048576000
    bytes_written: 1048601600
    base_blobs: 3
    archives: 1
    archive_bytes: 1048602624
    retries: 0
    elapsed_seconds: 41.2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import (
    ARCHIVE_ARGUMENT_SPEC,
    mapping_argument_spec,
    run_module,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_archive import mapping_export_request

from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export


def main():
    archive_options = dict(ARCHIVE_ARGUMENT_SPEC)
    archive_options["archive_dir"] = dict(type="path", required=True)
    module = AnsibleModule(
        argument_spec=mapping_argument_spec(**archive_options),
        required_one_of=[("mapping_file", "mapping")],
        supports_check_mode=True,
    )
    run_module(module, mapping_export_request, run_mapping_export)


if __name__ == "__main__":
    main()
