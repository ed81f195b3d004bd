# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry to disk: the export to archives against ``skopeo copy --all docker://… oci:…`` per image.

    .venv/bin/python -m tests.benchmarks.bench_archive [--images 20] [--layer-mib 4] ...

1. A deterministic set of multi-arch images (as bench_mirror's) is generated and pushed with
   skopeo into a plain-HTTP source registry (a real ``docker-registry``).
2. A - the seed's way to disk: ``skopeo copy --all docker://SRC oci:LAYOUT:REF`` once per image,
   one after another, into one shared OCI layout (skopeo skips the blobs the layout holds).
   B - the export: run_mapping_export (``archive_dir``) in a child process (no Ansible),
       archives unlimited in size; C - the same with ``--archive-mib`` archives (split blobs).
   Each child runs under /usr/bin/time for its exact peak RSS (skopeo: the largest of its runs).
3. Bytes on disk: the layout directory for A; archives plus contents.json and mapping.txt for B
   and C; against the unique blob bytes of the set.
4. A table on stdout, JSON to ``--out`` (default tests/benchmarks/results/archive-latest.json).

Targets (issue 10): B <= 1/2 of A's time, bytes on disk = unique blob bytes (+ small metadata),
peak RSS < 150 MB. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

from tests.benchmarks._common import MIB, ROOT, child_env, machine_info, mib, run_measured, table, write_json
from tests.support.images import make_image_set, push_image_set
from tests.support.registry import RegistryServer, registry_options

TARGET = "mirror.example.com:5000/bench"

_CHILD = r"""
import json, sys, time
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.export import run_mapping_export
from ansible_collections.airgap.operatorhub.plugins.module_utils._archive.settings import ArchiveSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import MappingMirrorRequest, TransferSettings
from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore

params = json.load(open(sys.argv[1]))
imported = time.process_time()
request = MappingMirrorRequest(mapping=tuple(params["lines"]), transfer=TransferSettings(),
                               archive=ArchiveSettings(directory=params["dir"], size=params["size"], history=False))
start, cpu = time.monotonic(), time.process_time()
if params.get("profile"):
    import cProfile
    profiler = cProfile.Profile()
    result = profiler.runcall(run_mapping_export, request, AuthStore(registries=params["registries"], env={}))
    profiler.dump_stats(params["profile"])
else:
    result = run_mapping_export(request, AuthStore(registries=params["registries"], env={}))
assert not result["failures"], result["failures"]
print(json.dumps({"seconds": time.monotonic() - start, "cpu_seconds": time.process_time() - cpu,
                  "import_cpu_seconds": imported, "summary": result["summary"]}))
"""


def disk_bytes(path: str) -> int:
    """Bytes of the files under ``path`` (apparent sizes; no sparse file is written here)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--platforms", type=int, default=2)
    parser.add_argument("--shared-layers", type=int, default=2)
    parser.add_argument("--layer-mib", type=float, default=4)
    parser.add_argument("--own-layer-mib", type=float, default=2)
    parser.add_argument("--archive-mib", type=float, default=16, help="archive_size of run C")
    parser.add_argument("--profile", metavar="PATH", help="also run B once under cProfile (not timed); stats to PATH")
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "benchmarks", "results", "archive-latest.json"))
    args = parser.parse_args()
    platforms = ("linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x")[:args.platforms]
    work = tempfile.mkdtemp(prefix="bench-archive-")
    try:
        with RegistryServer(tls=False, auth=None) as source:
            images = make_image_set(os.path.join(work, "set"), count=args.images, platforms=platforms,
                                    shared_layers=args.shared_layers, shared_layer_size=int(args.layer_mib * MIB),
                                    own_layer_size=int(args.own_layer_mib * MIB), seed=11)
            push_image_set(images, source, "src", parallel=4)
            unique = images.total_blob_bytes
            lines = [f"{source.host}/src/{i.name}:{i.tag}={TARGET}/{i.name}:{i.tag}" for i in images.images]
            env = child_env()
            info = machine_info()

            layout = os.path.join(work, "skopeo-layout")
            skopeo_seconds, skopeo_cpu, skopeo_rss = 0.0, 0.0, 0
            for line in lines:
                src, dst = line.split("=")
                run = run_measured(["skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false",
                                    f"docker://{src}", f"oci:{layout}:{dst}"], env=env, gnu_time=True).check("skopeo")
                skopeo_seconds += run.seconds
                skopeo_cpu += run.cpu_seconds
                skopeo_rss = max(skopeo_rss, run.maxrss_kib)
            rows = [["A skopeo copy --all per image", round(skopeo_seconds, 2),
                     round(skopeo_seconds / len(lines), 3), round(skopeo_cpu, 2), "-", "-", mib(disk_bytes(layout)),
                     mib(unique), f"{skopeo_rss / 1024:.0f} MiB", "-"]]
            document = {"machine": info, "images": len(lines), "unique_blob_bytes": unique,
                        "skopeo": {"seconds": skopeo_seconds, "cpu_seconds": skopeo_cpu, "bytes_on_disk": disk_bytes(layout),
                                   "peak_rss_kib": skopeo_rss}}

            script = os.path.join(work, "child.py")
            with open(script, "w") as handle:
                handle.write(_CHILD)
            for label, size in (("B export, one archive", None), (f"C export, {args.archive_mib:g} MiB archives",
                                                                  int(args.archive_mib * MIB))):
                directory = os.path.join(work, label[0])
                params = os.path.join(work, f"{label[0]}.json")
                with open(params, "w") as handle:
                    json.dump({"lines": lines, "dir": directory, "size": size,
                               "registries": registry_options(source)}, handle)
                run = run_measured([sys.executable, script, params], env=env, gnu_time=True).check(label)
                child = json.loads(run.stdout.strip().splitlines()[-1])
                summary = child["summary"]
                on_disk = disk_bytes(directory)
                rows.append([label, round(run.seconds, 2), round(run.seconds / len(lines), 3), round(run.cpu_seconds, 2),
                             round(child["import_cpu_seconds"], 2), round(child["seconds"], 2), mib(on_disk),
                             mib(unique), f"{run.maxrss_kib / 1024:.0f} MiB", summary["archives"]])
                document[label[0]] = {"seconds": run.seconds, "cpu_seconds": run.cpu_seconds,
                                      "start_cpu_seconds": child["import_cpu_seconds"],
                                      "engine_seconds": child["seconds"], "engine_cpu_seconds": child["cpu_seconds"],
                                      "bytes_on_disk": on_disk, "peak_rss_kib": run.maxrss_kib, "summary": summary}
                shutil.rmtree(directory)
                if args.profile and label[0] == "B":
                    with open(params, "w") as handle:
                        json.dump({"lines": lines, "dir": directory, "size": size, "profile": args.profile,
                                   "registries": registry_options(source)}, handle)
                    run_measured([sys.executable, script, params], env=env).check("profiled B")
                    shutil.rmtree(directory)
                    print(f"cProfile of B: {args.profile}")
            print(table(["contender", "seconds", "s/image", "cpu s", "start cpu s", "engine s", "on disk", "unique blobs", "peak RSS", "archives"], rows))
            print(f"\nB/A time {document['B']['seconds'] / skopeo_seconds:.2f}, C/A {document['C']['seconds'] / skopeo_seconds:.2f}; "
                  f"CPU B/A {document['B']['cpu_seconds'] / skopeo_cpu:.2f}, C/A {document['C']['cpu_seconds'] / skopeo_cpu:.2f}; "
                  f"B on disk - unique blobs = {document['B']['bytes_on_disk'] - unique} bytes; "
                  f"load average at start {info['loadavg_at_start']}, at end {os.getloadavg()}")
            print(f"JSON: {write_json(args.out, document)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
