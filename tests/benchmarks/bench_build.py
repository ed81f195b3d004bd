# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_build's engine on a big File-Based Catalog, against plain JSON decoding.

    .venv/bin/python -m tests.benchmarks.bench_build [--size-mib 512] [--keep 5] [--repeat 3]
                                                    [--skip-whole] [--profile] [--out PATH]

1. The catalog is bench_catalog's (``--size-mib`` MiB, default 512: 538 MB, replicas of the
   corpus' community-operators v4.21 catalog; generated once into ``--work-dir`` and reused).
   It needs the corpus in ``../shared/data/catalogs``.
2. A plain-HTTP ``docker-registry`` on 127.0.0.1 serves the base image: tests/support/opm_base.py's
   two-platform stand-in for ose-operator-registry, pushed with skopeo. A watchdog process stops
   the registry when this benchmark ends, however it ends, or after ``--max-minutes``.
3. Every contender runs in a child process of its own, under GNU ``time`` (its ``%M`` is the
   child's peak RSS; the child's VmHWM is printed as a cross-check). The child times only the
   work, not the interpreter's start or the imports. Alternating, ``--repeat`` times:
   (a) baseline: read every catalog file and decode its JSON stream (``json`` raw_decode);
   (b) ``build_catalog`` (the engine of catalog_build, no Ansible): source = the catalog
       directory filtered to ``--keep`` packages (channel heads, as ``packages:`` does), base =
       the registry's base, dest = ``oci:DIR:catalog``, a fresh directory each time.
   Then once: (c) ``build_catalog`` keeping everything (source with no filter).
   Each layout written is checked with skopeo (its digest is the one the engine returned) and
   removed. Targets (issue 8): (b) takes at most 2x (a)'s time and peaks under 400 MB.

Reported, never asserted. ``--profile``: the best (b) and the (c) run also write cProfile stats
next to ``--out`` (those runs are slower, and are not the ones timed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tests.benchmarks import bench_catalog
from tests.benchmarks._common import ROOT, child_env, machine_busy_seconds, machine_info, run_measured, table, \
    write_json

DEFAULT_OUT = os.path.join(ROOT, "tests", "benchmarks", "results", "build-latest.json")
TARGET_RATIO = 2.0
TARGET_PEAK_BYTES = 400 * 1000 * 1000
TAG = "catalog"
# The watchdog: polls the benchmark's pid; when it is gone (or the deadline passed) it ends the
# registry, by its pid, with SIGTERM then SIGKILL.
_WATCHDOG = """
import os, signal, sys, time
parent, child, deadline = int(sys.argv[1]), int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
while alive(parent) and alive(child) and time.monotonic() < deadline:
    time.sleep(1)
if alive(child):
    os.kill(child, signal.SIGTERM)
    for _ in range(50):
        time.sleep(0.1)
        if not alive(child):
            break
    else:
        os.kill(child, signal.SIGKILL)
"""


# --------------------------------------------------------------------------------------------
# The child: one contender, once; prints one JSON line


def _vm_hwm_kib() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


# Steps of build_catalog timed in the child (by wrapping the names build.py calls them by; the
# engine is not modified): loading + filtering the inputs, writing the layer, writing the layout.
PHASES = ("build_inputs", "build_layer", "publish")


def _time_phases() -> dict:
    from ansible_collections.airgap.operatorhub.plugins.module_utils._build import build

    spans: dict = {}
    for name in PHASES:
        original = getattr(build, name, None)
        if original is None:
            continue

        def wrapped(*a, __original=original, __name=name, **kw):
            start = time.monotonic()
            try:
                return __original(*a, **kw)
            finally:
                spans[__name] = round(spans.get(__name, 0.0) + time.monotonic() - start, 3)

        setattr(build, name, wrapped)
    return spans


def _build(params: dict) -> dict:
    from ansible_collections.airgap.operatorhub.plugins.module_utils._build.build import build_catalog
    from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
    from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.requests import info_spec
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, RegistryConfig

    # What catalog_build_request makes of `source: DIR` and `packages: [...]` (or no packages).
    spec = info_spec(params["path"], params["packages"], False, False, None)
    spec.field = "source"
    request = CatalogBuildRequest(base_image=params["base_image"], dest=params["dest"], source=spec)
    auth = AuthStore(registries=[RegistryConfig.from_dict(d, i) for i, d in enumerate(params["registries"])])
    phases = _time_phases()
    result = build_catalog(request, auth, check_mode=False)
    return {"phases": phases, "digest": result["digest"], "changed": result["changed"], "packages": len(result["packages"]),
            "package_names": result["packages"] if len(result["packages"]) <= 20 else None,
            "platforms": result["platforms"], "layer_size": result["layer"]["size"],
            "transferred": result.get("transferred"), "warnings": result.get("warnings")}


def child_main(argv: list[str]) -> int:
    """``--child PARAMS.json``: run one contender once and print one JSON line."""
    with open(argv[0]) as handle:
        params = json.load(handle)
    what = params["what"]
    if what == "build":
        # Import before measuring: "after imports" is the floor the engine starts from.
        import ansible_collections.airgap.operatorhub.plugins.module_utils._build.build  # noqa: F401
    floor = _vm_hwm_kib()
    profiler = None
    if params.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.monotonic(), time.process_time()
    result = bench_catalog.run_baseline(params["path"]) if what == "baseline" else _build(params)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(params["profile"])
    print(json.dumps({"what": what, "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
                      "vm_hwm_kib": _vm_hwm_kib(), "rss_after_import_kib": floor, "result": result}))
    return 0


# --------------------------------------------------------------------------------------------
# The parent


def run_child(params: dict, work: str) -> dict:
    """Run one contender in a child under GNU time; what it printed, with its peak RSS."""
    path = os.path.join(work, "params.json")
    with open(path, "w") as handle:
        json.dump(params, handle)
    busy = machine_busy_seconds()
    measured = run_measured([sys.executable, "-m", "tests.benchmarks.bench_build", "--child", path],
                            env=child_env(), cwd=ROOT, gnu_time=True, poll=True)
    busy = machine_busy_seconds() - busy
    measured.check(f"{params['what']} child")
    out = json.loads(measured.stdout.strip().splitlines()[-1])
    out["maxrss_kib"] = measured.maxrss_kib
    out["polled_peak_kib"] = measured.polled_peak_kib
    out["process_seconds"] = round(measured.seconds, 3)
    # CPU seconds the rest of the machine used while the child ran (registry included).
    out["cpu_others"] = round(max(0.0, busy - measured.cpu_seconds), 2)
    return out


def check_layout(layout: str, digest: str) -> None:
    """An independent tool reads the layout: skopeo's raw manifest hashes to the digest."""
    raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{layout}:{TAG}"], check=True,
                         capture_output=True).stdout
    got = "sha256:" + hashlib.sha256(raw).hexdigest()
    if got != digest:
        raise RuntimeError(f"skopeo reads {got} from {layout}, the engine returned {digest}")


def start_registry(work: str, max_minutes: float):
    """A plain-HTTP registry on 127.0.0.1 with the base pushed, and its watchdog."""
    from tests.support.opm_base import push_opm_base
    from tests.support.registry import RegistryServer, registry_options

    registry = RegistryServer(workdir=os.path.join(work, "registry")).start()
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(registry.process.pid),
                                 str(max_minutes * 60)], stdin=subprocess.DEVNULL, start_new_session=True)
    base_ref, _digest, _layers = push_opm_base(work, registry)
    return registry, watchdog, base_ref, registry_options(registry)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_build",
                                description=__doc__.split("\n\n", maxsplit=1)[0])
    p.add_argument("--size-mib", type=int, default=512, help="catalog size, MiB; default 512")
    p.add_argument("--keep", type=int, default=5, help="packages kept by (b); default 5")
    p.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b), best kept; default 3")
    p.add_argument("--skip-whole", action="store_true", help="do not run (c), the keep-everything build")
    p.add_argument("--profile", action="store_true", help="also profile one (b) and one (c) run with cProfile")
    p.add_argument("--source", default=bench_catalog.DEFAULT_SOURCE,
                   help="FBC replicated; default the corpus' v4.21 community catalog")
    p.add_argument("--work-dir", default=tempfile.gettempdir(),
                   help="where the catalog is kept and the layouts are written; default %(default)s")
    p.add_argument("--max-minutes", type=float, default=30,
                   help="the registry stops after this long whatever happens; default %(default)s")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON results path; default %(default)s")
    return p.parse_args(argv)


def _mb(kib: int) -> str:
    return f"{kib * 1024 / 1e6:.0f} MB"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(argv[1:])
    args = parse_args(argv)
    if not os.path.isdir(args.source):
        print(f"bench_build needs the corpus: {args.source} is missing (it comes with ../shared/data/catalogs, "
              "next to this repository; see its README.md). Give another FBC directory with --source.")
        return 2
    for tool in ("skopeo", "/usr/bin/docker-registry"):
        if shutil.which(tool) is None:
            print(f"bench_build needs {tool}: install the Debian packages skopeo and docker-registry")
            return 2
    bench_catalog._import_collection()
    info = machine_info()
    print(f"bench_build: {info['nproc']} CPUs, python {info['python']}, load average "
          f"{' '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}", flush=True)
    stamp = bench_catalog.generate(args.source, args.size_mib, args.work_dir)
    path = bench_catalog.catalog_dir(args.size_mib, args.work_dir)
    size_mb = stamp["bytes"] / 1e6
    how = "reused" if stamp["reused"] else f"generated in {stamp['generate_seconds']}s"
    print(f"catalog {path}: {size_mb:.0f} MB, {stamp['files']} packages, {how}", flush=True)
    keep = bench_catalog.kept_packages(stamp, args.keep)
    print(f"kept by (b): {', '.join(keep)}", flush=True)

    work = tempfile.mkdtemp(prefix="airgap-bench-build-", dir=args.work_dir)
    registry = watchdog = None
    out_dir = os.path.dirname(os.path.abspath(args.out))
    runs: dict[str, list[dict]] = {"baseline": [], "pruned": [], "whole": []}
    try:
        registry, watchdog, base_ref, registries = start_registry(work, args.max_minutes)
        print(f"registry {registry.url} (pid {registry.process.pid}), base {base_ref}", flush=True)

        def build(what: str, packages, profile: str | None = None) -> dict:
            layout = os.path.join(work, f"layout-{what}")
            shutil.rmtree(layout, ignore_errors=True)
            params = {"what": "build", "path": path, "packages": packages, "base_image": base_ref,
                      "registries": registries, "dest": f"oci:{layout}:{TAG}", "profile": profile}
            out = run_child(params, work)
            check_layout(layout, out["result"]["digest"])
            shutil.rmtree(layout)
            return out

        for i in range(args.repeat):
            runs["baseline"].append(run_child({"what": "baseline", "path": path}, work))
            runs["pruned"].append(build("pruned", keep))
            a, b = runs["baseline"][-1], runs["pruned"][-1]
            print(f"  run {i + 1}: (a) {a['seconds']:.2f}s, (b) {b['seconds']:.2f}s "
                  f"{_mb(b['maxrss_kib'])} (cpu others {a['cpu_others']:.1f}s, {b['cpu_others']:.1f}s)", flush=True)
        if not args.skip_whole:
            print("(c) keep everything ...", flush=True)
            runs["whole"].append(build("whole", None))
            c = runs["whole"][-1]
            print(f"  (c) {c['seconds']:.2f}s {_mb(c['maxrss_kib'])}", flush=True)
        profiles = {}
        if args.profile:
            for what, packages in (("pruned", keep), ("whole", None)):
                if what == "whole" and args.skip_whole:
                    continue
                profiles[what] = os.path.join(out_dir, f"build-{what}.pstats")
                os.makedirs(out_dir, exist_ok=True)
                build(what, packages, profiles[what])
                print(f"  profile of ({'b' if what == 'pruned' else 'c'}): {profiles[what]}", flush=True)
    finally:
        if registry is not None:
            registry.stop()
        if watchdog is not None:
            watchdog.send_signal(signal.SIGTERM)
            watchdog.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items() if v}
    base_s, base_cpu = best["baseline"]["seconds"], best["baseline"]["cpu_seconds"]
    rows = []
    for key, label in (("baseline", "(a) json raw_decode, every blob"),
                       ("pruned", f"(b) build, keep {args.keep} packages"),
                       ("whole", "(c) build, keep everything (once)")):
        if key not in best:
            continue
        r = best[key]
        ratio = r["seconds"] / base_s
        peak = max(r["maxrss_kib"] for r in runs[key])
        note = ""
        if key == "pruned":
            note = (f"time <= {TARGET_RATIO:.0f}x: {'met' if ratio <= TARGET_RATIO else 'MISSED'}; "
                    f"peak <= 400 MB: {'met' if peak * 1024 <= TARGET_PEAK_BYTES else 'MISSED'}")
        rows.append([label, f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.2f}", f"{ratio:.2f}",
                     f"{r['cpu_seconds'] / base_cpu:.2f}", _mb(peak), _mb(r["vm_hwm_kib"]),
                     _mb(r["rss_after_import_kib"]), f"{r['cpu_others']:.1f}", note])
    print()
    print(f"Catalog of {size_mb:.0f} MB ({stamp['files']} package files); best of {args.repeat} for (a) and (b):")
    print(table(["contender", "wall s", "CPU s", "ratio", "CPU ratio", "peak RSS", "VmHWM", "after imports",
                 "cpu others s", "target"], rows))
    for key in ("pruned", "whole"):
        if key in best:
            res = best[key]["result"]
            phases = ", ".join(f"{k} {v:.2f}s" for k, v in res["phases"].items())
            print(f"{key}: {res['packages']} packages, layer {res['layer_size'] / 1e6:.1f} MB, "
                  f"platforms {', '.join(res['platforms'])}, digest {res['digest']}; {phases}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    document = {
        "benchmark": "catalog_build engine: build a catalog image into an OCI layout",
        "machine": info,
        "loadavg_at_end": list(os.getloadavg()),
        "catalog": {k: v for k, v in stamp.items() if k != "source_packages"},
        "kept_packages": keep,
        "repeat": args.repeat,
        "runs": runs,
        "best_seconds": {k: v["seconds"] for k, v in best.items()},
        "ratio": {k: round(v["seconds"] / base_s, 3) for k, v in best.items()},
        "peak_rss_kib": {k: max(r["maxrss_kib"] for r in v) for k, v in runs.items() if v},
        "target_ratio": TARGET_RATIO,
        "target_peak_bytes": TARGET_PEAK_BYTES,
    }
    print(f"\nresults: {write_json(args.out, document)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
