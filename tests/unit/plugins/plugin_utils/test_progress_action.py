# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The progress action plugin's conversation with a host, against a scripted host: what it runs,
which file it polls, and in which order it reads and cleans up."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from ansible_collections.airgap.operatorhub.plugins.action.catalog_mirror import ActionModule as CatalogMirrorAction
from ansible_collections.airgap.operatorhub.plugins.action.image_mirror_from_mapping import (
    ActionModule as ImageMirrorAction,
)
from ansible_collections.airgap.operatorhub.plugins.plugin_utils import progress_action

MODULE = "airgap.operatorhub.image_mirror_from_mapping"
OWN_DIR = "/home/u/.ansible/tmp/ansible-tmp-1-own"
MODULE_DIR = "/home/u/.ansible/tmp/ansible-tmp-2-module"
RESULT = {"changed": True, "copied": [{"dest": "d"}], "summary": {"copied": 1}}


def _snapshot(done, state="running"):
    return {"state": state, "images_total": 2, "images_done": done, "images_copied": done, "images_present": 0,
            "images_failed": 0, "images_running": 0, "bytes_sent": 2048 * done, "bytes_planned": 4096,
            "rate_bytes_per_second": 1024.0, "eta_seconds": 2.0, "elapsed_seconds": 1.0, "retries": 0}


class FakeShell:
    tmpdir = None

    @staticmethod
    def join_path(*parts):
        return "/".join(parts)

    @staticmethod
    def remove(path, recurse=False):
        return f"rm -rf {path}"


class ScriptedHost:
    """Plays the host's side: the module job, async_status and slurp, recording every call."""

    def __init__(self, action, ticks=1, job_result=None):
        self.action = action
        self.ticks = ticks
        self.job_result = job_result or RESULT
        self.events = []
        self.finished = False

    def execute_module(self, module_name=None, module_args=None, task_vars=None, wrap_async=False):
        shell = self.action._connection._shell
        if module_name == MODULE:
            self.events.append(("module", dict(module_args), wrap_async, shell.tmpdir))
            if wrap_async:
                return {"ansible_job_id": "j1", "started": 1, "finished": 0, "results_file": "/x/j1", "changed": True}
            return dict(self.job_result)
        if module_name == "ansible.legacy.async_status":
            self.events.append(("status", module_args.get("mode", "status")))
            if module_args.get("mode") == "cleanup":
                return {}
            if self.ticks:
                self.ticks -= 1
                return {"ansible_job_id": "j1", "started": 1, "finished": 0}
            self.finished = True
            return dict(self.job_result, ansible_job_id="j1", started=1, finished=1, results_file="/x/j1")
        if module_name == "ansible.legacy.slurp":
            self.events.append(("slurp", module_args["src"]))
            snap = _snapshot(2, "finished") if self.finished else _snapshot(1)
            return {"content": base64.b64encode(json.dumps({"state": snap["state"], "progress": snap}).encode())}
        raise AssertionError(f"unexpected module {module_name}")

    def make_tmp_path(self):
        self.events.append(("mktemp", OWN_DIR))
        self.action._connection._shell.tmpdir = OWN_DIR
        self.action._cleanup_remote_tmp = True
        return OWN_DIR

    def low_level(self, cmd, sudoable=True):
        self.events.append(("command", cmd))
        return {"rc": 0}


def _action(args, async_val=0, transport="ssh", **host):
    action = ImageMirrorAction.__new__(ImageMirrorAction)
    action._task = SimpleNamespace(args=args, async_val=async_val, check_mode=False, action=MODULE, environment=[])
    action._connection = SimpleNamespace(transport=transport, _load_name=transport, has_native_async=False,
                                         _shell=FakeShell())
    action._cleanup_remote_tmp = False
    scripted = ScriptedHost(action, **host)
    action._execute_module = scripted.execute_module
    action._make_tmp_path = scripted.make_tmp_path
    action._low_level_execute_command = scripted.low_level
    action._remote_expand_user = lambda path, sudoable=True: path.replace("~", "/home/u")
    action.get_shell_option = lambda option, default=None: default
    return action, scripted


@pytest.fixture
def sleeps(monkeypatch):
    """The plugin's sleeps, recorded instead of slept; its clock moves by them alone."""
    waits = []
    monkeypatch.setattr(progress_action.time, "sleep", waits.append)
    monkeypatch.setattr(progress_action.time, "monotonic", lambda: sum(waits))
    return waits


@pytest.fixture
def shown(monkeypatch, sleeps):
    lines = []
    monkeypatch.setattr(progress_action.display, "display", lines.append)
    return lines


def test_both_action_plugins_run_their_own_module_and_support_async():
    for plugin, module in ((ImageMirrorAction, MODULE), (CatalogMirrorAction, "airgap.operatorhub.catalog_mirror")):
        assert issubclass(plugin, progress_action.ProgressAction)
        assert plugin.MODULE == module
        assert plugin._supports_async is True


def test_polled_run_reads_the_small_progress_file_and_the_final_figures_before_cleanup(shown, sleeps):
    # status checks after 0.1, 0.3, 0.7 and 1.5 s find the job running; the progress file is read
    # once the interval (1 s) has passed, at the fourth
    action, host = _action({"mapping": ["a=b"], "progress_interval": 1}, ticks=4)
    result = action.run(task_vars={"inventory_hostname": "h1"})

    module = [e for e in host.events if e[0] == "module"]
    assert len(module) == 1
    dummy, args, wrap_async, tmpdir_at_start = module[0]
    assert wrap_async is True
    assert args["report_file"] == f"{OWN_DIR}/report.json"
    assert tmpdir_at_start is None  # the module gets a directory of its own, which the async wrapper removes
    slurps = [e[1] for e in host.events if e[0] == "slurp"]
    assert slurps and set(slurps) == {f"{OWN_DIR}/report.progress.json"}
    # the final read comes after the job finished, and before the job and our directory are removed
    kinds = [e[0] if e[0] != "status" else f"status-{e[1]}" for e in host.events]
    assert kinds[-4:] == ["status-status", "slurp", "status-cleanup", "command"]
    assert host.events[-1] == ("command", f"rm -rf {OWN_DIR}")

    assert result == RESULT  # no async bookkeeping, no temporary report path
    assert shown == [f"{MODULE} [h1]: 1/2 images, 2.0 KiB sent, 1.0 KiB/s, ETA 0:00:02",
                     f"{MODULE} [h1]: 2/2 images, 4.0 KiB sent, 1.0 KiB/s, ETA 0:00:02"]
    assert sleeps == [0.1, 0.2, 0.4, 0.8, 1]
    assert len(slurps) == 2


def test_polled_run_that_ends_soon_is_seen_finished_at_the_first_quick_check(shown, sleeps):
    action, host = _action({"mapping": ["a=b"]}, ticks=0)  # default interval: 5 s
    result = action.run(task_vars={})
    assert sleeps == [progress_action._FIRST_POLL]
    assert [e for e in host.events if e[0] == "slurp"] == []  # nothing shown for a run this short
    assert result == RESULT and shown == []


def test_status_checks_wait_longer_each_time_up_to_the_interval():
    delays = progress_action._poll_delays(5.0)
    assert [next(delays) for dummy in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_polled_run_with_the_users_report_polls_beside_it_and_removes_nothing(shown):
    action, host = _action({"mapping": ["a=b"], "report_file": "~/out/mirror.json", "progress_display": "poll",
                            "progress_interval": 0.5}, transport="local", ticks=3)
    result = action.run(task_vars={})
    assert [e for e in host.events if e[0] in ("mktemp", "command")] == []
    assert {e[1] for e in host.events if e[0] == "slurp"} == {"~/out/mirror.progress.json"}
    assert [e for e in host.events if e[0] == "module"][0][1]["report_file"] == "~/out/mirror.json"
    assert result == RESULT


@pytest.mark.parametrize("display", ["auto", "poll", "off"])
def test_task_async_is_handed_to_ansible(display, shown):
    action, host = _action({"mapping": ["a=b"], "progress_display": display}, async_val=600)
    result = action.run(task_vars={})
    assert host.events == [("module", {"mapping": ["a=b"], "progress_display": display}, True, None)]
    assert result["ansible_job_id"] == "j1" and result["started"] == 1  # the task executor polls from here
    assert shown == []


def test_off_runs_the_module_once_in_the_foreground(shown):
    action, host = _action({"mapping": ["a=b"], "progress_display": "off"})
    assert action.run(task_vars={}) == RESULT
    assert [e[0] for e in host.events] == ["module"] and host.events[0][2] is False


def test_progress_line_of_each_phase_and_of_a_half_written_document():
    verifying = {"state": "verifying", "verify": {"archives_done": 0, "archives_total": 3, "bytes_checked": 0,
                                                  "bytes_total": 3072, "rate_bytes_per_second": 0.0,
                                                  "eta_seconds": None}}
    assert progress_action._progress_line(verifying) == "checking archives: 0/3, 0 B of 3.0 KiB, 0 B/s, ETA ?"
    assert progress_action._progress_line({"progress": _snapshot(1)}) == "1/2 images, 2.0 KiB sent, 1.0 KiB/s, ETA 0:00:02"
    assert progress_action._progress_line({"state": "verifying"}) is None
    assert progress_action._progress_line([]) is None
