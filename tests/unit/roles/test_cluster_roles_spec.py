# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster roles' meta/argument_specs.yml against what they hand to kubernetes.core.

Every cluster role takes the same connection option set, prefixed with its name; each option
must be one kubernetes.core's modules take (same type, secrets no_log) and must reach them
through the role's module_defaults, falling back to the host variable cluster_<option>. The
roles' inputs are prefixed with the role name, defaults/main.yml holds the spec's defaults,
and kubernetes.core is only called inside the block that sets those defaults, never shell.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[3] / "roles"
CLUSTER_ROLES = ["default_sources", "catalog_sources"]
CONNECTION = ["kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert", "proxy"]


def _yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_options(role):
    return _yaml(ROLES_DIR / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


def kubernetes_core_auth_spec():
    """kubernetes.core's AUTH_ARG_SPEC, read from the `ansible` package (plain Python, no imports)."""
    for entry in sys.path:
        path = Path(entry) / "ansible_collections" / "kubernetes" / "core" / "plugins" / "module_utils" / "args_common.py"
        if path.is_file():
            spec = importlib.util.spec_from_file_location("_kubernetes_core_args_common", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.AUTH_ARG_SPEC
    pytest.skip("kubernetes.core is not installed (the `ansible` package, installed by hack/bootstrap.sh in .venv)")
    return None


def walk_tasks(tasks, inherited=None):
    """(task, module_defaults in force) for every task, blocks flattened."""
    for task in tasks:
        defaults = task.get("module_defaults", inherited)
        if "block" in task:
            yield from walk_tasks(task["block"] + task.get("rescue", []) + task.get("always", []), defaults)
        else:
            yield task, defaults


def role_tasks(role):
    return list(walk_tasks(_yaml(ROLES_DIR / role / "tasks" / "main.yml")))


@pytest.mark.parametrize("role", CLUSTER_ROLES)
def test_connection_options_are_kubernetes_core_options(role):
    auth = kubernetes_core_auth_spec()
    options = role_options(role)
    for name in CONNECTION:
        mine, theirs = options[f"{role}_{name}"], auth[name]
        assert "default" not in mine, f"{role}_{name}: unset must fall back to cluster_{name}"
        assert not mine.get("required"), name
        if name == "kubeconfig":
            # kubernetes.core also takes an inline dict (hence raw and no_log); the role takes a file
            assert mine["type"] == "path"
            continue
        assert mine.get("type", "str") == theirs.get("type", "str"), name
        assert bool(mine.get("no_log")) == bool(theirs.get("no_log")), name
    assert options[f"{role}_api_key"]["no_log"] is True


def test_connection_options_are_the_same_in_every_cluster_role():
    def strip(role):
        return {name: role_options(role)[f"{role}_{name}"] for name in CONNECTION}
    first = strip(CLUSTER_ROLES[0])
    for role in CLUSTER_ROLES[1:]:
        text = yaml.safe_dump(strip(role)).replace(role, CLUSTER_ROLES[0])
        assert yaml.safe_load(text) == first, f"{role}'s connection options drifted from {CLUSTER_ROLES[0]}'s"


@pytest.mark.parametrize("role", CLUSTER_ROLES)
def test_module_defaults_pass_every_connection_option(role):
    k8s_tasks = [(task, defaults) for task, defaults in role_tasks(role)
                 if any(key.startswith("kubernetes.core.") for key in task)]
    assert k8s_tasks, f"{role} calls no kubernetes.core module"
    for task, defaults in k8s_tasks:
        assert defaults and set(defaults) == {"group/kubernetes.core.k8s"}, task["name"]
        given = defaults["group/kubernetes.core.k8s"]
        assert set(given) == set(CONNECTION), task["name"]
        for name in CONNECTION:
            assert given[name] == f"{{{{ {role}_{name} | default(cluster_{name} | default(omit)) }}}}", name
        # kubernetes.core 6.2 returns a failed task's arguments unmasked: hidden when a token is used
        assert task.get("no_log") == f"{{{{ __{role}_hide }}}}", task["name"]
        module_args = next(v for k, v in task.items() if k.startswith("kubernetes.core."))
        assert not set(module_args) & set(CONNECTION), f"{task['name']}: connection options belong in module_defaults"


@pytest.mark.parametrize("role", CLUSTER_ROLES)
def test_only_modules_no_shell(role):
    for task, dummy in role_tasks(role):
        modules = [k for k in task if "." in k and k.split(".")[0] in ("ansible", "kubernetes", "airgap")]
        assert len(modules) == 1, task["name"]
        assert modules[0] not in ("ansible.builtin.shell", "ansible.builtin.command", "ansible.builtin.raw"), task["name"]


@pytest.mark.parametrize("role", CLUSTER_ROLES)
def test_inputs_prefixed_and_defaults_file_holds_the_spec_defaults(role):
    options = role_options(role)
    assert all(name.startswith(role + "_") for name in options), sorted(options)
    defaults = _yaml(ROLES_DIR / role / "defaults" / "main.yml") or {}
    for name, value in defaults.items():
        assert name in options, f"defaults/main.yml sets {name}, which meta/argument_specs.yml does not declare"
        assert options[name].get("default") == value, name
    for name, option in options.items():
        if "default" in option:
            assert defaults.get(name) == option["default"], f"{name}: defaults/main.yml and the spec differ"


def test_catalog_sources_choices_are_the_crd_enum():
    """securityContextConfig's choices are the CatalogSource CRD's enum."""
    from tests.support.corpus import CRDS
    path = CRDS / "operator-framework-api" / "operators.coreos.com_catalogsources.yaml"
    if not path.exists():
        pytest.skip(f"test fixture not found: {path}")
    crd = _yaml(path)
    enum = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "grpcPodConfig"]["properties"]["securityContextConfig"]["enum"]
    options = role_options("catalog_sources")
    assert options["catalog_sources_security_context_config"]["choices"] == enum
    assert options["catalog_sources_list"]["options"]["security_context_config"]["choices"] == enum
