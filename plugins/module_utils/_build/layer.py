# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalog layer: a File-Based Catalog as a reproducible gzip'd tar under ``configs/``.

The same catalog gives the same bytes on any machine, any day: every package is rendered with
``_catalog.render`` (opm's layout: ``configs/<package>/catalog.json``, blobs of no package in
``configs/catalog.json``), entries are written parents first in path order, with mtime 0,
uid/gid 0, no user or group names, and fixed modes (0755 directories, 0644 files); the gzip
header carries no name and mtime 0, at a fixed compression level.

The layer also whites out ``/tmp/cache``: a base image that carries an opm cache built for
other content (the ose-operator-registry images do) must not be served from, or the catalog pod
ends in CrashLoopBackOff (oc-mirror issue #1099). With the whiteout, ``opm serve
--cache-dir=/tmp/cache`` builds its cache from ``/configs`` when it starts.

``configs/`` carries an opaque whiteout (``configs/.wh..wh..opq``): on a base that is itself a
catalog image (catalog_mirror builds a pruned catalog on the source catalog's own layers), the
base's FBC under ``/configs`` is hidden, not merged with ours. A base whose index label names
another FBC directory gets that directory whited out too (``hidden``), so the image carries one
catalog only. Whiteouts come first among their siblings, as the OCI image spec asks.

The tar is streamed through a temporary file: memory holds one package's JSON at a time.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import Catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import dumps_blobs, package_blobs
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

# Where the catalog lives in the image; the index label points here.
CONFIGS_DIR = "configs"
# The opm cache directory the base image may carry, whited out by the layer.
CACHE_DIR = "tmp/cache"
WHITEOUT_PREFIX = ".wh."
# Hides what the lower layers hold in the directory it is in.
WHITEOUT_OPAQUE = ".wh..wh..opq"
DIR_MODE = 0o755
FILE_MODE = 0o644
TMP_MODE = 0o1777
GZIP_LEVEL = 6
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Layer:
    """A layer blob on disk: ``digest`` of the gzip'd bytes, ``diff_id`` of the plain tar."""

    path: str
    digest: str
    diff_id: str
    size: int

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            while True:
                chunk = handle.read(size)
                if not chunk:
                    return
                yield chunk


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what it passes on to ``sink`` (if any)."""

    def __init__(self, sink: Optional[io.RawIOBase] = None):
        super().__init__()
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        self.size += len(data)
        if self.sink is not None:
            self.sink.write(data)
        return len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _package_dir(name: str) -> str:
    if (not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name
            or name.startswith(WHITEOUT_PREFIX)):
        raise CatalogError(f"package name {name!r} cannot be a directory name; fix the catalog")
    return name


def _hidden_parts(path: str) -> Tuple[str, ...]:
    parts = tuple(part for part in path.strip("/").split("/") if part not in ("", "."))
    if not parts or ".." in parts or any(part.startswith(WHITEOUT_PREFIX) for part in parts):
        raise CatalogError(f"{path!r} cannot be whited out: give an absolute directory of the base image")
    return parts


def _sort_key(parts: Tuple[str, ...]) -> Tuple[Tuple[int, str], ...]:
    # a directory before what it holds; whiteouts before their siblings
    return tuple((0 if part.startswith(WHITEOUT_PREFIX) else 1, part) for part in parts)


def layer_entries(catalog: Catalog, hidden: Sequence[str] = ()) -> Iterator[Tuple[str, Optional[bytes]]]:
    """``(path, content)`` of every tar entry in order; ``content`` None is a directory.

    Paths are sorted component by component (a directory before what it holds, whiteouts before
    their siblings); the JSON of a package is produced only when its entry is reached.
    ``hidden`` are absolute directories of the base (another FBC directory than ``/configs``)
    to white out.
    """
    def package_json(name: str) -> Callable[[], bytes]:
        return lambda: dumps_blobs(package_blobs(catalog.packages[name])).encode("utf-8")

    entries: List[Tuple[Tuple[str, ...], Optional[Callable[[], bytes]]]] = [
        ((CONFIGS_DIR,), None),
        (("tmp",), None),
        ((CONFIGS_DIR, WHITEOUT_OPAQUE), lambda: b""),
        (("tmp", ".wh.cache"), lambda: b""),
    ]
    known = {parts for parts, produce in entries if produce is None}
    for path in hidden:
        parts = _hidden_parts(path)
        if parts == (CONFIGS_DIR,) or parts == tuple(CACHE_DIR.split("/")):
            continue  # replaced (opaque) or whited out already
        for depth in range(1, len(parts)):
            if parts[:depth] not in known:
                known.add(parts[:depth])
                entries.append((parts[:depth], None))
        whiteout = parts[:-1] + (WHITEOUT_PREFIX + parts[-1],)
        if whiteout not in {e[0] for e in entries}:
            entries.append((whiteout, lambda: b""))
    for name in catalog.packages:
        parts = (CONFIGS_DIR, _package_dir(name))
        entries.append((parts, None))
        entries.append((parts + ("catalog.json",), package_json(name)))
    if catalog.others:
        entries.append(((CONFIGS_DIR, "catalog.json"), lambda: dumps_blobs(catalog.others).encode("utf-8")))
    for parts, produce in sorted(entries, key=lambda entry: _sort_key(entry[0])):
        yield "/".join(parts), None if produce is None else produce()


def _info(path: str, content: Optional[bytes]) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if content is None:
        info.type = tarfile.DIRTYPE
        info.mode = TMP_MODE if path == "tmp" else DIR_MODE
    else:
        info.type = tarfile.REGTYPE
        info.mode = FILE_MODE
        info.size = len(content)
    return info


def write_tar(entries: Iterable[Tuple[str, Optional[bytes]]], out) -> None:
    """Write ``entries`` as a PAX tar stream to the binary stream ``out``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path, content in entries:
            info = _info(path, content)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)


def build_layer(catalog: Catalog, directory: str, hidden: Sequence[str] = ()) -> Layer:
    """Write the catalog layer of ``catalog`` into a new file under ``directory`` (``hidden``:
    see :func:`layer_entries`)."""
    fd, path = tempfile.mkstemp(prefix="catalog-layer-", suffix=".tar.gz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            packed = _Hashing(handle)
            with gzip.GzipFile(filename="", mode="wb", fileobj=packed, compresslevel=GZIP_LEVEL, mtime=0) as gz:
                plain = _Hashing(gz)
                write_tar(layer_entries(catalog, hidden), plain)
    except BaseException:
        os.unlink(path)
        raise
    return Layer(path=path, digest=packed.digest, diff_id=plain.digest, size=packed.size)
