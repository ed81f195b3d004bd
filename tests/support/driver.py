# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a copy (mirror, export, import) in a child process so that a test can signal it mid-way:
the interruption and resume tests' one way to start a driver script and stop it once it got far
enough."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Callable


def start_driver(directory, script: str, config: dict) -> subprocess.Popen:
    """``script`` run as ``python driver.py run.json`` (both written into ``directory``) with this
    process's import path, its output captured as text."""
    config_path = os.path.join(directory, "run.json")
    driver_path = os.path.join(directory, "driver.py")
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(config, handle)
    with open(driver_path, "w", encoding="utf-8") as handle:
        handle.write(script)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.Popen([sys.executable, driver_path, config_path], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def signal_when(proc: subprocess.Popen, ready: Callable[[], bool], signum: int, timeout: float = 60,
                progress: Callable[[], object] = lambda: None) -> tuple[str, str, float]:
    """Waits until ``ready()`` while the child runs, sends it ``signum`` and waits for it to end.
    Returns (stdout, stderr, seconds from the signal to the end). The test fails, naming
    ``progress()``, when the child ends first or ``ready()`` never holds within ``timeout``
    seconds; the child never outlives the call."""
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, proc.communicate()
            if time.monotonic() >= deadline:
                raise AssertionError(f"the first run did not get half-way: {progress()}")
            time.sleep(0.05)
        signalled = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        return out, err, time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
