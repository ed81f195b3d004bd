# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the engine once, without Ansible, in a process of its own; print one JSON line.

    python -m tests.benchmarks.engine_child PARAMS.json [--profile OUT.pstats]

PARAMS.json holds the module's options (see _common.engine_params). The benchmarks start this
as a child so the engine does not share a GIL with the counting proxies of the parent, and so
its peak RSS can be read alone. Needs the collection on PYTHONPATH (_common.child_env()).
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _maxrss_kib() -> int:
    """Peak RSS of this process since exec (VmHWM). getrusage's ru_maxrss would be no use: Linux
    counts the parent's RSS at fork time in it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_phases() -> dict:
    """Wrap the Copier's per-image phase methods to record when each phase first started and
    last ended (the engine is not modified: only its methods are wrapped in this process)."""
    import threading

    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.transfer import Copier

    spans: dict = {}
    lock = threading.Lock()
    for name in ("_phase1", "_phase2"):
        original = getattr(Copier, name, None)
        if original is None:
            continue

        def wrapped(self, *a, __original=original, __name=name, **kw):
            start = time.monotonic()
            try:
                return __original(self, *a, **kw)
            finally:
                end = time.monotonic()
                with lock:
                    first, last = spans.get(__name, (start, end))
                    spans[__name] = (min(first, start), max(last, end))

        setattr(Copier, name, wrapped)
    return spans


def main(argv: list[str]) -> int:
    started = time.monotonic()
    params_path = argv[0]
    profile_out = argv[argv.index("--profile") + 1] if "--profile" in argv else None
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.requests import (
        MappingMirrorRequest,
        TransferSettings,
    )
    from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.runner import run_mapping_mirror
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.auth import AuthStore, RegistryConfig
    from ansible_collections.airgap.operatorhub.plugins.module_utils._registry.settings import ConnectionSettings

    with open(params_path) as f:
        params = json.load(f)
    auth = AuthStore(
        auth_file=params.get("auth_file"),
        registries=[RegistryConfig.from_dict(d, i) for i, d in enumerate(params.get("registries") or [])],
    )
    phases = _time_phases()
    imported = time.monotonic()
    rss_after_import = _maxrss_kib()
    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.monotonic()
    cpu0 = _cpu_seconds()
    request = MappingMirrorRequest(
        mapping_files=tuple(params.get("mapping_file") or ()),
        mapping=tuple(params.get("mapping") or ()),
        transfer=TransferSettings(**{k: params[k] for k in TransferSettings.__dataclass_fields__ if k in params}),
        connection=ConnectionSettings(**{k: params[k] for k in ConnectionSettings.__dataclass_fields__ if k in params}),
    )
    result = run_mapping_mirror(request, auth, check_mode=bool(params.get("_check_mode")))
    engine_seconds = time.monotonic() - t0
    engine_cpu_seconds = _cpu_seconds() - cpu0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_out)
    print(json.dumps({
        "engine_seconds": engine_seconds,
        "engine_cpu_seconds": engine_cpu_seconds,
        "import_seconds": imported - started,
        "rss_after_import_kib": rss_after_import,
        "maxrss_kib": _maxrss_kib(),
        "phases": {k: [round(v[0] - t0, 3), round(v[1] - t0, 3)] for k, v in phases.items() if v},
        "changed": result.get("changed"),
        "summary": result.get("summary"),
        "failures": result.get("failures"),
        "bytes_sent": result.get("bytes_sent"),
    }))
    return 1 if result.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
