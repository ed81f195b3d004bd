# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGTERM and SIGINT as an exception, so an interrupted run unwinds: queued work is cancelled,
temporary directories are removed by the ``finally`` blocks that own them, and the report says
"interrupted". Without this, SIGTERM (what ``timeout``, systemd, AWX and Ansible's async wrapper
send) ends the process on the spot, leaving the report "running" and temporary directories in
the cache.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import Interrupted


def signal_name(exc: BaseException) -> str:
    """``SIGTERM`` / ``SIGINT`` for an :class:`Interrupted` or a plain KeyboardInterrupt."""
    return getattr(exc, "signame", "SIGINT")


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`Interrupted` in the main thread.

    The first signal restores the previous handlers, so a second one acts as it would have
    (Ctrl-C twice, or SIGTERM then SIGKILL, still ends a run stuck in its clean-up). Outside the
    main thread signals cannot be handled: the block runs unchanged. A handler the program set
    itself (not the default) is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.default_int_handler}
    previous = {}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handler(signum, frame):  # pylint: disable=unused-argument
        restore()
        raise Interrupted(signal.Signals(signum).name)

    for signum, default in wanted.items():
        current = signal.getsignal(signum)
        if current is default:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        restore()
