# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress of a long copy: images and bytes done, rate, ETA, and a JSON report file kept current.

The copy engine calls :class:`Progress` from many threads; every method is thread-safe and
cheap (the report file is rewritten at most every ``interval`` seconds, by whichever thread
happens to pass the deadline, never by two at once). The file is replaced atomically, so a
reader (``tail``-ing job output, a second task, a human) never sees half a document.

Beside the report, a small progress file (:func:`progress_file_for`) holds only the latest
snapshot: the report grows with every finished image, and a poller on another host (the action
plugin's remote progress display) reads the small file on every tick instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
import time
from collections import deque
from typing import Any, Callable

from ansible_collections.airgap.operatorhub.plugins.module_utils.files import write_atomic

# The rate is measured over this many seconds, so it follows changes (a slow registry, a phase of
# small manifests) without jumping with every chunk.
RATE_WINDOW = 10.0
# Samples closer than this are merged, which bounds the window's memory whatever the chunk rate.
_SAMPLE_STEP = 0.1


def _as_dict(result: Any) -> dict:
    as_dict = getattr(result, "as_dict", None)
    if as_dict is not None:  # ImageResult: no deep copy, see there
        return as_dict()
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, dict):
        return dict(result)
    raise TypeError(f"an image result must be a dataclass or a dict, not {type(result).__name__}")


def human_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB``; bytes below 1 KiB are shown as an integer."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    """``52`` -> ``0:00:52``; ``None`` -> ``?``."""
    if seconds is None:
        return "?"
    seconds = int(round(max(seconds, 0)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_line(snapshot: dict) -> str:
    """One line for a log: ``12/40 images, 1.2 GiB sent, 45.3 MiB/s, ETA 0:00:52``."""
    line = (
        f"{snapshot['images_done']}/{snapshot['images_total']} images, "
        f"{human_bytes(snapshot['bytes_sent'])} sent, "
        f"{human_bytes(snapshot['rate_bytes_per_second'])}/s, "
        f"ETA {human_duration(snapshot['eta_seconds'])}"
    )
    if snapshot.get("images_failed"):
        line += f", {snapshot['images_failed']} failed"
    return line


def format_verify_line(snapshot: dict) -> str:
    """One line while archives are checked: ``checking archives: 2/5, 1.2 GiB of 4.0 GiB, 210.0 MiB/s, ETA 0:00:13``."""
    return (
        f"checking archives: {snapshot['archives_done']}/{snapshot['archives_total']}, "
        f"{human_bytes(snapshot['bytes_checked'])} of {human_bytes(snapshot['bytes_total'])}, "
        f"{human_bytes(snapshot['rate_bytes_per_second'])}/s, "
        f"ETA {human_duration(snapshot['eta_seconds'])}"
    )


def progress_file_for(report_path: str) -> str:
    """The progress file written beside ``report_path``: ``/x/report.json`` -> ``/x/report.progress.json``."""
    root = report_path[:-len(".json")] if report_path.endswith(".json") else report_path
    return root + ".progress.json"


def report_mode(path: str) -> int:
    """The most open mode a report at ``path`` may have: 0644, and 0600 in a directory other
    users can write or under the temporary directory (/tmp): a report names every image and
    registry of the run. The user's umask narrows it further."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        shared = bool(os.stat(directory).st_mode & 0o002)
    except OSError:
        shared = True
    temp = os.path.realpath(tempfile.gettempdir())
    real = os.path.realpath(directory)
    if shared or real == temp or real.startswith(temp + os.sep):
        return 0o600
    return 0o644


def dumps_report(document: dict) -> str:
    """``document`` as JSON with one top-level key a line and one item of a list a line.

    As readable as an indented document for a report (one image a line), and every piece is
    encoded by json's C encoder: ``indent=`` switches to the pure-Python one, which took tens of
    milliseconds for a report of 1,000 images, at each rewrite of the report.
    """
    parts = []
    for key, value in document.items():
        name = json.dumps(key)
        if isinstance(value, list) and value:
            items = ",\n  ".join(json.dumps(item, default=str) for item in value)
            parts.append(f"{name}: [\n  {items}\n]")
        else:
            parts.append(f"{name}: {json.dumps(value, default=str)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_json_atomic(path: str, document: dict) -> None:
    """Write ``document`` (:func:`dumps_report`) to ``path`` through a temporary file in the same
    directory, with at most :func:`report_mode`."""
    write_atomic(path, dumps_report(document).encode("utf-8"), max_mode=report_mode(path))


# No estimate before this many seconds of a run.
MIN_ETA_SECONDS = 3.0


class Progress:
    """Counters, rate and ETA of one copy run, mirrored into ``report_path`` as it goes, and the
    latest snapshot alone into :func:`progress_file_for` ``(report_path)``.

    ``write_error`` holds why the last write of the report failed, and is None again once a
    write succeeds: after :meth:`finish` it tells whether the report on disk is complete.

    ``sink``, when given, receives :func:`format_line` of a snapshot each time the report is
    written (at most every ``interval`` seconds), for a log or a callback plugin.
    """

    def __init__(
        self,
        total_images: int,
        report_path: str | None = None,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sink: Callable[[str], None] | None = None,
    ):
        self.total_images = total_images
        self.report_path = report_path
        self.progress_path = progress_file_for(report_path) if report_path else None
        self.interval = interval
        self.clock = clock
        self.sink = sink
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._start = clock()
        self._end: float | None = None
        self._final_state = "finished"
        self._copied = 0
        self._present = 0
        self._failed = 0
        self._other = 0  # missing (dry run), cancelled
        self._running = 0
        self._bytes = 0
        self._planned = 0
        self._retries = 0
        self._samples: deque = deque([(self._start, 0)])
        self._images: list[dict] = []
        self._last_write: float | None = None
        self.write_error: str | None = None

    # --- events ---------------------------------------------------------------------------

    def image_started(self, entry: Any = None) -> None:
        with self._lock:
            self._running += 1

    def image_finished(self, result: Any) -> None:
        """Record a finished image (an ImageResult or a dict with a ``status``)."""
        item = _as_dict(result)
        with self._lock:
            self._running = max(self._running - 1, 0)
            status = item.get("status")
            if status == "copied":
                self._copied += 1
            elif status == "present":
                self._present += 1
            elif status == "failed":
                self._failed += 1
            else:
                self._other += 1
            self._images.append(item)
        self.maybe_write()

    def add_planned(self, count: int) -> None:
        """``count`` more bytes are known to need sending."""
        with self._lock:
            self._planned += count

    def add_bytes(self, count: int) -> None:
        """``count`` bytes were sent."""
        now = self.clock()
        with self._lock:
            self._bytes += count
            last_t, dummy = self._samples[-1]
            if now - last_t < _SAMPLE_STEP and len(self._samples) > 1:
                self._samples[-1] = (last_t, self._bytes)
            else:
                self._samples.append((now, self._bytes))
            self._prune(now)
        self.maybe_write()

    def note_retry(self, message: str = "") -> None:
        """A registry request is being retried (shown in the snapshot as ``retries``)."""
        with self._lock:
            self._retries += 1

    # --- figures --------------------------------------------------------------------------

    def _prune(self, now: float) -> None:
        # keep one sample at or before the window start, so the rate covers the whole window
        while len(self._samples) > 1 and self._samples[1][0] <= now - RATE_WINDOW:
            self._samples.popleft()

    def _rate(self, now: float) -> float:
        self._prune(now)
        t0, b0 = self._samples[0]
        span = now - t0
        if span <= 0:
            return 0.0
        return (self._bytes - b0) / span

    def snapshot(self) -> dict:
        with self._lock:
            now = self._end if self._end is not None else self.clock()
            finished = self._end is not None
            done = self._copied + self._present + self._failed + self._other
            elapsed = now - self._start
            rate = 0.0 if finished else self._rate(now)
            eta = 0.0 if finished else self._eta(done, elapsed, rate)
            return {
                "state": self._final_state if finished else "running",
                "images_total": self.total_images,
                "images_done": done,
                "images_copied": self._copied,
                "images_present": self._present,
                "images_failed": self._failed,
                "images_running": self._running,
                "bytes_sent": self._bytes,
                "bytes_planned": self._planned,
                "rate_bytes_per_second": round(rate, 1),
                "eta_seconds": None if eta is None else round(eta, 1),
                "elapsed_seconds": round(elapsed, 3),
                "retries": self._retries,
            }

    def _eta(self, done: int, elapsed: float, rate: float) -> float | None:
        """The longer of two estimates: bytes still planned at the current rate, and the images
        still to do at the average time per image so far. Planned bytes only grow as images are
        looked at, so the byte estimate alone would be optimistic early in a run."""
        estimates = []
        remaining_bytes = self._planned - self._bytes
        if done >= self.total_images and remaining_bytes <= 0:
            return 0.0
        if elapsed < MIN_ETA_SECONDS:
            # The first moments are start-up and planning; a rate from them says nothing.
            return None
        if remaining_bytes > 0 and rate > 0:
            estimates.append(remaining_bytes / rate)
        if 0 < done < self.total_images:
            estimates.append(elapsed / done * (self.total_images - done))
        return max(estimates) if estimates else None

    # --- report file ----------------------------------------------------------------------

    def _document(self) -> dict:
        snap = self.snapshot()
        with self._lock:
            images = list(self._images)
        return {"state": snap["state"], "progress": snap, "images": images}

    def maybe_write(self, force: bool = False) -> bool:
        """Write the report file if ``interval`` has passed since the last write (or ``force``)."""
        if not self.report_path and self.sink is None:
            return False
        now = self.clock()
        if not force and self._last_write is not None and now - self._last_write < self.interval:
            return False
        if not self._write_lock.acquire(blocking=force):
            return False  # another thread is writing right now
        try:
            if not force and self._last_write is not None and now - self._last_write < self.interval:
                return False
            self._last_write = now
            document = self._document()
            self._emit(document)
            return True
        finally:
            self._write_lock.release()

    def _emit(self, document: dict) -> None:
        if self.sink is not None:
            try:
                self.sink(format_line(document["progress"]))
            except Exception:  # a display problem must not stop a copy
                pass
        if self.report_path:
            try:
                write_json_atomic(self.report_path, document)
                self.write_error = None
            except OSError as exc:
                # Keep copying: the report is a view of the run, not the run.
                self.write_error = f"report_file {self.report_path}: cannot be written ({exc.strerror or exc})"
                return
            try:
                write_json_atomic(self.progress_path, {"state": document["state"], "progress": document["progress"]})
            except OSError:
                pass  # only a progress display reads it; the report beside it was written

    def finish(self, report: Any = None, extra: dict | None = None, state: str = "finished") -> dict:
        """Mark the run finished and write the final report: progress, images and summary.

        ``report`` is a CopyReport (its ``to_dict()`` gives ``summary`` and ``images``) or None;
        ``extra`` keys are added to the document (the module's failures and summary). ``state``
        is the report's final state: ``finished``, or ``interrupted`` for a run stopped by a signal.
        """
        with self._lock:
            if self._end is None:
                self._end = self.clock()
                self._final_state = state
        document = self._document()
        if report is not None:
            full = report.to_dict() if hasattr(report, "to_dict") else dict(report)
            document.update({k: v for k, v in full.items() if k not in ("state", "progress")})
        if extra:
            document.update(extra)
        if self.report_path or self.sink is not None:
            with self._write_lock:
                self._last_write = self.clock()
                self._emit(document)
        return document
