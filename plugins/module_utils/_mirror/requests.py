# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the mirroring engines are asked to do, as typed values.

The modules' parameters are turned into these once, in the Ansible glue (``args.py``); the
engines, the tests and the benchmarks pass them around, never module-parameter dicts. Each
option's default lives here (the argument specs read it from here), and each rule on one value
is checked here, so an engine driven without Ansible gets the same errors.

Nothing of _catalog or _archive is imported here, even inside a function: Ansible ships every
module_utils file a module imports, so image_mirror_from_mapping would ship them. The ``archive``
of a request is an ``_archive/settings.ArchiveSettings`` (export to archives instead of pushing),
made by the exports' own glue (``args_archive.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.tags import DIGEST_TAG_MODES
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError

# The platform read from a multi-platform catalog image when none is given: the value of
# _catalog/requests.DEFAULT_PLATFORM (a unit test holds them equal), written out so that this file
# does not import _catalog.
CATALOG_PLATFORM = "linux/amd64"


def _at_least_one(name: str, value: Any, what: str) -> None:
    if value is None or value < 1:
        raise ConfigError(f"{name} must be 1 or more ({what}), got {value!r}")


@dataclass(frozen=True)
class TransferSettings:
    """How images are copied: the copy engine's options, the same for both mirroring modules."""

    filter_by_os: Optional[str] = None
    parallel_images: int = 4
    parallel_layers: int = 8
    continue_on_error: bool = True
    report_file: Optional[str] = None
    progress_interval: float = 5.0

    def __post_init__(self) -> None:
        _at_least_one("parallel_images", self.parallel_images, "images copied at once")
        _at_least_one("parallel_layers", self.parallel_layers, "blobs copied at once")
        if self.progress_interval is None or self.progress_interval <= 0:
            raise ConfigError(f"progress_interval must be more than 0 seconds, got {self.progress_interval!r}")


@dataclass(frozen=True)
class MappingMirrorRequest:
    """Mirror the lines of mapping files and inline lines (image_mirror_from_mapping)."""

    mapping_files: Tuple[str, ...] = ()
    mapping: Tuple[str, ...] = ()
    include: Optional[Tuple[str, ...]] = None
    exclude: Optional[Tuple[str, ...]] = None
    digest_tag: str = "oc"
    shard_index: int = 0
    shard_count: int = 1
    transfer: TransferSettings = field(default_factory=TransferSettings)
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    archive: Optional[Any] = None  # _archive/settings.ArchiveSettings

    def __post_init__(self) -> None:
        if self.digest_tag not in DIGEST_TAG_MODES:
            raise ConfigError(f"digest_tag must be one of {', '.join(DIGEST_TAG_MODES)}, got {self.digest_tag!r}")
        if self.shard_count is None or self.shard_count < 1:
            raise ConfigError(
                f"shard_count must be 1 or more: the number of hosts that share the mapping, got {self.shard_count!r} "
                "(for one host leave shard_count and shard_index out)"
            )
        if self.shard_index is None or not 0 <= self.shard_index < self.shard_count:
            raise ConfigError(
                f"shard_index must be from 0 to shard_count - 1 ({self.shard_count - 1}): this host's place among "
                f"the {self.shard_count} hosts, got {self.shard_index!r}"
            )


@dataclass(frozen=True)
class CatalogMirrorRequest:
    """Plan, write the cluster files of, and mirror catalogs (catalog_mirror).

    ``catalogs`` are :class:`CatalogSpec` values (``_catalog/requests.py``), one per catalog to read.
    ``base_image`` is the opm image the pruned catalogs are built on instead of the source catalog
    image itself (and the one local catalogs with a target_name are built on); see ``pruned.py``.
    """

    catalogs: Tuple[Any, ...]
    dest: str
    output_dir: str
    manifests_only: bool = False
    naming: str = "oc"
    max_components: int = 2
    max_nested_paths: int = 0
    icsp_scope: Optional[str] = None
    cache_dir: Optional[str] = None
    platform: str = CATALOG_PLATFORM
    diff: bool = False
    base_image: Optional[str] = None
    transfer: TransferSettings = field(default_factory=TransferSettings)
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    archive: Optional[Any] = None  # _archive/settings.ArchiveSettings

    def __post_init__(self) -> None:
        if self.base_image is not None and not self.base_image.strip():
            raise ConfigError("base_image is empty: give an opm image such as "
                              "registry.redhat.io/openshift4/ose-operator-registry-rhel9:v4.16, or leave it out")
        if not self.catalogs:
            raise ConfigError("catalogs is empty: list at least one catalog (source: an image, FBC path or index.db)")
        if not self.dest:
            raise ConfigError("dest is required: the mirror registry and namespace, e.g. mirror.example.com:5000/olm")
        if not self.output_dir:
            raise ConfigError("output_dir is required: the directory that receives one sub-directory per catalog")
        if self.archive is not None and self.manifests_only:
            raise ConfigError("archive_dir and manifests_only exclude each other: manifests_only copies no image, "
                              "archive_dir writes them into archives")
