# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The mapping options: image_mirror_from_mapping and archive_export read the same lines.
    DOCUMENTATION = r"""
options:
  mapping_file:
    description:
      - Path to a mapping file, or a list of them, one C(SOURCE=DESTINATION) per line, C(#) comments
        allowed (the C(mapping.txt) of C(oc adm catalog mirror), the C(-f) file of C(oc image mirror)).
      - At least one of O(mapping_file) and O(mapping) is required; a task whose files hold no
        mapping line at all (only blank lines and comments) fails, naming the files.
    type: list
    elements: path
  mapping:
    description:
      - Mapping lines given inline, C(SOURCE=DESTINATION) each, added to those of O(mapping_file).
    type: list
    elements: str
  include:
    description:
      - Only mirror lines whose source reference matches one of these regular expressions (searched, not anchored).
    type: list
    elements: str
  exclude:
    description:
      - Skip lines whose source reference matches one of these regular expressions.
    type: list
    elements: str
  digest_tag:
    description:
      - The tag given to a destination whose source is pinned by digest only (C(src@sha256:...=dst)),
        so the registry keeps it.
      - V(oc) is the FNV-1a hash of the source that C(oc adm catalog mirror) uses; V(oc-mirror) is
        C(sha256-<hex>) as oc-mirror v2 writes; V(short) is the first 8 hex characters of the digest.
    type: str
    choices: [oc, oc-mirror, short]
    default: oc
  shard_count:
    description:
      - Split the mapping into this many parts, for as many hosts to mirror in parallel (an AWX job
        template fanning out over the execution nodes of an inventory group). Each host mirrors the
        part O(shard_index) names.
      - Lines are split by destination repository with a stable hash, so each repository is
        mirrored by one host and every host computes the same split from the same files. Blobs
        shared between repositories of different parts are sent once per part.
    type: int
    default: 1
  shard_index:
    description:
      - Which part of O(shard_count) this task mirrors, from V(0); typically
        C("{{ ansible_play_hosts.index(inventory_hostname) }}") with
        O(shard_count=ansible_play_hosts | length).
    type: int
    default: 0
"""
