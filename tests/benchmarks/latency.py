# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A TCP relay that delays every byte by a fixed one-way latency, in both directions.

A user-space stand-in for ``tc qdisc ... netem delay`` on one port only (netem on ``lo`` would
slow every other process on the machine). Data is not throttled: what arrives is forwarded
``delay`` seconds later, so a round trip costs ``2 * delay`` and a long stream still flows at
full speed once started, as on a fast link far away. Bytes are relayed untouched (TLS or not).
"""

from __future__ import annotations

import queue
import socket
import threading
import time

_CHUNK = 256 * 1024


class LatencyProxy:
    """Listen on 127.0.0.1 and relay to ``upstream`` (``host`` / ``port`` / ``tls`` / skopeo flags
    like the registry behind it), adding ``rtt_ms / 2`` each way."""

    def __init__(self, upstream, rtt_ms: float):
        self.upstream = upstream
        self.delay = rtt_ms / 2000.0
        self.tls = upstream.tls
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self.port = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def skopeo_args(self, side: str | None = None) -> list[str]:
        return self.upstream.skopeo_args(side)

    def start(self) -> "LatencyProxy":
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, name="latency-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, dummy = self._sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream.port))
            except OSError:
                client.close()
                continue
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._pipe(client, up)
            self._pipe(up, client)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        q: queue.Queue = queue.Queue()
        delay = self.delay

        def read() -> None:
            try:
                while True:
                    data = src.recv(_CHUNK)
                    q.put((time.monotonic() + delay, data))
                    if not data:
                        return
            except OSError:
                q.put((time.monotonic(), b""))

        def write() -> None:
            try:
                while True:
                    due, data = q.get()
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    if not data:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(data)
            except OSError:
                for s in (src, dst):
                    try:
                        s.close()
                    except OSError:
                        pass

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()
