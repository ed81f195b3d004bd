# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""README's first command keeps working: hack/demo.sh (what `make demo` runs) end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, ".venv", "bin", "ansible-playbook")),
                    reason="the demo runs from .venv (hack/bootstrap.sh makes it)")
def test_demo_runs_end_to_end(tmp_path):
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["bash", os.path.join(ROOT, "hack", "demo.sh")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "failed=0" in output and "re-run: changed=False" in output, output
    # a filtered catalog is served pruned, by digest
    assert "(pruned: True, its packages only)" in output, output
    lab = json.loads((tmp_path / "demo" / "vars.json").read_text())
    manifests = os.path.join(lab["demo_output_dir"], "operator-index")
    assert sorted(os.listdir(manifests)) == sorted([
        "mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "imageTagMirrorSet.yaml",
        "catalogSource.yaml", "clusterCatalog.yaml"])
    with open(os.path.join(manifests, "catalogSource.yaml"), encoding="utf-8") as handle:
        assert re.search(r"\n  image: \S+/olm/\S+@sha256:[0-9a-f]{64}\n", handle.read())
    # the lab is down afterwards: its pid file is gone and nothing of it keeps running
    assert not (tmp_path / "demo" / "lab.json").exists()
