# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""examples/inventory.yml as a user copies it: ansible-inventory reads it into the groups the
playbooks target, every cluster host carries a connection and runs on the controller's Python,
and site.yml passes ansible-playbook's syntax check with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
INVENTORY = os.path.join(ROOT, "examples", "inventory.yml")


def _run(*args):
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_example_inventory_holds_the_groups_the_playbooks_target():
    inventory = json.loads(_run(os.path.join(BIN, "ansible-inventory"), "-i", INVENTORY, "--list"))
    groups = {name: inventory.get(name, {}).get("hosts", []) for name in ("mirror", "bastion", "clusters")}
    assert all(groups.values()), groups
    hostvars = inventory["_meta"]["hostvars"]
    for host in groups["clusters"]:
        variables = hostvars[host]
        assert variables["ansible_connection"] == "local"
        assert variables["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
        assert "cluster_kubeconfig" in variables or {"cluster_host", "cluster_api_key"} <= set(variables), host
        assert variables["cluster_manifests_dir"]


def test_site_playbook_syntax_with_the_example_inventory():
    out = _run(os.path.join(BIN, "ansible-playbook"), "--syntax-check", "-i", INVENTORY,
               os.path.join(ROOT, "playbooks", "site.yml"))
    assert "playbook: " in out
