# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unpack the file system of a catalog image from its layers, safely.

Pure functions over layer streams (tar, gzip-compressed or not), with no registry code: the
caller fetches the blobs and passes readable binary streams in layer order. Layers are applied
as a container runtime applies them, OCI whiteouts included (``.wh.<name>`` deletes a path of a
lower layer, ``.wh..wh..opq`` empties a directory of the lower layers). An entry that could
write outside the destination (``..``, an absolute path, a symlink or hardlink pointing out, a
path through such a link) stops the extraction with a CatalogError naming it.

Layers come from registries we do not control, so what they may cost is bounded: the bytes and
the entries of all the layers of one image together (``max_bytes``, ``max_entries``, with the
generous defaults below), and the size of a single extended (PAX / GNU long name) header, which
tarfile would otherwise read whole into memory. tarfile's list of every header read is not kept.
"""

from __future__ import annotations

import os
import shutil
import struct
import tarfile
import zlib
from typing import BinaryIO, Iterable, Optional, Set

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

WHITEOUT_PREFIX = ".wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# Defaults of apply_layers' limits, for all the layers of one image together. The largest
# catalog images (redhat-operator-index: base OS, opm, a configs tree or index.db) unpack to a
# few GiB and some hundred thousand entries; ten times that is refused as a decompression bomb.
# Bytes count every file the layers carry, extracted or skipped (skipping still decompresses).
MAX_BYTES = 32 * 1024 ** 3
MAX_ENTRIES = 2_000_000
# A PAX or GNU long-name header holds a few paths and numbers; tarfile reads it whole.
MAX_HEADER_BYTES = 1024 * 1024
# What tarfile (and the gzip/zlib code under it) raises on hostile bytes besides TarError: a
# truncated gzip header is a TypeError, a bad number field a ValueError. Caught around tarfile's
# own calls only, so a bug of ours keeps its traceback.
_TAR_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, struct.error, TypeError, ValueError)
_EXTENDED_HEADERS = frozenset((tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                               tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK))


class _BoundedTarInfo(tarfile.TarInfo):
    """TarInfo that refuses an extended header larger than MAX_HEADER_BYTES before reading it."""

    def _proc_member(self, tarfile_obj):  # pylint: disable=arguments-renamed
        if self.type in _EXTENDED_HEADERS and self.size > MAX_HEADER_BYTES:
            raise CatalogError(f"an extended tar header (PAX or GNU long name) of {self.size} bytes, more than "
                               f"{MAX_HEADER_BYTES}; refusing the layer")
        return super()._proc_member(tarfile_obj)


class _Budget:
    """What the layers of one image may still unpack."""

    def __init__(self, max_bytes: int, max_entries: int):
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.bytes = 0
        self.entries = 0

    def charge(self, member: tarfile.TarInfo, label: str) -> None:
        self.entries += 1
        if self.entries > self.max_entries:
            raise CatalogError(f"{label}: the image's layers hold more than {self.max_entries} entries; refusing "
                               "it as a decompression bomb (a catalog image holds far fewer)")
        if member.isreg():
            self.bytes += max(member.size, 0)
            if self.bytes > self.max_bytes:
                raise CatalogError(f"{label}: the image's layers unpack to more than {self.max_bytes} bytes (at "
                                   f"entry {member.name!r}); refusing it as a decompression bomb")


def _normalize(name: str, what: str) -> str:
    """Archive path to a clean relative path ('' for the root); refuses '..' and absolute paths."""
    if "\0" in name:
        raise CatalogError(f"{what}: entry name {name!r} contains a NUL byte")
    if name.startswith("/"):
        raise CatalogError(f"{what}: entry {name!r} has an absolute path, which would be written outside the "
                           "destination directory; refusing the layer")
    parts = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            raise CatalogError(f"{what}: entry {name!r} contains '..', which would be written outside the "
                               "destination directory; refusing the layer")
        parts.append(part)
    return "/".join(parts)


def normalize_prefix(only_prefix: Optional[str]) -> Optional[str]:
    """An image path (``/configs``) as a clean relative path (``configs``); refuses '..', NUL, and
    a prefix that names the root (``""``, ``/``): that would unpack the whole image, not a catalog."""
    if only_prefix is None:
        return None
    if "\0" in only_prefix:
        raise CatalogError(f"only_prefix {only_prefix!r} contains a NUL byte")
    rel = "/".join(part for part in only_prefix.split("/") if part not in ("", "."))
    if ".." in rel.split("/"):
        raise CatalogError(f"only_prefix {only_prefix!r} must not contain '..'")
    if not rel:
        raise CatalogError(f"only_prefix {only_prefix!r} names the root of the image, not a directory or file "
                           "inside it")
    return rel


def _within(rel: str, prefix: str) -> bool:
    return not prefix or rel == prefix or rel.startswith(prefix + "/")


class _Layer:
    def __init__(self, root: str, prefix: Optional[str], label: str):
        self.root = root
        self.real_root = os.path.realpath(root)
        self.prefix = prefix
        self.label = label
        # Paths this layer wrote, and every directory above them: a whiteout in the same layer
        # must leave them alone (OCI image spec, "Whiteouts": they hide lower layers only).
        self.created: Set[str] = set()
        self.above_created: Set[str] = set()

    def wanted(self, rel: str) -> bool:
        return self.prefix is None or _within(rel, self.prefix)

    def inside(self, real: str) -> bool:
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def host_path(self, rel: str, entry: str) -> str:
        """Host path for ``rel``; its parent must resolve (through any symlinks already unpacked)
        to a place inside the destination."""
        parts = rel.split("/")
        parent = os.path.join(self.root, *parts[:-1]) if len(parts) > 1 else self.root
        if not self.inside(os.path.realpath(parent)):
            raise CatalogError(f"{self.label}: entry {entry!r} would be written through a symbolic link that "
                               "points outside the destination directory; refusing the layer")
        return os.path.join(parent, parts[-1])

    def hide_lower(self, path: str, rel: str) -> None:
        """Remove what lower layers left at ``path``, keeping what this layer created there or below."""
        if not os.path.lexists(path):
            return
        is_dir = os.path.isdir(path) and not os.path.islink(path)
        if rel in self.created and not is_dir:
            return
        if is_dir and (rel in self.created or rel in self.above_created):
            for child in os.listdir(path):
                self.hide_lower(os.path.join(path, child), f"{rel}/{child}" if rel else child)
            return
        self.remove(path)

    def remove(self, path: str) -> None:
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
            os.unlink(path)
        elif os.path.isdir(path):
            shutil.rmtree(path)

    def ensure_parent(self, rel: str, entry: str) -> None:
        parts = rel.split("/")[:-1]
        current = self.root
        for index, part in enumerate(parts):
            current = os.path.join(current, part)
            if os.path.islink(current):
                if not self.inside(os.path.realpath(current)):
                    raise CatalogError(f"{self.label}: entry {entry!r} would be written through the symbolic link "
                                       f"{'/'.join(parts[:index + 1])!r}, which points outside the destination "
                                       "directory; refusing the layer")
                continue
            if not os.path.isdir(current):
                if os.path.lexists(current):
                    os.unlink(current)
                os.mkdir(current, 0o755)

    def whiteout(self, rel_dir: str, name: str, entry: str) -> None:
        if name == WHITEOUT_OPAQUE:
            if self.prefix is not None and not (_within(rel_dir, self.prefix) or _within(self.prefix, rel_dir)):
                return
            directory = os.path.join(self.root, *rel_dir.split("/")) if rel_dir else self.root
            if os.path.islink(directory) or not os.path.isdir(directory):
                return
            if not self.inside(os.path.realpath(directory)):
                raise CatalogError(f"{self.label}: opaque whiteout {entry!r} names a directory outside the "
                                   "destination directory; refusing the layer")
            for child in os.listdir(directory):
                self.hide_lower(os.path.join(directory, child), f"{rel_dir}/{child}" if rel_dir else child)
            return
        target = name[len(WHITEOUT_PREFIX):]
        if not target or target in (".", ".."):
            raise CatalogError(f"{self.label}: whiteout entry {entry!r} names no file; refusing the layer")
        rel = f"{rel_dir}/{target}" if rel_dir else target
        if self.prefix is not None and not (_within(rel, self.prefix) or _within(self.prefix, rel)):
            return
        self.hide_lower(self.host_path(rel, entry), rel)

    def symlink_ok(self, rel: str, target: str) -> bool:
        """A relative target that resolves, through the links already unpacked, inside."""
        if target.startswith("/"):
            return False
        parent = os.path.dirname(os.path.join(self.root, *rel.split("/")))
        return self.inside(os.path.realpath(os.path.join(os.path.realpath(parent), target)))

    def apply(self, tar: tarfile.TarFile, budget: _Budget) -> None:
        while True:
            try:
                member = tar.next()
            except CatalogError as exc:  # from _BoundedTarInfo, which does not know the layer
                raise CatalogError(f"{self.label}: {exc}") from None
            except _TAR_READ_ERRORS as exc:
                raise CatalogError(f"{self.label}: the layer is corrupt or truncated: {exc}") from None
            if member is None:
                return
            # tarfile keeps every header it reads; a stream is read once, so they are dropped.
            tar.members = []
            budget.charge(member, self.label)
            entry = member.name
            rel = _normalize(entry, self.label)
            if not rel:
                continue
            rel_dir, dummy, name = rel.rpartition("/")
            if name.startswith(WHITEOUT_PREFIX):
                self.whiteout(rel_dir, name, entry)
                continue
            if not self.wanted(rel):
                # Directories above the prefix still matter: they may be symlinks (checked when
                # something below is written) but are otherwise created on demand.
                continue
            self.extract(tar, member, rel, entry)

    def extract(self, tar: tarfile.TarFile, member: tarfile.TarInfo, rel: str, entry: str) -> None:
        if (member.issym() or member.islnk()) and "\0" in member.linkname:
            raise CatalogError(f"{self.label}: link {entry!r} has a target containing a NUL byte; refusing the layer")
        self.ensure_parent(rel, entry)
        if member.issym() and not self.symlink_ok(rel, member.linkname):
            raise CatalogError(f"{self.label}: symbolic link {entry!r} -> {member.linkname!r} points outside "
                               "the destination directory; refusing the layer")
        path = self.host_path(rel, entry)
        existing_dir = os.path.isdir(path) and not os.path.islink(path)
        if member.isdir():
            if os.path.lexists(path) and not existing_dir:
                os.unlink(path)
            if not existing_dir:
                os.mkdir(path, 0o755)
            # Never group- or world-writable: the unpacked tree may be a shared cache entry.
            os.chmod(path, (member.mode & 0o755) | 0o700)
        elif member.isreg():
            if os.path.lexists(path):
                self.remove(path)
            source = tar.extractfile(member)
            # O_EXCL + O_NOFOLLOW: never write through a link that appeared at this path.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
            fd = os.open(path, flags, 0o600)
            with os.fdopen(fd, "wb") as out:
                if source is not None:
                    try:
                        shutil.copyfileobj(source, out, 1024 * 1024)
                    except _TAR_READ_ERRORS as exc:
                        raise CatalogError(f"{self.label}: entry {entry!r}: the layer is corrupt or truncated: "
                                           f"{exc}") from None
            os.chmod(path, (member.mode & 0o755) | 0o600)
        elif member.issym():
            if os.path.lexists(path):
                self.remove(path)
            os.symlink(member.linkname, path)
        elif member.islnk():
            link_rel = _normalize(member.linkname, f"{self.label}: hard link {entry!r}")
            if not link_rel:
                raise CatalogError(f"{self.label}: hard link {entry!r} points at the root directory; refusing "
                                   "the layer")
            source_path = self.host_path(link_rel, entry)
            real = os.path.realpath(source_path)
            if not self.inside(real):
                raise CatalogError(f"{self.label}: hard link {entry!r} -> {member.linkname!r} points outside the "
                                   "destination directory; refusing the layer")
            if not os.path.isfile(real):
                if self.prefix is not None and not _within(link_rel, self.prefix):
                    raise CatalogError(f"{self.label}: hard link {entry!r} points at {member.linkname!r}, outside "
                                       f"the extracted prefix {self.prefix!r}; extract without only_prefix")
                raise CatalogError(f"{self.label}: hard link {entry!r} points at {member.linkname!r}, which is not "
                                   "a file unpacked before it")
            if os.path.lexists(path):
                self.remove(path)
            # A copy, not a link: the unpacked tree is read, never shared with the layer cache.
            shutil.copyfile(real, path)
            os.chmod(path, os.stat(real).st_mode & 0o755)
        else:
            # Devices, FIFOs and the like have no place in a catalog: skipped.
            return
        self.created.add(rel)
        parent = rel.rpartition("/")[0]
        while parent and parent not in self.above_created:
            self.above_created.add(parent)
            parent = parent.rpartition("/")[0]


def _open_layer(stream: BinaryIO, label: str) -> tarfile.TarFile:
    peek = getattr(stream, "peek", None)
    head = peek(4)[:4] if callable(peek) else b""
    if head.startswith(_ZSTD_MAGIC):
        raise CatalogError(f"{label}: zstd-compressed layers are not supported; mirror the catalog image with "
                           "gzip layers")
    try:
        return tarfile.open(fileobj=stream, mode="r|*", tarinfo=_BoundedTarInfo)
    except _TAR_READ_ERRORS as exc:
        raise CatalogError(f"{label}: not a tar archive (plain or gzip-compressed): {exc}") from None
    except CatalogError as exc:  # the first header, read by open(), refused by _BoundedTarInfo
        raise CatalogError(f"{label}: {exc}") from None


def apply_layers(layer_streams: Iterable[BinaryIO], dest_dir: str, only_prefix: Optional[str] = None,
                 max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> str:
    """Apply image layers in order under ``dest_dir`` (created if needed) and return it.

    ``only_prefix`` (for instance the ``/configs`` value of the configs label, or the database
    path) limits the extraction to that path and what is below it; whiteouts that touch it
    still apply. Each stream is read once, front to back. ``max_bytes`` and ``max_entries``
    bound what all the layers together may hold (file bytes, tar entries): past either, a
    CatalogError refuses the image.
    """
    prefix = normalize_prefix(only_prefix)
    budget = _Budget(max_bytes, max_entries)
    os.makedirs(dest_dir, 0o755, exist_ok=True)
    for index, stream in enumerate(layer_streams):
        label = getattr(stream, "name", None)
        label = f"layer {index + 1}" + (f" ({label})" if isinstance(label, str) else "")
        layer = _Layer(dest_dir, prefix, label)
        try:
            with _open_layer(stream, label) as tar:
                layer.apply(tar, budget)
        except (tarfile.TarError, EOFError, OSError) as exc:
            if isinstance(exc, OSError) and exc.filename:
                raise CatalogError(f"{label}: cannot unpack into {exc.filename}: {exc.strerror}") from exc
            raise CatalogError(f"{label}: the layer is corrupt or truncated: {exc}") from exc
    _check_links(dest_dir)
    return dest_dir


def _check_links(root: str) -> None:
    """Every symbolic link left under ``root`` must resolve inside it. Checked once at the end
    because a later entry or layer can change what an earlier, valid, link resolves through."""
    real_root = os.path.realpath(root)
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(current, name)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if real != real_root and not real.startswith(real_root + os.sep):
                    rel = os.path.relpath(full, root)
                    raise CatalogError(f"symbolic link {rel!r} -> {os.readlink(full)!r} resolves outside the "
                                       "destination directory once all layers are applied; refusing the image")
