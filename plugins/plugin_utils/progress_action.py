# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of the mirroring modules: runs the module unchanged and shows its progress
in the job output while it runs.

A module cannot print while it runs, so a long mirror looks hung in ansible-playbook and in AWX.
The module keeps a small progress file beside its report file (``progress_file_for``); this
plugin shows it, one line per change:

- on the controller (a local connection, ``delegate_to: localhost``, an execution environment),
  a thread reads the progress file directly while the module runs;
- on a remote host, the module is started in the background (Ansible's async machinery) and the
  plugin polls the host: the job's status (first after 0.1 s, then at doubling waits up to the
  interval, so a short run is not held for a whole interval), and the progress file through
  ``slurp`` once per interval.

``progress_display`` chooses: ``auto`` (the above), ``poll`` (always poll), ``off``. A task with
``async`` set runs as the user asked: Ansible's task executor polls the job, or ``poll: 0``
leaves it to ``async_status``; no progress lines then.

Each action plugin of the collection subclasses :class:`ProgressAction` and names its module;
one that runs another module for some tasks overrides :meth:`ProgressAction.module_for`
(image_mirror_from_mapping runs archive_export for a task with ``archive_dir``). The progress
lines keep the task's module name.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import threading
import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.airgap.operatorhub.plugins.module_utils._mirror.progress import (
    format_line,
    format_verify_line,
    progress_file_for,
)

display = Display()

_LOCAL = {"local", "ansible.builtin.local", "ansible.legacy.local"}
# How long a background (polled) run may last before Ansible's async wrapper ends it.
_ASYNC_LIMIT = 7 * 24 * 3600
_ASYNC_KEYS = ("ansible_job_id", "results_file", "started", "finished")
# Name of the report in a temporary directory, when the task gives no report_file.
_TEMP_REPORT = "report.json"
# The first wait before asking a background job whether it finished; each next wait doubles, up
# to the progress interval. A run that ends in a second is seen finished about when it ends,
# not a whole interval later, and a long run costs a status check per interval, as before.
_FIRST_POLL = 0.1


def _poll_delays(interval):
    """The waits between status checks of a background job: _FIRST_POLL, doubling, at most ``interval``."""
    delay = _FIRST_POLL
    while True:
        yield min(delay, interval)
        delay *= 2


def _progress_line(document):
    try:
        if document.get("state") == "verifying":  # archive_import checks its archives first
            return format_verify_line(document["verify"])
        return format_line(document["progress"])
    except (AttributeError, KeyError, TypeError):
        return None


class _Shown:
    """Prints a progress line when it differs from the last one printed."""

    def __init__(self, label):
        self.label = label
        self.last = None

    def show(self, line):
        if line and line != self.last:
            self.last = line
            display.display(f"{self.label}: {line}")


class _Watcher(threading.Thread):
    def __init__(self, path, interval, shown):
        super().__init__(daemon=True)
        self.path = path
        self.interval = interval
        self.shown = shown
        self.stop = threading.Event()

    def poll(self):
        try:
            with open(self.path, "rb") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            return  # not written yet: try at the next tick
        self.shown.show(_progress_line(document))

    def run(self):
        while not self.stop.wait(self.interval):
            self.poll()


class ProgressAction(ActionBase):
    """Runs ``MODULE`` (or what :meth:`module_for` chooses) and shows the progress it writes;
    subclasses set ``MODULE``."""

    TRANSFERS_FILES = False
    _supports_async = True
    _supports_check_mode = True
    MODULE = None
    _module = None  # the module run by this task: module_for(args)

    def module_for(self, args):
        """The module that runs a task with these (templated) ``args``: ``MODULE`` unless a
        subclass says otherwise."""
        return self.MODULE

    def _is_local(self):
        names = {getattr(self._connection, "transport", None), getattr(self._connection, "_load_name", None)}
        return bool(names & _LOCAL)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        mode = args.get("progress_display") or "auto"
        try:
            interval = max(float(args.get("progress_interval") or 5), 0.5)
        except (TypeError, ValueError):
            interval = 5.0
        shown = _Shown(f"{self.MODULE} [{task_vars.get('inventory_hostname', 'localhost')}]")
        self._module = self.module_for(args)

        if self._task.async_val:
            result.update(self._run_as_asked(args, task_vars))
        elif mode == "off":
            result.update(self._execute_module(module_name=self._module, module_args=args, task_vars=task_vars))
        elif mode == "auto" and self._is_local():
            result.update(self._run_watched(args, task_vars, interval, shown))
        else:
            result.update(self._run_polled(args, task_vars, interval, shown))
        return result

    def _run_as_asked(self, args, task_vars):
        """The task's own ``async``: start the job and return; the task executor polls it."""
        wrap_async = not self._connection.has_native_async
        result = self._execute_module(module_name=self._module, module_args=args, task_vars=task_vars,
                                      wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _run_watched(self, args, task_vars, interval, shown):
        temp_dir = None
        if not args.get("report_file"):
            temp_dir = tempfile.mkdtemp(prefix="airgap-progress-")
            args["report_file"] = os.path.join(temp_dir, _TEMP_REPORT)
        path = progress_file_for(os.path.expanduser(str(args["report_file"])))
        watcher = _Watcher(path, interval, shown)
        watcher.start()
        try:
            result = self._execute_module(module_name=self._module, module_args=args, task_vars=task_vars)
        finally:
            watcher.stop.set()
            watcher.join(timeout=5)
            if shown.last is not None:
                watcher.poll()  # the final figures of a run long enough to have shown progress
            if temp_dir:
                shutil.rmtree(temp_dir, ignore_errors=True)
        if temp_dir:
            result.pop("report_file", None)
        return result

    def _run_polled(self, args, task_vars, interval, shown):
        temp_dir = None
        if not args.get("report_file"):
            # A directory of our own: the one the module runs from is removed by the async wrapper
            # as the module ends, before the final figures could be read from it.
            temp_dir = self._make_tmp_path()
            self._connection._shell.tmpdir = None
            args["report_file"] = self._connection._shell.join_path(temp_dir, _TEMP_REPORT)
        try:
            return self._poll_job(args, task_vars, interval, shown, temp_dir is not None)
        finally:
            if temp_dir and self._should_remove_tmp_path(temp_dir):
                self._low_level_execute_command(self._connection._shell.remove(temp_dir, recurse=True),
                                                sudoable=False)

    def _poll_job(self, args, task_vars, interval, shown, temp_report):
        self._task.async_val = _ASYNC_LIMIT
        try:
            started = self._execute_module(module_name=self._module, module_args=args, task_vars=task_vars,
                                           wrap_async=True)
        finally:
            self._task.async_val = 0
        if started.get("failed") or "ansible_job_id" not in started:
            return started
        progress_path = progress_file_for(args["report_file"])
        jid = started["ansible_job_id"]
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        # The progress file is read once per interval: time since the last read, the status checks
        # included (waited: the sleeps alone, which is all that passes when sleeping is simulated)
        last_read, waited = time.monotonic(), 0.0
        for delay in _poll_delays(interval):
            time.sleep(delay)
            waited += delay
            status = self._execute_module(module_name="ansible.legacy.async_status",
                                          module_args={"jid": jid, "_async_dir": async_dir}, task_vars=task_vars)
            if status.get("finished") or status.get("failed") and "finished" not in status:
                break
            if max(waited, time.monotonic() - last_read) >= interval:
                self._show_remote(progress_path, task_vars, shown)
                last_read, waited = time.monotonic(), 0.0
        if shown.last is not None:
            self._show_remote(progress_path, task_vars, shown)  # the final figures
        self._execute_module(module_name="ansible.legacy.async_status",
                             module_args={"jid": jid, "mode": "cleanup", "_async_dir": async_dir},
                             task_vars=task_vars)
        for key in _ASYNC_KEYS:
            status.pop(key, None)
        if temp_report:
            status.pop("report_file", None)
        return status

    def _show_remote(self, path, task_vars, shown):
        read = self._execute_module(module_name="ansible.legacy.slurp", module_args={"src": path},
                                    task_vars=task_vars)
        if read.get("failed") or "content" not in read:
            return  # not written yet
        try:
            document = json.loads(base64.b64decode(read["content"]))
        except ValueError:
            return
        shown.show(_progress_line(document))
