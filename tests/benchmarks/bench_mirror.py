# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's ``skopeo copy --all`` loop and a naive copy against image_mirror_from_mapping, one run.

    .venv/bin/python -m tests.benchmarks.bench_mirror [--images 40] [--layer-mib 4] ...

What happens (see tests/benchmarks/README.md for how to read the output):

1. A deterministic set of multi-arch images (an OCI index each, ``--platforms`` platforms,
   ``--shared-layers`` base layers of ``--layer-mib`` per platform shared by every image, plus one
   own layer of ``--own-layer-mib`` per platform image) is generated and pushed with skopeo into
   a plain-HTTP source registry (a real ``docker-registry``).
2. Fresh, empty target registries (TLS + htpasswd, or plain HTTP with ``--plain-target``), each
   behind a counting FaultProxy (no faults), so the bytes written to a target are measured on the
   wire, whatever the tool says it sent:
   A - the seed's loop: ``skopeo copy --all SRC DST`` once per mapping line, one after another;
   B - the module through ``ansible-playbook`` (one task, mapping_file);
   C - the engine alone (run_mapping_mirror in a child process, no Ansible), which shows
       Ansible's fixed cost as B - C;
   Y - the yardstick (yardstick.py, a child process): a naive parallel copy of the same images,
       every unique blob once by plain GET -> POST + PUT, ``--yardstick-threads`` at a time, no
       checks: what this machine allows (issue 11).
   Each of A, B and C is run twice: a first run into the empty target, then a re-run (nothing
   to do); Y runs once.
3. Every destination manifest is checked with ``skopeo inspect --raw`` against the source digest.
4. A table on stdout, and JSON to ``--out`` (default tests/benchmarks/results/latest.json).

Targets (issue 2): B first run <= 1/3 of A's; B re-run <= 1/20 of A's; bytes written to B's
target == the unique blob bytes of the set. Issue 11: first run of B and of C <= 1.2 x Y's, and
C's client CPU-seconds <= 1.3 x Y's. They are reported, never asserted.
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
    MIB,
    MODULE,
    ROOT,
    CpuMeter,
    child_env,
    engine_child_cmd,
    engine_params,
    machine_info,
    mib,
    run_measured,
    table,
    write_json,
    write_params,
)
from tests.benchmarks.latency import LatencyProxy
from tests.benchmarks.yardstick import run_yardstick, yardstick_lines, yardstick_ratios
from tests.support.faultproxy import FaultProxy
from tests.support.images import make_image_set, push_image_set, write_mapping
from tests.support.registry import RegistryServer, registry_options

DEFAULT_OUT = os.path.join(ROOT, "tests", "benchmarks", "results", "latest.json")
TARGET_FIRST = 1 / 3
TARGET_RERUN = 1 / 20
TARGET_YARDSTICK_WALL = 1.2
TARGET_YARDSTICK_CPU = 1.3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_mirror", description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--images", type=int, default=40, help="images in the set (mapping lines); default 40")
    p.add_argument("--platforms", type=int, default=2, choices=(1, 2, 3, 4),
                   help="platforms per image (linux/amd64, linux/arm64, linux/ppc64le, linux/s390x); default 2")
    p.add_argument("--shared-layers", type=int, default=2, help="base layers shared by every image, per platform; default 2")
    p.add_argument("--layer-mib", type=float, default=4.0, help="size of a shared base layer in MiB; default 4")
    p.add_argument("--own-layer-mib", type=float, default=2.0, help="size of an image's own layer in MiB; default 2")
    p.add_argument("--parallel-images", type=int, default=None, help="module option parallel_images (default: the module's)")
    p.add_argument("--parallel-layers", type=int, default=None, help="module option parallel_layers (default: the module's)")
    p.add_argument("--seed", type=int, default=7, help="generator seed (same seed, same digests)")
    p.add_argument("--repeat", type=int, default=1,
                   help="repeat every contender N times, each into fresh targets; the table shows medians")
    p.add_argument("--rtt-ms", type=float, default=0.0,
                   help="round-trip time added between the tools and the source registry (a relay that "
                        "delays every byte by half of it each way), to model a source far away; default 0")
    p.add_argument("--skip-loop", action="store_true", help="do not run the skopeo loop (A); ratios are then missing")
    p.add_argument("--skip-engine", action="store_true", help="do not run the engine alone (C)")
    p.add_argument("--skip-yardstick", action="store_true", help="do not run the naive copy (Y)")
    p.add_argument("--yardstick-threads", type=int, default=None,
                   help="blobs the yardstick copies at once (default: --parallel-layers, else 8, the module's "
                        "default parallel_layers)")
    p.add_argument("--plain-target", action="store_true",
                   help="plain-HTTP targets without auth (default: TLS + htpasswd, as a mirror registry is)")
    p.add_argument("--py-spy", default=None, metavar="PATH",
                   help="profile the engine runs (C) with this py-spy binary; collapsed stacks go next to --out "
                        "as engine-<run>.folded (py-spy's sampling slows C down: do not quote those timings)")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results path; default %(default)s")
    p.add_argument("--workdir", default=None, help="where layouts and registry storage go (default: a temp dir)")
    p.add_argument("--keep", action="store_true",
                   help="leave the registries running and the work dir in place (their pids are printed)")
    return p.parse_args(argv)


PLATFORMS = ("linux/amd64", "linux/arm64", "linux/ppc64le", "linux/s390x")


class Target:
    """One empty target registry with a counting proxy in front."""

    def __init__(self, name: str, workdir: str, keep: bool, plain: bool = False):
        self.name = name
        self.registry = RegistryServer(tls=not plain, auth=None if plain else "htpasswd",
                                       workdir=os.path.join(workdir, f"target-{name}"), detach=keep).start()
        self.proxy = FaultProxy(self.registry).start()

    def snapshot(self, sizes: dict[str, int]) -> dict:
        """Wire counters since the last reset: bytes written and how many blobs went twice."""
        p = self.proxy
        again = {d: n for d, n in p.uploaded_by_digest.items() if sizes.get(d) is not None and n > sizes[d]}
        return {
            "bytes_written": p.upload_bytes,
            "bytes_read_from_target": p.download_bytes,
            "requests": p.count(),
            "requests_by_kind": {f"{m} {k}": n for (m, k), n in sorted(p.requests.items())},
            "blobs_uploaded": sum(1 for d, n in p.uploaded_by_digest.items() if n),
            "blobs_sent_more_than_once": len(again),
        }

    def stop(self, keep: bool) -> None:
        self.proxy.stop()
        if not keep:
            self.registry.stop()


# --- contenders ---------------------------------------------------------------------------------


def run_skopeo_loop(pairs: list[tuple[str, str]], src: RegistryServer, dst: FaultProxy) -> dict:
    """The seed script: ``skopeo copy --all`` per mapping line, sequentially, stop at nothing."""
    failed = []
    start = time.monotonic()
    for source, dest in pairs:
        proc = subprocess.run(
            ["skopeo", "copy", "--all", *src.skopeo_args("src"), *dst.skopeo_args("dest"),
             f"docker://{source}", f"docker://{dest}"],
            capture_output=True, text=True, timeout=1800, check=False,
        )
        if proc.returncode != 0:
            failed.append({"line": f"{source}={dest}", "error": proc.stderr.strip()[-500:]})
    return {"seconds": time.monotonic() - start, "failed": failed}


def run_module(workdir: str, mapping_file: str, src: RegistryServer, dst: FaultProxy,
               args: argparse.Namespace) -> dict:
    """One ``ansible-playbook`` run of a one-task playbook; the result comes from report_file."""
    os.makedirs(workdir, exist_ok=True)
    report = os.path.join(workdir, "report.json")
    if os.path.exists(report):
        os.unlink(report)
    task_args: dict = {
        "mapping_file": mapping_file,
        "registries": registry_options(src, dst),
        "report_file": report,
    }
    if args.parallel_images:
        task_args["parallel_images"] = args.parallel_images
    if args.parallel_layers:
        task_args["parallel_layers"] = args.parallel_layers
    play = [{
        "name": "benchmark: mirror a mapping",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [{"name": "mirror", MODULE: task_args}],
    }]
    playbook = os.path.join(workdir, "mirror.yml")
    with open(playbook, "w") as f:
        yaml.safe_dump(play, f, sort_keys=False)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    run = run_measured([ansible_playbook, "-i", "localhost,", playbook], env=child_env(), cwd=workdir)
    run.check("ansible-playbook")
    with open(report) as f:
        doc = json.load(f)
    return {"seconds": run.seconds, "summary": doc.get("summary"), "failures": doc.get("failures")}


def run_engine(workdir: str, mapping_file: str, src: RegistryServer, dst: FaultProxy,
               args: argparse.Namespace, tag: str) -> dict:
    """run_mapping_mirror in a child Python process: no Ansible, no proxy sharing its GIL."""
    os.makedirs(workdir, exist_ok=True)
    params = engine_params(mapping_file, registries=registry_options(src, dst),
                           parallel_images=args.parallel_images, parallel_layers=args.parallel_layers)
    path = write_params(os.path.join(workdir, f"params-{tag}.json"), params)
    cmd = engine_child_cmd(path)
    if args.py_spy:
        folded = os.path.join(os.path.dirname(os.path.abspath(args.out)), f"engine-{tag}.folded")
        os.makedirs(os.path.dirname(folded), exist_ok=True)
        cmd = [args.py_spy, "record", "--format", "raw", "--threads", "--idle", "--rate", "250",
               "--output", folded, "--"] + cmd
    run = run_measured(cmd, env=child_env(), cwd=ROOT).check("engine child")
    out = json.loads([line for line in run.stdout.splitlines() if line.startswith("{")][-1])
    return {"seconds": run.seconds, "engine_seconds": out["engine_seconds"],
            "engine_cpu_seconds": out.get("engine_cpu_seconds"),
            "import_seconds": out["import_seconds"], "phases": out.get("phases"), "summary": out["summary"],
            "failures": out["failures"]}


def ansible_noop_seconds(workdir: str) -> float:
    """ansible-playbook of one ansible.builtin.ping task: the floor of any one-task playbook."""
    os.makedirs(workdir, exist_ok=True)
    playbook = os.path.join(workdir, "noop.yml")
    with open(playbook, "w") as f:
        yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                         "tasks": [{"ansible.builtin.ping": {}}]}], f)
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return run_measured([ansible_playbook, "-i", "localhost,", playbook], env=child_env(), cwd=workdir) \
        .check("ansible-playbook noop").seconds


# --- checks -------------------------------------------------------------------------------------


def verify_digests(pairs: list[tuple[str, str]], meta, src: RegistryServer, dst: FaultProxy) -> dict:
    """skopeo inspect --raw of every destination: its sha256 must be the source index digest."""
    by_name = {img.name: img for img in meta.images}
    good, bad = 0, []
    for source, dest in pairs:
        name = source.rsplit("/", 1)[1].split(":")[0].split("@")[0]
        proc = subprocess.run(["skopeo", "inspect", "--raw", *dst.skopeo_args(), f"docker://{dest}"],
                              capture_output=True, timeout=120, check=False)
        digest = "sha256:" + hashlib.sha256(proc.stdout).hexdigest() if proc.returncode == 0 else None
        if digest == by_name[name].digest:
            good += 1
        else:
            bad.append({"dest": dest, "got": digest, "want": by_name[name].digest})
    return {"checked": len(pairs), "identical": good, "mismatch": bad[:5]}


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or b is None else b / a


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or tempfile.mkdtemp(prefix="airgap-bench-mirror-")
    os.makedirs(workdir, exist_ok=True)
    info = machine_info()
    print(f"bench_mirror: {info['nproc']} CPUs ({info['cpu']}), python {info['python']}, {info['skopeo']}; "
          f"work dir {workdir}", flush=True)

    t0 = time.monotonic()
    meta = make_image_set(
        os.path.join(workdir, "layout"), count=args.images, platforms=PLATFORMS[: args.platforms],
        shared_layers=args.shared_layers, shared_layer_size=int(args.layer_mib * MIB),
        own_layer_size=int(args.own_layer_mib * MIB), seed=args.seed, name_prefix="app", tag="v1",
    )
    generate_seconds = time.monotonic() - t0
    sizes = meta.blob_sizes
    unique = meta.total_blob_bytes
    print(f"generated {len(meta.images)} images, {len(sizes)} unique blobs, {mib(unique)} in {generate_seconds:.1f}s",
          flush=True)

    source = RegistryServer(workdir=os.path.join(workdir, "source"), detach=args.keep).start()
    relay = None
    kept: list[tuple[str, RegistryServer]] = [("source", source)]
    contenders = [("A", "skopeo loop")] if not args.skip_loop else []
    contenders += [("B", "module via ansible-playbook")]
    contenders += [("C", "engine alone")] if not args.skip_engine else []
    contenders += [("Y", "yardstick: naive copy")] if not args.skip_yardstick else []
    results: dict = {key: {"label": label, "first_runs": [], "reruns": [], "digests": []} for key, label in contenders}
    try:
        t0 = time.monotonic()
        push_image_set(meta, source, "src", parallel=2)
        push_seconds = time.monotonic() - t0
        print(f"pushed to source {source.host} in {push_seconds:.1f}s", flush=True)
        shutil.rmtree(meta.layout, ignore_errors=True)  # the registry holds them now
        src_end = source
        if args.rtt_ms:
            relay = src_end = LatencyProxy(source, args.rtt_ms).start()
            print(f"source reached through {relay.host}: +{args.rtt_ms:g} ms round trip", flush=True)

        for rep in range(args.repeat):
            # Rotate the order so no contender always runs first (page cache, CPU frequency).
            order = contenders[rep % len(contenders):] + contenders[: rep % len(contenders)]
            for key, label in order:
                target = Target(f"{key}{rep}", workdir, args.keep, plain=args.plain_target)
                mapping = os.path.join(workdir, f"mapping-{key}{rep}.txt")
                pairs = write_mapping(meta, src_end, target.proxy, mapping, src_prefix="src", dst_prefix="mirror")
                try:
                    for run_name in ("first",) if key == "Y" else ("first", "rerun"):
                        target.proxy.reset()
                        print(f"[{rep + 1}/{args.repeat}] {key} {label}: "
                              f"{'first run' if run_name == 'first' else 're-run'} ...", end=" ", flush=True)
                        meter = CpuMeter({"source_registry": source.process.pid,
                                          "target_registry": target.registry.process.pid}).start()
                        if key == "A":
                            out = run_skopeo_loop(pairs, src_end, target.proxy)
                        elif key == "Y":
                            out = run_yardstick(os.path.join(workdir, "yardstick"), mapping, src_end, target.proxy,
                                                args.yardstick_threads or args.parallel_layers or 8)
                        elif key == "B":
                            out = run_module(os.path.join(workdir, f"play-{rep}-{run_name}"), mapping, src_end,
                                             target.proxy, args)
                        else:
                            out = run_engine(os.path.join(workdir, "engine"), mapping, src_end, target.proxy, args,
                                             f"{rep}-{run_name}")
                        out["cpu_seconds"] = meter.stop()
                        # the contender's own processes: the client's CPU, which on loopback
                        # competes with the registries for the same cores
                        out["client_cpu_seconds"] = out["cpu_seconds"].get("reaped_children")
                        if run_name == "first" and unique:
                            out["client_cpu_seconds_per_mib"] = out["client_cpu_seconds"] / (unique / MIB)
                        out.update(target.snapshot(sizes))
                        results[key]["first_runs" if run_name == "first" else "reruns"].append(out)
                        extra = f" (engine {out['engine_seconds']:.2f}s)" if "engine_seconds" in out else ""
                        print(f"{out['seconds']:.2f}s{extra}, {mib(out['bytes_written'])} written, client "
                              f"{out['client_cpu_seconds']:.2f} CPU-s", flush=True)
                    results[key]["digests"].append(verify_digests(pairs, meta, source, target.proxy))
                finally:
                    target.stop(args.keep)
                    if args.keep:
                        kept.append((f"target {key}{rep}", target.registry))
                    else:
                        shutil.rmtree(os.path.join(workdir, f"target-{key}{rep}"), ignore_errors=True)

        noop = ansible_noop_seconds(os.path.join(workdir, "noop"))
    except BaseException:
        if not args.keep:
            source.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        if relay is not None:
            relay.stop()
        if not args.keep:
            source.stop()

    for r in results.values():
        r["first"] = _median_run(r.pop("first_runs"))
        reruns = r.pop("reruns")
        r["rerun"] = _median_run(reruns) if reruns else None
    doc = summarize(args, info, meta, unique, generate_seconds, push_seconds, results, noop)
    out_path = write_json(args.out, doc)
    print()
    print(render(doc))
    print(f"\nJSON: {out_path}")
    if args.keep:
        for name, reg in kept:
            print(f"kept {name}: {reg.url} pid {reg.process.pid if reg.process else '?'} storage {reg.storage_dir}")
        print(f"kept work dir {workdir}; stop with: kill <pid> ...; rm -rf {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _median_run(runs: list[dict]) -> dict:
    """The run with the median wall time, plus every run's time (``all_seconds``)."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    if "engine_seconds" in chosen:
        chosen["all_engine_seconds"] = [round(r["engine_seconds"], 3) for r in runs]
    return chosen


def summarize(args, info, meta, unique, generate_seconds, push_seconds, results, noop) -> dict:
    a, b, c = results.get("A"), results.get("B"), results.get("C")
    ratios = {
        "B_over_A_first": ratio(a and a["first"]["seconds"], b["first"]["seconds"]) if a else None,
        "B_over_A_rerun": ratio(a and a["rerun"]["seconds"], b["rerun"]["seconds"]) if a else None,
        "C_over_A_first": ratio(a["first"]["seconds"], c["first"]["engine_seconds"]) if a and c else None,
        "C_over_A_rerun": ratio(a["rerun"]["seconds"], c["rerun"]["engine_seconds"]) if a and c else None,
    }
    targets = {
        "first_run_at_most_1_3_of_loop": None if ratios["B_over_A_first"] is None else ratios["B_over_A_first"] <= TARGET_FIRST,
        "rerun_at_most_1_20_of_loop": None if ratios["B_over_A_rerun"] is None else ratios["B_over_A_rerun"] <= TARGET_RERUN,
        "bytes_written_equal_unique": b["first"]["bytes_written"] == unique and b["rerun"]["bytes_written"] == 0,
    }
    more_ratios, more_targets = yardstick_ratios(results, TARGET_YARDSTICK_WALL, TARGET_YARDSTICK_CPU)
    ratios.update(more_ratios)
    targets.update(more_targets)
    overhead = None
    if c:
        overhead = {
            "first": b["first"]["seconds"] - c["first"]["engine_seconds"],
            "rerun": b["rerun"]["seconds"] - c["rerun"]["engine_seconds"],
            "ansible_playbook_ping_task": noop,
        }
    other = secs = 0.0
    for r in results.values():
        for run_name in ("first", "rerun") if r["rerun"] else ("first",):
            other += (r[run_name].get("cpu_seconds") or {}).get("other_processes", 0.0)
            secs += r[run_name]["seconds"]
    noise = {
        "other_processes_cpu_seconds": round(other, 2),
        "other_processes_share": other / (secs * info["nproc"]) if secs else None,
        "loadavg_at_start": info.get("loadavg_at_start"),
        "loadavg_at_end": list(os.getloadavg()),
    }
    return {
        "benchmark": "bench_mirror",
        "noise": noise,
        "machine": info,
        "parameters": {
            "images": args.images, "platforms": args.platforms, "shared_layers": args.shared_layers,
            "layer_mib": args.layer_mib, "own_layer_mib": args.own_layer_mib,
            "parallel_images": args.parallel_images or "module default",
            "parallel_layers": args.parallel_layers or "module default", "seed": args.seed,
            "repeat": args.repeat, "source_rtt_ms": args.rtt_ms,
        },
        "data": {
            "images": len(meta.images),
            "manifests_per_image": 1 + args.platforms,
            "unique_blobs": len(meta.blob_sizes),
            "unique_blob_bytes": unique,
            "generate_seconds": generate_seconds,
            "push_seconds": push_seconds,
        },
        "results": results,
        "ratios": ratios,
        "ansible_overhead_seconds": overhead,
        "targets": targets,
    }


def render(doc: dict) -> str:
    res, unique = doc["results"], doc["data"]["unique_blob_bytes"]
    rows = []
    for key in ("A", "B", "C", "Y"):
        r = res.get(key)
        if not r:
            continue
        for run_name in ("first", "rerun") if r["rerun"] else ("first",):
            out = r[run_name]
            secs = f"{out['seconds']:.2f}"
            if len(out.get("all_seconds", [])) > 1:
                secs += f" [{min(out['all_seconds']):.2f}-{max(out['all_seconds']):.2f}]"
            if "engine_seconds" in out:
                secs += f" (engine {out['engine_seconds']:.2f})"
            cpu = out.get("cpu_seconds") or {}
            rows.append([
                f"{key} {r['label']}", run_name, secs,
                cpu.get("reaped_children"),
                f"{out['client_cpu_seconds_per_mib']:.4f}" if out.get("client_cpu_seconds_per_mib") is not None else "",
                cpu.get("bench_process_and_proxies"),
                round(cpu.get("source_registry", 0) + cpu.get("target_registry", 0), 2),
                cpu.get("other_processes"),
                mib(out["bytes_written"]), f"{out['bytes_written'] / unique:.3f}" if unique else "-",
                out["blobs_sent_more_than_once"], out["requests"],
                f"{sum(d['identical'] for d in r['digests'])}/{sum(d['checked'] for d in r['digests'])}"
                if run_name == "first" else "",
            ])
    lines = [
        f"{doc['data']['images']} images x {doc['parameters']['platforms']} platforms, "
        f"{doc['data']['unique_blobs']} unique blobs, unique blob bytes {mib(unique)} ({unique} B); "
        f"{doc['machine']['nproc']} CPUs, {doc['machine']['skopeo']}, python {doc['machine']['python']}; "
        f"source round trip +{doc['parameters']['source_rtt_ms']:g} ms; "
        f"median of {doc['parameters']['repeat']} run(s) [min-max]",
        "",
        table(["contender", "run", "seconds", "cpu tool", "cpu tool/MiB", "cpu proxy", "cpu registries", "cpu others", "written",
               "written/unique", "blobs sent twice", "requests", "digests identical"], rows),
        "",
    ]
    r = doc["ratios"]

    def fmt(x):
        if x is None:
            return "-"
        return f"{x:.3f} (1/{1 / x:.1f})" if 0 < x < 1 else f"{x:.3f}"

    def verdict(ok):
        return "-" if ok is None else "met" if ok else "MISSED"

    t = doc["targets"]
    lines.append(f"B/A first run: {fmt(r['B_over_A_first'])}   target <= 1/3   "
                 f"{verdict(t['first_run_at_most_1_3_of_loop'])}")
    lines.append(f"B/A re-run:    {fmt(r['B_over_A_rerun'])}   target <= 1/20  "
                 f"{verdict(t['rerun_at_most_1_20_of_loop'])}")
    lines.append("B bytes written == unique blob bytes (and 0 on re-run): "
                 f"{verdict(t['bytes_written_equal_unique'])}")
    if r.get("C_over_A_first") is not None:
        lines.append(f"C/A (engine alone) first run: {fmt(r['C_over_A_first'])}, re-run: {fmt(r['C_over_A_rerun'])}")
    lines.extend(yardstick_lines(doc, fmt, verdict))
    noise = doc.get("noise") or {}
    if noise.get("other_processes_share") is not None:
        share = noise["other_processes_share"]
        lines.append(f"Other processes used {share:.0%} of the machine's CPU during the timed runs"
                     + (" - the machine was busy: do not trust these timings, re-run on a quiet machine"
                        if share > 0.10 else ""))
    o = doc.get("ansible_overhead_seconds")
    if o:
        lines.append(f"Ansible fixed cost (B - C engine): first {o['first']:.2f}s, re-run {o['rerun']:.2f}s; "
                     f"a one-task ping playbook takes {o['ansible_playbook_ping_task']:.2f}s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
