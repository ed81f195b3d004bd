# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Count packages, channels, bundles and images of each catalog under a corpus directory.

The counts in tests/fixtures/catalogs/INVENTORY.json are the expected values of the loader
tests, so they are computed here with plain json/yaml/sqlite3, never with the collection's own
loader. Run on the full corpus (``../shared/data/catalogs``), this script gives the numbers of
its INVENTORY.json; that is how it was checked.

    python hack/fixture_inventory.py tests/fixtures/catalogs            # print
    python hack/fixture_inventory.py tests/fixtures/catalogs --write     # write INVENTORY.json
    python hack/fixture_inventory.py ../shared/data/catalogs --compare ../shared/data/catalogs/INVENTORY.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys

import yaml

NOTE = ("Counts computed by hack/fixture_inventory.py over this directory with plain json/yaml/sqlite3. "
        "packages, channels, bundles: olm.package, olm.channel and olm.bundle blobs (FBC) or rows of the "
        "package, channel and operatorbundle tables (sqlite); relatedImage_entries: relatedImages entries "
        "(FBC) or related_image rows (sqlite); unique_images: distinct bundle images and related images.")


def fbc_blobs(path):
    """Every blob of the .json/.yaml/.yml files under ``path`` (a file or a directory)."""
    if os.path.isfile(path):
        files = [path]
    else:
        files = []
        for root, dirs, names in os.walk(path):
            dirs.sort()
            files.extend(os.path.join(root, n) for n in sorted(names))
    for name in files:
        if not name.endswith((".json", ".yaml", ".yml")):
            continue
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
        # opm reads a file that starts with "{" as a JSON stream, whatever its extension
        if name.endswith(".json") or text.lstrip().startswith("{"):
            decoder = json.JSONDecoder()
            position = 0
            while True:
                while position < len(text) and text[position].isspace():
                    position += 1
                if position >= len(text):
                    break
                blob, position = decoder.raw_decode(text, position)
                yield blob
        else:
            for blob in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if blob:
                    yield blob


def fbc_counts(path):
    counts = {"packages": 0, "channels": 0, "bundles": 0, "relatedImage_entries": 0}
    images = set()
    for blob in fbc_blobs(path):
        schema = blob.get("schema")
        if schema == "olm.package":
            counts["packages"] += 1
        elif schema == "olm.channel":
            counts["channels"] += 1
        elif schema == "olm.bundle":
            counts["bundles"] += 1
            related = blob.get("relatedImages") or []
            counts["relatedImage_entries"] += len(related)
            images.update(i for i in [blob.get("image")] + [r.get("image") for r in related] if i)
    counts["unique_images"] = len(images)
    return counts


def sqlite_counts(path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        def count(table):
            return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # nosec: fixed names

        images = {r[0] for r in connection.execute("SELECT image FROM related_image") if r[0]}
        images.update(r[0] for r in connection.execute("SELECT bundlepath FROM operatorbundle") if r[0])
        return {"packages": count("package"), "channels": count("channel"), "bundles": count("operatorbundle"),
                "relatedImage_entries": count("related_image"), "unique_images": len(images)}
    finally:
        connection.close()


def size_bytes(path):
    """Bytes of the catalog itself: its .db file, or its .json/.yaml/.yml files."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, n)) for root, dummy, names in os.walk(path) for n in names
               if n.endswith((".json", ".yaml", ".yml")))


def items(corpus):
    """The corpus items, named as in INVENTORY.json: each catalog directory or file."""
    fbc = os.path.join(corpus, "fbc")
    found = []
    community = os.path.join(fbc, "community-operators-prod")
    if os.path.isdir(community):
        found += [os.path.join(community, v) for v in sorted(os.listdir(community))]
    found.append(os.path.join(fbc, "oc", "test-declcfg"))
    found.append(os.path.join(fbc, "oc-mirror", "test-operator-catalog.json"))
    for parent in ("oc-mirror/redhat-operator-index-extracts", "oc-mirror/integration-test-catalogs",
                   "operator-registry/alpha-action-testdata/index-declcfgs",
                   "operator-registry/alpha-action-testdata/list-index",
                   "operator-registry/alpha-action-testdata/foo-index-v0.2.0-declcfg"):
        directory = os.path.join(fbc, parent)
        if os.path.isdir(directory):
            found += [os.path.join(directory, n) for n in sorted(os.listdir(directory))
                      if os.path.isdir(os.path.join(directory, n))]
    found.append(os.path.join(fbc, "operator-registry", "fbc-dir-file-based-catalog"))
    found.append(os.path.join(fbc, "operator-registry", "e2e-test-configs"))
    sqlite_dir = os.path.join(corpus, "sqlite")
    if os.path.isdir(sqlite_dir):
        found += [os.path.join(sqlite_dir, n) for n in sorted(os.listdir(sqlite_dir)) if n.endswith(".db")]
    return [p for p in found if os.path.exists(p)]


def inventory(corpus):
    out = {}
    for path in items(corpus):
        name = os.path.relpath(path, corpus).replace(os.sep, "/")
        counts = sqlite_counts(path) if name.endswith(".db") else fbc_counts(path)
        counts["size_bytes"] = size_bytes(path)
        out[name] = counts
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("corpus", help="directory with fbc/ and sqlite/")
    parser.add_argument("--write", action="store_true", help="write <corpus>/INVENTORY.json")
    parser.add_argument("--compare", metavar="INVENTORY", help="compare with the items of this INVENTORY.json")
    args = parser.parse_args(argv)
    counted = inventory(args.corpus)
    if args.compare:
        with open(args.compare, encoding="utf-8") as handle:
            other = json.load(handle)["items"]
        differ = [k for k in sorted(set(counted) | set(other))
                  if k.startswith(("fbc/", "sqlite/")) and counted.get(k) != other.get(k)]
        for key in differ:
            print(f"{key}: counted {counted.get(key)}, listed {other.get(key)}")
        print(f"{len(counted)} items counted, {len(differ)} differ")
        return 1 if differ else 0
    text = json.dumps({"note": NOTE, "items": counted}, indent=2, sort_keys=True) + "\n"
    if args.write:
        with open(os.path.join(args.corpus, "INVENTORY.json"), "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
