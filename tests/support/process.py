# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the test daemons (registries, sshd) share: ending a process and reading its log's end."""

from __future__ import annotations

import signal
import subprocess


def terminate(proc: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 5 s; nothing for a process that is gone or was never started."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def log_tail(path: str, lines: int = 30) -> str:
    """The last ``lines`` of a log file, or "" when it cannot be read."""
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""
