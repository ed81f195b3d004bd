#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: catalog_build
short_description: Build a (pruned) operator catalog image and push it, without a container engine
version_added: 0.2.0
description:
  - Builds an operator catalog (index) image that OLM serves, from a source catalog filtered to the
    packages you keep, a local File-Based Catalog (FBC) and operator bundles, and pushes it to a registry or
    writes it into an OCI image layout. It replaces C(oc adm catalog build --from=BASE
    --filter-by-os=REGEX --to=DEST) (whose C(--appregistry-org) source no longer exists) and
    C(opm index prune) followed by C(podman build) and C(podman push).
  - The catalog goes into C(/configs) as FBC, one C(configs/PACKAGE/catalog.json) per package as
    C(opm render) writes it, in one layer added on top of the layers of O(base_image). The image
    gets the label C(operators.operatorframework.io.index.configs.v1=/configs), the entrypoint
    C(/bin/opm) and the command C(serve /configs --cache-dir=/tmp/cache).
  - The layer also deletes (whites out) C(/tmp/cache). The ose-operator-registry base images carry
    an opm cache built for their own content; served against another catalog it sends the
    CatalogSource pod into CrashLoopBackOff (oc-mirror issue 1099). Without it, opm builds its cache
    from C(/configs) when the pod starts.
  - The build is reproducible. The same inputs and the same base give the same digest (fixed
    timestamps, sorted entries, stable JSON), so a second run pushes nothing and reports no change.
  - A multi-platform O(base_image) gives one image per platform under one index. O(filter_by_os)
    chooses which platforms to build.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
extends_documentation_fragment:
  - airgap.operatorhub.registry
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Reads the inputs and the manifests and configs of the base, computes the digest the image
        would have and reports it in RV(digest) and RV(image). Pushes and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row, the second run reports no change.
    support: full
    details:
      - When O(dest) already points at the digest the build computes, nothing is pushed and the
        task reports no change.
options:
  source:
    description:
      - A catalog to take packages from, as the O(airgap.operatorhub.catalog_info#module:catalog)
        option of M(airgap.operatorhub.catalog_info) reads it. An existing local path is an FBC
        directory or file, or a sqlite C(index.db). Anything else is a catalog image reference,
        for example C(registry.redhat.io/redhat/redhat-operator-index:v4.16).
      - Filtered by O(packages), O(full) and O(include_dependencies), or by O(imageset_config), the
        same way M(airgap.operatorhub.catalog_mirror) filters its catalogs. Without a filter, every
        package of the catalog is kept.
    type: str
  packages:
    description:
      - Keep only these packages of O(source) (what C(opm index prune -p) keeps). Each item is a
        package name, or a dictionary as in an oc-mirror ImageSetConfiguration (C(name),
        C(channels) (names, or dictionaries with C(name), C(minVersion), C(maxVersion)),
        C(minVersion), C(maxVersion), C(defaultChannel), C(bundles)).
      - Without versions, only the head of each kept channel is kept (oc-mirror's default).
        Set O(full) to keep every bundle of the kept channels.
    type: list
    elements: raw
  full:
    description:
      - Keep every bundle of the kept channels rather than the channel heads (oc-mirror C(full)).
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
        dictionary). Its C(mirror.operators) entry gives the catalog (when O(source) is not set)
        and the filter.
      - Exclusive with O(packages).
    type: raw
  fbc:
    description:
      - A local File-Based Catalog directory or file whose packages are added to the image, for
        example a catalog you wrote or rendered with C(opm render).
      - Merged with the packages kept from O(source). A package present in both is an error that
        names both inputs.
    type: path
  bundles:
    description:
      - Operator bundles rendered into the catalog as C(opm render) renders them, each an existing
        directory or else a bundle image reference. A directory is a bundle (C(manifests/) and
        C(metadata/annotations.yaml)) or the older packagemanifest layout (a C(*.package.yaml) and
        one directory per version).
      - A bundle's channels come from its annotations, its channel entry from the CSV's
        C(spec.replaces), C(spec.skips) and C(olm.skipRange) annotation; its related images from
        C(spec.relatedImages), the deployments' containers and init containers, C(RELATED_IMAGE_*)
        environment values and the C(containerImage) annotation, plus the bundle image.
      - A bundle image keeps the CSV as C(olm.csv.metadata) and is installed from its image; a
        directory has no image, so its manifests go into the catalog as C(olm.bundle.object)
        properties.
      - Merged with the other inputs; a package may come from one input only.
    type: list
    elements: str
  base_image:
    description:
      - The image the catalog layer is added to. It must have C(/bin/opm), for example
        C(registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16) (the C(--from) of
        C(oc adm catalog build)). Pick the version of the clusters that will serve the catalog.
      - Its layers are copied to O(dest) blob by blob (mounted when on the same registry). Its
        manifests decide the media types of the built image (Docker v2 or OCI).
    type: str
    required: true
  dest:
    description:
      - Where the image goes (the C(--to) of C(oc adm catalog build)). Either a registry reference
        C(REGISTRY/REPOSITORY[:TAG]) (tag C(latest) when none is given), or an OCI image layout
        on disk C(oci:DIR[:TAG]) that C(skopeo copy oci:DIR:TAG ...) can push later across an air
        gap.
      - An OCI layout is written resumably. Blobs already there are kept when their content
        matches their digest, and other images of the layout are left alone.
    type: str
    required: true
  filter_by_os:
    description:
      - A regular expression on C(os/architecture[/variant]) choosing the platforms of a
        multi-platform O(base_image) to build, as C(oc adm catalog build --filter-by-os) does.
        C(linux/amd64) keeps C(linux/amd64) only; anchor it (C(^linux/arm64$)) to match exactly.
      - By default every platform of the base is built, under one index.
    type: str
  cache_dir:
    description:
      - Where catalog images given as O(source) are unpacked, one directory per digest. Defaults
        to C($XDG_CACHE_HOME/airgap.operatorhub/catalogs) (C(~/.cache/...)).
      - The cache is filled in check mode too; it is not a result of the task.
    type: path
  platform:
    description:
      - The platform entry read from a multi-platform O(source) catalog image, as
        C(os/architecture[/variant]). Every platform of a catalog image holds the same catalog.
    type: str
    default: linux/amd64
notes:
  - The tag of a registry O(dest) is moved to the new image. Point a CatalogSource at RV(image),
    the reference by digest, so that nodes pull exactly what was built.
  - A base image with Docker media types gives a Docker image. C(skopeo copy) reads an OCI layout
    O(dest) by its OCI media types only, so prefer an OCI base for an OCI layout.
seealso:
  - module: airgap.operatorhub.catalog_info
  - module: airgap.operatorhub.catalog_mirror
  - name: oc adm catalog build
    description: The command this module replaces.
    link: https://docs.openshift.com/container-platform/4.6/operators/admin/olm-restricted-networks.html
  - name: opm index prune
    description: Pruning an index image, the other half of what this module replaces.
    link: https://docs.openshift.com/container-platform/4.10/operators/admin/olm-managing-custom-catalogs.html
"""

EXAMPLES = r"""
- name: A catalog of two Red Hat operators, on the registry image of the clusters
  airgap.operatorhub.catalog_build:
    source: registry.redhat.io/redhat/redhat-operator-index:v4.16
    packages:
      - openshift-gitops-operator
      - name: advanced-cluster-management
        channels:
          - name: release-2.11
    base_image: registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16
    dest: mirror.example.com:5000/olm/redhat-operators:v4.16
    filter_by_os: linux/amd64
    auth_file: /srv/mirror/auth.json
  register: built

- name: Serve it
  kubernetes.core.k8s:
    definition:
      apiVersion: operators.coreos.com/v1alpha1
      kind: CatalogSource
      metadata:
        name: redhat-operators-pruned
        namespace: openshift-marketplace
      spec:
        sourceType: grpc
        image: "{{ built.image }}"

- name: A catalog of our own operator, from its bundle image and a bundle directory
  airgap.operatorhub.catalog_build:
    bundles:
      - quay.example.com/acme/acme-operator-bundle:v1.2.0
      - /srv/bundles/acme-operator/1.3.0
    base_image: registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16
    dest: mirror.example.com:5000/olm/acme-operators:v1

- name: Our own FBC, written into an OCI layout to carry across the air gap
  airgap.operatorhub.catalog_build:
    fbc: /srv/catalogs/in-house
    base_image: registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16
    dest: oci:/srv/transfer/catalogs:in-house
"""

RETURN = r"""
image:
  description:
    - For a registry O(dest), the image by digest (C(REGISTRY/REPOSITORY@sha256:...)), ready for
      a CatalogSource C(spec.image). For an OCI layout, C(oci:DIR:TAG).
    - In check mode, the reference the image would have.
  returned: always
  type: str
  sample: mirror.example.com:5000/olm/redhat-operators@sha256:4c1f...
digest:
  description: The digest of the image (of the index when the base has several platforms).
  returned: always
  type: str
  sample: sha256:4c1f...
packages:
  description: The names of the packages the catalog holds, sorted.
  returned: always
  type: list
  elements: str
  sample: [advanced-cluster-management, openshift-gitops-operator]
platforms:
  description: The platforms built, as C(os/architecture[/variant]).
  returned: always
  type: list
  elements: str
  sample: [linux/amd64, linux/arm64]
base_image:
  description: The base image read.
  returned: always
  type: str
  sample: registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16
layer:
  description: The catalog layer added to the base (C(digest), C(diff_id), C(size) in bytes).
  returned: always
  type: dict
  sample: {digest: "sha256:9a0e...", diff_id: "sha256:51d2...", size: 48211}
source_digest:
  description: The digest the O(source) catalog image resolved to.
  returned: when O(source) is a catalog image
  type: str
  sample: sha256:7b8c...
transferred:
  description:
    - What the push sent (C(blobs_pushed), C(blobs_mounted), C(blobs_present), C(bytes_pushed)),
      or for an OCI layout what was written (C(blobs_written), C(blobs_present), C(bytes_written)).
  returned: when something was pushed or written
  type: dict
  sample: {blobs_pushed: 4, blobs_mounted: 0, blobs_present: 0, bytes_pushed: 91544}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.operatorhub.plugins.module_utils.args import registry_argument_spec, run_module
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_catalog import (
    catalog_build_request,
    catalog_filter_argument_spec,
    catalog_reading_argument_spec,
)

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.build import build_catalog


def main():
    module = AnsibleModule(
        argument_spec=registry_argument_spec(
            **catalog_filter_argument_spec(source=dict(type="str")),
            **catalog_reading_argument_spec(),
            fbc=dict(type="path"),
            bundles=dict(type="list", elements="str"),
            base_image=dict(type="str", required=True),
            dest=dict(type="str", required=True),
            filter_by_os=dict(type="str"),
        ),
        required_one_of=[("source", "imageset_config", "fbc", "bundles")],
        mutually_exclusive=[("packages", "imageset_config")],
        supports_check_mode=True,
    )
    run_module(module, catalog_build_request, build_catalog, libraries=("urllib3", "PyYAML"))


if __name__ == "__main__":
    main()
