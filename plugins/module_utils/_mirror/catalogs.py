# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine behind catalog_info and catalog_mirror: read catalogs, filter, plan, write, copy.

A catalog source is an existing local path (an FBC directory or file, or a sqlite index.db,
told apart by content) or else an image reference (a catalog image in a registry, read through
:func:`catalog_image.load_catalog_image`).

catalog_mirror writes, per catalog, a directory under ``output_dir`` named after its
CatalogSource, holding what ``oc adm catalog mirror --manifests-only`` writes (mapping.txt,
imageContentSourcePolicy.yaml, imageDigestMirrorSet.yaml), plus imageTagMirrorSet.yaml,
catalogSource.yaml and clusterCatalog.yaml. A file is rewritten only when its content changes;
a manifest file with nothing to hold is not written (and a stale one removed), because
``oc apply -f`` refuses an empty file. Unless ``manifests_only``, the planned images of all
catalogs are then copied in one run of the copy engine (image_mirror_from_mapping's engine).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, redact
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog, load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import (
    apply_filter,
    catalog_images,
    filter_from_options,
    load_imageset_config,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.image import load_catalog_image
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import (
    AirgapError,
    CatalogError,
    ConfigError,
    InvalidReference,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import run_mapping_mirror
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.plan import (
    FileReference,
    PlannedImage,
    catalog_source,
    catalog_source_for,
    catalog_source_name,
    catalog_target,
    cluster_catalog,
    cluster_catalog_for,
    dump_yaml_documents,
    icsp_manifests,
    idms_manifests,
    itms_manifests,
    mapping_lines,
    parse_destination,
    plan_catalog,
    plan_images,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.client import RegistryPool

FILE_MAPPING = "mapping.txt"
FILE_ICSP = "imageContentSourcePolicy.yaml"
FILE_IDMS = "imageDigestMirrorSet.yaml"
FILE_ITMS = "imageTagMirrorSet.yaml"
FILE_CATALOG_SOURCE = "catalogSource.yaml"
FILE_CLUSTER_CATALOG = "clusterCatalog.yaml"
FILES = (FILE_MAPPING, FILE_ICSP, FILE_IDMS, FILE_ITMS, FILE_CATALOG_SOURCE, FILE_CLUSTER_CATALOG)


# ---------------------------------------------------------------------------------------------
# Sources


class CatalogSpec:
    """One catalog to read: where from, how to filter it, how to name its target.

    ``field`` names the option it came from (``catalogs[1]``, ``catalog``) for error messages.
    """

    def __init__(self, source: str, flt: Any, field: str, target_name: Optional[str] = None,
                 target_tag: Optional[str] = None, filtered: bool = True, warnings: Optional[List[str]] = None):
        self.warnings = list(warnings or [])
        self.source = source
        self.filter = flt
        self.field = field
        self.target_name = target_name
        self.target_tag = target_tag
        self.filtered = filtered


class LoadedCatalog:
    """A catalog read and filtered: ``image`` is the source reference when it is an image."""

    def __init__(self, spec: CatalogSpec, catalog: Catalog, image: Optional[str], digest: Optional[str],
                 warnings: List[str]):
        self.spec = spec
        self.catalog = catalog
        self.image = image
        self.digest = digest
        self.warnings = warnings

    def images(self) -> List[str]:
        """Bundle and related images of the kept bundles, sorted (the catalog image not included)."""
        return sorted(set(catalog_images(self.catalog)))


def is_local(source: str) -> bool:
    """A source is local when it names an existing path; anything else is an image reference."""
    return os.path.exists(os.path.expanduser(source))


def _check_image_source(source: str, field: str) -> str:
    text = source.strip()
    for prefix in ("docker://", "oci://", "file://", "dir:", "oci:", "docker-archive:"):
        if text.startswith(prefix) and prefix != "docker://":
            raise ConfigError(
                f"{field}: {source!r} is not an existing path nor a registry image; {prefix} catalogs are not "
                "supported: give a registry image, an FBC directory/file or an index.db path"
            )
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    try:
        parse(text)
    except InvalidReference as exc:
        raise ConfigError(f"{field}: {source!r} is neither an existing local path (FBC directory or file, sqlite "
                          f"index.db) nor a valid image reference ({exc})") from None
    return text


def load_spec(spec: CatalogSpec, pool: Optional[RegistryPool], cache_dir: Optional[str],
              platform: str = "linux/amd64", slim: bool = False) -> LoadedCatalog:
    """Read the catalog of ``spec`` (only the packages its filter may keep) and filter it.
    ``slim`` (a listing, no filter): keep only what package_summary needs."""
    names = spec.filter.package_names() if spec.filtered else None
    image = digest = None
    field = _source_field(spec)
    try:
        if is_local(spec.source):
            catalog = load_catalog(os.path.expanduser(spec.source), names, slim)
        else:
            image = _check_image_source(spec.source, field)
            if pool is None:  # pragma: no cover - callers always pass a pool for images
                raise ConfigError(f"{field}: reading a catalog image needs registry access")
            catalog, digest, _labels = load_catalog_image(pool, image, cache_dir, names, platform, slim)
    except ConfigError:
        raise
    except AirgapError as exc:
        raise CatalogError(f"{field}: {exc}") from None
    warnings: List[str] = []
    if spec.filtered:
        try:
            catalog, warnings = apply_filter(catalog, spec.filter)
        except AirgapError as exc:
            text = str(exc)
            text = text if text.startswith(spec.field) else f"{spec.field}: {text}"
            raise (ConfigError(text) if isinstance(exc, ConfigError) else CatalogError(text)) from None
    return LoadedCatalog(spec, catalog, image, digest, spec.warnings + list(warnings or []))


def _source_field(spec: CatalogSpec) -> str:
    return f"{spec.field}.source" if spec.field.startswith("catalogs[") else spec.field


def _specs_from_isc(isc: Any, field: str, source: Optional[str], target_name: Optional[str],
                    target_tag: Optional[str], isc_field: Optional[str] = None) -> List[CatalogSpec]:
    isc_field = isc_field or f"{field}.imageset_config"
    try:
        entries = load_imageset_config(isc)
    except (ConfigError, CatalogError) as exc:
        raise ConfigError(f"{isc_field}: {exc}") from None
    if not entries:
        raise ConfigError(f"{isc_field}: mirror.operators lists no catalog")
    if source is not None and len(entries) > 1:
        chosen = [e for e in entries if e.catalog == source]
        if not chosen:
            raise ConfigError(
                f"{field}: source {source!r} is none of the catalogs of imageset_config "
                f"({', '.join(e.catalog for e in entries)}); leave source out to mirror them all, or name one"
            )
        entries = chosen
    specs = []
    for index, entry in enumerate(entries):
        where = f"{isc_field}.mirror.operators[{index}]" if len(entries) > 1 else field
        specs.append(CatalogSpec(
            source if source is not None else entry.catalog,
            entry.filter,
            where,
            target_name if target_name is not None else entry.target_catalog,
            target_tag if target_tag is not None else entry.target_tag,
            warnings=list(getattr(entries, "warnings", None) or []) if index == 0 else [],
        ))
    return specs


def catalog_specs(entries: List[Dict[str, Any]], option: str = "catalogs") -> List[CatalogSpec]:
    """Turn the ``catalogs`` option into specs; an imageset_config entry may give several."""
    if not entries:
        raise ConfigError(f"{option} is empty: list at least one catalog (source: an image, FBC path or index.db)")
    specs: List[CatalogSpec] = []
    for index, entry in enumerate(entries):
        field = f"{option}[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{field} must be a dictionary with at least 'source' or 'imageset_config'")
        source = entry.get("source")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise ConfigError(f"{field}.source must be a non-empty string (an image, FBC path or index.db)")
        isc = entry.get("imageset_config")
        packages = entry.get("packages")
        if isc is not None:
            if packages:
                raise ConfigError(f"{field}: give either packages or imageset_config, not both")
            specs.extend(_specs_from_isc(isc, field, source, entry.get("target_name"), entry.get("target_tag")))
            continue
        if source is None:
            raise ConfigError(f"{field}: source is required (an image, an FBC path or an index.db) "
                              "unless imageset_config names the catalogs")
        flt = filter_from_options(packages or [], full=bool(entry.get("full")),
                                  include_dependencies=bool(entry.get("include_dependencies")),
                                  field=f"{field}.packages")
        specs.append(CatalogSpec(source, flt, field, entry.get("target_name"), entry.get("target_tag")))
    return specs


def _pool(params: Dict[str, Any], auth: AuthStore, size: int = 8) -> RegistryPool:
    retries = params.get("retries", 5)
    if retries is None or retries < 0:
        raise ConfigError(f"retries must be 0 or more, got {retries!r}")
    return RegistryPool(auth, retries=retries, pool_size=size, timeout=params.get("timeout") or 60.0)


# ---------------------------------------------------------------------------------------------
# catalog_info


def package_summary(catalog: Catalog) -> Tuple[List[Dict[str, Any]], List[str]]:
    """``[{name, default_channel, channels: [{name, head, head_version}], bundles}]`` sorted by name."""
    out = []
    warnings = []
    for name in sorted(catalog.packages):
        pkg = catalog.packages[name]
        channels = []
        for channel_name in sorted(pkg.channels):
            channel = pkg.channels[channel_name]
            head = version = None
            try:
                head = channel.head()
            except CatalogError as exc:
                warnings.append(str(exc))
            if head is not None and head in pkg.bundles:
                version = pkg.bundles[head].version
            channels.append({"name": channel_name, "head": head, "head_version": version})
        out.append({"name": name, "default_channel": pkg.default_channel, "channels": channels,
                    "bundles": len(pkg.bundles)})
    return out, warnings


def catalog_info(params: Dict[str, Any], auth: AuthStore) -> Dict[str, Any]:
    """List the packages of one catalog; with a filter, what it keeps and the images it needs."""
    source = params.get("catalog")
    isc = params.get("imageset_config")
    packages = params.get("packages")
    full = params.get("full")
    filtered = bool(packages) or isc is not None or full is not None
    if isc is not None:
        if packages:
            raise ConfigError("give either packages or imageset_config, not both")
        specs = _specs_from_isc(isc, "catalog", source, None, None, "imageset_config")
        if len(specs) > 1:
            raise ConfigError("imageset_config lists several catalogs; set catalog to the one to list")
        spec = specs[0]
        spec.field = "catalog"
    else:
        if not source:
            raise ConfigError("catalog is required (an image, an FBC path or an index.db) unless imageset_config "
                              "names it")
        flt = filter_from_options(packages or [], full=bool(full),
                                  include_dependencies=bool(params.get("include_dependencies")), field="packages")
        spec = CatalogSpec(source, flt, "catalog", filtered=filtered)
    pool = None if is_local(spec.source) else _pool(params, auth, 4)
    try:
        # a plain listing reads every package: keep only what the summary needs of each
        loaded = load_spec(spec, pool, params.get("cache_dir"), params.get("platform") or "linux/amd64",
                           slim=not filtered)
    finally:
        if pool is not None:
            pool.close()
    summary, warnings = package_summary(loaded.catalog)
    result: Dict[str, Any] = {"changed": False, "packages": summary, "catalog": spec.source}
    if loaded.digest:
        result["digest"] = loaded.digest
    if filtered:
        images = set(loaded.images())
        if loaded.image:
            images.add(loaded.image)
        result["images"] = sorted(images)
    result["warnings"] = list(auth.warnings) + loaded.warnings + warnings
    return result


# ---------------------------------------------------------------------------------------------
# catalog_mirror


class CatalogPlan:
    """Everything planned for one catalog: its name, images, and the files to write."""

    def __init__(self, loaded: LoadedCatalog, name: str, planned: List[PlannedImage], files: Dict[str, str],
                 catalog_image: Optional[str]):
        self.loaded = loaded
        self.name = name
        self.planned = planned
        self.files = files
        self.catalog_image = catalog_image


def _local_name(spec: CatalogSpec) -> str:
    base = os.path.basename(os.path.normpath(os.path.expanduser(spec.source)))
    base = os.path.splitext(base)[0] if os.path.isfile(os.path.expanduser(spec.source)) else base
    return catalog_source_name("x/" + (base or "catalog"), "oc")


def plan_one(loaded: LoadedCatalog, dest: str, params: Dict[str, Any]) -> CatalogPlan:
    """Plan one loaded catalog into the content of its files."""
    spec = loaded.spec
    naming = params.get("naming") or "oc"
    max_components = params.get("max_components", 2)
    max_nested = params.get("max_nested_paths", 0) or 0
    scope = params.get("icsp_scope")
    images = loaded.images()
    own: Optional[PlannedImage] = None
    try:
        if loaded.image:
            planned = plan_catalog(loaded.image, images, dest, naming, max_components, max_nested, None,
                                   spec.target_name, spec.target_tag)
            own = next(p for p in planned if p.image_type == "operatorCatalog")
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

    files: Dict[str, str] = {}
    lines = mapping_lines(planned)
    files[FILE_MAPPING] = "".join(line + "\n" for line in lines)
    set_name = name if naming == "oc" else None
    try:
        files[FILE_ICSP] = dump_yaml_documents(icsp_manifests(
            planned, set_name or f"icsp-{name}", scope, naming=naming))
        files[FILE_IDMS] = dump_yaml_documents(idms_manifests(
            planned, set_name or f"idms-{name}", scope, naming=naming))
        files[FILE_ITMS] = dump_yaml_documents(itms_manifests(
            planned, set_name or f"itms-{name}", scope, naming=naming))
        catalog_image = None
        if own is not None:
            cs = catalog_source_for(own, naming, name=name)
            files[FILE_CATALOG_SOURCE] = dump_yaml_documents([cs])
            files[FILE_CLUSTER_CATALOG] = dump_yaml_documents([cluster_catalog_for(own, naming, name=name)])
            catalog_image = cs["spec"]["image"]
        elif spec.target_name:
            # A local catalog has no image yet: point at where catalog_build is expected to push
            # it, named by the same rule as a mirrored catalog image with this target_name.
            target = catalog_target(f"catalog.invalid/{spec.target_name}:{spec.target_tag or 'latest'}", dest,
                                    naming, max_components, max_nested, None, spec.target_name, spec.target_tag)
            catalog_image = str(target)
            files[FILE_CATALOG_SOURCE] = dump_yaml_documents([catalog_source(name, catalog_image)])
            files[FILE_CLUSTER_CATALOG] = dump_yaml_documents([cluster_catalog(name, catalog_image)])
        else:
            files[FILE_CATALOG_SOURCE] = ""
            files[FILE_CLUSTER_CATALOG] = ""
    except ConfigError as exc:
        raise ConfigError(f"{spec.field}: {exc}") from None
    return CatalogPlan(loaded, name, planned, files, catalog_image)


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check output_dir") from None


def sync_file(path: str, content: str, check_mode: bool) -> bool:
    """Make ``path`` hold ``content`` (absent when empty); True when that changes the file."""
    data = content.encode("utf-8")
    current = _read(path)
    if not data:
        if current is None:
            return False
        if not check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                raise ConfigError(f"{path}: cannot remove the stale file ({exc.strerror})") from None
        return True
    if current == data:
        return False
    if check_mode:
        return True
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror}); check output_dir") from None
    return True


def _copy_params(params: Dict[str, Any], lines: List[str]) -> Dict[str, Any]:
    """The image_mirror_from_mapping parameters that copy ``lines``."""
    return {
        "mapping_file": [],
        "mapping": lines,
        "include": None,
        "exclude": None,
        "digest_tag": "oc",
        "filter_by_os": params.get("filter_by_os"),
        "parallel_images": params.get("parallel_images", 4),
        "parallel_layers": params.get("parallel_layers", 8),
        "continue_on_error": params.get("continue_on_error", True),
        "report_file": params.get("report_file"),
        "progress_interval": params.get("progress_interval") or 5.0,
        "retries": params.get("retries", 5),
        "timeout": params.get("timeout") or 60.0,
    }


def catalog_mirror(params: Dict[str, Any], auth: AuthStore, check_mode: bool = False) -> Dict[str, Any]:
    """Plan (and unless manifests_only, mirror) every catalog of ``params``; return the module result."""
    dest_text = params.get("dest")
    dest = parse_destination(dest_text or "", "dest")
    if isinstance(dest, FileReference):
        raise ConfigError(f"dest {dest_text!r}: catalog_mirror mirrors to a registry[/namespace]; "
                          "file:// destinations are not supported")
    output_dir = params.get("output_dir")
    if not output_dir:
        raise ConfigError("output_dir is required: the directory that receives one sub-directory per catalog")
    output_dir = os.path.abspath(os.path.expanduser(output_dir))
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise ConfigError(f"output_dir {output_dir} exists and is not a directory")
    specs = catalog_specs(params.get("catalogs") or [])

    pool = None
    if any(not is_local(s.source) for s in specs):
        pool = _pool(params, auth, 4)
    plans: List[CatalogPlan] = []
    try:
        for spec in specs:
            loaded = load_spec(spec, pool, params.get("cache_dir"), params.get("platform") or "linux/amd64")
            plans.append(plan_one(loaded, dest_text, params))
    finally:
        if pool is not None:
            pool.close()

    by_name: Dict[str, CatalogPlan] = {}
    for plan in plans:
        other = by_name.get(plan.name)
        if other is not None:
            raise ConfigError(
                f"{plan.loaded.spec.field} and {other.loaded.spec.field} would both be written to "
                f"{os.path.join(output_dir, plan.name)}: give one of them another target_name"
            )
        by_name[plan.name] = plan

    files_changed: List[str] = []
    catalogs_out = []
    warnings: List[str] = []
    for plan in plans:
        directory = os.path.join(output_dir, plan.name)
        written = []
        for filename in FILES:
            path = os.path.join(directory, filename)
            if sync_file(path, plan.files.get(filename, ""), check_mode):
                files_changed.append(path)
            if plan.files.get(filename):
                written.append(path)
        loaded = plan.loaded
        warnings.extend(f"{loaded.spec.field}: {w}" for w in loaded.warnings)
        item: Dict[str, Any] = {
            "name": plan.name,
            "source": loaded.spec.source,
            "directory": directory,
            "files": written,
            "packages": sorted(loaded.catalog.packages),
            "images": len(plan.planned),
            "catalog_image": plan.catalog_image,
        }
        if loaded.digest:
            item["digest"] = loaded.digest
        catalogs_out.append(item)

    all_lines = sorted({line for plan in plans for line in mapping_lines(plan.planned)})
    result: Dict[str, Any] = {
        "catalogs": catalogs_out,
        "files_changed": files_changed,
        "images": len(all_lines),
        "copied": [],
        "present": [],
        "failures": [],
        "bytes_sent": 0,
    }
    copy_changed = False
    if not params.get("manifests_only"):
        copy = run_mapping_mirror(_copy_params(params, all_lines), auth, check_mode=check_mode)
        copy_changed = bool(copy.pop("changed"))
        warnings.extend(copy.pop("warnings", []))
        result.update(copy)
    else:
        warnings.extend(auth.warnings)
    result["changed"] = bool(files_changed) or copy_changed
    secrets = auth.secrets()
    result["warnings"] = [redact(w, secrets) for w in dict.fromkeys(warnings)]
    return result
