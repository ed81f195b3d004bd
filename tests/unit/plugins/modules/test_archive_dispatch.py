# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_mirror_from_mapping with archive_dir: its action plugin runs archive_export (the same
options and result), so the image_mirror_from_mapping module ships no archive code; the module
itself, reached without its action plugin, refuses archive_dir naming archive_export."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from ansible_collections.airgap.operatorhub.plugins.action.archive_export import ActionModule as ExportAction
from ansible_collections.airgap.operatorhub.plugins.action.image_mirror_from_mapping import ActionModule as MirrorAction
from ansible_collections.airgap.operatorhub.plugins.modules import image_mirror_from_mapping
from ansible_collections.airgap.operatorhub.plugins.plugin_utils import progress_action
from tests.support.module_main import run_main

MIRROR = "airgap.operatorhub.image_mirror_from_mapping"
EXPORT = "airgap.operatorhub.archive_export"
LINE = "src.example/a:1=mirror.example/a:1"


@pytest.mark.parametrize("args, module", [
    ({"mapping": [LINE]}, MIRROR),
    ({"mapping": [LINE], "archive_dir": "/media/usb/mirror"}, EXPORT),
    ({"mapping": [LINE], "archive_dir": "/media/usb/mirror", "archive_size": "4GiB"}, EXPORT),
    ({"mapping": [LINE], "archive_dir": ""}, MIRROR),  # what an empty role variable gives
    ({"mapping": [LINE], "archive_dir": None}, MIRROR),
    ({"mapping": [LINE], "archive_size": "4GiB"}, MIRROR),  # refused by the module: needs archive_dir
])
def test_the_mirror_action_runs_archive_export_for_a_task_with_archive_dir(args, module):
    assert MirrorAction.__new__(MirrorAction).module_for(args) == module


def test_archive_export_runs_itself_with_the_progress_of_the_others():
    assert issubclass(ExportAction, progress_action.ProgressAction)
    assert ExportAction.MODULE == EXPORT
    assert ExportAction.__new__(ExportAction).module_for({"archive_dir": "/d"}) == EXPORT


def _action(args, async_val=0):
    action = MirrorAction.__new__(MirrorAction)
    action._task = SimpleNamespace(args=args, async_val=async_val, check_mode=False, action=MIRROR, environment=[])
    action._connection = SimpleNamespace(transport="ssh", _load_name="ssh", has_native_async=False,
                                         _shell=SimpleNamespace(tmpdir=None))
    calls = []

    def execute_module(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        calls.append((module_name, dict(module_args), wrap_async))
        return {"changed": True, "archived": [], "failures": []}

    action._execute_module = execute_module
    return action, calls


@pytest.mark.parametrize("async_val", [0, 600])
def test_the_task_args_go_unchanged_to_the_module_chosen(async_val):
    args = {"mapping": [LINE], "archive_dir": "/media/usb/mirror", "progress_display": "off"}
    action, calls = _action(dict(args), async_val=async_val)
    result = action.run(task_vars={})
    assert calls == [(EXPORT, args, bool(async_val))]
    assert result["archived"] == []
    # the next task of the same plugin class chooses again, from its own args
    action, calls = _action({"mapping": [LINE], "progress_display": "off"})
    action.run(task_vars={})
    assert [call[0] for call in calls] == [MIRROR]


def test_progress_lines_keep_the_name_of_the_task_module(monkeypatch):
    lines = []
    statuses = iter([{"finished": 0}] * 3 + [{"finished": 1, "changed": True, "archived": []}])
    monkeypatch.setattr(progress_action.display, "display", lines.append)
    monkeypatch.setattr(progress_action.time, "sleep", lambda seconds: None)
    action, calls = _action({"mapping": [LINE], "archive_dir": "/d", "report_file": "/r/report.json",
                             "progress_display": "poll", "progress_interval": 0.5})
    snapshot = {"images_total": 2, "images_done": 1, "bytes_sent": 2048, "bytes_planned": 4096,
                "rate_bytes_per_second": 1024.0, "eta_seconds": 2.0, "elapsed_seconds": 1.0}
    document = base64.b64encode(json.dumps({"state": "running", "progress": snapshot}).encode())

    def execute_module(module_name=None, module_args=None, task_vars=None, wrap_async=False):
        calls.append(module_name)
        if module_name == "ansible.legacy.async_status":
            return {} if module_args.get("mode") == "cleanup" else next(statuses)
        if module_name == "ansible.legacy.slurp":
            return {"content": document}
        return {"ansible_job_id": "j1", "started": 1, "finished": 0}

    action._execute_module = execute_module
    action._remote_expand_user = lambda path, sudoable=True: path
    action.get_shell_option = lambda option, default=None: default
    result = action.run(task_vars={"inventory_hostname": "h1"})
    assert calls[0] == EXPORT and result["changed"] is True
    assert lines and all(line.startswith(f"{MIRROR} [h1]: 1/2 images") for line in lines)


def test_the_mirror_module_without_its_action_plugin_refuses_archive_dir(tmp_path, capsys):
    directory = tmp_path / "carry"
    result = run_main(image_mirror_from_mapping, {"mapping": [LINE], "archive_dir": str(directory)}, capsys)
    assert result["failed"] is True
    assert "airgap.operatorhub.archive_export" in result["msg"] and "archive_dir" in result["msg"]
    assert not directory.exists()


def test_the_mirror_module_still_refuses_archive_options_without_archive_dir(capsys):
    result = run_main(image_mirror_from_mapping, {"mapping": [LINE], "archive_history": "/tmp/h.json"}, capsys)
    assert result["failed"] is True
    assert "archive_size and archive_history need archive_dir" in result["msg"]
