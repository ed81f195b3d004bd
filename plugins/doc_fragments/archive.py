# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Mirror to archives instead of a registry: image_mirror_from_mapping and catalog_mirror, and
    # archive_export (whose own options make archive_dir required: Ansible merges an option a module
    # documents into the fragment's, and ansible-test wants every fragment attribute a literal).
    DOCUMENTATION = r"""
options:
  archive_dir:
    description:
      - Write the images into tar archives in this directory instead of pushing them, to carry them
        across the air gap (what C(oc image mirror ... file://) and C(oc-mirror --to file://) do).
        M(airgap.operatorhub.archive_import) pushes them on the other side to the planned target
        names, or under another registry.
      - The directory receives C(archive-0001.tar), C(archive-0002.tar) ... (one OCI image layout with
        one deduplicated blob store, spread over the archives; extracted together they give a
        directory that C(skopeo copy oci:DIR:TARGET) reads), C(contents.json) (every blob and manifest
        with the archive and offset that holds it, the size and sha256 of every archive) and
        C(mapping.txt) (the plan, with the planned target names).
      - Blobs stream from the source into the archive, digest-checked on the way; nothing is staged
        elsewhere on disk, so the export needs free space for the archives only.
      - An export killed half-way resumes where it stopped when run again (journal in C(.state/)).
        Run again with the same plan after it completed and nothing changed, it changes nothing.
        Otherwise an export replaces the previous one in the same directory, so carry (or move
        away) the archives first.
      - An export is written whole by one host. With O(archive_dir), C(shard_count) above 1 (which
        splits a mirror to a registry between hosts) is refused; give each host its own mapping file
        and O(archive_dir) instead.
    type: path
  archive_size:
    description:
      - The largest size of one archive, such as V(4GiB) (powers of 1024), V(700MB) (powers of 1000)
        or a number of bytes; at least 16 KiB. Unlimited when not set.
      - A blob never crosses from one archive to the next, except a blob larger than
        O(archive_size), which is split into numbered parts (C(<digest>.part-0001) ...), one per archive.
    type: raw
  archive_history:
    description:
      - The file that records, per target registry, the blobs, manifests and images already
        shipped; kept on the connected side. The next export leaves out the blobs it records and
        the images whose target already got the same digest, so its archives hold only what is new
        (oc-mirror re-ships everything). Manifests of the images archived are always included.
      - The history is updated only once an export completed without failure. C(contents.json)
        lists the blobs an export left out; the import checks that the private registry has them.
      - Defaults to C(history.json) in O(archive_dir). V(false) ships everything every time.
      - If the private registry lost what an earlier export carried, export again with
        O(archive_history=false), or move the history away.
    type: raw
"""
