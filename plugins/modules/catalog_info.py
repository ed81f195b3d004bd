#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_info
short_description: List the packages, channels and images of an operator catalog
version_added: 0.1.0
description:
  - Reads an operator catalog and lists its packages with their default channel, channels and
    channel heads, and bundle counts, as C(oc-mirror list operators --catalog CATALOG) and
    C(opm render CATALOG) do.
  - The catalog is a catalog (index) image in a registry (for example
    C(registry.redhat.io/redhat/redhat-operator-index:v4.14)), a local File-Based Catalog
    directory or file, or a legacy sqlite C(index.db).
  - With a filter (O(packages), O(full) or O(imageset_config)), lists what the filter keeps and
    the images a mirror of it needs (O(packages) is the C(mirror.operators[].packages) of an
    oc-mirror ImageSetConfiguration).
  - A catalog image is unpacked once per digest into O(cache_dir); a later run on the same digest
    does not download it again.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
extends_documentation_fragment:
  - airgap.operatorhub.registry
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row, the second run reports no change.
    support: full
    details: Read-only; never reports a change.
options:
  catalog:
    description:
      - The catalog to read. An existing local path is read as an FBC directory or file, or as a
        sqlite C(index.db) (told apart by content); anything else is an image reference.
      - Required unless O(imageset_config) names exactly one catalog.
    type: str
  packages:
    description:
      - Keep only these packages. Each item is a package name, or a dictionary as in an
        oc-mirror ImageSetConfiguration (C(name), C(channels) (names, or dictionaries with
        C(name), C(minVersion), C(maxVersion)), C(minVersion), C(maxVersion), C(defaultChannel),
        C(bundles)).
      - Without versions, only the head of each kept channel is kept (oc-mirror's default).
    type: list
    elements: raw
  full:
    description:
      - Keep every bundle of the kept channels rather than the channel heads (oc-mirror C(full)).
        With no O(packages), the whole catalog, which is what C(oc adm catalog mirror) mirrors.
      - With O(packages), O(full) or O(imageset_config), the result also lists RV(images).
    type: bool
    default: false
  include_dependencies:
    description:
      - Also keep the packages the kept bundles require (C(olm.package.required),
        C(olm.gvk.required)), at their channel heads.
    type: bool
    default: false
  imageset_config:
    description:
      - An oc-mirror ImageSetConfiguration (C(v2alpha1)), as a file path or as its content (a
        dictionary); the C(mirror.operators) entry of O(catalog) gives the filter.
      - Exclusive with O(packages).
    type: raw
  cache_dir:
    description:
      - Where catalog images are unpacked, one directory per digest. Defaults to
        C($XDG_CACHE_HOME/airgap.operatorhub/catalogs) (C(~/.cache/...)).
      - The cache is filled in check mode too; it is not a result of the task.
    type: path
  platform:
    description: The platform entry read from a multi-platform catalog image, as C(os/architecture[/variant]).
    type: str
    default: linux/amd64
seealso:
  - module: airgap.operatorhub.catalog_mirror
  - name: oc-mirror list operators
    description: The command this module replaces.
    link: https://docs.openshift.com/container-platform/latest/disconnected/mirroring/installing-mirroring-disconnected.html
"""

EXAMPLES = r"""
- name: What does the Red Hat catalog offer?
  airgap.operatorhub.catalog_info:
    catalog: registry.redhat.io/redhat/redhat-operator-index:v4.14
    auth_file: /srv/mirror/auth.json
  register: redhat

- name: Default channel of every package
  ansible.builtin.debug:
    msg: "{{ redhat.packages | items2dict(key_name='name', value_name='default_channel') }}"

- name: The images two operators need, at their channel heads
  airgap.operatorhub.catalog_info:
    catalog: registry.redhat.io/redhat/redhat-operator-index:v4.14
    packages:
      - openshift-gitops-operator
      - name: advanced-cluster-management
        channels:
          - name: release-2.9
  register: needed

- name: A local FBC directory filtered by an ImageSetConfiguration
  airgap.operatorhub.catalog_info:
    catalog: /srv/catalogs/redhat-operator-index/configs
    imageset_config: /srv/mirror/imageset-config.yaml
"""

RETURN = r"""
catalog:
  description: The catalog read.
  returned: always
  type: str
  sample: registry.redhat.io/redhat/redhat-operator-index:v4.14
digest:
  description: The digest the catalog image resolved to.
  returned: when the catalog is an image
  type: str
  sample: sha256:7b8c...
packages:
  description:
    - The packages (kept by the filter, when there is one), sorted by name, each with its default
      channel, its channels sorted by name with the head bundle of each and its version, and its
      bundle count.
  returned: always
  type: list
  elements: dict
  sample:
    - name: etcd
      default_channel: alpha
      channels:
        - name: alpha
          head: etcdoperator.v0.9.4
          head_version: 0.9.4
      bundles: 3
images:
  description:
    - With a filter, the sorted image references a mirror needs, bundle images and related
      images of the kept bundles, and the catalog image itself when the catalog is an image.
  returned: when O(packages), O(full) or O(imageset_config) is set
  type: list
  elements: str
  sample:
    - quay.io/coreos/etcd-operator@sha256:c0301e4686c3ed4206e370b42de5a3bd2229b9fb4906cf85f3f30650424abec2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import registry_argument_spec, run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_catalog import (
    catalog_filter_argument_spec,
    catalog_info_request,
    catalog_reading_argument_spec,
)

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.info import catalog_info


def main():
    module = AnsibleModule(
        argument_spec=registry_argument_spec(
            **catalog_filter_argument_spec(catalog=dict(type="str")),
            **catalog_reading_argument_spec(),
        ),
        required_one_of=[("catalog", "imageset_config")],
        mutually_exclusive=[("packages", "imageset_config")],
        supports_check_mode=True,
    )
    # read-only: check mode changes nothing in what it does
    run_module(module, catalog_info_request, lambda request, auth, check_mode: catalog_info(request, auth),
               libraries=("urllib3", "PyYAML"))


if __name__ == "__main__":
    main()
