# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml builds a context with ansible-builder, and that context holds what the
roles need.

No container engine runs here, so the image itself is not built. What is checked instead is
everything up to it: ``ansible-builder create`` (the real tool, from requirements-dev.txt) accepts
the definition and writes the context as README.md's commands do; the collection tarball and
requirements.yml are in it; and the steps the image build runs on them are replayed offline - the
galaxy stage's install of the tarball, then the context's own ``introspect.py`` (ansible-builder's
dependency collector) over the installed collections - so the Python requirements the image gets are
known: this collection's requirements.txt, kubernetes (and kubernetes.core's own).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
BUILDER = shutil.which("ansible-builder", path=BIN) or shutil.which("ansible-builder")
GALAXY = os.path.join(BIN, "ansible-galaxy")
CLUSTER_ROLES = ("default_sources", "mirror_policies", "catalog_sources", "verify", "operator_install", "cluster")

pytestmark = pytest.mark.skipif(BUILDER is None,
                                reason="ansible-builder is not installed (pip install -r requirements-dev.txt)")


def _run(*args, cwd):
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (args, proc.stdout + proc.stderr)
    return proc.stdout


def _names(lines):
    """Requirement names of pip lines (lower case, no version, no comment)."""
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _kubernetes_core():
    """kubernetes.core as the `ansible` package of requirements-cluster.txt installed it."""
    try:
        from ansible_collections.kubernetes import core  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return os.path.dirname(os.path.abspath(core.__file__)) if core.__file__ else list(core.__path__)[0]


def test_execution_environment_context_holds_what_the_roles_need(tmp_path):
    # README's commands, in a copy of the definition so the clone is left alone.
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy(os.path.join(ROOT, name), tmp_path / name)
    _run(GALAXY, "collection", "build", "--force", "--output-path", str(tmp_path / ".build" / "ee"), ROOT, cwd=tmp_path)
    _run(BUILDER, "create", "-f", "execution-environment.yml", "-c", "context", "--output-filename", "Containerfile",
         cwd=tmp_path)
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()

    # Galaxy stage: requirements.yml names kubernetes.core, and this collection is installed from
    # its tarball after it, into the path ansible-builder introspects.
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [c["name"] for c in galaxy["collections"]] == ["kubernetes.core"]
    tarballs = sorted(p.name for p in (context / "_build" / "collections").iterdir())
    assert len(tarballs) == 1 and re.fullmatch(r"airgap-operatorhub-\d+\.\d+\.\d+\.tar\.gz", tarballs[0]), tarballs
    galaxy_stage = containerfile.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    requirements_install = galaxy_stage.index("-r requirements.yml --collections-path \"/usr/share/ansible/collections\"")
    tarball_install = galaxy_stage.index("ansible-galaxy collection install /build/collections/airgap-operatorhub-*.tar.gz "
                                         "--collections-path /usr/share/ansible/collections")
    assert requirements_install < tarball_install
    # The base stage installs ansible-core in meta/runtime.yml's range.
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        requires_ansible = yaml.safe_load(handle)["requires_ansible"]
    assert f'ARG ANSIBLE_INSTALL_REFS="ansible-core{requires_ansible} ansible-runner"' in containerfile

    # The user Python requirements: the collection's requirements.txt, line for line, and kubernetes.
    user_pip = (context / "_build" / "requirements.txt").read_text().splitlines()
    with open(os.path.join(ROOT, "requirements.txt"), encoding="utf-8") as handle:
        own = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert set(own) <= set(user_pip), (own, user_pip)
    assert "kubernetes" in _names(user_pip)
    # ssh for the jobs AWX runs inside ssh-agent (a Machine credential); the interpreter comes from
    # python_interpreter.package_system
    assert (context / "_build" / "bindep.txt").read_text().splitlines() == [
        "openssh-clients [platform:rpm]", "sshpass [platform:rpm]"]

    # Replay the galaxy stage offline: the tarball's collection, with kubernetes.core beside it.
    collections = tmp_path / "collections"
    _run(GALAXY, "collection", "install", "--no-deps", "--force", "--collections-path", str(collections),
         str(context / "_build" / "collections" / tarballs[0]), cwd=tmp_path)
    installed = collections / "ansible_collections" / "airgap" / "operatorhub"
    for role in ("mirror", "import") + CLUSTER_ROLES:
        assert (installed / "roles" / role / "tasks" / "main.yml").is_file(), role
        assert (installed / "roles" / role / "meta" / "argument_specs.yml").is_file(), role
    for playbook in ("mirror.yml", "import.yml", "configure_cluster.yml", "site.yml"):
        assert (installed / "playbooks" / playbook).is_file(), playbook
    core = _kubernetes_core()
    if core is None:
        pytest.skip("kubernetes.core is not installed (pip install -r requirements-cluster.txt)")
    os.makedirs(collections / "ansible_collections" / "kubernetes", exist_ok=True)
    os.symlink(core, collections / "ansible_collections" / "kubernetes" / "core")

    # Builder stage: the context's own introspect.py, as the image build runs it.
    write_pip = tmp_path / "pip.txt"
    _run(sys.executable, str(context / "_build" / "scripts" / "introspect.py"), "introspect", str(collections),
         "--user-pip", str(context / "_build" / "requirements.txt"),
         "--user-bindep", str(context / "_build" / "bindep.txt"), "--write-pip", str(write_pip), cwd=tmp_path)
    pip = _names(write_pip.read_text().splitlines())
    # This collection's modules (urllib3, PyYAML) and kubernetes.core's (kubernetes, jsonpatch ...).
    assert {"urllib3", "pyyaml", "kubernetes", "jsonpatch", "requests-oauthlib"} <= pip, pip
