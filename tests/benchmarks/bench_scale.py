# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scale: image_mirror_from_mapping on 250, 500 and 1,000 generated images, one run.

    .venv/bin/python -m tests.benchmarks.bench_scale [--sizes 250,500,1000] [--rtt-ms 40] ...

Issue 11, goal 3: a first run and a re-run whose time grows linearly with the images, peak RSS
flat (< 150 MB), a re-run that changes nothing <= 5 ms per image beyond an empty playbook at
1,000 images, and at 40 ms RTT to the source: first run <= 1/4 of the seed's skopeo loop,
re-run <= 1/20.

1. A set of ``max(--sizes)`` images (scale_set.py: OCI indexes, shared base layers, a small
   own layer and config per platform image) is written into a plain-HTTP source registry.
2. Per size N (the first N images), each into its own fresh TLS + htpasswd target behind a
   counting FaultProxy: C, the engine alone (engine_child.py under /usr/bin/time), and B, the
   module through ``ansible-playbook``; each a first run, then a re-run.
3. At the largest size, A, the seed's loop (``skopeo copy --all`` per line), on
   ``--loop-sample`` lines evenly spread, extrapolated linearly to every size (``--loop-full``:
   every line of the largest size).
4. A one-task ``ansible.builtin.ping`` playbook, the floor of any playbook.
5. skopeo spot-checks of the source and of every target; a table; JSON to ``--out``.
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

import yaml

from tests.benchmarks._common import (
    MODULE, ROOT, CpuMeter, child_env, engine_child_cmd, engine_params, machine_info, mib, run_measured, table,
    write_json, write_params,
)
from tests.benchmarks.latency import LatencyProxy
from tests.benchmarks.scale_set import mapping_lines, push_scale_set, spread, store_scale_set, write_mapping
from tests.support.faultproxy import FaultProxy
from tests.support.registry import RegistryServer, registry_options

RESULTS = os.path.join(ROOT, "tests", "benchmarks", "results")
RSS_LIMIT = 150 * 10**6
RERUN_MS_PER_IMAGE = 5.0
TARGET_FIRST_RTT = 1 / 4
TARGET_RERUN_RTT = 1 / 20
LINEAR_TOLERANCE = 1.25  # the last size step may cost at most this much more per image than the first
SPOT_CHECKS = 4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_scale", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--sizes", default="250,500,1000", help="mapping sizes (images), comma-separated; default %(default)s")
    p.add_argument("--platforms", type=int, default=1, choices=(1, 2, 3, 4),
                   help="platforms per image: 1 is a plain manifest (as bundle images are), more an OCI index; default 1")
    p.add_argument("--shared-layers", type=int, default=2, help="base layers shared by all images, per platform; default 2")
    p.add_argument("--layer-kib", type=int, default=256, help="size of a base layer in KiB; default 256")
    p.add_argument("--own-kib", type=int, default=32, help="size of an image's own layer in KiB; default 32")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--tags", action="store_true",
                   help="mapping lines src:v1=dst:v1 (default: sources pinned by digest, as oc writes them)")
    p.add_argument("--setup", choices=("storage", "http"), default="storage",
                   help="fill the source by writing its storage (fast, default) or by HTTP pushes")
    p.add_argument("--rtt-ms", type=float, default=0.0, help="round trip added before the source (latency.py)")
    p.add_argument("--loop-sample", type=int, default=100,
                   help="lines of the largest size the skopeo loop runs, evenly spread; default 100")
    p.add_argument("--loop-full", action="store_true", help="run the skopeo loop on every line of the largest size")
    p.add_argument("--skip-loop", action="store_true")
    p.add_argument("--skip-module", action="store_true")
    p.add_argument("--skip-engine", action="store_true")
    p.add_argument("--no-proxy", action="store_true",
                   help="no counting proxy before the targets (no bytes/requests columns, less CPU in this process)")
    p.add_argument("--target", choices=("tls-htpasswd", "tls", "plain"), default="tls-htpasswd",
                   help="what the targets are; default TLS + htpasswd (the registry checks bcrypt on every request)")
    p.add_argument("--parallel-images", type=int, default=None)
    p.add_argument("--parallel-layers", type=int, default=None)
    p.add_argument("--out", default=None,
                   help="JSON path; default results/scale-latest.json (scale-rtt<N>-latest.json with --rtt-ms)")
    p.add_argument("--workdir", default=None)
    args = p.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.out is None:
        name = f"scale-rtt{args.rtt_ms:g}-latest.json" if args.rtt_ms else "scale-latest.json"
        args.out = os.path.join(RESULTS, name)
    return args


class Target:
    """A fresh TLS + htpasswd docker-registry, behind a counting FaultProxy unless told not to."""

    def __init__(self, workdir: str, name: str, proxy: bool, kind: str = "tls-htpasswd"):
        self.dir = os.path.join(workdir, f"target-{name}")
        self.registry = RegistryServer(tls=kind != "plain", auth="htpasswd" if kind == "tls-htpasswd" else None,
                                       workdir=self.dir).start()
        self.proxy = FaultProxy(self.registry).start() if proxy else None
        self.endpoint = self.proxy or self.registry

    def counters(self) -> dict:
        if self.proxy is None:
            return {}
        p = self.proxy
        return {"bytes_written": p.upload_bytes, "requests": p.count(),
                "requests_by_kind": {f"{m} {k}": n for (m, k), n in sorted(p.requests.items())},
                "blobs_sent_more_than_once": _twice(p)}

    def stop(self) -> None:
        if self.proxy:
            self.proxy.stop()
        self.registry.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _twice(proxy: FaultProxy) -> int:
    """Blobs whose bytes went to the target more than once (sessions of one digest add up)."""
    sizes = getattr(proxy, "_bench_sizes", {})
    return sum(1 for d, n in proxy.uploaded_by_digest.items() if sizes.get(d) is not None and n > sizes[d])


# --- contenders ---------------------------------------------------------------------------------


def _peak(run) -> int:
    return run.maxrss_kib * 1024


def run_engine(workdir: str, mapping: str, registries: list, args, tag: str) -> dict:
    params = engine_params(mapping, registries=registries, parallel_images=args.parallel_images,
                           parallel_layers=args.parallel_layers)
    path = write_params(os.path.join(workdir, f"params-{tag}.json"), params)
    run = run_measured(engine_child_cmd(path), env=child_env(), cwd=ROOT, gnu_time=True).check("engine child")
    out = json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])
    return {"seconds": run.seconds, "engine_seconds": out["engine_seconds"], "tool_cpu_seconds": run.cpu_seconds,
            "peak_rss_bytes": _peak(run), "rss_after_import_bytes": out["rss_after_import_kib"] * 1024,
            "summary": out["summary"], "failures": len(out["failures"] or [])}


def _playbook(workdir: str, name: str, tasks: list) -> str:
    path = os.path.join(workdir, f"{name}.yml")
    with open(path, "w") as f:
        yaml.safe_dump([{"name": f"bench_scale: {name}", "hosts": "localhost", "connection": "local",
                         "gather_facts": False, "tasks": tasks}], f, sort_keys=False)
    return path


def _ansible_playbook(workdir: str, playbook: str):
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return run_measured([binary, "-i", "localhost,", playbook], env=child_env(), cwd=workdir, gnu_time=True, poll=True)


def run_module(workdir: str, mapping: str, registries: list, args, tag: str) -> dict:
    report = os.path.join(workdir, f"report-{tag}.json")
    task_args = {"mapping_file": mapping, "registries": registries, "report_file": report}
    for key in ("parallel_images", "parallel_layers"):
        if getattr(args, key):
            task_args[key] = getattr(args, key)
    run = _ansible_playbook(workdir, _playbook(workdir, f"mirror-{tag}", [{"name": "mirror", MODULE: task_args}]))
    run.check("ansible-playbook")
    with open(report) as f:
        doc = json.load(f)
    module = [kib for name, kib in run.polled_peaks.items() if "AnsiballZ" in name]
    return {"seconds": run.seconds, "tool_cpu_seconds": run.cpu_seconds, "peak_rss_bytes": _peak(run),
            "module_peak_rss_bytes": max(module) * 1024 if module else None,
            "summary": doc.get("summary"), "failures": len(doc.get("failures") or [])}


def ping_floor(workdir: str, times: int = 2) -> list[float]:
    playbook = _playbook(workdir, "ping", [{"ansible.builtin.ping": {}}])
    return [round(_ansible_playbook(workdir, playbook).check("ping playbook").seconds, 3) for dummy in range(times)]


def run_loop(pairs: list[tuple[str, str]], src, dst) -> dict:
    """The seed script: ``skopeo copy --all`` per line, one after another."""
    failed = 0
    start = time.monotonic()
    for source, dest in pairs:
        proc = subprocess.run(["skopeo", "copy", "--all", "--quiet", *src.skopeo_args("src"), *dst.skopeo_args("dest"),
                               f"docker://{source}", f"docker://{dest}"], capture_output=True, timeout=600, check=False)
        failed += proc.returncode != 0
    return {"seconds": time.monotonic() - start, "failures": failed}


def spot_check(pairs: list[tuple[str, str]], digests: list[str], endpoint) -> dict:
    """skopeo inspect --raw of a few destinations (first, last, evenly between): the bytes must
    hash to the source index digest."""
    picks = sorted(set(spread(len(pairs), SPOT_CHECKS)) | {len(pairs) - 1})
    good = 0
    for i in picks:
        proc = subprocess.run(["skopeo", "inspect", "--raw", *endpoint.skopeo_args(), f"docker://{pairs[i][1]}"],
                              capture_output=True, timeout=120, check=False)
        good += proc.returncode == 0 and "sha256:" + hashlib.sha256(proc.stdout).hexdigest() == digests[i]
    return {"checked": len(picks), "identical": good}


# --- one size -----------------------------------------------------------------------------------


def measure(key: str, size: int, args, ctx: dict) -> dict:
    """First run and re-run of contender ``key`` (C engine, B module, A loop) into a fresh target."""
    workdir, images = ctx["workdir"], ctx["set"].images[:size]
    target = Target(workdir, f"{key}{size}", not args.no_proxy, args.target)
    pairs = mapping_lines(images, ctx["src"].host, target.endpoint.host, by_tag=args.tags)
    digests = [img.digest for img in images]
    sampled = None
    if key == "A" and not args.loop_full:
        picks = spread(size, args.loop_sample)
        pairs, digests, sampled = [pairs[i] for i in picks], [digests[i] for i in picks], len(picks)
    mapping = write_mapping(os.path.join(workdir, f"mapping-{key}{size}.txt"), pairs)
    if target.proxy:
        target.proxy._bench_sizes = ctx["set"].blob_sizes
    registries = registry_options(ctx["source"], target.endpoint)
    registries[0]["host"] = ctx["src"].host  # the latency relay, when there is one
    out: dict = {"size": size, "lines_run": len(pairs), "sampled": sampled}
    try:
        for run_name in ("first", "rerun"):
            if target.proxy:
                target.proxy.reset()
            print(f"  {key} {size} images {run_name} ...", end=" ", flush=True)
            meter = CpuMeter({"source_registry": ctx["source"].process.pid,
                              "target_registry": target.registry.process.pid}).start()
            if key == "C":
                res = run_engine(workdir, mapping, registries, args, f"{size}-{run_name}")
            elif key == "B":
                res = run_module(workdir, mapping, registries, args, f"{size}-{run_name}")
            else:
                res = run_loop(pairs, ctx["src"], target.endpoint)
            res["cpu_seconds"] = meter.stop()
            res.update(target.counters())
            if key == "A":
                res["tool_cpu_seconds"] = res["cpu_seconds"]["reaped_children"]
            out[run_name] = res
            rss = f", peak RSS {mib(res['peak_rss_bytes'])}" if "peak_rss_bytes" in res else ""
            print(f"{res['seconds']:.2f}s{rss}", flush=True)
        out["digests"] = spot_check(pairs, digests, target.endpoint)
        unique = ctx["set"].unique_blob_bytes(size)
        if target.proxy and key != "A":
            out["written_equals_unique"] = out["first"]["bytes_written"] == unique and out["rerun"]["bytes_written"] == 0
    finally:
        target.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="airgap-bench-scale-")
    os.makedirs(workdir, exist_ok=True)
    info = machine_info()
    largest = args.size_list[-1]
    print(f"bench_scale: sizes {args.size_list}, {info['nproc']} CPUs, load {info['loadavg_at_start']}, "
          f"source RTT +{args.rtt_ms:g} ms; work dir {workdir}", flush=True)
    gen = {"platforms": args.platforms, "shared_layers": args.shared_layers, "layer_kib": args.layer_kib,
           "own_kib": args.own_kib, "seed": args.seed}
    source = RegistryServer(workdir=os.path.join(workdir, "source"))
    relay = None
    try:
        t0 = time.monotonic()
        if args.setup == "storage":
            scale = store_scale_set(source.storage_dir, largest, **gen)
            source.start()
        else:
            source.start()
            scale = push_scale_set(source.host, largest, **gen)
        setup_seconds = time.monotonic() - t0
        src_check = spot_check([(f"{source.host}/{img.repo}@{img.digest}",) * 2 for img in scale.images],
                               [img.digest for img in scale.images], source)
        print(f"source: {largest} images, {scale.unique_blobs(largest)} unique blobs, "
              f"{mib(scale.unique_blob_bytes(largest))}, written in {setup_seconds:.1f}s "
              f"({args.setup}); skopeo spot-check {src_check['identical']}/{src_check['checked']}", flush=True)
        if src_check["identical"] != src_check["checked"]:
            raise RuntimeError("the source registry does not serve the generated images")
        src = source
        if args.rtt_ms:
            relay = src = LatencyProxy(source, args.rtt_ms).start()
        ctx = {"workdir": workdir, "set": scale, "source": source, "src": src}
        floor = ping_floor(workdir)
        print(f"ping playbook: {floor} s", flush=True)
        results: dict = {"A": [], "B": [], "C": []}
        t_all = time.monotonic()
        for size in args.size_list:
            for key, skip in (("C", args.skip_engine), ("B", args.skip_module)):
                if not skip:
                    results[key].append(measure(key, size, args, ctx))
        if not args.skip_loop:
            results["A"].append(measure("A", largest, args, ctx))
        floor += ping_floor(workdir, 1)
        bench_seconds = time.monotonic() - t_all
    finally:
        if relay is not None:
            relay.stop()
        source.stop()
    doc = summarize(args, info, scale, setup_seconds, floor, results, bench_seconds)
    path = write_json(args.out, doc)
    print()
    print(render(doc))
    print(f"\nJSON: {path}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


# --- summary ------------------------------------------------------------------------------------


def _slopes(points: list[tuple[int, float]]) -> list[float]:
    """Marginal cost per image (seconds) between consecutive sizes."""
    return [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(points, points[1:])]


def _linear(points: list[tuple[int, float]]) -> dict:
    slopes = _slopes(points)
    out = {"points": points, "slopes_ms_per_image": [round(s * 1000, 3) for s in slopes]}
    if len(slopes) >= 2 and slopes[0] > 0:
        out["last_over_first_slope"] = round(slopes[-1] / slopes[0], 3)
        out["linear"] = slopes[-1] <= LINEAR_TOLERANCE * slopes[0]
    elif len(slopes) >= 2:
        out["linear"] = None  # a first step that cost nothing more: noise, or a per-image cost too small to see
    return out


def summarize(args, info, scale, setup_seconds, floor, results, bench_seconds) -> dict:
    largest = args.size_list[-1]
    floor_s = min(floor)
    linearity, targets = {}, {}
    for key in ("B", "C"):
        for run_name in ("first", "rerun"):
            rows = results[key]
            if len(rows) < 2:
                continue
            linearity[f"{key}_{run_name}_wall"] = _linear([(r["size"], r[run_name]["seconds"]) for r in rows])
            linearity[f"{key}_{run_name}_cpu"] = _linear([(r["size"], r[run_name]["tool_cpu_seconds"]) for r in rows])
    peaks = {key: {r["size"]: max(r["first"]["peak_rss_bytes"], r["rerun"]["peak_rss_bytes"]) for r in results[key]}
             for key in ("B", "C")}
    module_peaks = {r["size"]: max(r["first"].get("module_peak_rss_bytes") or 0,
                                   r["rerun"].get("module_peak_rss_bytes") or 0) for r in results["B"]}
    for key in ("B", "C"):
        if peaks[key]:
            targets[f"{key}_peak_rss_under_150MB"] = max(peaks[key].values()) < RSS_LIMIT
    big = {key: next((r for r in results[key] if r["size"] == largest), None) for key in results}
    if big["B"]:
        per_image = (big["B"]["rerun"]["seconds"] - floor_s) / largest * 1000
        targets["B_rerun_beyond_ping_ms_per_image"] = round(per_image, 3)
        targets["B_rerun_at_most_5ms_per_image"] = per_image <= RERUN_MS_PER_IMAGE
    loop = None
    if big["A"]:
        a = big["A"]
        factor = largest / a["lines_run"]
        loop = {run_name: a[run_name]["seconds"] * factor for run_name in ("first", "rerun")}
        loop["extrapolated"] = a["sampled"] is not None
        loop["per_line_seconds"] = {k: a[k]["seconds"] / a["lines_run"] for k in ("first", "rerun")}
        for key in ("B", "C"):
            if big[key]:
                field_ = "seconds" if key == "B" else "engine_seconds"
                for run_name in ("first", "rerun"):
                    targets[f"{key}_over_loop_{run_name}"] = round(big[key][run_name][field_] / loop[run_name], 4)
        if big["B"] and args.rtt_ms:
            targets["B_first_at_most_1_4_of_loop"] = targets["B_over_loop_first"] <= TARGET_FIRST_RTT
            targets["B_rerun_at_most_1_20_of_loop"] = targets["B_over_loop_rerun"] <= TARGET_RERUN_RTT
    others = sum(r[k]["cpu_seconds"].get("other_processes", 0) for rows in results.values() for r in rows
                 for k in ("first", "rerun"))
    timed = sum(r[k]["seconds"] for rows in results.values() for r in rows for k in ("first", "rerun"))
    return {
        "benchmark": "bench_scale",
        "parameters": {"sizes": args.size_list, "platforms": args.platforms, "shared_layers": args.shared_layers,
                       "layer_kib": args.layer_kib, "own_kib": args.own_kib, "seed": args.seed,
                       "mapping": "by tag" if args.tags else "sources pinned by digest (oc)",
                       "source_rtt_ms": args.rtt_ms, "loop_sample": None if args.loop_full else args.loop_sample,
                       "counting_proxy": not args.no_proxy, "setup": args.setup, "target": args.target,
                       "parallel_images": args.parallel_images or "module default",
                       "parallel_layers": args.parallel_layers or "module default"},
        "data": {"images": largest, "unique_blobs": scale.unique_blobs(largest),
                 "unique_blob_bytes": scale.unique_blob_bytes(largest), "setup_seconds": round(setup_seconds, 2)},
        "machine": info,
        "noise": {"other_processes_cpu_seconds": round(others, 2),
                  "other_processes_share": others / (timed * info["nproc"]) if timed else None,
                  "loadavg_at_end": list(os.getloadavg())},
        "ping_playbook_seconds": floor,
        "results": results,
        "loop_at_largest": loop,
        "linearity": linearity,
        "peak_rss_bytes": {"B_tree": peaks["B"], "B_module_process": module_peaks, "C_engine": peaks["C"]},
        "targets": targets,
        "bench_seconds": round(bench_seconds, 1),
    }


def render(doc: dict) -> str:
    floor = min(doc["ping_playbook_seconds"])
    rows = []
    labels = {"A": "A skopeo loop", "B": "B module (playbook)", "C": "C engine alone"}
    loop = doc["loop_at_largest"]
    for key in ("C", "B", "A"):
        for r in doc["results"][key]:
            sizes = [r["size"]] if key != "A" else doc["parameters"]["sizes"]
            for size in sizes:
                for run_name in ("first", "rerun"):
                    res = r[run_name]
                    if key == "A":
                        secs = loop["per_line_seconds"][run_name] * size
                        shown = f"{secs:.1f} {'extrap.' if loop['extrapolated'] or size != r['size'] else 'full'}"
                        if size == r["size"]:
                            shown += f" ({r['lines_run']} lines: {res['seconds']:.1f})"
                    else:
                        secs = res["seconds"]
                        shown = f"{secs:.2f}" + (f" (engine {res['engine_seconds']:.2f})" if key == "C" else "")
                    net = secs - floor if key == "B" else res.get("engine_seconds", secs)
                    cpu = res["cpu_seconds"]
                    rows.append([labels[key], size, run_name, shown, f"{net / size * 1000:.2f}",
                                 round(res["tool_cpu_seconds"], 2), cpu.get("target_registry"),
                                 cpu.get("bench_process_and_proxies"), cpu.get("other_processes"),
                                 mib(res.get("peak_rss_bytes")) if key != "A" else "-",
                                 mib(res.get("module_peak_rss_bytes")) if key == "B" else "-",
                                 f"{res['requests'] / (r['lines_run'] if key == 'A' else size):.1f}"
                                 if "requests" in res else "-",
                                 f"{r['digests']['identical']}/{r['digests']['checked']}" if run_name == "first"
                                 and size == r["size"] else ""])
    p, d = doc["parameters"], doc["data"]
    lines = [
        f"{d['images']} images x {p['platforms']} platforms ({p['mapping']}), {d['unique_blobs']} unique blobs, "
        f"{mib(d['unique_blob_bytes'])}; source RTT +{p['source_rtt_ms']:g} ms; ping playbook "
        f"{', '.join(f'{s:.2f}' for s in doc['ping_playbook_seconds'])} s",
        "",
        table(["contender", "images", "run", "seconds", "ms/image", "cpu tool", "cpu target reg", "cpu proxy",
               "cpu others", "peak RSS", "module RSS", "req/image", "spot-check"], rows),
        "",
        "ms/image: B beyond the fastest ping playbook, C inside the engine, A whole loop.",
    ]
    for name, lin in doc["linearity"].items():
        if "linear" in lin:
            ratio = lin.get("last_over_first_slope")
            lines.append(f"linear {name}: slopes {' -> '.join(f'{s:.2f}' for s in lin['slopes_ms_per_image'])} "
                         f"ms/image, last/first {'-' if ratio is None else f'{ratio:.2f}'} (<= {LINEAR_TOLERANCE}): "
                         f"{ {True: 'met', False: 'MISSED', None: 'cannot tell'}[lin['linear']]}")
    t = doc["targets"]
    verdict = {True: "met", False: "MISSED"}
    for key, label in (("C", "engine"), ("B", "playbook tree")):
        if f"{key}_peak_rss_under_150MB" in t:
            per = doc["peak_rss_bytes"]["C_engine" if key == "C" else "B_tree"]
            lines.append(f"peak RSS {label} by size: {', '.join(f'{s}: {mib(v)}' for s, v in per.items())}; "
                         f"< 150 MB: {verdict[t[f'{key}_peak_rss_under_150MB']]}")
    module = doc["peak_rss_bytes"]["B_module_process"]
    if any(module.values()):
        lines.append(f"peak RSS module process by size: {', '.join(f'{s}: {mib(v)}' for s, v in module.items())}")
    if "B_rerun_at_most_5ms_per_image" in t:
        lines.append(f"B re-run beyond the ping playbook: {t['B_rerun_beyond_ping_ms_per_image']:.2f} ms/image "
                     f"(<= 5): {verdict[t['B_rerun_at_most_5ms_per_image']]}")
    if loop:
        tag = "extrapolated from a sample" if loop["extrapolated"] else "every line"
        for run_name, target in (("first", "1/4"), ("rerun", "1/20")):
            ratio = t.get(f"B_over_loop_{run_name}")
            ok = t.get(f"B_{run_name}_at_most_{target.replace('/', '_')}_of_loop")
            if ratio is not None:
                inverse = f" (1/{1 / ratio:.1f})" if 0 < ratio < 1 else ""
                lines.append(f"B/A {run_name} at {doc['data']['images']}: {ratio:.3f}{inverse}; loop {tag}"
                             + (f"; target <= {target}: {verdict[ok]}" if ok is not None else ""))
    n = doc["noise"]
    lines.append(f"other processes used {n['other_processes_share']:.0%} of the CPUs during the timed runs"
                 + (": the machine was busy, do not quote these timings" if n["other_processes_share"] > 0.10 else "")
                 + f"; bench {doc['bench_seconds']:.0f} s after setup")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
