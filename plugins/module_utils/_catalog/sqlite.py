# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Legacy sqlite ``index.db`` catalogs, read into the FBC model of :mod:`model`.

The database is opened read-only and never migrated. Older schema versions lack tables that
newer ones have (``properties``, ``dependencies``, bundle-keyed ``api_provider``); what those
tables would hold is derived from the older ones the way opm's schema migrations fill them, so
every schema version gives the blobs ``opm render`` gives after migrating:

- channels from ``channel_entry``: from the channel heads (lowest depth) the ``replaces``
  links give each bundle its ``replaces``; every other link into a bundle is a ``skips``;
- bundle properties: the ``properties`` rows (``olm.gvk`` values re-serialized, others as
  stored), ``dependencies`` as ``olm.gvk.required`` / ``olm.package.required``, provided and
  required APIs of the old ``api_provider`` / ``api_requirer`` tables, an ``olm.package``
  property when none is stored, one ``olm.bundle.object`` per object of the ``bundle`` column;
  sorted by type then value, duplicates dropped;
- relatedImages: the CSV's ``spec.relatedImages``, then the ``related_image`` rows not listed;
- the bundle image is ``bundlepath``; bundles marked deprecated are left out;
- the package icon is the first icon of the CSV at the head of the default channel.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple
from urllib.parse import quote

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.model import (
    SCHEMA_BUNDLE,
    SCHEMA_CHANNEL,
    SCHEMA_PACKAGE,
    Catalog,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError

_DEPRECATED = "olm.deprecated"


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class _Reader:
    def __init__(self, path: str, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        self.tables = {row[0] for row in self.rows("SELECT name FROM sqlite_master WHERE type='table'")}
        self.columns: Dict[str, Set[str]] = {}
        for table in self.tables:
            # A bound parameter, not the name pasted into SQL: any table name (quotes included) is
            # data here.
            self.columns[table] = {row[0] for row in self.rows("SELECT name FROM pragma_table_info(?)", table)}
        missing = {"package", "channel", "channel_entry", "operatorbundle"} - self.tables
        if missing:
            raise CatalogError(f"{path}: not an operator-registry index database (missing tables: "
                               f"{', '.join(sorted(missing))}); give an index.db from a catalog image")

    def rows(self, sql: str, *args: Any) -> List[Tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, args).fetchall()
        # UnicodeDecodeError: sqlite3 decodes the error messages of a corrupt file, which can
        # quote bytes that are not UTF-8.
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{self.path}: cannot read the index database: {exc}") from exc

    def has(self, table: str, column: Optional[str] = None) -> bool:
        return table in self.tables and (column is None or column in self.columns[table])

    def schema_version(self) -> Optional[int]:
        if not self.has("schema_migrations"):
            return None
        rows = self.rows("SELECT max(version) FROM schema_migrations")
        return rows[0][0] if rows else None


def _channel_entries(reader: _Reader, known: Set[str]) -> Dict[Tuple[str, str], Dict[str, Dict[str, Any]]]:
    """(package, channel) -> bundle name -> {"replaces", "skips"} from channel_entry."""
    rows = reader.rows("SELECT entry_id, channel_name, package_name, operatorbundle_name, replaces, depth "
                       "FROM channel_entry ORDER BY entry_id")
    by_id = {row[0]: row for row in rows}
    depths = [row[5] for row in rows if row[5] is not None]
    # The replaces chain starts at the entries of minimal depth (the channel heads) and follows
    # the replaces links; an entry on it carries a "replaces" edge, any other link is a skip.
    on_chain: Set[int] = set()
    if depths:
        tip = min(depths)
        todo = [row[0] for row in rows if row[5] == tip]
        while todo:
            entry_id = todo.pop()
            if entry_id in on_chain or entry_id not in by_id:
                continue
            on_chain.add(entry_id)
            target = by_id[entry_id][4]
            if target is not None:
                todo.append(target)
    out: Dict[Tuple[str, str], Dict[str, Dict[str, Any]]] = {}
    for entry_id, channel, package, bundle, replaces, _depth in rows:
        if bundle not in known or channel is None or package is None:
            continue
        edges = out.setdefault((package, channel), {}).setdefault(bundle, {"replaces": None, "skips": []})
        if replaces is None or replaces not in by_id:
            continue
        target = by_id[replaces][3]
        if entry_id in on_chain:
            if edges["replaces"] is None or target > edges["replaces"]:
                edges["replaces"] = target
        elif target not in edges["skips"]:
            edges["skips"].append(target)
    return out


def _bundle_objects(name: str, text: Optional[str], path: str) -> Tuple[List[str], Optional[Dict[str, Any]]]:
    """Objects of the ``bundle`` column (a stream of JSON objects) and the CSV among them."""
    if not text:
        return [], None
    decoder = json.JSONDecoder()
    objects: List[str] = []
    csv = None
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        try:
            value, end = decoder.raw_decode(text, pos)
        except RecursionError:
            raise CatalogError(f"{path}: bundle {name!r}: the stored bundle manifests are nested too deeply to "
                               "be read") from None
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}: bundle {name!r}: the stored bundle manifests are not valid JSON "
                               f"({exc.msg} at {exc.pos})") from None
        objects.append(text[pos:end])
        if csv is None and isinstance(value, dict) and value.get("kind") == "ClusterServiceVersion":
            csv = value
        pos = end
    return objects, csv


def _apis(reader: _Reader, table: str) -> Dict[str, Set[Tuple[str, str, str]]]:
    """bundle name -> {(group, version, kind)} of api_provider / api_requirer, either schema."""
    out: Dict[str, Set[Tuple[str, str, str]]] = {}
    if not reader.has(table):
        return out
    if reader.has(table, "operatorbundle_name"):
        rows = reader.rows(f"SELECT group_name, version, kind, operatorbundle_name FROM {table}")
    elif reader.has(table, "channel_entry_id"):
        rows = reader.rows(f"SELECT a.group_name, a.version, a.kind, e.operatorbundle_name FROM {table} a "
                           "JOIN channel_entry e ON a.channel_entry_id = e.entry_id")
    else:
        return out
    for group, version, kind, bundle in rows:
        if bundle is not None:
            out.setdefault(bundle, set()).add((group or "", version or "", kind or ""))
    return out


def _gvk(value: Dict[str, Any]) -> Tuple[str, str, str]:
    return (str(value.get("group", "")), str(value.get("version", "")), str(value.get("kind", "")))


def _gvk_text(gvk: Tuple[str, str, str]) -> str:
    return _compact({"group": gvk[0], "kind": gvk[2], "version": gvk[1]})


def _properties(reader: _Reader, name: str, package: str, version: str, stored: List[Tuple[str, str]],
                deps: List[Tuple[str, str]], provided: Set[Tuple[str, str, str]],
                required: Set[Tuple[str, str, str]], objects: List[str]) -> Optional[List[Dict[str, Any]]]:
    """The olm.bundle properties, or None when the bundle is marked deprecated."""
    out: List[Tuple[str, str]] = []
    gvks = set(provided)
    gvks_required = set(required)
    has_package = False
    for ptype, value in stored:
        if ptype == _DEPRECATED:
            return None
        if ptype == "olm.gvk":
            try:
                gvks.add(_gvk(json.loads(value)))
            except (ValueError, AttributeError, RecursionError):
                raise CatalogError(f"{reader.path}: bundle {name!r}: olm.gvk property {value!r} is not a "
                                   "JSON object") from None
            continue
        if ptype == "olm.package":
            has_package = True
        out.append((ptype, value))
    for dtype, value in deps:
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            raise CatalogError(f"{reader.path}: bundle {name!r}: dependency {value!r} is not JSON") from None
        if not isinstance(parsed, dict):
            continue
        if dtype == "olm.gvk":
            gvks_required.add(_gvk(parsed))
        elif dtype == "olm.package":
            out.append(("olm.package.required", _compact({"packageName": parsed.get("packageName", ""),
                                                          "versionRange": parsed.get("version", "")})))
    if not has_package:
        out.append(("olm.package", _compact({"packageName": package, "version": version})))
    out.extend(("olm.gvk", _gvk_text(g)) for g in gvks)
    out.extend(("olm.gvk.required", _gvk_text(g)) for g in gvks_required)
    for obj in objects:
        out.append(("olm.bundle.object",
                    _compact({"data": base64.b64encode(obj.encode("utf-8")).decode("ascii")})))
    seen: Set[Tuple[str, str]] = set()
    result = []
    for ptype, value in sorted(out):
        if (ptype, value) in seen:
            continue
        seen.add((ptype, value))
        try:
            parsed_value = json.loads(value)
        except (ValueError, RecursionError):
            raise CatalogError(f"{reader.path}: bundle {name!r}: property {ptype} value {value!r} is not "
                               "JSON") from None
        result.append({"type": ptype, "value": parsed_value})
    return result


def iter_sqlite_blobs(path: str) -> Iterator[Dict[str, Any]]:
    """The FBC blobs of a sqlite index, in ``opm render`` order (packages, channels and bundles
    sorted by name)."""
    if not os.path.isfile(path):
        raise CatalogError(f"{path}: no such sqlite index file")
    uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable sqlite database ({exc}); give an index.db") from exc
    try:
        reader = _Reader(path, conn)
        yield from _blobs(reader)
    finally:
        conn.close()


def _blobs(reader: _Reader) -> Iterator[Dict[str, Any]]:
    packages = dict(reader.rows("SELECT name, default_channel FROM package"))
    channel_rows = reader.rows("SELECT name, package_name, head_operatorbundle_name FROM channel")
    has_csv = reader.has("operatorbundle", "csv")
    has_bundle = reader.has("operatorbundle", "bundle")
    columns = ["name", "version", "bundlepath" if reader.has("operatorbundle", "bundlepath") else "NULL",
               "skiprange" if reader.has("operatorbundle", "skiprange") else "NULL",
               "bundle" if has_bundle else "NULL", "csv" if has_csv else "NULL"]
    bundles = {}
    for name, version, bundlepath, skiprange, bundle_text, csv_text in reader.rows(
            f"SELECT {', '.join(columns)} FROM operatorbundle"):
        # opm skips bundles that have no version or bundle path (NULL), so do we.
        if name is None or version is None or bundlepath is None:
            continue
        bundles[name] = (_text(version), _text(bundlepath), _text(skiprange), _text(bundle_text), _text(csv_text))

    stored: Dict[str, List[Tuple[str, str]]] = {}
    if reader.has("properties"):
        for ptype, value, bundle in reader.rows("SELECT type, value, operatorbundle_name FROM properties"):
            stored.setdefault(bundle, []).append((_text(ptype) or "", _text(value) or "null"))
    deps: Dict[str, List[Tuple[str, str]]] = {}
    if reader.has("dependencies"):
        for dtype, value, bundle in reader.rows("SELECT type, value, operatorbundle_name FROM dependencies"):
            deps.setdefault(bundle, []).append((_text(dtype) or "", _text(value) or "null"))
    deprecated: Set[str] = set()
    if reader.has("deprecated"):
        deprecated = {row[0] for row in reader.rows("SELECT operatorbundle_name FROM deprecated")}
    # Tables the migrations derive properties from: only used when the properties table is absent.
    provided = _apis(reader, "api_provider") if not reader.has("properties") else {}
    required = _apis(reader, "api_requirer") if not reader.has("dependencies") else {}
    related: Dict[str, List[str]] = {}
    if reader.has("related_image"):
        for image, bundle in reader.rows("SELECT image, operatorbundle_name FROM related_image"):
            if image is not None and bundle is not None:
                related.setdefault(bundle, []).append(_text(image) or "")

    entries = _channel_entries(reader, set(bundles))
    package_of: Dict[str, str] = {}
    for (package, _channel), members in entries.items():
        for bundle in members:
            package_of.setdefault(bundle, package)

    blobs_by_bundle: Dict[str, Dict[str, Any]] = {}
    csvs: Dict[str, Optional[Dict[str, Any]]] = {}
    for name in sorted(package_of):
        version, bundlepath, _skiprange, bundle_text, _csv_text = bundles[name]
        objects, csv = _bundle_objects(name, bundle_text, reader.path)
        props = _properties(reader, name, package_of[name], version or "", stored.get(name, []),
                            deps.get(name, []), provided.get(name, set()), required.get(name, set()), objects)
        if props is None or name in deprecated:
            continue
        images: List[Dict[str, Any]] = []
        listed = set()
        if csv is not None:
            for item in (csv.get("spec") or {}).get("relatedImages") or []:
                if isinstance(item, dict):
                    images.append({"name": item.get("name", ""), "image": item.get("image", "")})
                    listed.add(item.get("image", ""))
        for image in sorted(set(related.get(name, ()))):
            if image not in listed:
                images.append({"name": "", "image": image})
        csvs[name] = csv
        blobs_by_bundle[name] = {"schema": SCHEMA_BUNDLE, "name": name, "package": package_of[name],
                                 "image": bundlepath, "properties": props, "relatedImages": images}

    channels_of: Dict[str, List[str]] = {}
    for channel, package, _head in channel_rows:
        channels_of.setdefault(package, []).append(channel)

    for package in sorted(packages):
        default = _text(packages[package])
        blob: Dict[str, Any] = {"schema": SCHEMA_PACKAGE, "name": package, "defaultChannel": default}
        icon = _head_icon(entries.get((package, default or ""), {}), csvs)
        if icon:
            blob["icon"] = icon
        yield blob
        for channel in sorted(set(channels_of.get(package, [])) | {c for p, c in entries if p == package}):
            members = entries.get((package, channel), {})
            out_entries = []
            for name in sorted(members):
                if name not in blobs_by_bundle:
                    continue
                entry: Dict[str, Any] = {"name": name}
                if members[name]["replaces"]:
                    entry["replaces"] = members[name]["replaces"]
                if members[name]["skips"]:
                    entry["skips"] = members[name]["skips"]
                if bundles[name][2]:
                    entry["skipRange"] = bundles[name][2]
                out_entries.append(entry)
            yield {"schema": SCHEMA_CHANNEL, "name": channel, "package": package, "entries": out_entries}
        for name in sorted(blobs_by_bundle):
            if blobs_by_bundle[name]["package"] == package:
                yield blobs_by_bundle[name]


def _head_icon(members: Dict[str, Dict[str, Any]], csvs: Dict[str, Optional[Dict[str, Any]]]) -> Optional[Dict[str, Any]]:
    incoming = set()
    for edges in members.values():
        if edges["replaces"]:
            incoming.add(edges["replaces"])
        incoming.update(edges["skips"])
    heads = [name for name in members if name not in incoming and name in csvs]
    if len(heads) != 1:
        return None
    csv = csvs[heads[0]] or {}
    icons = (csv.get("spec") or {}).get("icon") or []
    if not icons or not isinstance(icons[0], dict) or not icons[0].get("base64data"):
        return None
    data = str(icons[0]["base64data"])
    # opm stores the decoded bytes and writes them back in standard base64; spaces are a known
    # defect of some CSVs that it tolerates.
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except ValueError:
        return None
    if not raw:
        return None
    return {"base64data": base64.b64encode(raw).decode("ascii"), "mediatype": icons[0].get("mediatype", "")}


def load_sqlite(path: str) -> Catalog:
    """Load a sqlite ``index.db`` (any operator-registry schema version) into a Catalog."""
    catalog = Catalog()
    for index, blob in enumerate(iter_sqlite_blobs(path)):
        catalog.add_blob(blob, f"{path} (blob {index + 1})")
    return catalog.finish()


def sqlite_schema_version(path: str) -> Optional[int]:
    """The last schema migration recorded in the index (None if the table is absent)."""
    uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True)
    try:
        return _Reader(path, conn).schema_version()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable sqlite database ({exc})") from exc
    finally:
        conn.close()
