# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mirroring modules under the task keywords ``async`` and ``poll``, through ansible-playbook:
Ansible polls the job (``poll: 5``), or the play does with ``async_status`` (``poll: 0``)."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

from tests.support.playbook import run_playbook, run_task

MODULE = "airgap.operatorhub.image_mirror_from_mapping"


def _args(image_set, source, target, prefix):
    return {
        "mapping": [f"{image_set.pushed[i.name]}={target.host}/{prefix}/{i.name}:{i.tag}" for i in image_set.images],
        "registries": [{"host": source.host, "tls_verify": False}, {"host": target.host, "tls_verify": False}],
    }


@pytest.mark.parametrize("connection", ["local", "ssh"])
def test_async_with_poll_returns_the_module_result(connection, request, tmp_path, image_set, plain_registry,
                                                   registry_factory, skopeo_inspect):
    target = registry_factory()
    host_vars = request.getfixturevalue("sshd").host_vars(sys.executable) if connection == "ssh" else None
    run = run_task(str(tmp_path / "run"), MODULE, _args(image_set, plain_registry, target, "polled"),
                   keywords={"async": 600, "poll": 5}, host_vars=host_vars)
    result = run.result
    assert not result.get("failed"), run.output
    assert result["finished"] and result["ansible_job_id"]
    assert result["changed"] is True
    assert len(result["copied"]) == len(image_set.images)
    assert result["summary"]["copied"] == len(image_set.images)
    for image in image_set.images:
        assert skopeo_inspect(target, f"polled/{image.name}:{image.tag}", raw=True)


def test_async_poll_0_then_async_status(tmp_path, image_set, plain_registry, registry_factory, skopeo_inspect):
    target = registry_factory()
    args = _args(image_set, plain_registry, target, "background")
    play = [{
        "name": "mirror in the background",
        "hosts": "all",
        "gather_facts": False,
        "tasks": [
            {"name": "start", MODULE: args, "async": 600, "poll": 0, "register": "job"},
            {"name": "wait", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"},
             "register": "done", "until": "done is finished", "retries": 120, "delay": 1},
            {"name": "clean up", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}", "mode": "cleanup"}},
            {"name": "again", MODULE: args, "async": 600, "poll": 0, "register": "job2"},
            {"name": "wait again", "ansible.builtin.async_status": {"jid": "{{ job2.ansible_job_id }}"},
             "register": "done2", "until": "done2 is finished", "retries": 120, "delay": 1},
            {"name": "clean up again",
             "ansible.builtin.async_status": {"jid": "{{ job2.ansible_job_id }}", "mode": "cleanup"}},
        ],
    }]
    playbook = os.path.join(str(tmp_path), "play.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump(play, handle, sort_keys=False)
    run = run_playbook(str(tmp_path), playbook, {})
    assert run.rc == 0, run.output
    results = {}
    for task in run.result["tasks"]:
        assert task["status"] == "ok", task
        results[task["task"]] = task["result"]  # a retried task's last result is kept
    started = results["start"]
    assert started["ansible_job_id"] and started["started"] and not started.get("finished")
    assert "copied" not in started  # poll: 0 returns at once, before the module's result

    done = results["wait"]
    assert done["finished"] and not done.get("failed")
    assert done["changed"] is True and len(done["copied"]) == len(image_set.images)
    for image in image_set.images:
        assert skopeo_inspect(target, f"background/{image.name}:{image.tag}", raw=True)

    again = results["wait again"]
    assert again["finished"] and again["changed"] is False
    assert len(again["present"]) == len(image_set.images) and again["bytes_sent"] == 0
