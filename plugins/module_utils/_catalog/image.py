# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read an operator catalog (index) image from a registry into the catalog model.

The image's manifest is resolved (one platform picked from an index), the config's labels say
where the catalog lives in the image (FBC directory or sqlite file), and the layers are streamed
in order through :func:`layers.apply_layers`, whiteouts included, extracting only that
path. Every layer is read to its end so the registry client checks its digest.

The extraction is cached under ``cache_dir`` keyed by the manifest digest (and the platform when
the image is an index): an image pinned by digest and already cached is read with no request at
all; one named by tag costs a single manifest GET. A cache entry is used only if this user owns
every file of it and no other user can write any of them (a shared ``cache_dir`` is otherwise a
way to hand us another catalog): anything else is refused with the path to remove.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import tempfile
from typing import Any, Dict, Iterator, Optional, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import PackageNames
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import (
    LABEL_CONFIGS,
    LABEL_DATABASE,
    IndexLocation,
    index_location,
    load_extracted,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError, RegistryError
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.blobs import read_small_blob
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import ImageReference, parse

# A config blob is a small JSON document; anything this large is not an image config.
_MAX_CONFIG_BYTES = 8 * 1024 * 1024
_META = "meta.json"
_ROOT = "rootfs"
_CACHE_FORMAT = 1


def default_cache_dir() -> str:
    """``$XDG_CACHE_HOME/airgap.operatorhub/catalogs`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "airgap.operatorhub", "catalogs")


class ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (a blob being downloaded)."""

    def __init__(self, chunks: Iterator[bytes], name: str):
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self._eof = False
        self.name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._eof:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                self._eof = True
        if not self._pending:
            return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def drain(self) -> None:
        """Read to the end, so the client verifies the digest of the whole blob."""
        self._pending = b""
        for chunk in self._chunks:
            del chunk
        self._eof = True


def _platform_key(platform: str) -> Tuple[str, str, str]:
    parts = platform.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1] or len(parts) > 3:
        raise CatalogError(f"platform {platform!r} is not os/architecture[/variant], such as linux/amd64")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def pick_platform(index: Any, platform: str, image: str) -> Any:
    """The descriptor of the index entry for ``platform`` (variant optional on either side)."""
    want_os, want_arch, want_variant = _platform_key(platform)
    children = index.children
    candidates = []
    for child in children:
        plat = child.platform or {}
        if plat.get("os") != want_os or plat.get("architecture") != want_arch:
            continue
        variant = str(plat.get("variant") or "")
        if want_variant and variant and variant != want_variant:
            continue
        candidates.append(child)
    if candidates:
        return candidates[0]
    if len(children) == 1 and not children[0].platform:
        return children[0]
    available = sorted({c.platform_string for c in children if c.platform_string}) or ["none"]
    raise CatalogError(f"{image}: the image index has no {platform} entry (platforms: {', '.join(available)}); "
                       "set the platform option to one of those")


def _read_blob(client: Any, repo: str, digest: str, limit: int, what: str) -> bytes:
    data = read_small_blob(client, repo, digest, limit)
    if data is None:
        raise CatalogError(f"{what} {digest} is larger than {limit} bytes; it is not an image config")
    return data


def _labels_of(config_bytes: bytes, image: str) -> Dict[str, str]:
    try:
        config = json.loads(config_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CatalogError(f"{image}: the image config is not valid JSON ({exc}); not a container image") from None
    except RecursionError:
        raise CatalogError(f"{image}: the image config is nested too deeply to be read; not a container "
                           "image") from None
    if not isinstance(config, dict):
        raise CatalogError(f"{image}: the image config is not a JSON object; not a container image")
    inner = config.get("config") or config.get("container_config") or {}
    labels = inner.get("Labels") if isinstance(inner, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {str(k): str(v) for k, v in labels.items() if v is not None}


def _cache_key(digest: str, platform: Optional[str]) -> str:
    key = digest.replace(":", "-")
    if platform:
        key += "-" + re.sub(r"[^A-Za-z0-9]+", "-", platform)
    return key


def _check_trusted(entry_dir: str) -> None:
    """Refuse a cache entry another user owns, or that anyone but its owner may write."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    paths = [entry_dir]
    for current, dirs, files in os.walk(entry_dir):
        paths.extend(os.path.join(current, name) for name in dirs + files)
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue  # removed while we look: the load below fails on it, or does not need it
        if uid is not None and info.st_uid != uid:
            problem = f"is owned by uid {info.st_uid}, not by this user (uid {uid})"
        elif not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022:
            problem = f"can be written by other users (mode {stat.S_IMODE(info.st_mode):04o})"
        else:
            continue
        raise CatalogError(f"cache_dir entry {entry_dir}: {path} {problem}, so its catalog cannot be trusted; "
                           "remove the entry, or give a cache_dir of your own")


def _read_meta(entry_dir: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(entry_dir, _META), encoding="utf-8") as handle:
            meta = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != _CACHE_FORMAT:
        return None
    if not os.path.isdir(os.path.join(entry_dir, _ROOT)):
        return None
    _check_trusted(entry_dir)
    return meta


def _location(meta: Dict[str, Any]) -> IndexLocation:
    return IndexLocation(str(meta["kind"]), str(meta["path"]))


def _extract(client: Any, repo: str, manifest: Any, location: IndexLocation,
             cache_dir: str, key: str, meta: Dict[str, Any]) -> str:
    """Unpack into a temporary directory next to the cache entry, then rename it into place."""
    try:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{key[:24]}.", dir=cache_dir)
    except OSError as exc:
        raise CatalogError(f"cache_dir {cache_dir}: cannot be written ({exc.strerror}); give a writable "
                           "cache_dir") from None
    final = os.path.join(cache_dir, key)
    try:
        layers = manifest.layers

        def streams() -> Iterator[io.BufferedReader]:
            for layer in layers:
                with client.open_blob(repo, layer.digest, size=layer.size) as chunks:
                    raw = ChunkReader(chunks, f"{layer.digest}")
                    yield io.BufferedReader(raw, 1 << 20)
                    # apply_layers stops at the tar end-of-archive marker; the rest (padding,
                    # gzip trailer) is read here so the digest of the whole blob is checked.
                    raw.drain()

        apply_layers(streams(), os.path.join(tmp, _ROOT), location.prefix)
        # 0644 at most whatever the umask: a group/world-writable entry would be refused next time
        fd = os.open(os.path.join(tmp, _META), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if _read_meta(final) is None:  # not another run's complete entry: replace it
                shutil.rmtree(final, ignore_errors=True)
                os.rename(tmp, final)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def load_catalog_image(pool: Any, ref: Union[str, ImageReference], cache_dir: Optional[str] = None,
                       packages: PackageNames = None,
                       platform: str = "linux/amd64", slim: bool = False) -> Tuple[Catalog, str, Dict[str, str]]:
    """Load the catalog of image ``ref`` (read through ``pool``, a RegistryPool).

    Returns ``(catalog, digest, labels)``: ``digest`` is what ``ref`` resolved to (the index's
    digest for a multi-platform image, which is what a mirror copies), ``labels`` the image
    config labels. ``packages`` keeps only those packages while loading, ``slim`` only what a
    listing needs (see ``load_fbc``).
    Raises CatalogError when the image is not a catalog image, RegistryError / AuthError when
    the registry cannot serve it.
    """
    image = parse(ref) if isinstance(ref, str) else ref
    text = str(image)
    if not image.tag and not image.digest:
        image = image.with_tag("latest")
    cache_dir = os.path.expanduser(cache_dir or default_cache_dir())

    # Pinned by digest and cached: no request at all. Both keys are tried: the image may be a
    # single manifest (key without platform) or an index (key with it).
    if image.digest:
        for key in (_cache_key(image.digest, None), _cache_key(image.digest, platform)):
            meta = _read_meta(os.path.join(cache_dir, key))
            if meta is not None:
                catalog = load_extracted(os.path.join(cache_dir, key, _ROOT), _location(meta), packages, slim)
                return catalog, image.digest, dict(meta.get("labels") or {})

    client = pool.client(image.api_host, image.repository)
    repo = image.repository
    try:
        top = client.get_manifest(repo, image.ref)
    except RegistryError as exc:
        raise type(exc)(f"catalog image {text}: {exc}", status=exc.status, code=exc.code) from None
    manifest = top
    chosen_platform = None
    if top.is_index:
        child = pick_platform(top, platform, text)
        chosen_platform = platform
        manifest = client.get_manifest(repo, child.digest)
        if manifest.is_index:
            raise CatalogError(f"{text}: the {platform} entry of the index is itself an index; not a catalog image")
    key = _cache_key(top.digest, chosen_platform)
    entry_dir = os.path.join(cache_dir, key)
    meta = _read_meta(entry_dir)
    if meta is None:
        config = manifest.config
        if config is None:
            raise CatalogError(f"{text}: the manifest {manifest.digest} has no config; it is an artifact, not a "
                               "catalog image")
        labels = _labels_of(_read_blob(client, repo, config.digest, _MAX_CONFIG_BYTES, f"{text}: config"), text)
        if not labels.get(LABEL_CONFIGS) and not labels.get(LABEL_DATABASE):
            raise CatalogError(
                f"{text}: not an operator catalog image: its config has neither the {LABEL_CONFIGS} label "
                f"(FBC directory) nor the {LABEL_DATABASE} label (sqlite database); labels found: "
                f"{', '.join(sorted(labels)) or 'none'}. Give a catalog (index) image, an FBC directory or an index.db"
            )
        location = index_location(labels, text)
        meta = {"format": _CACHE_FORMAT, "image": text, "digest": top.digest, "manifest": manifest.digest,
                "platform": chosen_platform, "labels": labels, "kind": location.kind, "path": location.path}
        entry_dir = _extract(client, repo, manifest, location, cache_dir, key, meta)
    catalog = load_extracted(os.path.join(entry_dir, _ROOT), _location(meta), packages, slim)
    return catalog, top.digest, dict(meta.get("labels") or {})
