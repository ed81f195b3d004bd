# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror sets: the ImageContentSourcePolicy, ImageDigestMirrorSet and ImageTagMirrorSet objects
that send a cluster's pulls of the planned images' origins to their mirrors.

``oc`` naming writes what ``oc adm catalog mirror`` writes (one ``<name>-<n>`` series,
repository or registry scope, the ``operators.openshift.org/catalog`` label, split to stay under
``max_size`` bytes); ``oc-mirror`` naming writes what oc-mirror v2 writes (one object per category,
``idms-operator-0`` ..., namespace scope when the mirror keeps the source path, catalog images
left out because the CatalogSource points at them directly). Digest origins go to
ImageDigestMirrorSet / ImageContentSourcePolicy, tag origins to ImageTagMirrorSet, an origin
with both to both.

The builders return plain dicts; :mod:`.documents` writes them as YAML.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import document_size, list_item_size
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import PlannedImage, check_naming

SCOPES = ("repository", "registry", "namespace", "auto")
MIRROR_KINDS = ("digest", "tag")
CATEGORIES = ("operator", "release", "generic")
CATALOG_LABEL = "operators.openshift.org/catalog"
# oc refuses --max-icsp-size / --max-idms-size above this: kubectl apply keeps the whole object in
# an annotation limited to 256 KiB.
MAX_MIRROR_SET_SIZE = 250000
_MIRROR_SET_KINDS = {
    # kind: (apiVersion, spec list key, option naming the size limit in oc)
    "ImageContentSourcePolicy": ("operator.openshift.io/v1alpha1", "repositoryDigestMirrors", "--max-icsp-size"),
    "ImageDigestMirrorSet": ("config.openshift.io/v1", "imageDigestMirrors", "--max-idms-size"),
    "ImageTagMirrorSet": ("config.openshift.io/v1", "imageTagMirrors", "--max-idms-size"),
}


def _category(image_type: str) -> str:
    if image_type in ("operatorCatalog", "operatorBundle", "operatorRelatedImage"):
        return "operator"
    if image_type in ("ocpRelease", "ocpReleaseContent", "cincinnatiGraph"):
        return "release"
    return "generic"


def _scope_of(ref: ImageReference, scope: str) -> str:
    if scope == "registry":
        return ref.registry
    if scope == "namespace":
        namespace = ref.repository.rsplit("/", 1)[0] if "/" in ref.repository else ""
        return f"{ref.registry}/{namespace}" if namespace else ref.registry
    return ref.name


def _scope_pair(origin: ImageReference, target: ImageReference, scope: str) -> Tuple[str, str]:
    if scope == "auto":
        # oc-mirror: the parent paths are equivalent only when the mirror keeps the source path
        # as its tail; compared by whole components, so ns/xubi8 does not match ubi8.
        src_parts, dst_parts = origin.repository.split("/"), target.repository.split("/")
        if len(dst_parts) >= len(src_parts) and dst_parts[len(dst_parts) - len(src_parts):] == src_parts:
            scope = "namespace"
        else:
            scope = "repository"
    return _scope_of(origin, scope), _scope_of(target, scope)


def _default_scope(naming: str, scope: Optional[str]) -> str:
    if scope is None:
        return "repository" if naming == "oc" else "auto"
    if scope not in SCOPES:
        raise ConfigError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def mirror_sets(
    planned: Iterable[PlannedImage],
    kind: str = "digest",
    naming: str = "oc",
    scope: Optional[str] = None,
) -> Dict[str, Dict[str, List[str]]]:
    """The mirror entries by category: ``{category: {source: [mirrors]}}``.

    ``kind`` digest: images whose origin has a digest (oc-mirror also puts its release images
    there); tag: images whose origin has a tag. oc naming puts everything in category
    ``operator`` and keeps catalog images; oc-mirror naming leaves catalog and graph images out.
    ``scope``: repository (default for oc), registry, namespace (parent path) or auto (oc-mirror's
    default: namespace when the mirror keeps the source path, else repository).
    """
    check_naming(naming)
    if kind not in MIRROR_KINDS:
        raise ConfigError(f"mirror kind {kind!r} is not one of {', '.join(MIRROR_KINDS)}")
    scope = _default_scope(naming, scope)
    out: Dict[str, Dict[str, List[str]]] = {}
    for item in planned:
        origin, target = item.origin, item.target
        if origin is None or not isinstance(target, ImageReference):
            continue  # file:// store or oci:// layout: nothing a cluster pulls from
        if naming == "oc-mirror" and item.image_type in ("operatorCatalog", "cincinnatiGraph"):
            continue  # the CatalogSource / UpdateService names these directly
        if kind == "digest":
            wanted = bool(origin.digest) or (naming == "oc-mirror" and item.image_type == "ocpRelease")
        else:
            wanted = bool(origin.tag) or not origin.digest
        if not wanted:
            continue
        source, mirror = _scope_pair(origin, target, scope)
        category = "operator" if naming == "oc" else _category(item.image_type)
        mirrors = out.setdefault(category, {}).setdefault(source, [])
        if mirror not in mirrors:
            mirrors.append(mirror)
    return {c: {s: out[c][s] for s in sorted(out[c])} for c in CATEGORIES if c in out}


def mirror_set_objects(
    kind: str,
    name: str,
    mirrors: Mapping[str, Sequence[str]],
    max_size: int = MAX_MIRROR_SET_SIZE,
    numbered: bool = True,
    labels: Optional[Mapping[str, str]] = None,
) -> List[Dict[str, Any]]:
    """Build ``kind`` objects holding ``mirrors`` (source -> mirrors), each at most ``max_size`` bytes of YAML.

    ``numbered``: names ``<name>-0``, ``<name>-1``... and no object for no mirrors (what oc
    writes); otherwise a single object named ``name``, with an empty list when there is nothing
    (oc's generateICSP), and ``<name>-1``... if it had to be split.
    """
    if kind not in _MIRROR_SET_KINDS:
        raise ConfigError(f"mirror set kind {kind!r} is not one of {', '.join(_MIRROR_SET_KINDS)}")
    if not isinstance(max_size, int) or isinstance(max_size, bool) or not 0 < max_size <= MAX_MIRROR_SET_SIZE:
        raise ConfigError(
            f"max_size {max_size!r} for {kind} must be greater than 0 and at most {MAX_MIRROR_SET_SIZE} bytes "
            f"(oc {_MIRROR_SET_KINDS[kind][2]})"
        )
    api_version, list_key, dummy = _MIRROR_SET_KINDS[kind]
    base_name = "-".join(name.split("/"))

    def build(index: int, entries: List[Dict[str, Any]]) -> Dict[str, Any]:
        object_name = f"{base_name}-{index}" if numbered or index else base_name
        metadata: Dict[str, Any] = {"name": object_name}
        if labels:
            metadata["labels"] = dict(labels)
        return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": {list_key: entries}}

    entries = [{"mirrors": list(mirrors[source]), "source": source} for source in sorted(mirrors)]
    if not entries:
        return [] if numbered else [build(0, [])]
    # YAML of a block list is the sum of its items, so sizes add up without re-dumping the object:
    # size(k >= 1 entries) = size(no entries) - len(' []') + sum(size of each item's text).
    # The empty size depends on the object's name, hence on its index.
    for exact in (False, True):
        objects: List[Dict[str, Any]] = []
        current: List[Dict[str, Any]] = []
        current_size = document_size(build(0, [])) - 3
        for entry in entries:
            entry_size = list_item_size(entry, 2, exact)
            if current and current_size + entry_size > max_size:
                objects.append(build(len(objects), current))
                current, current_size = [], document_size(build(len(objects), [])) - 3
            if current_size + entry_size > max_size:
                raise ConfigError(
                    f"unable to add mirror {entry['source']} -> {', '.join(entry['mirrors'])} to {kind} "
                    f"{base_name}: one entry alone is larger than max_size {max_size} bytes "
                    f"(oc {_MIRROR_SET_KINDS[kind][2]}); raise max_size"
                )
            current.append(entry)
            current_size += entry_size
        objects.append(build(len(objects), current))
        # the fast estimate is checked against what is really written; redo exactly if it was off
        if exact or all(document_size(obj) <= max_size for obj in objects):
            break
    return objects


def _planned_mirror_set_objects(
    kind: str,
    mirror_kind: str,
    default_prefix: str,
    planned: Iterable[PlannedImage],
    name: Optional[str],
    naming: str,
    scope: Optional[str],
    max_size: int,
) -> List[Dict[str, Any]]:
    """``kind`` objects for the ``mirror_kind`` origins of ``planned``, named as ``naming`` names them."""
    sets = mirror_sets(planned, mirror_kind, naming, scope)
    if naming == "oc":
        if not name:
            raise ConfigError(f"{kind} name is empty: oc names mirror sets after the catalog")
        return mirror_set_objects(kind, name, sets.get("operator", {}), max_size, True, {CATALOG_LABEL: "true"})
    prefix = name or default_prefix
    objects: List[Dict[str, Any]] = []
    for category, mirrors in sets.items():
        objects.extend(mirror_set_objects(kind, f"{prefix}-{category}", mirrors, max_size, True, None))
    return objects


def icsp_objects(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageContentSourcePolicy objects for the digest origins (oc: ``<name>-<n>``; oc-mirror: ``<name or icsp>-<category>-<n>``)."""
    return _planned_mirror_set_objects("ImageContentSourcePolicy", "digest", "icsp", planned, name, naming, scope, max_size)


def idms_objects(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageDigestMirrorSet objects for the digest origins (oc-mirror names: ``idms-<category>-<n>``)."""
    return _planned_mirror_set_objects("ImageDigestMirrorSet", "digest", "idms", planned, name, naming, scope, max_size)


def itms_objects(
    planned: Iterable[PlannedImage],
    name: Optional[str] = None,
    scope: Optional[str] = None,
    max_size: int = MAX_MIRROR_SET_SIZE,
    naming: str = "oc",
) -> List[Dict[str, Any]]:
    """ImageTagMirrorSet objects for the tag origins (oc-mirror names: ``itms-<category>-<n>``)."""
    return _planned_mirror_set_objects("ImageTagMirrorSet", "tag", "itms", planned, name, naming, scope, max_size)
