# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Peak memory while copying one big layer, registry to registry.

    .venv/bin/python -m tests.benchmarks.bench_memory [--size-mib 1024]

1. One single-platform image with one layer of ``--size-mib`` MiB of incompressible bytes is
   written to disk as an OCI layout (streamed, never held in memory) and pushed with skopeo into
   a plain-HTTP source registry; the layout is deleted right after.
2. Each contender copies it into a fresh empty target registry, in a child process run under GNU
   /usr/bin/time, whose %M is the child's peak resident set (a thread also polls VmHWM in
   /proc/PID/status every 20 ms as a cross-check and for the RSS-over-time samples):
   - engine: run_mapping_mirror in a bare Python process (tests/benchmarks/engine_child.py);
   - module: plugins/modules/image_mirror_from_mapping.py run as Ansible runs it on the target
     host (the module file with an args file; AnsibleModule and its imports included), without
     the controller around it;
   - skopeo: ``skopeo copy --all``, for comparison.
   The target's manifest digest is checked with ``skopeo inspect --raw`` after each copy.
3. Every target is stopped (storage removed) after its copy; the source at the end. Disk use peaks
   at about 3 x the layer size.
4. A burst case (``--burst-layer-mib``, 0 skips it): 8 images x 4 platforms with one layer each of
   just under 8 MiB, copied by the engine with its default parallelism: many mid-sized blobs in
   flight at once, which the single big layer does not exercise.

Target (issue 2): the engine and the module under 150 MB (150 x 10^6 bytes) peak RSS.
Reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from tests.benchmarks._common import (
    MIB,
    ROOT,
    child_env,
    engine_child_cmd,
    engine_params,
    machine_info,
    run_measured,
    table,
    write_json,
    write_params,
)
from tests.support.images import make_big_layer_image, push_image_set
from tests.support.registry import RegistryServer

DEFAULT_OUT = os.path.join(ROOT, "tests", "benchmarks", "results", "memory.json")
TARGET_BYTES = 150 * 1000 * 1000
MODULE_FILE = os.path.join(ROOT, "plugins", "modules", "image_mirror_from_mapping.py")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_memory", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--size-mib", type=int, default=1024, help="layer size in MiB; default 1024 (1 GiB)")
    p.add_argument("--parallel-images", type=int, default=None, help="module option parallel_images (default: the module's)")
    p.add_argument("--parallel-layers", type=int, default=None, help="module option parallel_layers (default: the module's)")
    p.add_argument("--burst-layer-mib", type=float, default=7.9,
                   help="second case: 8 images x 4 platforms, one layer of this size each (default 7.9, just "
                        "under the 8 MiB up to which the engine uploads a blob from memory); 0 skips it")
    p.add_argument("--skip-skopeo", action="store_true", help="do not run the skopeo comparison")
    p.add_argument("--skip-module", action="store_true", help="do not run the module process (the engine alone only)")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results path; default %(default)s")
    p.add_argument("--workdir", default=None, help="where the layout and registry storage go (default: a temp dir)")
    return p.parse_args(argv)


def _manifest_digest(registry: RegistryServer, ref: str) -> str | None:
    proc = subprocess.run(["skopeo", "inspect", "--raw", *registry.skopeo_args(), f"docker://{ref}"],
                          capture_output=True, timeout=120, check=False)
    return "sha256:" + hashlib.sha256(proc.stdout).hexdigest() if proc.returncode == 0 else None


def _kib_to_mb(kib: int) -> float:
    return kib * 1024 / 1e6


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="airgap-bench-memory-")
    os.makedirs(workdir, exist_ok=True)
    info = machine_info()
    size = args.size_mib * MIB
    print(f"bench_memory: {info['nproc']} CPUs, python {info['python']}, {info['skopeo']}; work dir {workdir}",
          flush=True)
    results: dict = {}
    source = RegistryServer(workdir=os.path.join(workdir, "source"))
    try:
        t0 = time.monotonic()
        meta = make_big_layer_image(os.path.join(workdir, "layout"), size, name="big", tag="v1", seed=3)
        image = meta.images[0]
        layer = image.manifests[0].layers[0]
        print(f"generated a {args.size_mib} MiB layer ({layer.size} B compressed) in {time.monotonic() - t0:.1f}s",
              flush=True)
        source.start()
        t0 = time.monotonic()
        push_image_set(meta, source, "src", parallel=1)
        print(f"pushed to {source.host} in {time.monotonic() - t0:.1f}s", flush=True)
        shutil.rmtree(meta.layout, ignore_errors=True)
        src_ref = f"{source.host}/src/big:v1"

        contenders = ["engine"] + ([] if args.skip_module else ["module"]) + ([] if args.skip_skopeo else ["skopeo"])
        for name in contenders:
            target = RegistryServer(workdir=os.path.join(workdir, f"target-{name}")).start()
            dst_ref = f"{target.host}/mirror/big:v1"
            registries = [{"host": source.host, "tls_verify": False}, {"host": target.host, "tls_verify": False}]
            try:
                print(f"{name}: copying ...", end=" ", flush=True)
                extra: dict = {}
                if name == "engine":
                    params = engine_params(mapping=[f"{src_ref}={dst_ref}"], registries=registries,
                                           parallel_images=args.parallel_images, parallel_layers=args.parallel_layers)
                    path = write_params(os.path.join(workdir, "engine-params.json"), params)
                    run = run_measured(engine_child_cmd(path), env=child_env(), cwd=ROOT, poll=True, gnu_time=True)
                    run.check("engine child")
                    out = json.loads(run.stdout.strip().splitlines()[-1])
                    extra = {"rss_after_import_kib": out["rss_after_import_kib"], "self_reported_peak_kib": out["maxrss_kib"],
                             "summary": out["summary"],
                             "engine_seconds": out["engine_seconds"]}
                elif name == "module":
                    module_args = {"mapping": [f"{src_ref}={dst_ref}"], "registries": registries}
                    if args.parallel_images:
                        module_args["parallel_images"] = args.parallel_images
                    if args.parallel_layers:
                        module_args["parallel_layers"] = args.parallel_layers
                    path = write_params(os.path.join(workdir, "module-args.json"), {"ANSIBLE_MODULE_ARGS": module_args})
                    run = run_measured([sys.executable, MODULE_FILE, path], env=child_env(), cwd=workdir, poll=True, gnu_time=True)
                    run.check("module")
                    out = json.loads(run.stdout.strip().splitlines()[-1])
                    if out.get("failed"):
                        raise RuntimeError(f"module failed: {out.get('msg')}")
                    extra = {"summary": out.get("summary")}
                else:
                    run = run_measured(["skopeo", "copy", "--all", *source.skopeo_args("src"),
                                        *target.skopeo_args("dest"), f"docker://{src_ref}", f"docker://{dst_ref}"],
                                       poll=True, gnu_time=True)
                    run.check("skopeo copy")
                digest_ok = _manifest_digest(target, dst_ref) == image.digest
                results[name] = {
                    "seconds": round(run.seconds, 2),
                    "peak_rss_kib": run.maxrss_kib,
                    "peak_rss_polled_kib": run.polled_peak_kib,
                    "cpu_seconds": round(run.cpu_seconds, 2),
                    "digest_identical": digest_ok,
                    "rss_samples_kib": _thin(run.samples),
                    **extra,
                }
                print(f"{run.seconds:.1f}s, peak RSS {run.maxrss_kib / 1024:.1f} MiB", flush=True)
            finally:
                target.stop()
    finally:
        source.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    burst = None
    if args.burst_layer_mib:
        burst_dir = tempfile.mkdtemp(prefix="airgap-bench-memory-burst-")
        try:
            burst = burst_case(args, burst_dir)
        finally:
            shutil.rmtree(burst_dir, ignore_errors=True)
    doc = {
        "benchmark": "bench_memory",
        "burst": burst,
        "machine": info,
        "parameters": {"size_mib": args.size_mib, "layer_bytes": size,
                       "parallel_images": args.parallel_images or "module default",
                       "parallel_layers": args.parallel_layers or "module default"},
        "results": results,
        "target_bytes": TARGET_BYTES,
        "targets": {
            name: results[name]["peak_rss_kib"] * 1024 < TARGET_BYTES for name in ("engine", "module") if name in results
        },
    }
    if burst:
        doc["targets"]["engine_burst"] = burst["engine"]["peak_rss_kib"] * 1024 < TARGET_BYTES
    out_path = write_json(args.out, doc)
    rows = []
    for name, r in results.items():
        base = r.get("rss_after_import_kib")
        rows.append([
            name, f"{r['seconds']:.1f}", f"{r['peak_rss_kib'] / 1024:.1f}", f"{_kib_to_mb(r['peak_rss_kib']):.1f}",
            f"{r['peak_rss_polled_kib'] / 1024:.1f}", "-" if base is None else f"{base / 1024:.1f}",
            f"{r['cpu_seconds']:.1f}", "yes" if r["digest_identical"] else "NO",
            {True: "met", False: "MISSED"}.get(doc["targets"].get(name), "-"),
        ])
    print()
    print(f"copying one {args.size_mib} MiB layer; {info['nproc']} CPUs, {info['skopeo']}, python {info['python']}")
    print(table(["contender", "seconds", "peak RSS MiB", "peak RSS MB", "polled MiB", "after imports MiB",
                 "cpu s", "digest ok", "< 150 MB"], rows))
    if burst:
        print(f"\nburst case: {burst['description']}")
        print(table(["contender", "seconds", "peak RSS MiB", "peak RSS MB", "< 150 MB"], [
            [name, f"{r['seconds']:.1f}", f"{r['peak_rss_kib'] / 1024:.1f}", f"{_kib_to_mb(r['peak_rss_kib']):.1f}",
             ("met" if r["peak_rss_kib"] * 1024 < TARGET_BYTES else "MISSED") if name == "engine" else "-"]
            for name, r in burst.items() if isinstance(r, dict)
        ]))
    print(f"\nJSON: {out_path}")
    return 0


def burst_case(args: argparse.Namespace, workdir: str) -> dict:
    """Many mid-sized layers at once: 8 images x 4 platforms, one layer of --burst-layer-mib each,
    copied by the engine with the module's parallelism (and by a skopeo loop for comparison)."""
    from tests.support.images import make_image_set, write_mapping

    meta = make_image_set(os.path.join(workdir, "layout"), count=8,
                          platforms=("linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x"),
                          shared_layers=0, own_layer_size=int(args.burst_layer_mib * MIB), seed=11,
                          name_prefix="burst")
    out: dict = {"description": f"8 images x 4 platforms, one {args.burst_layer_mib:g} MiB layer each "
                                f"({len(meta.blob_sizes)} blobs, {meta.total_blob_bytes / MIB:.0f} MiB)"}
    source = RegistryServer(workdir=os.path.join(workdir, "source")).start()
    try:
        push_image_set(meta, source, "src", parallel=2)
        shutil.rmtree(meta.layout, ignore_errors=True)
        for name in ["engine"] + ([] if args.skip_skopeo else ["skopeo"]):
            target = RegistryServer(workdir=os.path.join(workdir, f"target-{name}")).start()
            try:
                mapping = os.path.join(workdir, f"mapping-{name}.txt")
                pairs = write_mapping(meta, source, target, mapping)
                if name == "engine":
                    params = engine_params(mapping, registries=[{"host": source.host, "tls_verify": False},
                                                                {"host": target.host, "tls_verify": False}],
                                           parallel_images=args.parallel_images, parallel_layers=args.parallel_layers)
                    path = write_params(os.path.join(workdir, "burst-params.json"), params)
                    run = run_measured(engine_child_cmd(path), env=child_env(), cwd=ROOT, poll=True, gnu_time=True)
                    run.check("engine child")
                    seconds, peak = run.seconds, run.maxrss_kib
                else:
                    seconds, peak = 0.0, 0
                    for src, dst in pairs:  # the seed's loop; the peak is that of the largest process
                        run = run_measured(["skopeo", "copy", "--all", *source.skopeo_args("src"),
                                            *target.skopeo_args("dest"), f"docker://{src}", f"docker://{dst}"],
                                           gnu_time=True).check("skopeo copy")
                        seconds += run.seconds
                        peak = max(peak, run.maxrss_kib)
                out[name] = {"seconds": round(seconds, 2), "peak_rss_kib": peak}
                print(f"burst {name}: {seconds:.1f}s, peak RSS {peak / 1024:.1f} MiB", flush=True)
            finally:
                target.stop()
    finally:
        source.stop()
    return out


def _thin(samples: list[tuple[float, int]], keep: int = 60) -> list[tuple[float, int]]:
    """At most ``keep`` evenly spaced (seconds, RSS KiB) samples, the peak always included."""
    if len(samples) <= keep:
        return samples
    step = len(samples) / keep
    out = [samples[int(i * step)] for i in range(keep)]
    peak = max(samples, key=lambda s: s[1])
    if peak not in out:
        out.append(peak)
        out.sort()
    return out


if __name__ == "__main__":
    sys.exit(main())
