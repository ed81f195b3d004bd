# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the ``mirror.operators`` entries of an oc-mirror ImageSetConfiguration into one
:class:`~options.CatalogFilter` per catalog."""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import (
    CatalogFilter,
    filter_from_options,
    str_field,
    unknown_key,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError, ConfigError

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

ISC_API_VERSIONS = ("mirror.openshift.io/v2alpha1", "mirror.openshift.io/v1alpha2")
ISC_KIND = "ImageSetConfiguration"


@dataclass
class IscCatalog:
    """One ``mirror.operators`` entry of an ImageSetConfiguration."""

    catalog: str
    filter: CatalogFilter
    target_catalog: Optional[str] = None
    target_tag: Optional[str] = None


class ImageSetConfig(list):
    """The catalogs of an ImageSetConfiguration (a list of IscCatalog), with ``warnings`` about
    the parts that were read but are not used (platform, additionalImages, helm, ...)."""

    def __init__(self, catalogs: Iterable[IscCatalog] = (), warnings: Optional[List[str]] = None,
                 origin: Optional[str] = None):
        super().__init__(catalogs)
        self.warnings: List[str] = warnings if warnings is not None else []
        self.origin = origin


_ISC_TOP = {"apiVersion", "kind", "mirror", "archiveSize", "storageConfig", "metadata"}
_ISC_MIRROR_IGNORED = ("platform", "additionalImages", "helm", "blockedImages", "samples")
_ISC_OPERATOR_KEYS = {"catalog", "packages", "full", "targetCatalog", "targetTag", "skipDependencies",
                      "targetCatalogSourceTemplate", "platforms"}
_ISC_OPERATOR_KEYS_V1 = {"targetName", "originalRef"}
_PATH_COMPONENTS = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _read_isc_documents(data_or_path: Any) -> Tuple[List[Any], Optional[str]]:
    if isinstance(data_or_path, dict):
        return [data_or_path], None
    if isinstance(data_or_path, (list, tuple)) and all(isinstance(doc, dict) for doc in data_or_path):
        return list(data_or_path), None
    if isinstance(data_or_path, os.PathLike) or (isinstance(data_or_path, str) and "\n" not in data_or_path):
        path = os.fspath(data_or_path)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the ImageSetConfiguration: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text; an ImageSetConfiguration is YAML") from None
        origin: Optional[str] = path
    elif isinstance(data_or_path, str):
        text, origin = data_or_path, None
    else:
        raise ConfigError(f"imageset_config: expected a mapping, a file path or YAML text, "
                          f"got {type(data_or_path).__name__}")
    if not HAS_YAML:
        raise ConfigError(f"reading an ImageSetConfiguration needs the PyYAML Python package: {YAML_IMPORT_ERROR}")
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin or 'imageset_config'}:{mark.line + 1}:{mark.column + 1}" if mark else \
            (origin or "imageset_config")
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    return docs, origin


def load_imageset_config(data_or_path: Any) -> ImageSetConfig:
    """Read the ``mirror.operators`` entries of an oc-mirror ImageSetConfiguration
    (``mirror.openshift.io/v2alpha1``, or ``v1alpha2`` which has the same shape).

    ``data_or_path``: the parsed mapping, a file path, or YAML text. A YAML stream of several
    documents gives the catalogs of all of them (each document is checked on its own). Returns an
    :class:`ImageSetConfig` (a list of :class:`IscCatalog`) whose ``warnings`` name the sections
    that are read but not used here (platform, additionalImages, helm, ...). Invalid fields raise
    ConfigError naming their path (``mirror.operators[0].packages[1].channels[0].minVersion``).
    """
    docs, origin = _read_isc_documents(data_or_path)
    prefix = f"{origin}: " if origin else ""
    if not docs:
        raise ConfigError(f"{prefix}the ImageSetConfiguration is empty")
    result = ImageSetConfig(origin=origin)
    if len(docs) > 1:
        result.warnings.append(f"{prefix}{len(docs)} YAML documents: the catalogs of all of them are read "
                               "(oc-mirror reads only the first)")
    for index, doc in enumerate(docs):
        doc_prefix = prefix + (f"document {index + 1}: " if len(docs) > 1 else "")
        _load_isc_document(doc, doc_prefix, result, {})
    if not result:
        raise ConfigError(f"{prefix}the ImageSetConfiguration has no mirror.operators entry: add at least one "
                          "catalog under mirror.operators")
    return result


def _load_isc_document(doc: Any, prefix: str, result: ImageSetConfig, unique: Dict[str, str]) -> None:
    if not isinstance(doc, dict):
        raise ConfigError(f"{prefix}an ImageSetConfiguration is a mapping, got {type(doc).__name__}")
    api_version = doc.get("apiVersion")
    kind = doc.get("kind")
    if kind == "DeleteImageSetConfiguration":
        raise ConfigError(f"{prefix}kind DeleteImageSetConfiguration describes images to delete from a mirror; "
                          "this collection mirrors: give an ImageSetConfiguration (its mirror.operators section)")
    if kind != ISC_KIND:
        raise ConfigError(f"{prefix}kind: expected {ISC_KIND!r}, got {kind!r}")
    if api_version not in ISC_API_VERSIONS:
        raise ConfigError(f"{prefix}apiVersion: expected one of {', '.join(ISC_API_VERSIONS)}, got {api_version!r}")
    is_v1alpha2 = api_version.endswith("v1alpha2")
    for key in doc:
        if key not in _ISC_TOP:
            raise unknown_key(prefix + "(top level)", key, _ISC_TOP)
    for key in ("archiveSize", "storageConfig"):
        if key in doc:
            result.warnings.append(f"{prefix}{key} is not used by this collection (ignored)")
    mirror = doc.get("mirror")
    if mirror is None:
        return
    if not isinstance(mirror, dict):
        raise ConfigError(f"{prefix}mirror: must be a mapping")
    for key in mirror:
        if key == "operators":
            continue
        if key in _ISC_MIRROR_IGNORED:
            result.warnings.append(f"{prefix}mirror.{key} is not used by this collection: only mirror.operators "
                                   "is read (ignored)")
        else:
            result.warnings.append(f"{prefix}mirror.{key}: unknown section (ignored)")
    operators = mirror.get("operators") or []
    if not isinstance(operators, list):
        raise ConfigError(f"{prefix}mirror.operators: must be a list of catalogs")
    known = _ISC_OPERATOR_KEYS | (_ISC_OPERATOR_KEYS_V1 if is_v1alpha2 else set())
    for index, operator in enumerate(operators):
        where = f"mirror.operators[{index}]"
        if not isinstance(operator, dict):
            raise ConfigError(f"{prefix}{where}: must be a mapping with 'catalog'")
        try:
            for key in operator:
                if key not in known:
                    raise unknown_key(where, key, known)
            catalog = str_field(operator.get("catalog"), f"{where}.catalog", False) or ""
            full = operator.get("full", False)
            if full is None:
                full = False
            if not isinstance(full, bool):
                raise ConfigError(f"{where}.full: must be true or false, got {full!r}")
            for key in ("skipDependencies",):
                if key in operator and not isinstance(operator[key], bool):
                    raise ConfigError(f"{where}.{key}: must be true or false, got {operator[key]!r}")
            for key in ("targetCatalogSourceTemplate", "platforms"):
                if operator.get(key):
                    result.warnings.append(f"{prefix}{where}.{key} is not used by this collection (ignored)")
            target_catalog = str_field(operator.get("targetCatalog") or None, f"{where}.targetCatalog")
            if target_catalog is None and is_v1alpha2 and operator.get("targetName"):
                target_name = str_field(operator["targetName"], f"{where}.targetName") or ""
                target_catalog = _v1_target_name(catalog, target_name)
            if target_catalog is not None and not _PATH_COMPONENTS.match(target_catalog):
                raise ConfigError(f"{where}.targetCatalog: {target_catalog!r} is not a repository path: one or more "
                                  "lower-case components separated by '/', without tag or digest")
            target_tag = str_field(operator.get("targetTag") or None, f"{where}.targetTag")
            if target_tag is not None and not _TAG.match(target_tag):
                raise ConfigError(f"{where}.targetTag: {target_tag!r} is not a valid tag "
                                  "(up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -)")
            catalog_filter = filter_from_options(operator.get("packages"), full, False, f"{where}.packages")
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None
        name = f"{catalog}|{target_catalog or ''}|{target_tag or ''}"
        if name in unique:
            raise ConfigError(f"{prefix}{where}: catalog {catalog!r} is listed twice with the same target "
                              f"(also {unique[name]}); merge the entries or give each its own targetCatalog/targetTag")
        unique[name] = where
        result.append(IscCatalog(catalog, catalog_filter, target_catalog, target_tag))


def _v1_target_name(catalog: str, target_name: str) -> str:
    """v1alpha2 ``targetName`` replaced the last path component of the catalog repository."""
    try:
        repository = parse(catalog).repository
    except AirgapError:
        return target_name
    namespace = repository.rpartition("/")[0]
    return f"{namespace}/{target_name}" if namespace else target_name
