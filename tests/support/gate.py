# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch the registry client's first-challenge gate: how many requests wait on it."""

from __future__ import annotations

import threading
import time


class CountingGate(threading.Event):
    """Stands for ``Authenticator._gate`` (an Event): also counts the requests waiting on it, so a
    test can act once they all wait instead of after a guessed time."""

    def __init__(self) -> None:
        super().__init__()
        self._count_lock = threading.Lock()
        self.waiting = 0

    def wait(self, timeout=None):
        with self._count_lock:
            self.waiting += 1
        return super().wait(timeout)

    def until_waiting(self, count: int, timeout: float = 10.0) -> bool:
        """Whether ``count`` requests wait on the gate within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.waiting >= count:
                return True
            time.sleep(0.01)
        return False


def watch_gate(client) -> CountingGate:
    """Put a CountingGate in ``client``'s authenticator, before any request (the gate is closed
    then for a client with credentials)."""
    gate = CountingGate()
    if client._authenticator._gate.is_set():  # pylint: disable=protected-access
        gate.set()
    client._authenticator._gate = gate  # pylint: disable=protected-access
    return gate
