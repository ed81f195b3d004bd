# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading File-Based Catalog (FBC) files: the ``.indexignore`` rules, the JSON and YAML blob
streams, and :func:`load_fbc`.

Loading streams: :func:`iter_fbc_blobs` yields one blob at a time, so a caller that drops the
packages it does not want (``load_fbc(path, packages=...)``) holds only what it keeps in memory.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from typing import Any, Callable, Collection, Dict, Iterator, List, Optional, Tuple, Union

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import (
    SCHEMA_BUNDLE,
    SCHEMA_PACKAGE,
    Catalog,
    blob_package,
    gc_paused,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity only
    yaml = None
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

INDEX_IGNORE = ".indexignore"
FBC_EXTENSIONS = (".json", ".yaml", ".yml")

# Text read per step from a JSON stream; an object larger than this doubles the read.
_CHUNK = 4 * 1024 * 1024
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


# --------------------------------------------------------------------------------------------
# .indexignore (gitignore-like patterns, relative to the directory holding the file)


def _glob_to_regex(pattern: str) -> str:
    out = []
    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "*":
            if pattern.startswith("**", pos):
                # "**/" matches zero or more directories; a trailing "**" matches everything.
                if pattern.startswith("**/", pos):
                    out.append("(?:.*/)?")
                    pos += 3
                    continue
                out.append(".*")
                pos += 2
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", pos + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[pos + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                pos = end
        elif char == "\\" and pos + 1 < len(pattern):
            pos += 1
            out.append(re.escape(pattern[pos]))
        else:
            out.append(re.escape(char))
        pos += 1
    return "".join(out)


class IgnoreRule:
    """One pattern line of an .indexignore file located in directory ``base`` (relative, '' at root)."""

    __slots__ = ("base", "negate", "dir_only", "regex", "text")

    def __init__(self, base: str, line: str):
        self.text = line
        self.negate = line.startswith("!")
        if self.negate:
            line = line[1:]
        self.dir_only = line.endswith("/")
        line = line.rstrip("/")
        # A pattern with a slash (other than a trailing one) is relative to its directory;
        # without one it matches a name at any depth below it.
        anchored = "/" in line
        prefix = "" if anchored else "(?:.*/)?"
        self.regex = re.compile(prefix + _glob_to_regex(line.lstrip("/")) + "$")
        self.base = base

    def matches(self, rel: str, is_dir: bool) -> Optional[bool]:
        if self.base:
            if not rel.startswith(self.base + "/"):
                return None
            rel = rel[len(self.base) + 1:]
        if self.dir_only and not is_dir:
            # Files below an ignored directory are never reached: the walk prunes the directory.
            return None
        if self.regex.match(rel):
            return not self.negate
        return None


def parse_indexignore(text: str, base: str = "") -> List[IgnoreRule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        # trailing spaces are ignored unless escaped, as in gitignore
        if not line.endswith("\\ "):
            line = line.rstrip(" ")
        if not line or line.startswith("#"):
            continue
        if line.startswith("\\#") or line.startswith("\\!"):
            line = line[1:]
            rules.append(IgnoreRule(base, "\\" + line if line.startswith("!") else line))
            continue
        rules.append(IgnoreRule(base, line))
    return rules


def _ignored(rules: List[IgnoreRule], rel: str, is_dir: bool) -> bool:
    result = False
    for rule in rules:
        verdict = rule.matches(rel, is_dir)
        if verdict is not None:
            result = verdict
    return result


def iter_fbc_files(path: str) -> Iterator[str]:
    """The catalog files under ``path`` in a stable order (sorted walk): every ``.json``,
    ``.yaml`` and ``.yml`` file not matched by an ``.indexignore`` pattern of its directory or
    an ancestor. A single file is returned as is."""
    if os.path.isfile(path):
        yield path
        return
    if not os.path.isdir(path):
        raise CatalogError(f"{path}: no such catalog file or directory; give an FBC directory, "
                           "an FBC file or a sqlite index.db")

    def walk(directory: str, rel: str, rules: List[IgnoreRule]) -> Iterator[str]:
        ignore_file = os.path.join(directory, INDEX_IGNORE)
        if os.path.isfile(ignore_file):
            with open(ignore_file, encoding="utf-8") as handle:
                rules = rules + parse_indexignore(handle.read(), rel)
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            raise CatalogError(f"{directory}: cannot list the catalog directory: {exc.strerror}") from exc
        for name in names:
            full = os.path.join(directory, name)
            child = f"{rel}/{name}" if rel else name
            is_dir = os.path.isdir(full)
            if name == INDEX_IGNORE or _ignored(rules, child, is_dir):
                continue
            if is_dir:
                yield from walk(full, child, rules)
            elif name.lower().endswith(FBC_EXTENSIONS):
                yield full

    yield from walk(path, "", [])


# --------------------------------------------------------------------------------------------
# Parsing


if HAS_YAML:
    _YAML_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _FbcYamlLoader(_YAML_BASE):  # type: ignore[misc,valid-type]
        """SafeLoader that leaves timestamps as strings, as Go's YAML-to-JSON reader does."""

    _FbcYamlLoader.yaml_implicit_resolvers = {
        first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _YAML_BASE.yaml_implicit_resolvers.items()
    }


def _iter_json_stream(handle: Any, path: str, buf: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Decode a stream of concatenated JSON values, reading ``_CHUNK`` characters at a time;
    only the current value and one chunk are held in memory."""
    raw_decode = _DECODER.raw_decode
    ws_match = _WS.match
    pos = 0
    eof = False
    line = 1            # line number at index line_pos of buf
    line_pos = 0
    while True:
        pos = ws_match(buf, pos).end()
        if pos >= len(buf):
            if eof:
                return
            line += buf.count("\n", line_pos, pos)
            buf = handle.read(_CHUNK)
            pos = line_pos = 0
            if not buf:
                return
            continue
        try:
            value, end = raw_decode(buf, pos)
        except RecursionError:
            err_line = line + buf.count("\n", line_pos, pos)
            raise CatalogError(f"{path}:{err_line}: the JSON value is nested too deeply to be read; not a "
                               "catalog blob") from None
        except json.JSONDecodeError as exc:
            if not eof:
                # Probably a value cut by the end of the buffer: read at least as much again.
                line += buf.count("\n", line_pos, pos)
                more = handle.read(max(_CHUNK, len(buf) - pos))
                buf = buf[pos:] + more
                pos = line_pos = 0
                eof = not more
                continue
            err_line = line + buf.count("\n", line_pos, exc.pos)
            col = exc.pos - (buf.rfind("\n", 0, exc.pos) + 1) + 1
            raise CatalogError(f"{path}:{err_line}:{col}: invalid JSON: {exc.msg}; fix the file, or list it "
                               f"in {INDEX_IGNORE} to leave it out") from None
        except ValueError as exc:  # a value the decoder refuses, such as an integer of 5000 digits
            err_line = line + buf.count("\n", line_pos, pos)
            raise CatalogError(f"{path}:{err_line}: invalid JSON value: {exc}") from None
        line += buf.count("\n", line_pos, pos)
        line_pos = pos
        if not isinstance(value, dict):
            raise CatalogError(f"{path}:{line}: a catalog blob must be a JSON object, got {type(value).__name__}")
        yield f"{path}:{line}", value
        pos = end


# Deeper than this, a YAML value is refused before it is built: real catalogs nest a few tens of
# levels, and building a deeper one could exhaust the interpreter's stack.
MAX_YAML_DEPTH = 200
# Aliases may at most double a YAML document, or add this many values when that is more.
MAX_YAML_ALIAS_NODES = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct(loader: Any, node: Any) -> Any:
    """Node to Python value; the common tags without PyYAML's generic (and slower) machinery,
    anything else (ints, merge keys, explicit tags) through the loader itself."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    if tag == _MAP_TAG:
        out = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                return loader.construct_object(node, deep=True)
            key = _construct(loader, key_node)
            try:
                out[key] = _construct(loader, value_node)
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable mapping key",
                                                        key_node.start_mark) from None
        return out
    if tag == _SEQ_TAG:
        return [_construct(loader, child) for child in node.value]
    return loader.construct_object(node, deep=True)


def _children(node: Any) -> List[Any]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_yaml_node(root: Any, path: str) -> None:
    """Bound what building one YAML document will cost, before it is built.

    An alias (``*name``) makes the composer hand back the node it names once more, so the nodes
    form a graph and building it copies every alias anew: a few hundred bytes of nested aliases
    ("billion laughs") cost minutes and gigabytes. The size the document expands to, its depth,
    and alias cycles are computed over the graph (each node visited once, iteratively): a
    document whose aliases more than double it (or add more than MAX_YAML_ALIAS_NODES nodes),
    nested deeper than MAX_YAML_DEPTH, or that contains itself, is refused.
    """
    size: Dict[int, int] = {}
    height: Dict[int, int] = {}
    open_nodes = set()
    distinct = 0
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        mark = node.start_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        if leaving:
            open_nodes.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            height[key] = 1 + max((height[id(child)] for child in children), default=0)
            if height[key] > MAX_YAML_DEPTH:
                raise CatalogError(f"{where}: the YAML value is nested more than {MAX_YAML_DEPTH} levels deep; "
                                   "not a catalog blob")
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise CatalogError(f"{where}: a YAML alias refers to a value that contains the alias itself; not a "
                               "catalog blob")
        open_nodes.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
    expanded = size[id(root)]
    if expanded > distinct + max(distinct, MAX_YAML_ALIAS_NODES):
        mark = root.start_mark
        where = f"{path}:{mark.line + 1}" if mark else path
        raise CatalogError(f"{where}: the YAML aliases (*name) of this document expand its {distinct} values to "
                           f"{expanded}; refusing it as an alias bomb. Write the values out, as opm render does")


def _iter_yaml_stream(handle: Any, path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    if not HAS_YAML:
        raise CatalogError(f"{path}: reading a YAML catalog needs the PyYAML Python package, which is not "
                           f"installed: {YAML_IMPORT_ERROR}")
    loader = _FbcYamlLoader(handle)
    doc = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            doc += 1
            start = node.start_mark.line + 1 if node is not None and node.start_mark else 0
            if node is not None:
                check_yaml_node(node, path)
            try:
                value = _construct(loader, node) if node is not None else None
            except ValueError as exc:  # a scalar the constructor refuses, such as an integer of 5000 digits
                raise CatalogError(f"{path}:{start}: invalid YAML value: {exc}") from None
            if value is None:
                continue
            where = f"{path}:{start}" if start else f"{path} (document {doc})"
            if not isinstance(value, dict):
                raise CatalogError(f"{where}: a catalog blob must be a YAML mapping, got {type(value).__name__}")
            yield where, value
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else f"{path} (document {doc + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(f"{where}: invalid YAML: {problem}; fix the file, or list it in {INDEX_IGNORE} "
                           "to leave it out") from None
    finally:
        loader.dispose()


def iter_file_blobs(path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Blobs of one file as ``(origin, blob)``; origin is ``file:line``. The format comes from
    the content, as opm reads it: a stream of JSON objects when it starts with ``{``, else YAML
    documents."""
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{path}: cannot open the catalog file: {exc.strerror}") from exc
    with handle:
        try:
            head = handle.read(_CHUNK)
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                               f"a catalog file is JSON or YAML") from None
        if head.startswith("\ufeff"):
            head = head[1:]
        first = _WS.match(head).end()
        if first < len(head) and head[first] == "{":
            try:
                yield from _iter_json_stream(handle, path, head)
            except UnicodeDecodeError as exc:
                raise CatalogError(f"{path}: not UTF-8 text ({exc.reason}); a catalog file is JSON or YAML") from None
        else:
            handle.seek(0)
            yield from _iter_yaml_stream(handle, path)


def iter_fbc_blobs(path: str) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """Every blob of an FBC directory tree or file, as ``(origin, blob)`` pairs, one at a time."""
    for file_path in iter_fbc_files(path):
        yield from iter_file_blobs(file_path)


# --------------------------------------------------------------------------------------------
# Loading

# Which packages to load: None for all, a collection of names, or a predicate on the name.
PackageNames = Union[None, Collection[str], Callable[[str], bool]]


def package_predicate(packages: PackageNames) -> Optional[Callable[[str], bool]]:
    """``packages`` as a predicate on the package name (None: every package)."""
    if packages is None:
        return None
    if callable(packages):
        return packages
    wanted = frozenset(packages)
    return wanted.__contains__


# What a listing needs of a bundle: its identity, version and channel membership (old-style
# catalogs). The rest (relatedImages, CSV metadata, bundle objects) is most of a real catalog.
_SLIM_PROPERTIES = frozenset({"olm.package", "olm.channel", "olm.skips", "olm.skipRange", "olm.deprecated"})


def slim_blob(blob: Dict[str, Any]) -> Dict[str, Any]:
    """``blob`` without what listing packages, channels and heads does not need."""
    schema = blob.get("schema") if isinstance(blob, dict) else None
    if schema == SCHEMA_BUNDLE:
        out = {key: blob[key] for key in ("schema", "name", "package", "image") if key in blob}
        properties = blob.get("properties")
        if isinstance(properties, list):
            out["properties"] = [prop for prop in properties
                                 if isinstance(prop, dict) and prop.get("type") in _SLIM_PROPERTIES]
        return out
    if schema == SCHEMA_PACKAGE:
        return {key: value for key, value in blob.items() if key not in ("icon", "description")}
    return blob


def load_fbc(path: str, packages: PackageNames = None, slim: bool = False) -> Catalog:
    """Load an FBC directory tree or file.

    ``packages``: None for everything, or a collection of package names / a predicate on the
    package name; blobs of other packages are dropped while streaming (blobs that name no
    package are always kept). ``slim`` keeps of each blob only what listing packages, channels,
    heads and bundle counts needs (:func:`slim_blob`), so memory follows the number of bundles,
    not the size of the catalog.
    """
    keep = package_predicate(packages)
    catalog = Catalog()
    with gc_paused():
        for origin, blob in iter_fbc_blobs(path):
            if keep is not None:
                pkg = blob_package(blob)
                if pkg is not None and not keep(pkg):
                    continue
            catalog.add_blob(slim_blob(blob) if slim else blob, origin)
        return catalog.finish()
