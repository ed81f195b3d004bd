# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the module unchanged and, when it runs on the controller, shows its progress.

A module cannot print to the job output while it runs, so a long mirror looks hung in
ansible-playbook and in AWX. When the connection is local, the module's report file is on this
machine: a thread reads it at the progress interval and prints one line per change. On a remote
connection the module runs as usual and progress is only in its report file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.airgap.operatorhub.plugins.module_utils.progress import format_line

display = Display()

_LOCAL = {"local", "ansible.builtin.local", "ansible.legacy.local"}


class _Watcher(threading.Thread):
    def __init__(self, path, interval, label):
        super().__init__(daemon=True)
        self.path = path
        self.interval = interval
        self.label = label
        self.stop = threading.Event()
        self.last = None

    def poll(self):
        try:
            with open(self.path, "rb") as handle:
                document = json.load(handle)
            line = format_line(document["progress"])
        except (OSError, ValueError, KeyError, TypeError):
            # Not written yet, or replaced between open and read: try at the next tick.
            return
        if line != self.last:
            self.last = line
            display.display(f"{self.label}: {line}")

    def run(self):
        while not self.stop.wait(self.interval):
            self.poll()


class ActionModule(ActionBase):
    """Action plugin for every module of the collection that writes a progress report."""

    TRANSFERS_FILES = False
    MODULE = "airgap.operatorhub.image_mirror_from_mapping"

    def _is_local(self):
        names = {getattr(self._connection, "transport", None), getattr(self._connection, "_load_name", None)}
        return bool(names & _LOCAL)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        watcher = None
        temp_report = None
        if self._is_local() and not self._task.async_val:
            if not args.get("report_file"):
                handle, temp_report = tempfile.mkstemp(prefix="airgap-progress-", suffix=".json")
                os.close(handle)
                os.unlink(temp_report)
                args["report_file"] = temp_report
            try:
                interval = max(float(args.get("progress_interval") or 5), 0.5)
            except (TypeError, ValueError):
                interval = 5.0
            label = f"{self.MODULE} [{task_vars.get('inventory_hostname', 'localhost')}]"
            watcher = _Watcher(os.path.expanduser(str(args["report_file"])), interval, label)
            watcher.start()
        try:
            result.update(self._execute_module(module_name=self.MODULE, module_args=args, task_vars=task_vars))
        finally:
            if watcher:
                watcher.stop.set()
                watcher.join(timeout=5)
                if watcher.last is not None:
                    watcher.poll()  # the final figures of a run long enough to have shown progress
            if temp_report:
                result.pop("report_file", None)
                try:
                    os.unlink(temp_report)
                except OSError:
                    pass
        return result
