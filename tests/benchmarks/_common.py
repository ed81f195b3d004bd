# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plumbing shared by the benchmarks: the collection on the import path of child processes,
measured child processes (wall time, peak RSS), machine facts, and plain-text tables.

Benchmarks run by hand, never under pytest: nothing here asserts a timing.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from tests.support.collections_path import collections_root

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE = "airgap.operatorhub.image_mirror_from_mapping"
MIB = 1024 * 1024


_COLLECTIONS: str | None = None


def child_env(**extra: str) -> dict:
    """Environment for a child that imports the collection or runs ansible-playbook."""
    global _COLLECTIONS
    if _COLLECTIONS is None:
        _COLLECTIONS = collections_root()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_COLLECTIONS, ROOT, env.get("PYTHONPATH")) if p)
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(
        p for p in (_COLLECTIONS, env.get("ANSIBLE_COLLECTIONS_PATH")) if p
    )
    env.update({
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    })
    env.update(extra)
    return env


@dataclass
class Measured:
    """One child process run to completion."""

    cmd: list[str]
    rc: int
    seconds: float
    # Peak RSS (KiB) of the measured command: GNU time's %M when run under /usr/bin/time, else
    # wait4()'s ru_maxrss, which Linux never reports below this process's own RSS at fork time
    # (the pre-exec copy of our address space counts as the child's), so only time's is exact.
    maxrss_kib: int
    # user + system CPU seconds of the child and of the descendants it reaped
    cpu_seconds: float = 0.0
    # highest VmHWM (the kernel's own peak-RSS mark, reset at exec) of the command and its
    # descendants, polled every 20 ms from /proc (misses only a peak in the last 20 ms)
    polled_peak_kib: int = 0
    # the same per process: "PID COMMAND LINE" -> VmHWM KiB (to tell the module from the controller)
    polled_peaks: dict[str, int] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    # (seconds since start, VmRSS KiB summed over the process tree)
    samples: list[tuple[float, int]] = field(default_factory=list)

    def check(self, what: str) -> "Measured":
        if self.rc != 0:
            tail = "\n".join((self.stdout + "\n" + self.stderr).strip().splitlines()[-40:])
            raise RuntimeError(f"{what} failed (rc={self.rc}): {' '.join(self.cmd)}\n{tail}")
        return self


GNU_TIME = "/usr/bin/time"


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line.split(":")[0]] = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:300]
    except OSError:
        return ""


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return pids


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: str | None = None,
                 poll: bool = False, gnu_time: bool = False, timeout: float = 3600) -> Measured:
    """Run ``cmd`` to completion; return its wall time, CPU time and peak RSS.

    Output goes to temporary files, not pipes, and the child is reaped by wait4() here, so its
    rusage is its own (RUSAGE_CHILDREN would mix in every registry and skopeo this process ever
    waited for). ``gnu_time``: run under /usr/bin/time, a small parent whose %M is exact.
    ``poll``: also sample /proc every 20 ms (see :class:`Measured`).
    """
    timefile = None
    real_cmd = cmd
    if gnu_time and os.access(GNU_TIME, os.X_OK):
        fd, timefile = tempfile.mkstemp(prefix="bench-time-")
        os.close(fd)
        real_cmd = [GNU_TIME, "-f", "%M", "-o", timefile, *cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(real_cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        samples: list[tuple[float, int]] = []
        hwm: dict[int, int] = {}
        peaks: dict[str, int] = {}
        stop = threading.Event()

        def poller() -> None:
            while not stop.is_set():
                total = 0
                for p in _tree(proc.pid):
                    if timefile and p == proc.pid:
                        continue  # /usr/bin/time itself
                    # keyed by command line too (read first): a fork keeps its parent's VmHWM until it execs
                    key = f"{p} {_cmdline(p)}"
                    st = _status(p)
                    total += st.get("VmRSS", 0)
                    hwm[p] = max(hwm.get(p, 0), st.get("VmHWM", 0))
                    peaks[key] = max(peaks.get(key, 0), st.get("VmHWM", 0))
                samples.append((round(time.monotonic() - start, 3), total))
                stop.wait(0.02)

        thread = threading.Thread(target=poller, daemon=True) if poll else None
        if thread:
            thread.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            dummy, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            stop.set()
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if thread:
            thread.join()
        maxrss = usage.ru_maxrss
        if timefile:
            try:
                with open(timefile) as f:
                    maxrss = int(f.read().strip().splitlines()[-1])
            except (OSError, ValueError, IndexError):
                pass
            os.unlink(timefile)
        out.seek(0)
        err.seek(0)
        return Measured(
            cmd=cmd, rc=proc.returncode, seconds=seconds, maxrss_kib=maxrss,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            polled_peak_kib=max(hwm.values(), default=0),
            polled_peaks=peaks,
            stdout=out.read().decode(errors="replace"), stderr=err.read().decode(errors="replace"),
            samples=samples,
        )


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a running process (all its threads), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent not idle since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent, between start() and stop(), by this process (the counting proxies run
    here as threads), by the children it reaps, and by some long-running processes (registries)."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids

    def start(self) -> "CpuMeter":
        self._machine = machine_busy_seconds()
        self._self = self._usage(resource.RUSAGE_SELF)
        self._children = self._usage(resource.RUSAGE_CHILDREN)
        self._procs = {name: process_cpu_seconds(pid) for name, pid in self.pids.items()}
        return self

    @staticmethod
    def _usage(who: int) -> float:
        u = resource.getrusage(who)
        return u.ru_utime + u.ru_stime

    def stop(self) -> dict[str, float]:
        out = {
            "bench_process_and_proxies": self._usage(resource.RUSAGE_SELF) - self._self,
            "reaped_children": self._usage(resource.RUSAGE_CHILDREN) - self._children,
        }
        for name, pid in self.pids.items():
            out[name] = process_cpu_seconds(pid) - self._procs[name]
        busy = machine_busy_seconds() - self._machine
        # What the rest of the machine burnt meanwhile: a noisy neighbour shows here.
        out["other_processes"] = max(0.0, busy - sum(out.values()))
        return {k: round(v, 2) for k, v in out.items()}


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_total = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import ansible

        ansible_version = ansible.__version__
    except ImportError:
        ansible_version = None
    try:
        import urllib3

        urllib3_version = urllib3.__version__
    except ImportError:
        urllib3_version = None
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loadavg_at_start": list(os.getloadavg()),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem_total_bytes": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "ansible_core": ansible_version,
        "urllib3": urllib3_version,
        "skopeo": _first_line(["skopeo", "--version"]),
        "docker_registry": _first_line(["/usr/bin/docker-registry", "--version"]),
    }


def mib(n: float | None) -> str:
    return "-" if n is None else f"{n / MIB:.1f} MiB"


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in headers]] + [[("-" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(path: str, document: dict) -> str:
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(document, f, indent=2, default=str)
        f.write("\n")
    os.replace(path + ".tmp", path)
    return path


def engine_child_cmd(params_path: str) -> list[str]:
    """Command that runs run_mapping_mirror (no Ansible) on the params in ``params_path``."""
    return [sys.executable, "-m", "tests.benchmarks.engine_child", params_path]


def write_params(path: str, params: dict) -> str:
    with open(path, "w") as f:
        json.dump(params, f, indent=2)
    return path


def engine_params(mapping_file: str | None = None, mapping: list[str] | None = None,
                  registries: list[dict] | None = None, **options) -> dict:
    """The options of one engine run, as JSON for engine_child.py: only what is given, the
    module's defaults come from its request types there."""
    params = {
        "mapping_file": [mapping_file] if mapping_file else [],
        "mapping": list(mapping or []),
        "registries": list(registries or []),
    }
    params.update({k: v for k, v in options.items() if v is not None})
    return params
