# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fuzzing the parsers of untrusted input (issue 7, "Tests"): mapping lines, image references,
FBC JSON and YAML, sqlite index files and tar layers.

A hand-rolled generator, seeded (``AIRGAP_FUZZ_SEED`` changes the seed, ``AIRGAP_FUZZ_CASES``
the number of cases), mutates valid inputs: bytes flipped, inserted, deleted and duplicated,
cut short, spliced with tokens that have broken parsers before (aliases, deep nesting, NUL,
quotes, huge numbers). Each target stops at its case count or after ``_SECONDS``, whichever
comes first, and runs under an address-space limit. A case passes when it gives a result or an
AirgapError subclass; any other exception, a MemoryError included, fails the test and prints
the seed and case to reproduce it.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import random
import sqlite3
import tarfile
import time

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.layers import apply_layers
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.loader import load_catalog
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mapping import parse_lines
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.reference import parse
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import AirgapError

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None

SEED = int(os.environ.get("AIRGAP_FUZZ_SEED", "20260701"))
CASES = int(os.environ.get("AIRGAP_FUZZ_CASES", "250"))
_SECONDS = float(os.environ.get("AIRGAP_FUZZ_SECONDS", "3"))
# Headroom over what the process already maps: a parser that tries to build a bomb hits it.
_MEMORY_HEADROOM = 1536 * 1024 * 1024
_MAX_INPUT = 64 * 1024

TOKENS = [b"\0", b"'", b'"', b"\\", b"\n", b"\r\n", b"\t", b" ", b"@", b":", b"/", b"=", b"#", b"*", b"&a ", b"*a",
          b"<<: ", b"[" * 300, b"{" * 300, b"]", b"}", b"- ", b"---\n", b"...\n", b"!!python/object:os.system ",
          b"\xff\xfe", "é".encode(), b"\xef\xbb\xbf", b"9" * 400, b"1e999", b"NaN", b"sha256:", b"../", b"%",
          b"..", b".wh.", b".wh..wh..opq", b"localhost:5000", b"@sha256:" + b"a" * 64]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for dummy in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randint(0, len(out))
        if op == 0 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and out:
            del out[pos:pos + rng.randint(1, 64)]
        elif op == 3 and out:
            start = rng.randrange(len(out))
            out[pos:pos] = out[start:start + rng.randint(1, 256)]
        elif op == 4:
            del out[pos:]
        elif op == 5:
            out[pos:pos] = bytes(rng.randrange(256) for dummy in range(rng.randint(1, 32)))
        else:
            out[pos:pos] = rng.choice(TOKENS) * rng.randint(2, 50)
    return bytes(out[:_MAX_INPUT])


@contextlib.contextmanager
def _memory_bounded():
    """An address-space limit for the duration of the block (where the platform has one)."""
    if resource is None or not hasattr(resource, "RLIMIT_AS"):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm", encoding="ascii") as handle:
        used = int(handle.read().split()[0]) * resource.getpagesize()
    limit = used + _MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _fuzz(name: str, seeds: list, run) -> int:
    """Run ``run(data)`` over mutated ``seeds``; returns how many cases ran."""
    rng = random.Random(f"{SEED}-{name}")
    deadline = time.monotonic() + _SECONDS
    cases = 0
    with _memory_bounded():
        for case in range(CASES):
            if time.monotonic() > deadline:
                break
            data = rng.choice(seeds)
            if case % 10:
                data = _mutate(rng, data)
            try:
                run(data)
            except AirgapError:
                pass
            except Exception as exc:  # noqa: BLE001 - the finding of the fuzz test
                pytest.fail(f"{name}: case {case} (AIRGAP_FUZZ_SEED={SEED}): {type(exc).__name__}: {exc}\n"
                            f"input: {data[:300]!r}")
            cases += 1
    return cases


# --- mapping lines and references ---------------------------------------------------------------

_REFS = [b"quay.io/org/app:v1", b"registry.example.com:5000/a/b/c@sha256:" + b"0" * 64, b"ubuntu",
         b"localhost/x:latest", b"docker.io/library/busybox:1.36@sha256:" + b"f" * 64, b"[::1]:5000/a:b"]
_LINES = [b"quay.io/org/app:v1=mirror.example.com/org/app:v1",
          b"registry.redhat.io/ns/op@sha256:" + b"1" * 64 + b"=mirror.example.com/ns/op:1a2b",
          b"  # comment", b"a=b=c", b"quay.io/x/y@sha256:" + b"2" * 64 + b"=m.example.com/x/y"]


def test_fuzz_references():
    def run(data):
        parse(data.decode("utf-8", "surrogateescape"))
    assert _fuzz("references", _REFS, run) > 0


def test_fuzz_mapping_lines():
    def run(data):
        text = data.decode("utf-8", "surrogateescape")
        for mode in ("oc", "keep"):
            try:
                parse_lines(text.splitlines() or [text], "mapping.txt", digest_tag_mode=mode)
            except AirgapError:
                pass
    assert _fuzz("mapping", _LINES + [b"\n".join(_LINES)], run) > 0


# --- FBC ----------------------------------------------------------------------------------------

_BLOBS = [
    {"schema": "olm.package", "name": "p", "defaultChannel": "stable", "icon": {"base64data": "", "mediatype": "x"}},
    {"schema": "olm.channel", "package": "p", "name": "stable",
     "entries": [{"name": "p.v1"}, {"name": "p.v2", "replaces": "p.v1", "skips": ["p.v0"], "skipRange": "<2.0.0"}]},
    {"schema": "olm.bundle", "package": "p", "name": "p.v1", "image": "quay.io/p/b@sha256:" + "3" * 64,
     "properties": [{"type": "olm.package", "value": {"packageName": "p", "version": "1.0.0"}},
                    {"type": "olm.gvk", "value": {"group": "g", "kind": "K", "version": "v1"}}],
     "relatedImages": [{"name": "op", "image": "quay.io/p/op@sha256:" + "4" * 64}]},
    {"schema": "olm.bundle", "package": "p", "name": "p.v2", "image": "quay.io/p/b@sha256:" + "5" * 64,
     "properties": [{"type": "olm.package", "value": {"packageName": "p", "version": "2.0.0"}}]},
    {"schema": "olm.deprecations", "package": "p", "entries": [{"reference": {"schema": "olm.package"},
                                                                "message": "gone"}]},
]


def _yaml_docs():
    import yaml
    return "".join("---\n" + yaml.safe_dump(blob, sort_keys=False) for blob in _BLOBS).encode()


@pytest.mark.parametrize("kind", ["json", "yaml"])
def test_fuzz_fbc(tmp_path, kind):
    if kind == "json":
        seeds = ["\n".join(json.dumps(b) for b in _BLOBS).encode(), json.dumps(_BLOBS[2], indent=2).encode()]
    else:
        seeds = [_yaml_docs(), b"schema: olm.package\nname: q\nbase: &b {a: 1}\nm:\n  <<: *b\n"]
    path = tmp_path / f"catalog.{kind}"

    def run(data):
        path.write_bytes(data)
        load_fbc(str(tmp_path))
        load_fbc(str(tmp_path), slim=True, packages=["p"])
    assert _fuzz(f"fbc-{kind}", seeds, run) > 0


# --- sqlite -------------------------------------------------------------------------------------


def _index_db(path) -> bytes:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE package (name TEXT PRIMARY KEY, default_channel TEXT);"
        "CREATE TABLE channel (name TEXT, package_name TEXT, head_operatorbundle_name TEXT);"
        "CREATE TABLE channel_entry (entry_id INTEGER PRIMARY KEY, channel_name TEXT, package_name TEXT,"
        " operatorbundle_name TEXT, replaces INTEGER, depth INTEGER);"
        "CREATE TABLE operatorbundle (name TEXT PRIMARY KEY, csv TEXT, bundle TEXT, bundlepath TEXT,"
        " version TEXT, skiprange TEXT);"
        "CREATE TABLE properties (type TEXT, value TEXT, operatorbundle_name TEXT, operatorbundle_version TEXT,"
        " operatorbundle_path TEXT);"
        "CREATE TABLE related_image (image TEXT, operatorbundle_name TEXT);"
        "INSERT INTO package VALUES ('p', 'stable');"
        "INSERT INTO channel VALUES ('stable', 'p', 'p.v2');"
        "INSERT INTO channel_entry VALUES (1, 'stable', 'p', 'p.v1', NULL, 1);"
        "INSERT INTO channel_entry VALUES (2, 'stable', 'p', 'p.v2', 1, 0);"
        "INSERT INTO operatorbundle VALUES ('p.v1', '{\"kind\": \"ClusterServiceVersion\"}', "
        "'{\"kind\": \"ClusterServiceVersion\"}{\"kind\": \"CRD\"}', 'quay.io/p/b@sha256:" + "6" * 64 + "', "
        "'1.0.0', NULL);"
        "INSERT INTO operatorbundle VALUES ('p.v2', NULL, NULL, 'quay.io/p/b@sha256:" + "7" * 64 + "', "
        "'2.0.0', '<2.0.0');"
        "INSERT INTO properties VALUES ('olm.gvk', '{\"group\":\"g\",\"kind\":\"K\",\"version\":\"v1\"}', "
        "'p.v1', '1.0.0', 'x');"
        "INSERT INTO related_image VALUES ('quay.io/p/op@sha256:" + "8" * 64 + "', 'p.v1');"
    )
    conn.commit()
    conn.close()
    with open(path, "rb") as handle:
        return handle.read()


def test_fuzz_sqlite(tmp_path):
    seed = _index_db(str(tmp_path / "seed.db"))
    assert "p" in load_catalog(str(tmp_path / "seed.db")).packages
    path = tmp_path / "index.db"

    def run(data):
        # whole pages: a mutation of the header alone mostly yields "not a database"
        path.write_bytes(data + seed[len(data):] if len(data) < len(seed) else data)
        load_catalog(str(path))
    assert _fuzz("sqlite", [seed], run) > 0


# --- tar layers ---------------------------------------------------------------------------------


def _tar(entries, gz=False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "f":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            else:
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if gz else raw


_LAYER = [("configs", "d", None), ("configs/p", "d", None), ("configs/p/catalog.json", "f", b'{"schema":"x"}'),
          ("configs/link", "s", "p/catalog.json"), ("configs/hard", "h", "configs/p/catalog.json"),
          ("configs/.wh.q", "f", b""), ("configs/p/.wh..wh..opq", "f", b""), ("etc/x" + "y" * 150, "f", b"z")]


def test_fuzz_tar_layers(tmp_path):
    seeds = [_tar(_LAYER), _tar(_LAYER, gz=True), _tar(_LAYER[:3])]
    counter = iter(range(10 ** 9))

    def run(data):
        dest = tmp_path / f"d{next(counter)}"
        for prefix in (None, "/configs"):
            try:
                apply_layers([io.BufferedReader(io.BytesIO(data)), io.BufferedReader(io.BytesIO(seeds[0]))],
                             str(dest / str(prefix is None)), only_prefix=prefix,
                             max_bytes=4 * 1024 * 1024, max_entries=10000)
            except AirgapError:
                pass
    assert _fuzz("tar", seeds, run) > 0
