#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_mirror
short_description: Plan and mirror operator catalogs, writing mapping.txt, mirror sets and CatalogSources
version_added: 0.1.0
description:
  - For each catalog of O(catalogs), reads it (a catalog image, an FBC directory or file, or a
    sqlite C(index.db)), keeps what its filter keeps, and plans where every image lands under
    O(dest), as C(oc adm catalog mirror CATALOG DEST) (O(naming=oc)) or oc-mirror v2
    (O(naming=oc-mirror)) name them.
  - Writes, under O(output_dir), one directory per catalog named after its CatalogSource,
    holding C(mapping.txt), C(imageContentSourcePolicy.yaml), C(imageDigestMirrorSet.yaml),
    C(imageTagMirrorSet.yaml), C(catalogSource.yaml) and C(clusterCatalog.yaml). A file is
    rewritten only when its content changes; a mirror-set file with nothing to hold is not
    written (and removed if an earlier run wrote it), since C(oc apply -f) refuses an empty file.
  - Unless O(manifests_only), copies every planned image of all catalogs in one run of the
    copy engine of M(airgap.operatorhub.image_mirror_from_mapping) (images shared by several
    catalogs are copied once). This is the seed workflow's method 1 (C(oc adm catalog mirror));
    O(manifests_only=true) is its method 2 (C(--manifests-only), then a separate copy).
  - C(mapping.txt) is written first; the cluster files are written only after the copy succeeded,
    so a failed copy never leaves files ready for C(oc apply) that point at a partial mirror
    (they are listed in RV(files_pending) and the task fails). With O(manifests_only=true) every
    file is written at once.
  - A catalog kept whole (O(catalogs[].full=true) with no O(catalogs[].packages), in the options
    or the ImageSetConfiguration entry; the seed's method 1) is mirrored unchanged; its image is a
    line of C(mapping.txt) and its CatalogSource points at the mirrored image.
  - A filtered catalog image (packages, channels, versions, bundles, or the default channel heads
    of every package) is served pruned instead, so that OperatorHub lists only what was
    mirrored. The filtered catalog is built as M(airgap.operatorhub.catalog_build) builds it, on
    the source catalog image itself pinned by the digest read (its layers are reused, the new
    layer replaces C(/configs)) or on O(base_image), and pushed to the target the source catalog
    image would have had, after the images it lists were copied. Its line leaves C(mapping.txt)
    (a C(#) comment names the built image) and the mirror sets, and C(catalogSource.yaml) and
    C(clusterCatalog.yaml) point at it by digest. With O(manifests_only=true) nothing is pushed;
    the files point at the digest the build gives, and RV(catalogs[].build_task) and a warning
    give the M(airgap.operatorhub.catalog_build) task that pushes that same image (builds are
    reproducible).
  - A local catalog (FBC or C(index.db)) with O(catalogs[].target_name) is built and pushed the
    same way when O(base_image) is given; without it, its CatalogSource points at the tag the
    catalog_build task of RV(catalogs[].build_task) pushes to.
  - With O(archive_dir) the planned images are written into archives to carry across the air gap
    instead of being pushed (the C(oc adm catalog mirror ... file://) step), with the same target
    names; the cluster files are written to O(output_dir) as usual and also to
    C(<archive_dir>/manifests/<catalog>/), beside the archives. M(airgap.operatorhub.archive_import)
    pushes the archives on the disconnected side (and rewrites the cluster files for another
    registry). A pruned catalog image is built here and written into the archives too, under the
    target its CatalogSource points at.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
extends_documentation_fragment:
  - airgap.operatorhub.registry
  - airgap.operatorhub.copy
  - airgap.operatorhub.archive
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads the catalogs, plans, reports in RV(files_changed) the files that would change and
        in RV(missing) the images the target lacks (with O(archive_dir), the images that would be
        archived); writes nothing (catalog images are still
        unpacked into O(cache_dir), which is not a result of the task).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - Shows each written or removed file (mapping.txt, the mirror sets, the CatalogSource) as a
        before/after diff; images copied are listed in RV(copied), not in the diff.
  idempotent:
    description: When run twice in a row, the second run reports no change.
    support: full
    details: Files are compared by content, images by digest; a second run changes nothing.
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - The action plugin shows the copy's progress in the job output (see O(progress_display)); all work is done by the module.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details:
      - With C(poll) above zero Ansible polls the job and the task returns the module's result; with
        C(poll=0) use M(ansible.builtin.async_status). No progress lines are shown then; O(report_file)
        is kept current as the run goes.
options:
  catalogs:
    description: The catalogs to mirror, each with its own filter and target.
    type: list
    elements: dict
    required: true
    suboptions:
      source:
        description:
          - The catalog. An existing local path is read as an FBC directory or file, or as a
            sqlite C(index.db); anything else is an image reference
            (C(registry.redhat.io/redhat/redhat-operator-index:v4.14)).
          - Required unless O(catalogs[].imageset_config) names the catalogs; with both, the
            ImageSetConfiguration entry whose C(catalog) is this source is used (or its only entry).
        type: str
      packages:
        description:
          - The packages to keep, as names or as dictionaries like those of an oc-mirror ImageSetConfiguration
            (C(name), C(channels) (names, or C(name)/C(minVersion)/C(maxVersion)), C(minVersion),
            C(maxVersion), C(defaultChannel), C(bundles)). Without versions, the channel heads.
        type: list
        elements: raw
      full:
        description:
          - Keep every bundle of the kept channels. With no O(catalogs[].packages), the whole
            catalog, which is what C(oc adm catalog mirror) mirrors.
        type: bool
        default: false
      include_dependencies:
        description: Also keep the packages the kept bundles require (C(olm.package.required), C(olm.gvk.required)).
        type: bool
        default: false
      imageset_config:
        description:
          - An oc-mirror ImageSetConfiguration (C(v2alpha1)), as a file path or its content;
            every entry of C(mirror.operators) is a catalog with its filter, C(targetCatalog)
            and C(targetTag). Exclusive with O(catalogs[].packages).
        type: raw
      target_name:
        description:
          - The repository path of the mirrored catalog image under O(dest), instead of the
            source's (oc-mirror C(targetCatalog)). Also names the CatalogSource.
          - For a local catalog, the image built for it (with O(base_image)) or that C(catalog_build)
            is expected to push, which the CatalogSource then points at; without it a local catalog
            gets no CatalogSource.
        type: str
      target_tag:
        description: The tag of the mirrored catalog image, instead of the source's (oc-mirror C(targetTag)).
        type: str
  dest:
    description:
      - The mirror registry and namespace, C(mirror.example.com:5000/olm) (the C(DEST) of
        C(oc adm catalog mirror)).
    type: str
    required: true
  output_dir:
    description:
      - Where the per-catalog directories are written (C(oc adm catalog mirror --to-manifests)).
    type: path
    required: true
  manifests_only:
    description:
      - Only write the files; copy no image (C(oc adm catalog mirror --manifests-only)). Mirror
        the mapping later with M(airgap.operatorhub.image_mirror_from_mapping).
    type: bool
    default: false
  naming:
    description:
      - V(oc) names targets as C(oc adm catalog mirror) does (O(max_components), FNV-1a tags for
        images pinned by digest); V(oc-mirror) as oc-mirror v2 does (full source path under
        O(dest), O(max_nested_paths), C(sha256-<hex>) tags).
    type: str
    choices: [oc, oc-mirror]
    default: oc
  max_components:
    description:
      - With O(naming=oc), the most path components a target has; the rest is joined with
        C(-) (C(oc adm catalog mirror --max-components)). 0 means no limit.
    type: int
    default: 2
  max_nested_paths:
    description: With O(naming=oc-mirror), the most path components a target has (oc-mirror C(--max-nested-paths)); 0 means no limit.
    type: int
    default: 0
  icsp_scope:
    description:
      - The scope of mirror-set entries (C(oc adm catalog mirror --icsp-scope)), V(repository)
        or V(registry). When not set, V(repository) with O(naming=oc), and oc-mirror's own rule
        (namespace scope where the mirror keeps the source path) with O(naming=oc-mirror).
    type: str
    choices: [repository, registry]
  cache_dir:
    description:
      - Where catalog images are unpacked, one directory per digest. Defaults to
        C($XDG_CACHE_HOME/airgap.operatorhub/catalogs) (C(~/.cache/...)).
    type: path
  platform:
    description: The platform entry read from a multi-platform catalog image, as C(os/architecture[/variant]).
    type: str
    default: linux/amd64
  base_image:
    description:
      - The opm image the pruned catalogs of all O(catalogs) are built on
        (C(registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16)), instead of each source
        catalog image itself; the C(--from) of C(oc adm catalog build). Its C(/tmp/cache) is whited
        out, so a cache built for other content is never served.
      - Also what local catalogs with O(catalogs[].target_name) are built on; without it they are
        not built.
      - Every platform of it is built, or those O(filter_by_os) picks (so is the source catalog
        image when it is the base).
    type: str
    version_added: 0.2.0
seealso:
  - module: airgap.operatorhub.catalog_info
  - module: airgap.operatorhub.catalog_build
  - module: airgap.operatorhub.image_mirror_from_mapping
  - name: oc adm catalog mirror
    description: The command this module replaces.
    link: https://docs.openshift.com/container-platform/latest/installing/disconnected_install/installing-mirroring-installation-images.html
"""

EXAMPLES = r"""
- name: Mirror three operators of the Red Hat catalog to the private registry
  airgap.operatorhub.catalog_mirror:
    catalogs:
      - source: registry.redhat.io/redhat/redhat-operator-index:v4.14
        packages:
          - openshift-gitops-operator
          - name: advanced-cluster-management
            channels: [release-2.9]
          - name: local-storage-operator
            channels:
              - name: stable
                minVersion: 4.14.0-202311031050
    dest: mirror.example.com:5000/olm
    output_dir: /srv/mirror/manifests
    auth_file: /srv/mirror/auth.json
    report_file: /srv/mirror/catalog-report.json

- name: Files only (oc adm catalog mirror --manifests-only), from an ImageSetConfiguration
  airgap.operatorhub.catalog_mirror:
    catalogs:
      - imageset_config: /srv/mirror/imageset-config.yaml
    dest: mirror.example.com:5000/olm
    naming: oc-mirror
    manifests_only: true
    output_dir: /srv/mirror/manifests

- name: Two operators, their pruned catalog built on the opm base image of the cluster's release
  airgap.operatorhub.catalog_mirror:
    catalogs:
      - source: registry.redhat.io/redhat/redhat-operator-index:v4.16
        packages: [openshift-gitops-operator, local-storage-operator]
    base_image: registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16
    dest: mirror.example.com:5000/olm
    output_dir: /srv/mirror/manifests

- name: The whole community catalog, as oc adm catalog mirror does
  airgap.operatorhub.catalog_mirror:
    catalogs:
      - source: registry.redhat.io/redhat/community-operator-index:v4.14
        full: true
    dest: mirror.example.com:5000/olm
    output_dir: /srv/mirror/manifests
    registries:
      - host: mirror.example.com:5000
        ca_path: /etc/pki/mirror-ca.pem
"""

RETURN = r"""
catalogs:
  description: One entry per catalog planned.
  returned: always
  type: list
  elements: dict
  sample:
    - name: redhat-operator-index
      source: registry.redhat.io/redhat/redhat-operator-index:v4.14
      digest: sha256:7b8c...
      directory: /srv/mirror/manifests/redhat-operator-index
      files: [/srv/mirror/manifests/redhat-operator-index/mapping.txt]
      packages: [advanced-cluster-management, openshift-gitops-operator]
      images: 57
      catalog_image: mirror.example.com:5000/olm/redhat-redhat-operator-index@sha256:93a1...
      pruned: true
      build:
        dest: mirror.example.com:5000/olm/redhat-redhat-operator-index:v4.14
        base_image: registry.redhat.io/redhat/redhat-operator-index@sha256:7b8c...
        image: mirror.example.com:5000/olm/redhat-redhat-operator-index@sha256:93a1...
        digest: sha256:93a1...
        platforms: [linux/amd64, linux/arm64, linux/ppc64le, linux/s390x]
        changed: true
  contains:
    catalog_image:
      description:
        - What the CatalogSource and ClusterCatalog point at. The built catalog by digest for a
          built catalog; the mirrored source catalog image for a catalog kept whole; for a local
          catalog without O(base_image), the tag the catalog_build task of RV(catalogs[].build_task)
          pushes to; null for a local catalog without O(catalogs[].target_name).
      type: str
      returned: always
    pruned:
      description:
        - Whether the catalog is filtered (anything but O(catalogs[].full=true) with no packages),
          so that its CatalogSource serves only what the filter kept. For a catalog image, the
          pruned catalog is built rather than the source mirrored.
      type: bool
      returned: always
    build:
      description:
        - The catalog image built for this catalog. C(dest) the tag it is pushed to, C(base_image)
          what it is built on, C(image) and C(digest) the built image, C(platforms) its platforms,
          C(changed) whether the push changed (would change, in check mode) the tag, C(transferred)
          blob counts of the push.
        - C(changed) and C(transferred) are absent when nothing was published (O(manifests_only),
          a failed copy); C(image), C(digest) and C(platforms) when it is not built (a local
          catalog without O(base_image)).
      type: dict
      returned: when a catalog image is built, or expected from catalog_build
    build_task:
      description:
        - The M(airgap.operatorhub.catalog_build) task (module name and options) that pushes the
          image the CatalogSource points at, when this run did not push it (O(manifests_only), a
          local catalog without O(base_image)). Same inputs, same digest.
      type: dict
      returned: when the catalog image was not pushed by this run
files_changed:
  description: Files written or removed by this run (in check mode, that would be).
  returned: always
  type: list
  elements: str
files_pending:
  description:
    - The cluster files (ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet,
      CatalogSource, ClusterCatalog) not written or updated because the copy failed, so that no
      file ready for C(oc apply) points at a partial mirror. A later run that copies everything
      writes them.
  returned: always
  type: list
  elements: str
images:
  description: How many distinct images the catalogs need (mapping lines of all catalogs).
  returned: always
  type: int
copied:
  description: Images copied by this run (see M(airgap.operatorhub.image_mirror_from_mapping)).
  returned: always
  type: list
  elements: dict
present:
  description:
    - Images already present in the target with the same digest, so not copied. The same outcome
      is counted as C(present) in RV(summary), in O(report_file) and in the mirror role's summary.
  returned: always
  type: list
  elements: dict
missing:
  description: In check mode, images the target does not hold yet.
  returned: check mode, when O(manifests_only=false)
  type: list
  elements: dict
failures:
  description: Images that could not be copied, each with the reason; the task fails when this is not empty.
  returned: always
  type: list
  elements: dict
bytes_sent:
  description: Blob bytes written to the target registry by this run.
  returned: always
  type: int
summary:
  description: Counts of the copy run (with O(archive_dir), of the export, see M(airgap.operatorhub.image_mirror_from_mapping)).
  returned: when O(manifests_only=false)
  type: dict
archived:
  description: With O(archive_dir), the images written into the archives by this run.
  returned: when O(archive_dir) is set
  type: list
  elements: dict
in_history:
  description: With O(archive_dir), images an earlier export already shipped with the same digest (O(archive_history)).
  returned: when O(archive_dir) is set
  type: list
  elements: dict
archives:
  description: With O(archive_dir), every archive of the export with its C(name), C(size) and C(sha256).
  returned: when O(archive_dir) is set
  type: list
  elements: dict
contents:
  description: With O(archive_dir), the path of C(contents.json).
  returned: when O(archive_dir) is set
  type: str
bytes_written:
  description: With O(archive_dir), bytes this run wrote into archives.
  returned: when O(archive_dir) is set
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import CatalogMirrorRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import archive_copy_argument_spec, default_of, run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_catalog import (
    catalog_filter_argument_spec,
    catalog_mirror_request,
    catalog_reading_argument_spec,
)

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalogs import catalog_mirror


def main():
    module = AnsibleModule(
        argument_spec=archive_copy_argument_spec(
            catalogs=dict(
                type="list",
                elements="dict",
                required=True,
                options=catalog_filter_argument_spec(
                    source=dict(type="str"),
                    target_name=dict(type="str"),
                    target_tag=dict(type="str"),
                ),
                mutually_exclusive=[("packages", "imageset_config")],
                required_one_of=[("source", "imageset_config")],
            ),
            dest=dict(type="str", required=True),
            output_dir=dict(type="path", required=True),
            manifests_only=dict(type="bool", default=default_of(CatalogMirrorRequest, "manifests_only")),
            naming=dict(type="str", default=default_of(CatalogMirrorRequest, "naming"), choices=["oc", "oc-mirror"]),
            max_components=dict(type="int", default=default_of(CatalogMirrorRequest, "max_components")),
            max_nested_paths=dict(type="int", default=default_of(CatalogMirrorRequest, "max_nested_paths")),
            icsp_scope=dict(type="str", choices=["repository", "registry"]),
            base_image=dict(type="str"),
            **catalog_reading_argument_spec(),
        ),
        supports_check_mode=True,
    )
    run_module(module, catalog_mirror_request, catalog_mirror, libraries=("urllib3", "PyYAML"))


if __name__ == "__main__":
    main()
