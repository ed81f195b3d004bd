# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress maths with a fake clock, and the report file's atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror import progress as progress_mod
from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import (
    Progress,
    format_line,
    format_verify_line,
    human_bytes,
    human_duration,
    progress_file_for,
    write_json_atomic,
)

MiB = 1 << 20


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Result:
    source: str
    status: str


@pytest.fixture
def clock():
    return FakeClock()


def test_initial_snapshot(clock):
    snap = Progress(3, None, clock=clock).snapshot()
    assert snap["state"] == "running"
    assert snap["images_total"] == 3
    assert snap["images_done"] == snap["images_copied"] == snap["images_present"] == snap["images_failed"] == 0
    assert snap["bytes_sent"] == snap["bytes_planned"] == 0
    assert snap["rate_bytes_per_second"] == 0
    assert snap["eta_seconds"] is None
    assert snap["elapsed_seconds"] == 0
    assert snap["images_running"] == snap["retries"] == 0
    # The snapshot is what report readers and the progress display parse: no key added or lost unnoticed.
    assert set(snap) == {"state", "images_total", "images_done", "images_copied", "images_present", "images_failed",
                         "images_running", "bytes_sent", "bytes_planned", "rate_bytes_per_second", "eta_seconds",
                         "elapsed_seconds", "retries"}


def test_counts_by_status(clock):
    progress = Progress(5, None, clock=clock)
    for status in ("copied", "copied", "present", "failed", "cancelled"):
        progress.image_started()
        progress.image_finished(Result("s", status))
    snap = progress.snapshot()
    assert (snap["images_done"], snap["images_copied"], snap["images_present"], snap["images_failed"]) == (5, 2, 1, 1)
    assert snap["images_running"] == 0


def test_rate_over_sliding_window(clock):
    progress = Progress(1, None, clock=clock)
    for dummy in range(5):  # 1 MiB/s for 5 s
        clock.tick(1)
        progress.add_bytes(MiB)
    assert progress.snapshot()["rate_bytes_per_second"] == pytest.approx(MiB, rel=1e-6)
    for dummy in range(20):  # then 4 MiB/s for 20 s: the window forgets the slow start
        clock.tick(1)
        progress.add_bytes(4 * MiB)
    assert progress.snapshot()["rate_bytes_per_second"] == pytest.approx(4 * MiB, rel=0.01)
    clock.tick(5)  # stalled for 5 s: the rate falls
    assert progress.snapshot()["rate_bytes_per_second"] < 4 * MiB * 0.75
    clock.tick(progress_mod.RATE_WINDOW + 1)  # nothing for a whole window
    assert progress.snapshot()["rate_bytes_per_second"] == 0


def test_samples_are_bounded(clock):
    progress = Progress(1, None, clock=clock)
    for dummy in range(100000):
        clock.tick(0.001)
        progress.add_bytes(10)
    assert len(progress._samples) <= progress_mod.RATE_WINDOW / progress_mod._SAMPLE_STEP + 3
    assert progress.snapshot()["rate_bytes_per_second"] == pytest.approx(10000, rel=0.02)


def test_eta_from_bytes(clock):
    progress = Progress(1, None, clock=clock)
    progress.add_planned(100 * MiB)
    for dummy in range(10):
        clock.tick(1)
        progress.add_bytes(2 * MiB)
    snap = progress.snapshot()
    assert snap["bytes_planned"] == 100 * MiB
    assert snap["eta_seconds"] == pytest.approx(40, rel=0.01)  # 80 MiB left at 2 MiB/s


def test_eta_from_images_when_longer(clock):
    progress = Progress(10, None, clock=clock)
    clock.tick(20)
    progress.image_finished(Result("a", "copied"))
    progress.image_finished(Result("b", "present"))
    # no bytes planned: 2 images in 20 s, 8 left
    assert progress.snapshot()["eta_seconds"] == pytest.approx(80)
    progress.add_planned(MiB)
    progress.add_bytes(MiB // 2)
    assert progress.snapshot()["eta_seconds"] == pytest.approx(80)


def test_no_eta_in_the_first_seconds(clock):
    progress = Progress(6, None, clock=clock)
    progress.add_planned(7 * MiB)
    clock.tick(0.5)
    progress.add_bytes(774)  # a start-up trickle would promise 44 minutes
    assert progress.snapshot()["eta_seconds"] is None
    clock.tick(3)
    progress.add_bytes(MiB)
    assert progress.snapshot()["eta_seconds"] is not None


def test_eta_zero_when_all_done_and_finished_state(clock):
    progress = Progress(1, None, clock=clock)
    progress.add_planned(10)
    progress.add_bytes(10)
    progress.image_finished(Result("a", "copied"))
    assert progress.snapshot()["eta_seconds"] == 0
    clock.tick(3)
    progress.finish()
    clock.tick(100)
    snap = progress.snapshot()
    assert snap["state"] == "finished"
    assert snap["elapsed_seconds"] == pytest.approx(3)  # frozen at finish
    assert snap["eta_seconds"] == 0


@pytest.mark.parametrize(
    "count, text",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (45.3 * MiB, "45.3 MiB"),
     (1.2 * 1024 * MiB, "1.2 GiB"), (3 * 1024 ** 4, "3.0 TiB")],
)
def test_human_bytes(count, text):
    assert human_bytes(count) == text


@pytest.mark.parametrize("seconds, text", [(None, "?"), (0, "0:00:00"), (52, "0:00:52"), (3725.4, "1:02:05"), (-3, "0:00:00")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_format_line():
    snap = {"images_done": 12, "images_total": 40, "bytes_sent": int(1.2 * 1024 * MiB),
            "rate_bytes_per_second": 45.3 * MiB, "eta_seconds": 52, "images_failed": 0}
    assert format_line(snap) == "12/40 images, 1.2 GiB sent, 45.3 MiB/s, ETA 0:00:52"
    snap["images_failed"] = 2
    assert format_line(snap).endswith(", 2 failed")


def test_format_verify_line():
    snap = {"archives_done": 2, "archives_total": 5, "bytes_checked": int(1.2 * 1024 * MiB),
            "bytes_total": 4 * 1024 * MiB, "rate_bytes_per_second": 210 * MiB, "eta_seconds": 13.4}
    assert format_verify_line(snap) == "checking archives: 2/5, 1.2 GiB of 4.0 GiB, 210.0 MiB/s, ETA 0:00:13"


def test_report_written_at_most_every_interval(tmp_path, clock):
    path = tmp_path / "report.json"
    lines = []
    progress = Progress(3, str(path), interval=2.0, clock=clock, sink=lines.append)
    progress.image_finished(Result("a", "copied"))  # first event writes
    doc = json.loads(path.read_text())
    assert doc["state"] == "running"
    assert doc["progress"]["images_done"] == 1
    assert doc["images"] == [{"source": "a", "status": "copied"}]
    clock.tick(1)
    progress.image_finished(Result("b", "present"))
    progress.add_bytes(100)
    assert json.loads(path.read_text())["progress"]["images_done"] == 1  # too soon
    clock.tick(1.5)
    progress.add_bytes(100)
    doc = json.loads(path.read_text())
    assert doc["progress"]["images_done"] == 2 and doc["progress"]["bytes_sent"] == 200
    assert [i["source"] for i in doc["images"]] == ["a", "b"]
    assert len(lines) == 2 and lines[-1].startswith("2/3 images, 200 B sent")


class FakeReport:
    def to_dict(self):
        return {"summary": {"copied": 1}, "images": [{"source": "a", "status": "copied", "bytes_sent": 5}]}


def test_finish_writes_full_report(tmp_path, clock):
    path = tmp_path / "report.json"
    progress = Progress(1, str(path), interval=60, clock=clock)
    progress.image_finished({"source": "a", "status": "copied"})
    doc = progress.finish(FakeReport(), extra={"failures": []})
    on_disk = json.loads(path.read_text())
    assert on_disk == json.loads(json.dumps(doc))
    assert on_disk["state"] == "finished" and on_disk["progress"]["state"] == "finished"
    assert on_disk["summary"] == {"copied": 1}
    assert on_disk["images"][0]["bytes_sent"] == 5
    assert on_disk["failures"] == []


@pytest.mark.parametrize("report, small", [
    ("/x/report.json", "/x/report.progress.json"),
    ("/x/report", "/x/report.progress.json"),
    ("relative.JSON", "relative.JSON.progress.json"),
])
def test_progress_file_for(report, small):
    assert progress_file_for(report) == small


def test_progress_file_holds_the_latest_snapshot_only(tmp_path, clock):
    report = tmp_path / "report.json"
    small = tmp_path / "report.progress.json"
    progress = Progress(50, str(report), interval=1.0, clock=clock)
    assert progress.progress_path == str(small)
    for i in range(40):
        progress.add_planned(1000)
        progress.add_bytes(1000)
        clock.tick(1)
        progress.image_finished(Result(f"registry.example/some/long/repository/path-{i}:v1", "copied"))
    doc = json.loads(small.read_text())
    assert set(doc) == {"state", "progress"}
    assert doc["state"] == "running"
    assert doc["progress"]["images_done"] == 40 and doc["progress"]["bytes_sent"] == 40000
    assert doc["progress"] == json.loads(report.read_text())["progress"]
    # The report grows with the images; the progress file stays the size of one snapshot.
    assert report.stat().st_size > 4 * small.stat().st_size
    clock.tick(1)
    progress.finish(FakeReport())
    doc = json.loads(small.read_text())
    assert doc["state"] == doc["progress"]["state"] == "finished"
    assert sorted(os.listdir(tmp_path)) == ["report.json", "report.progress.json"]


def test_no_progress_file_without_a_report(tmp_path, clock, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = []
    progress = Progress(1, None, clock=clock, sink=lines.append)
    assert progress.progress_path is None
    progress.image_finished(Result("a", "copied"))
    progress.finish()
    assert lines and os.listdir(tmp_path) == []


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    write_json_atomic(str(path), {"v": 1})
    os.chmod(path, 0o600)
    write_json_atomic(str(path), {"v": 2})
    assert json.loads(path.read_text()) == {"v": 2}
    assert os.stat(path).st_mode & 0o777 == 0o600  # mode kept

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_json_atomic(str(path), {"v": 3})
    assert json.loads(path.read_text()) == {"v": 2}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]  # temp file cleaned up


def test_unwritable_report_does_not_stop_the_run(tmp_path, clock):
    progress = Progress(1, str(tmp_path / "no-such-dir" / "r.json"), clock=clock)
    progress.image_finished(Result("a", "copied"))
    assert "cannot be written" in progress.write_error
    progress.finish()
    assert "cannot be written" in progress.write_error  # the final report is missing too


def test_write_error_clears_once_the_report_is_written(tmp_path, clock):
    directory = tmp_path / "later"
    progress = Progress(2, str(directory / "r.json"), interval=0, clock=clock)
    progress.image_finished(Result("a", "copied"))
    assert "cannot be written" in progress.write_error
    directory.mkdir()
    progress.finish()
    assert progress.write_error is None
    assert json.loads((directory / "r.json").read_text())["state"] == "finished"


def test_reader_never_sees_partial_document(tmp_path):
    path = tmp_path / "r.json"
    progress = Progress(1000, str(path), interval=0)
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            try:
                json.loads(path.read_text())
            except FileNotFoundError:
                pass
            except ValueError as exc:  # pragma: no cover - the failure being tested for
                errors.append(exc)

    def writer(n):
        for i in range(40):
            progress.add_bytes(1000)
            progress.image_finished(Result(f"{n}-{i}", "copied"))

    threads = [threading.Thread(target=reader)] + [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert errors == []
    snap = progress.snapshot()
    assert snap["images_done"] == 160 and snap["bytes_sent"] == 160000
    progress.finish()
    assert len(json.loads(path.read_text())["images"]) == 160


@pytest.fixture
def umask():
    """Set the process umask for one test, restoring it afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("mask,expect", [(0o000, 0o644), (0o022, 0o644), (0o077, 0o600), (0o027, 0o640)])
def test_reports_follow_the_umask_and_are_never_more_open_than_0644(tmp_path, monkeypatch, umask, mask, expect):
    # a report directory outside the temporary directory (issue 7, item 12)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "elsewhere"))
    directory = tmp_path / "reports"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    umask(mask)
    progress = Progress(1, str(directory / "r.json"), interval=0)
    progress.finish()
    assert os.stat(directory / "r.json").st_mode & 0o777 == expect
    assert os.stat(directory / "r.progress.json").st_mode & 0o777 == expect


def test_an_existing_world_readable_report_is_narrowed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "elsewhere"))
    path = tmp_path / "r.json"
    path.write_text("{}")
    os.chmod(path, 0o666)
    os.chmod(tmp_path, 0o755)
    write_json_atomic(str(path), {"v": 1})
    assert os.stat(path).st_mode & 0o777 == 0o644


@pytest.mark.parametrize("where", ["tempdir", "shared"])
def test_reports_in_tmp_or_a_shared_directory_are_private(tmp_path, monkeypatch, umask, where):
    umask(0o022)
    if where == "tempdir":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        directory = tmp_path / "sub"
        directory.mkdir()
    else:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "elsewhere"))
        directory = tmp_path / "shared"
        directory.mkdir()
        os.chmod(directory, 0o1777)
    progress = Progress(1, str(directory / "r.json"), interval=0)
    progress.finish()
    assert os.stat(directory / "r.json").st_mode & 0o777 == 0o600
    assert os.stat(directory / "r.progress.json").st_mode & 0o777 == 0o600


def test_report_layout_is_json_with_one_image_a_line(tmp_path):
    document = {"state": "finished", "progress": {"images_done": 2, "eta_seconds": None},
                "images": [{"source": "a", "status": "copied"}, {"source": "b\n\"c\"", "status": "present"}],
                "failures": [], "summary": {"images": 2, "nested": {"x": [1, 2]}}}
    path = tmp_path / "report.json"
    write_json_atomic(str(path), document)
    text = path.read_text()
    assert json.loads(text) == document
    lines = text.splitlines()
    assert '  {"source": "a", "status": "copied"},' in lines and '"failures": [],' in lines
    assert len(lines) == 1 + len(document) + len(document["images"]) + 1 + 1  # {, keys, images, ], }
