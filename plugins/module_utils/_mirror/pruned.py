# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog image catalog_mirror serves for a filtered catalog: the pruned catalog, built.

A catalog is *filtered* (:func:`is_pruned`) unless its filter keeps every package whole, i.e.
``full: true`` with no packages, in the module's options or in the ImageSetConfiguration entry
(the seed's method 1, ``oc adm catalog mirror``: the catalog image is mirrored unchanged).
Anything else keeps part of the catalog: named packages, channels, version ranges, bundles, or
no packages and no ``full`` (every package's channel heads). Serving the source catalog for it
would list operators, or versions, whose images were not mirrored, and installing one ends in
ImagePullBackOff.

For a filtered catalog image the pruned catalog (the catalog already loaded and filtered) is
built by catalog_build's engine on the source image itself, pinned by the digest that was read
(its layers are reused; the new layer replaces ``/configs``), or on ``base_image`` when given,
and pushed to the target the source catalog image would have had. A local catalog (FBC or
sqlite) with a ``target_name`` is built the same way when ``base_image`` is given; without it,
its CatalogSource points at the tag catalog_build is expected to push, as before.

The image is computed when the catalog is planned (so its digest is known before anything is
copied) and pushed by :func:`publish_build` only once the copy succeeded. Builds are
reproducible, so the catalog_build task named in :attr:`CatalogBuild.task` (for
``manifests_only``, or a local catalog without ``base_image``) gives the same digest.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.build import Prepared, prepare_image, publish
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import DEFAULT_PLATFORM
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, ConfigError, RegistryError

BUILD_MODULE = "airgap.operatorhub.catalog_build"


def is_pruned(spec: Any) -> bool:
    """Whether the catalog of ``spec`` is filtered: anything but ``full`` with no packages."""
    catalog_filter = spec.catalog_filter
    return bool(spec.filtered) and not (catalog_filter.full and not catalog_filter.packages)


class CatalogBuild:
    """The catalog image built for one catalog.

    ``dest`` is the tag it is pushed to; ``prepared`` the computed image, None when there is no
    base to build on (a local catalog without ``base_image``); ``task`` the catalog_build task
    that builds the same image. ``changed`` and ``stats`` are set once it was published.
    """

    def __init__(self, dest: ImageReference, base_image: Optional[str], prepared: Optional[Prepared],
                 task: Dict[str, Any]):
        self.dest = dest
        self.base_image = base_image
        self.prepared = prepared
        self.task = task
        self.changed: Optional[bool] = None
        self.stats: Optional[Dict[str, int]] = None

    @property
    def image(self) -> Optional[str]:
        """The built image by digest, what the CatalogSource points at; None when not built."""
        return f"{self.dest.name}@{self.prepared.digest}" if self.prepared is not None else None

    def result(self) -> Dict[str, Any]:
        """The ``build`` entry of the catalog's result."""
        out: Dict[str, Any] = {"dest": str(self.dest), "base_image": self.base_image}
        if self.prepared is not None:
            out.update(image=self.image, digest=self.prepared.digest,
                       platforms=[p.platform for p in self.prepared.built.platforms])
        if self.changed is not None:
            out["changed"] = self.changed
        if self.stats is not None:
            out["transferred"] = self.stats
        return out

    def task_text(self) -> str:
        """The catalog_build task, on one line, for a warning."""
        options = self.task[BUILD_MODULE]
        return f"{BUILD_MODULE}: " + ", ".join(f"{key}={json.dumps(value)}" for key, value in options.items())


def _dest(target: Any) -> ImageReference:
    if not isinstance(target, ImageReference):
        raise ConfigError(f"the catalog image target {target} is not a registry image; a pruned catalog is "
                          "pushed to a registry")
    return ImageReference(registry=target.registry, repository=target.repository, tag=target.tag or "latest")


def build_task(spec: Any, source: str, base_image: Optional[str], dest: ImageReference,
               filter_by_os: Optional[str], platform: str) -> Dict[str, Any]:
    """The catalog_build task that builds the catalog of ``spec`` (the same filter) to ``dest``."""
    options: Dict[str, Any] = {"source": source}
    for key, value in (spec.options or {}).items():
        if value not in (None, False, []):
            options[key] = value
    options["base_image"] = base_image or "<an opm base image, e.g. registry.redhat.io/openshift4/" \
                                          "ose-operator-registry-rhel9:v4.16>"
    options["dest"] = str(dest)
    if filter_by_os:
        options["filter_by_os"] = filter_by_os
    if platform != DEFAULT_PLATFORM:
        options["platform"] = platform
    return {BUILD_MODULE: options}


def plan_build(loaded: Any, target: Any, request: Any, pool: Any, work: str) -> Optional[CatalogBuild]:
    """The catalog image to build for ``loaded`` (whose catalog image lands at ``target``), or
    None when the catalog is served unchanged (an unfiltered image, a local catalog without a
    target_name). The image is computed (layer written under ``work``), not pushed."""
    spec = loaded.spec
    if target is None:
        return None
    filter_by_os = request.transfer.filter_by_os
    if loaded.image:
        if not is_pruned(spec):
            return None
        pinned = f"{parse(loaded.image).name}@{loaded.digest}"
        base_image = request.base_image or pinned
        # an ImageSetConfiguration names its catalog by its own reference: keep it, so the task finds the entry
        source = spec.source if "imageset_config" in (spec.options or {}) else pinned
    else:
        base_image = request.base_image
        source = spec.source
    try:
        dest = _dest(target)
        task = build_task(spec, source, base_image, dest, filter_by_os, request.platform)
        if base_image is None:
            return CatalogBuild(dest, None, None, task)
        prepared = prepare_image(pool, loaded.catalog, base_image, filter_by_os, work)
    except AirgapError as exc:
        text = str(exc)
        text = text if text.startswith(spec.field) else f"{spec.field}: {text}"
        if isinstance(exc, RegistryError):
            raise type(exc)(text, status=exc.status, code=exc.code) from None
        raise type(exc)(text) from None
    return CatalogBuild(dest, base_image, prepared, task)


def publish_build(build: CatalogBuild, pool: Any, check_mode: bool) -> bool:
    """Push the built image to its target unless it is there already (or ``check_mode``)."""
    build.changed, _image, build.stats = publish(pool, build.prepared, build.dest, check_mode)
    return build.changed
