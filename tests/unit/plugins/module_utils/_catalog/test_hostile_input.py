# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog input from sources we do not control (issue 7, items 6, 8, 10 and 11): alias bombs,
decompression bombs, inputs that used to end in a traceback, and OCI whiteouts applied per the
spec. Every refusal is a CatalogError naming the input."""

from __future__ import annotations

import io
import os
import sqlite3
import tarfile

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog import fbc as fbc_module
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import iter_fbc_blobs, load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.index import (
    LABEL_CONFIGS,
    LABEL_DATABASE,
    index_location,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.sqlite import load_sqlite
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import CatalogError


def _layer(*entries):
    """An uncompressed tar layer of (name, kind, data): f(ile), d(ir), s(ymlink)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o644
            if kind == "f":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
    return io.BufferedReader(io.BytesIO(buf.getvalue()))


def _files(root):
    out = {}
    for current, dirs, names in os.walk(root):
        for name in dirs + names:
            full = os.path.join(current, name)
            out[os.path.relpath(full, root)] = "/" if os.path.isdir(full) else open(full, "rb").read()
    return out


# --- 6: YAML aliases ----------------------------------------------------------------------------


def _alias_bomb(levels):
    lines = ["schema: olm.package", "name: bomb", 'l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_before_it_is_built(tmp_path, monkeypatch):
    # 9 ** 7 (4.8 million) strings from under 300 bytes: refused without constructing them.
    text = _alias_bomb(7)
    assert len(text) < 500
    (tmp_path / "bomb.yaml").write_text(text, encoding="utf-8")
    built = []
    real = fbc_module._construct

    def counting(loader, node):
        built.append(node)
        return real(loader, node)

    monkeypatch.setattr(fbc_module, "_construct", counting)
    with pytest.raises(CatalogError, match=r"bomb\.yaml:1: the YAML aliases .* refusing it as an alias bomb"):
        list(iter_fbc_blobs(str(tmp_path)))
    assert built == []


def test_a_few_yaml_aliases_still_load(tmp_path):
    (tmp_path / "c.yaml").write_text(_alias_bomb(3), encoding="utf-8")
    (blob,) = [b for dummy, b in iter_fbc_blobs(str(tmp_path))]
    assert blob["l2"] == [[["x"] * 9] * 9] * 9
    # built as separate values: changing one copy does not change the others
    blob["l2"][0][0][0] = "y"
    assert blob["l2"][1][0][0] == "x" and blob["l1"][0][0] == "x"


def test_recursive_yaml_alias_is_refused(tmp_path):
    (tmp_path / "loop.yaml").write_text("schema: x\nloop: &a [1, *a]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"loop\.yaml:2:7: a YAML alias refers to a value that contains"):
        list(iter_fbc_blobs(str(tmp_path)))


# --- 10: tracebacks instead of errors -----------------------------------------------------------


@pytest.mark.parametrize("name,text,message", [
    ("deep.json", '{"schema": "x", "v": ' + "[" * 100000 + "]" * 100000 + "}",
     r"deep\.json:1: the JSON value is nested too deeply"),
    ("deep.yaml", "schema: x\nv: " + "[" * 900 + "]" * 900 + "\n",
     r"deep\.yaml:2:\d+: the YAML value is nested more than 200 levels deep"),
    ("deepmap.yaml", "schema: x\nv: " + "{a: " * 900 + "1" + "}" * 900 + "\n",
     r"deepmap\.yaml:2:\d+: the YAML value is nested more than 200 levels deep"),
])
def test_deeply_nested_catalog_files_are_clean_errors(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_fbc(str(tmp_path))


def _index_db(path, extra_table):
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);"
        "CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);"
        "CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,"
        " operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);"
        "CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT,"
        " version TEXT, skiprange TEXT);"
        f"CREATE TABLE {extra_table} (x TEXT);"
    )
    conn.commit()
    conn.close()
    return str(path)


@pytest.mark.parametrize("table", ['"we""ird"', '"a"") ; DROP TABLE package; --"'])
def test_sqlite_table_names_are_data(tmp_path, table):
    catalog = load_sqlite(_index_db(tmp_path / "index.db", table))
    assert dict(catalog.packages) == {}


def test_sqlite_nested_property_is_a_clean_error(tmp_path):
    path = _index_db(tmp_path / "index.db", "unused")
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE properties (type TEXT, value TEXT, operatorbundle_name TEXT, operatorbundle_version TEXT,"
        " operatorbundle_path TEXT);"
        "INSERT INTO package VALUES ('p', 'stable');"
        "INSERT INTO channel VALUES ('stable', 'p', 'p.v1');"
        "INSERT INTO channel_entry VALUES (1, 'stable', 'p', 'p.v1', NULL, 0);"
        "INSERT INTO operatorbundle VALUES ('p.v1', NULL, NULL, 'example.com/p@sha256:" + "0" * 64 + "', '1.0.0', NULL);"
    )
    conn.execute("INSERT INTO properties VALUES ('custom', ?, 'p.v1', '1.0.0', 'x')", ("[" * 100000 + "]" * 100000,))
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match=r"index\.db: bundle 'p\.v1': property custom value"):
        load_sqlite(path)


def test_nul_in_a_symlink_target_is_a_clean_error(tmp_path):
    with pytest.raises(CatalogError, match=r"layer 1: link 'configs/l' has a target containing a NUL byte"):
        # too long for the ustar field, so the target travels in a PAX record, NUL and all
        apply_layers([_layer(("configs/l", "s", "a\0" + "b" * 200))], str(tmp_path / "dest"))


# --- 8: decompression bombs ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["/", "", ".", "//./"])
def test_a_configs_label_naming_the_root_is_refused(value):
    labels = {LABEL_CONFIGS: value} if value else {LABEL_CONFIGS: "/", LABEL_DATABASE: value}
    with pytest.raises(CatalogError, match=r"label .* is not a path inside the image .*names the root"):
        index_location(labels, "example.com/cat:v1")


@pytest.mark.parametrize("prefix", ["/", "./", ""])
def test_apply_layers_refuses_a_root_prefix(tmp_path, prefix):
    with pytest.raises(CatalogError, match="names the root of the image"):
        apply_layers([_layer(("etc/passwd", "f", b"x"))], str(tmp_path / "dest"), only_prefix=prefix)
    assert not (tmp_path / "dest" / "etc").exists()


def test_bytes_are_capped_over_all_layers(tmp_path):
    layers = [_layer(("configs/a.json", "f", b"a" * 600)), _layer(("configs/b.json", "f", b"b" * 600))]
    with pytest.raises(CatalogError, match=r"layer 2: the image's layers unpack to more than 1000 bytes "
                                           r"\(at entry 'configs/b.json'\)"):
        apply_layers(layers, str(tmp_path / "dest"), max_bytes=1000)


def test_skipped_bytes_count_too(tmp_path):
    # outside the prefix, but still decompressed to be skipped
    with pytest.raises(CatalogError, match="more than 1000 bytes"):
        apply_layers([_layer(("bin/opm", "f", b"x" * 2000))], str(tmp_path / "d"), only_prefix="/configs",
                     max_bytes=1000)


def test_entries_are_capped_and_headers_not_kept(tmp_path, monkeypatch):
    entries = [(f"configs/{n}", "d", None) for n in range(50)]
    with pytest.raises(CatalogError, match="layer 1: the image's layers hold more than 20 entries"):
        apply_layers([_layer(*entries)], str(tmp_path / "a"), max_entries=20)
    seen = []
    real_next = tarfile.TarFile.next

    def spy(self):
        member = real_next(self)
        seen.append(len(self.members))
        return member

    monkeypatch.setattr(tarfile.TarFile, "next", spy)
    apply_layers([_layer(*entries)], str(tmp_path / "b"))
    assert len(os.listdir(tmp_path / "b" / "configs")) == 50
    assert max(seen) <= 1


def test_a_huge_extended_header_is_refused_unread(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("configs/p.json")
        info.pax_headers = {"comment": "x" * (2 * 1024 * 1024)}
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(CatalogError, match=r"layer 1: an extended tar header .* of \d+ bytes, more than 1048576"):
        apply_layers([io.BufferedReader(io.BytesIO(buf.getvalue()))], str(tmp_path / "d"))


def test_group_and_world_write_bits_are_not_unpacked(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind in (("configs", tarfile.DIRTYPE), ("configs/p.json", tarfile.REGTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.mode = kind, 0o777
            tar.addfile(info, io.BytesIO(b""))
    apply_layers([io.BufferedReader(io.BytesIO(buf.getvalue()))], str(tmp_path / "d"))
    assert os.stat(tmp_path / "d" / "configs").st_mode & 0o777 == 0o755
    assert os.stat(tmp_path / "d" / "configs" / "p.json").st_mode & 0o777 == 0o755


# --- 11: whiteouts hide lower layers only -------------------------------------------------------


def test_whiteout_of_a_parent_keeps_what_the_same_layer_added(tmp_path):
    lower = _layer(("configs/p/old.json", "f", b"old"), ("configs/q.json", "f", b"q"))
    # same layer: a new file in configs/p, then a whiteout of configs/p itself (a lower directory)
    upper = _layer(("configs/p/new.json", "f", b"new"), ("configs/.wh.p", "f", b""))
    apply_layers([lower, upper], str(tmp_path))
    assert _files(tmp_path) == {"configs": "/", "configs/p": "/", "configs/p/new.json": b"new",
                                "configs/q.json": b"q"}


def test_opaque_whiteout_keeps_same_layer_files_in_lower_subdirectories(tmp_path):
    lower = _layer(("configs/p/old.json", "f", b"old"), ("configs/p/sub/old.json", "f", b"old"))
    upper = _layer(("configs/p/sub/new.json", "f", b"new"), ("configs/.wh..wh..opq", "f", b""))
    apply_layers([lower, upper], str(tmp_path))
    assert _files(tmp_path) == {"configs": "/", "configs/p": "/", "configs/p/sub": "/",
                                "configs/p/sub/new.json": b"new"}


def test_whiteout_still_removes_lower_file_beside_same_layer_file(tmp_path):
    lower = _layer(("configs/p/old.json", "f", b"old"))
    upper = _layer(("configs/p/new.json", "f", b"new"), ("configs/p/.wh.old.json", "f", b""),
                   ("configs/.wh.gone", "f", b""))
    apply_layers([lower, upper], str(tmp_path))
    assert _files(tmp_path) == {"configs": "/", "configs/p": "/", "configs/p/new.json": b"new"}


# --- found by tests/unit/test_fuzz_parsers.py ---------------------------------------------------


@pytest.mark.parametrize("name,text,message", [
    ("big.json", '{"schema": "x", "n": ' + "9" * 5000 + "}", r"big\.json:1: invalid JSON value: Exceeds the limit"),
    ("big.yaml", "schema: x\nn: " + "9" * 5000 + "\n", r"big\.yaml:1: invalid YAML value: Exceeds the limit"),
])
def test_huge_integers_are_clean_errors(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_fbc(str(tmp_path))


@pytest.mark.parametrize("data", [b"\x1f\x8b\x08.wh.", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x01\x02"])
def test_truncated_gzip_headers_are_clean_errors(tmp_path, data):
    with pytest.raises(CatalogError, match="layer 1: "):
        apply_layers([io.BufferedReader(io.BytesIO(data))], str(tmp_path / "d"))
