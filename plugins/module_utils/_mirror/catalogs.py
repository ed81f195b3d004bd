# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine behind catalog_mirror: read and filter catalogs, plan, write, copy.

catalog_mirror writes, per catalog, a directory under ``output_dir`` named after its
CatalogSource, holding what ``oc adm catalog mirror --manifests-only`` writes (mapping.txt,
imageContentSourcePolicy.yaml, imageDigestMirrorSet.yaml), plus imageTagMirrorSet.yaml,
catalogSource.yaml and clusterCatalog.yaml. A file is rewritten only when its content changes;
a cluster file with nothing to hold is not written (and a stale one removed), because
``oc apply -f`` refuses an empty file.

Unless ``manifests_only``, the planned images of all catalogs are copied in one run of the copy
engine, and the cluster files are written only once that copy succeeded: files ready for
``oc apply`` never point at a partial mirror. mapping.txt, the plan itself, is written first.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any, Dict, List, Optional

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sources import (
    LoadedCatalog,
    is_local,
    load_spec,
    registry_pool,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.catalog_source import (
    catalog_source,
    catalog_source_for,
    catalog_source_name,
    cluster_catalog,
    cluster_catalog_for,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml_documents
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.endpoints import (
    FileReference,
    parse_destination,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import (
    icsp_objects,
    idms_objects,
    itms_objects,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import (
    PlannedImage,
    catalog_target,
    mapping_lines,
    plan_catalog,
    plan_images,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.pruned import (
    CatalogBuild,
    is_pruned,
    plan_build,
    publish_build,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import (
    CatalogMirrorRequest,
    MappingMirrorRequest,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import run_mapping_mirror
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, redact
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError, InvalidReference
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

FILE_MAPPING = "mapping.txt"
FILE_ICSP = "imageContentSourcePolicy.yaml"
FILE_IDMS = "imageDigestMirrorSet.yaml"
FILE_ITMS = "imageTagMirrorSet.yaml"
FILE_CATALOG_SOURCE = "catalogSource.yaml"
FILE_CLUSTER_CATALOG = "clusterCatalog.yaml"
# What a cluster applies: written only after a successful copy (or with manifests_only).
CLUSTER_FILES = (FILE_ICSP, FILE_IDMS, FILE_ITMS, FILE_CATALOG_SOURCE, FILE_CLUSTER_CATALOG)
FILES = (FILE_MAPPING,) + CLUSTER_FILES
# archive_dir/manifests/: where an export puts the cluster files (the archive format's MANIFESTS_DIR)
ARCHIVE_MANIFESTS_DIR = "manifests"


class CatalogPlan:
    """Everything planned for one catalog: its name, images, and the files to write.

    ``target`` is where its catalog image lands (None for a local catalog without target_name);
    ``build`` the pruned catalog image built for it (see ``pruned.py``), if any.
    """

    def __init__(self, loaded: LoadedCatalog, name: str, planned: List[PlannedImage], files: Dict[str, str],
                 catalog_image: Optional[str], target: Any = None):
        self.loaded = loaded
        self.name = name
        self.planned = planned
        self.files = files
        self.catalog_image = catalog_image
        self.target = target
        self.build: Optional[CatalogBuild] = None


def _local_name(spec: Any) -> str:
    base = os.path.basename(os.path.normpath(os.path.expanduser(spec.source)))
    base = os.path.splitext(base)[0] if os.path.isfile(os.path.expanduser(spec.source)) else base
    return catalog_source_name("x/" + (base or "catalog"), "oc")


def plan_one(loaded: LoadedCatalog, request: CatalogMirrorRequest, built_image: Optional[str] = None) -> CatalogPlan:
    """Plan one loaded catalog into the content of its files.

    ``built_image`` is the catalog image built for it, by digest: the source catalog image then
    leaves mapping.txt (a comment names the built image) and the mirror sets, and the
    CatalogSource and ClusterCatalog point at the built image.
    """
    spec = loaded.spec
    dest = request.dest
    naming = request.naming
    max_components = request.max_components
    max_nested = request.max_nested_paths
    scope = request.icsp_scope
    images = loaded.images()
    own: Optional[PlannedImage] = None
    target: Any = None
    try:
        if loaded.image:
            planned = plan_catalog(loaded.image, images, dest, naming, max_components, max_nested, None,
                                   spec.target_name, spec.target_tag)
            own = next(p for p in planned if p.image_type == "operatorCatalog")
            target = own.target
            if naming == "oc" and spec.target_name:
                name = catalog_source_name(own.target, "oc")
            elif naming == "oc":
                name = catalog_source_name(own.origin or own.source, "oc")
            else:
                name = catalog_source_name(own.target, "oc-mirror")
        else:
            planned = plan_images(images, dest, naming, max_components, max_nested)
            if spec.target_name:
                target = catalog_target(f"catalog.invalid/{spec.target_name}:{spec.target_tag or 'latest'}", dest,
                                        naming, max_components, max_nested, None, spec.target_name, spec.target_tag)
                name = catalog_source_name(target, naming)
            else:
                name = _local_name(spec)
    except (ConfigError, InvalidReference) as exc:
        raise ConfigError(f"{spec.field}: {exc}") from None
    if built_image is not None:
        planned = [p for p in planned if p.image_type != "operatorCatalog"]

    files: Dict[str, str] = {}
    lines = mapping_lines(planned)
    if built_image is not None:
        lines.insert(0, f"# {built_image}: the pruned catalog, built and pushed by catalog_mirror, not copied")
    files[FILE_MAPPING] = "".join(line + "\n" for line in lines)
    set_name = name if naming == "oc" else None
    try:
        files[FILE_ICSP] = dump_yaml_documents(icsp_objects(
            planned, set_name or f"icsp-{name}", scope, naming=naming))
        files[FILE_IDMS] = dump_yaml_documents(idms_objects(
            planned, set_name or f"idms-{name}", scope, naming=naming))
        files[FILE_ITMS] = dump_yaml_documents(itms_objects(
            planned, set_name or f"itms-{name}", scope, naming=naming))
        catalog_image = None
        if built_image is not None:
            catalog_image = built_image
            files[FILE_CATALOG_SOURCE] = dump_yaml_documents([catalog_source(name, catalog_image)])
            files[FILE_CLUSTER_CATALOG] = dump_yaml_documents([cluster_catalog(name, catalog_image)])
        elif own is not None:
            cs = catalog_source_for(own, naming, name=name)
            files[FILE_CATALOG_SOURCE] = dump_yaml_documents([cs])
            files[FILE_CLUSTER_CATALOG] = dump_yaml_documents([cluster_catalog_for(own, naming, name=name)])
            catalog_image = cs["spec"]["image"]
        elif spec.target_name:
            # A local catalog has no image yet: point at where catalog_build is expected to push
            # it, named by the same rule as a mirrored catalog image with this target_name.
            catalog_image = str(target)
            files[FILE_CATALOG_SOURCE] = dump_yaml_documents([catalog_source(name, catalog_image)])
            files[FILE_CLUSTER_CATALOG] = dump_yaml_documents([cluster_catalog(name, catalog_image)])
        else:
            files[FILE_CATALOG_SOURCE] = ""
            files[FILE_CLUSTER_CATALOG] = ""
    except ConfigError as exc:
        raise ConfigError(f"{spec.field}: {exc}") from None
    return CatalogPlan(loaded, name, planned, files, catalog_image, target)


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check output_dir") from None


class FileChange:
    """What syncing one file changes: ``before`` is None for a new file, ``after`` empty for a removal."""

    def __init__(self, path: str, before: Optional[str], after: str):
        self.path = path
        self.before = before
        self.after = after

    def diff(self) -> Dict[str, str]:
        """The file's entry of an Ansible ``diff`` list."""
        return {"before_header": self.path if self.before is not None else "/dev/null",
                "after_header": self.path if self.after else "/dev/null",
                "before": self.before or "", "after": self.after}


def sync_file(path: str, content: str, check_mode: bool) -> Optional[FileChange]:
    """Make ``path`` hold ``content`` (absent when empty); the change, or None when there is none."""
    data = content.encode("utf-8")
    current = _read(path)
    if current == data or (not data and current is None):
        return None
    change = FileChange(path, None if current is None else current.decode("utf-8", "replace"), content)
    if check_mode:
        return change
    if not data:
        try:
            os.unlink(path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot remove the stale file ({exc.strerror})") from None
        return change
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror}); check output_dir") from None
    return change


def _plan_and_build(loaded: LoadedCatalog, request: CatalogMirrorRequest, pool: Any, work: str) -> CatalogPlan:
    plan = plan_one(loaded, request)
    build = plan_build(loaded, plan.target, request, pool, work)
    if build is not None and build.image is not None:
        plan = plan_one(loaded, request, build.image)
    plan.build = build
    return plan


def _load_and_plan(request: CatalogMirrorRequest, pool: Any, work: str) -> List[CatalogPlan]:
    plans: List[CatalogPlan] = []
    for spec in request.catalogs:
        loaded = load_spec(spec, pool, request.cache_dir, request.platform)
        plans.append(_plan_and_build(loaded, request, pool, work))
    by_name: Dict[str, CatalogPlan] = {}
    for plan in plans:
        other = by_name.get(plan.name)
        if other is not None:
            raise ConfigError(
                f"{plan.loaded.spec.field} and {other.loaded.spec.field} would both be written to "
                f"{os.path.join(request.output_dir, plan.name)}: give one of them another target_name"
            )
        by_name[plan.name] = plan
    return plans


def _sync(plans: List[CatalogPlan], output_dir: str, names: tuple, check_mode: bool) -> List[FileChange]:
    changes = []
    for plan in plans:
        for filename in names:
            change = sync_file(os.path.join(output_dir, plan.name, filename), plan.files.get(filename, ""),
                               check_mode)
            if change is not None:
                changes.append(change)
    return changes


def _catalog_item(plan: CatalogPlan, directory: str) -> Dict[str, Any]:
    loaded = plan.loaded
    item: Dict[str, Any] = {
        "name": plan.name,
        "source": loaded.spec.source,
        "directory": directory,
        "files": [os.path.join(directory, name) for name in FILES if plan.files.get(name)],
        "packages": sorted(loaded.catalog.packages),
        "images": len(plan.planned),
        "catalog_image": plan.catalog_image,
        "pruned": is_pruned(loaded.spec),
    }
    if loaded.digest:
        item["digest"] = loaded.digest
    if plan.build is not None:
        item["build"] = plan.build.result()
        if plan.build.changed is None:
            item["build_task"] = plan.build.task
    return item


def _build_warnings(plans: List[CatalogPlan], manifests_only: bool) -> List[str]:
    warnings = []
    for plan in plans:
        build = plan.build
        if build is None:
            continue
        field = plan.loaded.spec.field
        if build.prepared is None:
            warnings.append(f"{field}: the CatalogSource points at {build.dest}, which catalog_mirror does not build "
                            "without base_image: set base_image, or build it with " + build.task_text())
        elif manifests_only:
            warnings.append(f"{field}: manifests_only: the CatalogSource points at the pruned catalog {build.image}, "
                            "not pushed; push it with the same digest with " + build.task_text())
    return warnings


def catalog_mirror(request: CatalogMirrorRequest, auth: AuthStore, check_mode: bool = False) -> Dict[str, Any]:
    """Plan (and unless manifests_only, mirror) every catalog of ``request``; return the module result."""
    dest = parse_destination(request.dest, "dest")
    if isinstance(dest, FileReference):
        raise ConfigError(f"dest {request.dest!r}: catalog_mirror mirrors to a registry[/namespace]; "
                          "file:// destinations are not supported")
    output_dir = os.path.abspath(os.path.expanduser(request.output_dir))
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ConfigError(f"output_dir {output_dir} exists and is not a directory")
    pool = None
    if request.base_image or any(not is_local(spec.source) for spec in request.catalogs):
        pool = registry_pool(auth, request.connection, 4)
    try:
        with tempfile.TemporaryDirectory(prefix="airgap-catalog-mirror-") as work:
            plans = _load_and_plan(request, pool, work)
            result, warnings = _mirror(request, auth, plans, output_dir, pool, check_mode)
    finally:
        if pool is not None:
            pool.close()
    secrets = auth.secrets()
    result["warnings"] = [redact(w, secrets) for w in dict.fromkeys(warnings)]
    return result


def _archive(request: CatalogMirrorRequest, plans: List[CatalogPlan]):
    """The archive settings with the pruned catalog images to write beside the images they list."""
    if request.archive is None:
        return None
    from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.built import BuiltExport

    built = tuple(BuiltExport(plan.build.prepared, plan.build.dest) for plan in plans
                  if plan.build is not None and plan.build.prepared is not None)
    return dataclasses.replace(request.archive, built=built)


def _mirror(request: CatalogMirrorRequest, auth: AuthStore, plans: List[CatalogPlan], output_dir: str, pool: Any,
            check_mode: bool):
    warnings: List[str] = []
    for plan in plans:
        warnings.extend(f"{plan.loaded.spec.field}: {w}" for w in plan.loaded.warnings)
    warnings.extend(_build_warnings(plans, request.manifests_only))
    all_lines = sorted({line for plan in plans for line in mapping_lines(plan.planned)})
    result: Dict[str, Any] = {
        "images": len(all_lines),
        "copied": [],
        "present": [],
        "failures": [],
        "bytes_sent": 0,
    }
    # mapping.txt first: it is the plan, and what a resumed or method-2 run reads
    changes = _sync(plans, output_dir, (FILE_MAPPING,), check_mode)
    copy_changed = False
    archive = _archive(request, plans)
    if not request.manifests_only and (all_lines or (archive is not None and archive.built)):
        copy_request = MappingMirrorRequest(mapping=tuple(all_lines), transfer=request.transfer,
                                            connection=request.connection, archive=archive)
        if archive is None:
            copy = run_mapping_mirror(copy_request, auth, check_mode=check_mode)
        else:
            # catalog_mirror ships _archive anyway (it may write archives); with no image to copy,
            # the pruned catalog images still go into the archives
            from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import (
                run_archive_export,
                run_mapping_export,
            )

            if all_lines:
                copy = run_mapping_export(copy_request, auth, check_mode=check_mode)
            else:
                copy = run_archive_export(copy_request, [], [], auth, check_mode)
        copy_changed = bool(copy.pop("changed"))
        warnings.extend(copy.pop("warnings", []))
        result.update(copy)
    else:
        warnings.extend(auth.warnings)
    build_changed = False
    if result["failures"]:
        # Files for `oc apply` must not point at a partial mirror: they wait for a run that copies everything.
        pending = [os.path.join(output_dir, plan.name, name) for plan in plans for name in CLUSTER_FILES
                   if plan.files.get(name)]
        result["files_pending"] = pending
        result["msg"] = (f"{result.get('msg') or 'the copy failed'}; the pruned catalog images were not pushed and "
                         "the cluster files (ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet, "
                         "CatalogSource) were not written or updated: run again once the failures are fixed (what "
                         "landed is not sent again)")
    else:
        if not request.manifests_only:
            # the catalog images after the images they list, before the files that point at them
            for plan in plans:
                if plan.build is not None and plan.build.prepared is not None:
                    if request.archive is not None:
                        continue  # written into the archives with the images it lists
                    build_changed = publish_build(plan.build, pool, check_mode) or build_changed
        changes += _sync(plans, output_dir, CLUSTER_FILES, check_mode)
        if request.archive is not None and not request.manifests_only:
            # the cluster files travel with the archives, as output_dir holds them
            changes += _sync(plans, os.path.join(request.archive.directory, ARCHIVE_MANIFESTS_DIR), FILES, check_mode)
        result["files_pending"] = []
    result["catalogs"] = [_catalog_item(plan, os.path.join(output_dir, plan.name)) for plan in plans]
    result["files_changed"] = [change.path for change in changes]
    result["changed"] = bool(changes) or copy_changed or build_changed
    if request.diff:
        result["diff"] = [change.diff() for change in changes]
    return result, warnings
