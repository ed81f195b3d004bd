# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Catalog load + filter + plan on a big File-Based Catalog, against plain JSON decoding.

    .venv/bin/python -m tests.benchmarks.bench_catalog [--size-mib 512] [--mem-sizes 128,512]
                                                      [--repeat 5] [--keep 5] [--out PATH]

1. Generate (once; reused while its stamp matches) a catalog of at least ``--size-mib`` MiB by
   replicating the real community-operators v4.21 catalog of the corpus (33 packages, YAML) in
   the layout index images ship: one directory per package holding a ``catalog.json`` JSON
   stream, blobs in ``opm render`` order, each indented by 4 spaces as opm writes them. Replica
   ``r`` renames every package ``pkg-<r>-<name>`` and every bundle ``pkg-<r>-<bundle>``, with the
   channel entries (name, replaces, skips), the ``olm.package`` / ``olm.package.required``
   properties and the deprecation references renamed alike, so the catalog stays valid. The
   catalog is written one package file at a time, never held in memory.
2. Time, best of ``--repeat``, alternating:
   (a) baseline: read every file and decode its stream with ``json.JSONDecoder.raw_decode``,
       discarding the values;
   (b) ours: ``load_fbc(dir, packages=<the filter's packages>)`` + ``apply_filter`` (default:
       channel heads) + ``catalog_images`` + ``plan_catalog`` (naming oc) + ``mapping_lines`` +
       IDMS and ICSP objects rendered to YAML, keeping ``--keep`` packages spread over the
       catalog. Reported as the ratio (b)/(a); the issue's target is at most 2x.
   (c) for information, ``load_fbc`` of the whole catalog (no package filter), in a child.
3. Peak memory: (b) (and (a), for comparison) run in a child process per catalog size of
   ``--mem-sizes``; its peak RSS is ``ru_maxrss`` from wait4() (and VmHWM printed by the child).
   The target is at most 400 MB (400 x 10^6 bytes) whatever the catalog's size: memory follows
   what is kept, not what is read.

Reported, never asserted. Disk: the catalogs stay in ``--work-dir`` (default: the temp dir) for
the next run; remove them with ``--clean``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from tests.benchmarks._common import MIB, ROOT, child_env, collections_root, machine_info, table, write_json

DEFAULT_OUT = os.path.join(ROOT, "tests", "benchmarks", "results", "catalog-latest.json")
DEFAULT_SOURCE = os.path.join(os.path.dirname(ROOT), "shared", "data", "catalogs", "fbc", "community-operators-prod",
                              "v4.21")
TARGET_RATIO = 2.0
TARGET_PEAK_BYTES = 400 * 1000 * 1000
# Bumped whenever the generated catalog's content changes, so an old one is not reused.
GENERATOR_VERSION = 1
STAMP = "bench-catalog-stamp.json"
# Names of replica 0 in the templates; the replica's own prefix replaces it in the text. The
# opening quote makes it match only whole JSON strings that start with it: the renamed names.
_TEMPLATE_PREFIX = "pkg-00000-"
# Kept by (b): real packages of the corpus of different shapes (one with a dependency, one with
# many bundles, small ones), each taken from a different replica.
KEEP = ["rabbitmq-messaging-topology-operator", "stackgres-community", "kube-green", "infinispan", "project-quay",
        "victoriametrics-operator", "sailoperator", "opendatahub-operator"]
CATALOG_IMAGE = "registry.example.com/community/community-operator-index:v4.21"
DEST = "mirror.example.com:5000/olm"

_WS = re.compile(r"[ \t\n\r]*")


def _import_collection() -> None:
    root = collections_root()
    if root not in sys.path:
        sys.path.insert(0, root)


# --------------------------------------------------------------------------------------------
# Generator


def _prefixed(name, prefix: str, names: set | None = None):
    if not isinstance(name, str) or not name:
        return name
    if names is not None and name not in names:
        return name
    return prefix + name


def rename_blob(blob: dict, prefix: str, packages: set) -> dict:
    """A copy of ``blob`` with its package and bundle names prefixed (what a replica renames)."""
    out = dict(blob)
    schema = out.get("schema")
    if schema == "olm.package":
        out["name"] = _prefixed(out.get("name"), prefix)
        return out
    if "package" in out:
        out["package"] = _prefixed(out.get("package"), prefix)
    if schema == "olm.channel":
        entries = []
        for entry in out.get("entries") or []:
            entry = dict(entry)
            entry["name"] = _prefixed(entry.get("name"), prefix)
            if entry.get("replaces"):
                entry["replaces"] = _prefixed(entry["replaces"], prefix)
            if entry.get("skips"):
                entry["skips"] = [_prefixed(s, prefix) for s in entry["skips"]]
            entries.append(entry)
        out["entries"] = entries
    elif schema == "olm.bundle":
        out["name"] = _prefixed(out.get("name"), prefix)
        props = []
        for prop in out.get("properties") or []:
            if prop.get("type") in ("olm.package", "olm.package.required") and isinstance(prop.get("value"), dict):
                value = dict(prop["value"])
                # A dependency on a package of the catalog points at the same replica's copy.
                value["packageName"] = _prefixed(value.get("packageName"), prefix, packages)
                prop = dict(prop, value=value)
            props.append(prop)
        if "properties" in out:
            out["properties"] = props
    elif schema == "olm.deprecations":
        entries = []
        for entry in out.get("entries") or []:
            ref = entry.get("reference") if isinstance(entry, dict) else None
            if isinstance(ref, dict) and ref.get("schema") == "olm.bundle":
                entry = dict(entry, reference=dict(ref, name=_prefixed(ref.get("name"), prefix)))
            entries.append(entry)
        out["entries"] = entries
    return out


def _source_fingerprint(source: str) -> str:
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                digest.update(os.path.relpath(path, source).encode() + b"\0")
                digest.update(hashlib.sha256(handle.read()).digest())
    return "sha256:" + digest.hexdigest()


def templates(source: str) -> list[tuple[str, str]]:
    """(package name, catalog.json text of replica 0) for every package of ``source``."""
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.render import dumps_blobs, package_blobs

    catalog = load_fbc(source)
    names = set(catalog.packages)
    out = []
    for name in sorted(catalog.packages):
        # synthesized=False: write only what the source has (it has olm.channel blobs anyway).
        blobs = (rename_blob(b, _TEMPLATE_PREFIX, names) for b in package_blobs(catalog.packages[name], False))
        out.append((name, dumps_blobs(blobs)))
    return out


def replica_prefix(replica: int) -> str:
    return f"pkg-{replica:05d}-"


def generate(source: str, size_mib: int, work_dir: str) -> dict:
    """Write (or reuse) the catalog of at least ``size_mib`` MiB; returns its stamp."""
    root = catalog_dir(size_mib, work_dir)
    fingerprint = _source_fingerprint(source)
    try:
        with open(os.path.join(root, STAMP)) as handle:
            stamp = json.load(handle)
        if stamp.get("generator") == GENERATOR_VERSION and stamp.get("source") == fingerprint \
                and stamp.get("size_mib") == size_mib:
            stamp["reused"] = True
            return stamp
    except (OSError, ValueError):
        pass
    started = time.monotonic()
    _import_collection()
    parts = templates(source)
    partial = root + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(partial)
    target = size_mib * MIB
    written = files = 0
    replica = 0
    packages: list[str] = []
    while written < target:
        replica += 1
        prefix = replica_prefix(replica)
        for name, text in parts:
            data = text.replace('"' + _TEMPLATE_PREFIX, '"' + prefix).encode("utf-8")
            pkg_dir = os.path.join(partial, prefix + name)
            os.mkdir(pkg_dir)
            with open(os.path.join(pkg_dir, "catalog.json"), "wb") as handle:
                handle.write(data)
            written += len(data)
            files += 1
            packages.append(prefix + name)
            if written >= target:
                break
    stamp = {
        "generator": GENERATOR_VERSION,
        "source": fingerprint,
        "source_dir": os.path.abspath(source),
        "size_mib": size_mib,
        "bytes": written,
        "files": files,
        "replicas": replica,
        "complete_replicas": replica if files % len(parts) == 0 else replica - 1,
        "source_packages": [part[0] for part in parts],
        "generate_seconds": round(time.monotonic() - started, 2),
    }
    with open(os.path.join(partial, STAMP), "w") as handle:
        json.dump(stamp, handle, indent=2)
    os.rename(partial, root)
    stamp["reused"] = False
    return stamp


def catalog_dir(size_mib: int, work_dir: str) -> str:
    return os.path.join(work_dir, f"airgap-bench-catalog-{size_mib}MiB")


def kept_packages(stamp: dict, keep: int) -> list[str]:
    """``keep`` packages of the catalog, each from another replica, spread from first to last."""
    bases = [b for b in KEEP if b in stamp["source_packages"]] or stamp["source_packages"]
    last = max(1, stamp["complete_replicas"])
    out = []
    for i in range(keep):
        replica = 1 + (i * (last - 1)) // max(1, keep - 1) if keep > 1 else 1
        out.append(replica_prefix(replica) + bases[i % len(bases)])
    return out


# --------------------------------------------------------------------------------------------
# Contenders (run in this process for timing, or in a child for memory)


def fbc_files(path: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        out.extend(os.path.join(dirpath, n) for n in sorted(filenames) if n.endswith(".json"))
    return out


def run_baseline(path: str) -> dict:
    """(a) read every catalog file and decode its JSON stream, discarding the values."""
    raw_decode = json.JSONDecoder().raw_decode
    ws = _WS.match
    blobs = size = 0
    for file_path in fbc_files(path):
        with open(file_path, encoding="utf-8") as handle:
            text = handle.read()
        size += len(text)
        pos, end = 0, len(text)
        while True:
            pos = ws(text, pos).end()
            if pos >= end:
                break
            pos = raw_decode(text, pos)[1]
            blobs += 1
    return {"blobs": blobs, "chars": size}


def run_ours(path: str, packages: list[str]) -> dict:
    """(b) load only the filter's packages, filter, list the images, plan, render the files."""
    _import_collection()
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.filter import apply_filter
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.images import catalog_images
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import filter_from_options
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.documents import dump_yaml_documents
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.mirror_sets import (
        icsp_objects,
        idms_objects,
    )
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.naming import mapping_lines, plan_catalog

    flt = filter_from_options(list(packages))
    catalog = load_fbc(path, flt.package_names())
    filtered, warnings = apply_filter(catalog, flt)
    images = catalog_images(filtered)
    planned = plan_catalog(CATALOG_IMAGE, images, DEST, "oc")
    lines = mapping_lines(planned)
    idms = dump_yaml_documents(idms_objects(planned, "bench"))
    icsp = dump_yaml_documents(icsp_objects(planned, "bench"))
    return {
        "loaded_packages": len(catalog.packages),
        "loaded_bundles": sum(len(p.bundles) for p in catalog.packages.values()),
        "kept_bundles": sum(len(p.bundles) for p in filtered.packages.values()),
        "images": len(images),
        "mapping_lines": len(lines),
        "mirror_set_chars": len(idms) + len(icsp),
        "warnings": warnings,
    }


def run_whole(path: str) -> tuple:
    """(c) load the whole catalog, no package filter."""
    _import_collection()
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.fbc import load_fbc

    catalog = load_fbc(path)
    return catalog, {"packages": len(catalog.packages),
                     "bundles": sum(len(p.bundles) for p in catalog.packages.values())}


def _vm_hwm_kib() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def child_main(argv: list[str]) -> int:
    """``--child WHAT DIR [PACKAGE...]``: run one contender once and print one JSON line."""
    what, path, packages = argv[0], argv[1], argv[2:]
    _import_collection()
    # Import before measuring so "rss_after_import" is the floor the contender starts from.
    for module in ("_catalog.fbc", "_catalog.filter", "_catalog.images", "_catalog.options",
                   "_mirror.naming", "_mirror.mirror_sets", "_mirror.documents"):
        importlib.import_module(f"ansible_collections.airgap.operatorhub.plugins.module_utils.{module}")

    floor = _vm_hwm_kib()
    catalog = None
    started, cpu = time.monotonic(), time.process_time()
    if what == "baseline":
        result = run_baseline(path)
    elif what == "ours":
        result = run_ours(path, packages)
    else:
        catalog, result = run_whole(path)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    if catalog is not None:
        # After the timing: the generated catalog is a valid one (what opm would refuse, listed).
        problems = catalog.validate()
        result["validate_problems"] = len(problems)
        result["validate_sample"] = problems[:5]
    print(json.dumps({"what": what, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
                      "vm_hwm_kib": _vm_hwm_kib(), "rss_after_import_kib": floor, "result": result}))
    return 0


def launcher_main(argv: list[str]) -> int:
    """``--launch WHAT DIR [PACKAGE...]``: run ``--child`` and print its ru_maxrss from wait4().

    Linux carries the high-water RSS of the memory a process had before exec() into its
    ru_maxrss (even with vfork), so a child started by the benchmark would report the
    benchmark's own peak. This launcher is a fresh small interpreter: the peak of the child it
    starts is the child's own, or this launcher's few MB, whichever is larger.
    """
    cmd = [sys.executable, "-m", "tests.benchmarks.bench_catalog", "--child", *argv]
    pid = os.posix_spawn(sys.executable, cmd, dict(os.environ))
    status, usage = os.wait4(pid, 0)[1:]
    rc = os.waitstatus_to_exitcode(status)
    print(json.dumps({"rc": rc, "maxrss_kib": usage.ru_maxrss, "launcher_hwm_kib": _vm_hwm_kib()}))
    return rc


def run_child(what: str, path: str, packages: list[str] = ()) -> dict:
    """Run one contender in a child (through the launcher) and return what it printed, with its
    peak RSS: ``maxrss_kib`` (wait4) and ``vm_hwm_kib`` (/proc/self/status, by the child)."""
    cmd = [sys.executable, "-m", "tests.benchmarks.bench_catalog", "--launch", what, path, *packages]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.run(cmd, env=child_env(), cwd=ROOT, stdout=out, stderr=err, check=False)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{what} child failed (rc={proc.returncode}): {' '.join(cmd)}\n{stderr[-4000:]}")
    lines = stdout.strip().splitlines()
    result = json.loads(lines[-2])
    launch = json.loads(lines[-1])
    result["maxrss_kib"] = launch["maxrss_kib"]
    result["launcher_hwm_kib"] = launch["launcher_hwm_kib"]
    result["process_seconds"] = round(seconds, 3)
    return result


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_catalog",
                                description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--size-mib", type=int, default=512, help="catalog size for the timings, MiB; default 512")
    p.add_argument("--mem-sizes", default="128,512",
                   help="catalog sizes (MiB, comma-separated) at which peak memory is measured; default %(default)s")
    p.add_argument("--repeat", type=int, default=5, help="timing runs of (a) and (b), best kept; default 5")
    p.add_argument("--keep", type=int, default=5, help="packages kept by (b); default 5")
    p.add_argument("--skip-whole", action="store_true", help="do not time (c), the whole-catalog load")
    p.add_argument("--source", default=DEFAULT_SOURCE,
                   help="FBC replicated; default the corpus' v4.21 community catalog")
    p.add_argument("--work-dir", default=tempfile.gettempdir(), help="where the catalogs are kept; default %(default)s")
    p.add_argument("--clean", action="store_true", help="remove the generated catalogs at the end")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results path; default %(default)s")
    return p.parse_args(argv)


def _mb(kib: int) -> str:
    return f"{kib * 1024 / 1e6:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    if argv[:1] == ["--launch"]:
        return launcher_main(argv[1:])
    args = parse_args(argv)
    _import_collection()
    info = machine_info()
    mem_sizes = sorted({int(s) for s in args.mem_sizes.split(",") if s.strip()})
    print(f"bench_catalog: {info['nproc']} CPUs, python {info['python']}; catalogs in {args.work_dir}", flush=True)

    stamps = {}
    for size in sorted(set(mem_sizes + [args.size_mib])):
        stamp = generate(args.source, size, args.work_dir)
        stamps[size] = stamp
        how = "reused" if stamp["reused"] else f"generated in {stamp['generate_seconds']}s"
        print(f"catalog {size} MiB: {stamp['bytes'] / 1e6:.0f} MB, {stamp['files']} packages "
              f"({stamp['replicas']} replicas of {len(stamp['source_packages'])}), {how}", flush=True)

    path = catalog_dir(args.size_mib, args.work_dir)
    keep = kept_packages(stamps[args.size_mib], args.keep)
    print(f"kept packages: {', '.join(keep)}", flush=True)

    # Timing: alternate (a) and (b) so a slow spell of the machine hits both alike. CPU time is
    # kept too: on a shared 2-core machine it varies much less than wall time.
    times: dict[str, list[float]] = {"baseline": [], "ours": []}
    cpu_times: dict[str, list[float]] = {"baseline": [], "ours": []}
    details: dict[str, dict] = {}
    for i in range(args.repeat):
        for what in ("baseline", "ours"):
            started, cpu = time.perf_counter(), time.process_time()
            details[what] = run_baseline(path) if what == "baseline" else run_ours(path, keep)
            times[what].append(time.perf_counter() - started)
            cpu_times[what].append(time.process_time() - cpu)
        print(f"  run {i + 1}: baseline {times['baseline'][-1]:.2f}s ({cpu_times['baseline'][-1]:.2f}s CPU), "
              f"ours {times['ours'][-1]:.2f}s ({cpu_times['ours'][-1]:.2f}s CPU)", flush=True)
    best_a, best_b = min(times["baseline"]), min(times["ours"])
    cpu_a, cpu_b = min(cpu_times["baseline"]), min(cpu_times["ours"])
    ratio, cpu_ratio = best_b / best_a, cpu_b / cpu_a

    whole = None
    if not args.skip_whole:
        print("(c) whole-catalog load in a child ...", flush=True)
        whole = run_child("whole", path)

    memory = {}
    for size in mem_sizes:
        mpath = catalog_dir(size, args.work_dir)
        mkeep = kept_packages(stamps[size], args.keep)
        memory[size] = {"ours": run_child("ours", mpath, mkeep), "baseline": run_child("baseline", mpath)}
        print(f"  memory at {size} MiB: ours {_mb(memory[size]['ours']['maxrss_kib'])}, "
              f"baseline {_mb(memory[size]['baseline']['maxrss_kib'])}", flush=True)

    size_mb = stamps[args.size_mib]["bytes"] / 1e6
    rows = [
        ["(a) json raw_decode, every blob", f"{best_a:.2f}", f"{cpu_a:.2f}", "1.00", "1.00", f"{size_mb / best_a:.0f}",
         "-"],
        [f"(b) load {args.keep} pkgs + filter + plan", f"{best_b:.2f}", f"{cpu_b:.2f}", f"{ratio:.2f}",
         f"{cpu_ratio:.2f}", f"{size_mb / best_b:.0f}",
         f"target <= {TARGET_RATIO:.0f}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'}"],
    ]
    if whole:
        rows.append(["(c) load whole catalog (info)", f"{whole['seconds']:.2f}", f"{whole['cpu_seconds']:.2f}",
                     f"{whole['seconds'] / best_a:.2f}", f"{whole['cpu_seconds'] / cpu_a:.2f}",
                     f"{size_mb / whole['seconds']:.0f}", f"once, peak RSS {_mb(whole['maxrss_kib'])}"])
    print()
    print(f"Catalog of {size_mb:.0f} MB ({stamps[args.size_mib]['files']} package files), best of {args.repeat}:")
    print(table(["contender", "wall s", "CPU s", "ratio", "CPU ratio", "MB/s", "note"], rows))
    mem_rows = []
    for size in mem_sizes:
        m = memory[size]
        peak = m["ours"]["maxrss_kib"] * 1024
        mem_rows.append([f"{stamps[size]['bytes'] / 1e6:.0f} MB", _mb(m["ours"]["maxrss_kib"]),
                         _mb(m["ours"]["vm_hwm_kib"]), _mb(m["ours"]["rss_after_import_kib"]),
                         _mb(m["baseline"]["maxrss_kib"]),
                         "met" if peak <= TARGET_PEAK_BYTES else "MISSED"])
    print()
    print("Peak RSS of (b) in a child process (target <= 400 MB whatever the catalog's size):")
    print(table(["catalog", "(b) ru_maxrss", "(b) VmHWM", "after imports", "(a) ru_maxrss", "target"], mem_rows))

    document = {
        "benchmark": "catalog load + filter + plan",
        "machine": info,
        "catalog": {k: v for k, v in stamps[args.size_mib].items() if k != "source_packages"},
        "kept_packages": keep,
        "repeat": args.repeat,
        "timings_seconds": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "cpu_seconds": {k: [round(t, 3) for t in v] for k, v in cpu_times.items()},
        "baseline_seconds": round(best_a, 3),
        "ours_seconds": round(best_b, 3),
        "ratio": round(ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "target_ratio": TARGET_RATIO,
        "ours_result": details["ours"],
        "baseline_result": details["baseline"],
        "whole": whole,
        "memory": {str(size): {"catalog_bytes": stamps[size]["bytes"], **memory[size]} for size in mem_sizes},
        "target_peak_bytes": TARGET_PEAK_BYTES,
    }
    print(f"\nresults: {write_json(args.out, document)}")
    if args.clean:
        for size in stamps:
            shutil.rmtree(catalog_dir(size, args.work_dir), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
