# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one module task through a real ``ansible-playbook`` and get its result back.

The task is registered with ``ignore_errors`` and its result written to a JSON file by a second
task, so a test sees exactly what a playbook author's ``register:`` sees, including on failure,
together with the whole console output (to check no secret is printed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass

import yaml

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


@dataclass
class PlaybookRun:
    rc: int
    output: str  # stdout and stderr together
    result: dict


def run_task(workdir: str, module: str, args: dict, *, check: bool = False, verbosity: int = 0,
             module_defaults: dict | None = None, env: dict | None = None, timeout: float = 300,
             diff: bool = False, keywords: dict | None = None, host_vars: dict | None = None) -> PlaybookRun:
    """``keywords`` are added to the task under test (``async``, ``poll`` ...). Without
    ``host_vars`` the task runs on localhost over a local connection; with them, on an inventory
    host ``remote`` with those variables (``ansible_connection`` ...). The result is saved on the
    controller either way."""
    os.makedirs(workdir, exist_ok=True)
    result_path = os.path.join(workdir, "result.json")
    if os.path.exists(result_path):
        os.unlink(result_path)
    play = {
        "name": "run one task",
        "hosts": "localhost" if host_vars is None else "remote",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "task under test", module: args, "register": "under_test", "ignore_errors": True,
             "check_mode": check, "diff": diff, **(keywords or {})},
            {"name": "save result", "ansible.builtin.copy": {
                "content": "{{ under_test | to_json }}", "dest": result_path}, "check_mode": False,
             "delegate_to": "localhost"},
        ],
    }
    inventory = "localhost,"
    if host_vars is not None:
        del play["connection"]
        inventory = os.path.join(workdir, "inventory.yml")
        with open(inventory, "w") as handle:
            yaml.safe_dump({"all": {"hosts": {"remote": host_vars}}}, handle, sort_keys=False)
    if module_defaults:
        play["module_defaults"] = module_defaults
    playbook = os.path.join(workdir, "play.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump([play], handle, sort_keys=False)
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    })
    run_env.update(env or {})
    cmd = [ANSIBLE_PLAYBOOK, "-i", inventory, playbook] + (["-" + "v" * verbosity] if verbosity else [])
    proc = subprocess.run(cmd, cwd=workdir, env=run_env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    output = proc.stdout + proc.stderr
    if not os.path.exists(result_path):
        raise AssertionError(f"ansible-playbook did not save the task result (rc={proc.returncode}):\n{output}")
    with open(result_path) as handle:
        return PlaybookRun(rc=proc.returncode, output=output, result=json.load(handle))


def run_playbook(workdir: str, playbook_path: str, extra_vars: dict, *, check: bool = False, verbosity: int = 0,
                 env: dict | None = None, timeout: float = 300, hosts: tuple[str, ...] = ("localhost",)) -> PlaybookRun:
    """Run a playbook of the collection as a user would, with ``-e @vars``, on ``hosts`` (all
    of them local connections: several stand for the hosts of an inventory group).

    The console output is the default callback's. Besides it, a recording callback written into
    ``workdir`` saves every task result and the final stats; ``result`` is
    ``{"tasks": [{"task", "host", "status", "result"}, ...], "stats": {host: {"changed": n, ...}}}``.
    """
    recorder = '''
from __future__ import annotations
import json
import os
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = []

    def _add(self, result, status):
        data = getattr(result, "result", None)
        if data is None:
            data = result._result
        self.tasks.append({"task": result._task.get_name(), "host": result._host.get_name(),
                           "status": status, "result": data})

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        with open(os.environ["AIRGAP_RECORD_FILE"], "w") as handle:
            json.dump({"tasks": self.tasks, "stats": summary}, handle, default=str)
'''
    os.makedirs(os.path.join(workdir, "callback_plugins"), exist_ok=True)
    with open(os.path.join(workdir, "callback_plugins", "record.py"), "w") as handle:
        handle.write(recorder)
    record_path = os.path.join(workdir, "record.json")
    if os.path.exists(record_path):
        os.unlink(record_path)
    vars_path = os.path.join(workdir, "vars.yml")
    with open(vars_path, "w") as handle:
        yaml.safe_dump(extra_vars, handle, sort_keys=False)
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        for host in hosts:
            handle.write(f"{host} ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    run_env = dict(os.environ)
    run_env.update({
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_CALLBACK_PLUGINS": os.path.join(workdir, "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "record",
        "AIRGAP_RECORD_FILE": record_path,
    })
    run_env.update(env or {})
    cmd = [ANSIBLE_PLAYBOOK, "-i", inventory, playbook_path, "-e", "@" + vars_path]
    cmd += (["--check"] if check else []) + (["-" + "v" * verbosity] if verbosity else [])
    proc = subprocess.run(cmd, cwd=workdir, env=run_env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    output = proc.stdout + proc.stderr
    if not os.path.exists(record_path):
        raise AssertionError(f"ansible-playbook ended before its stats (rc={proc.returncode}):\n{output}")
    with open(record_path) as handle:
        return PlaybookRun(rc=proc.returncode, output=output, result=json.load(handle))
