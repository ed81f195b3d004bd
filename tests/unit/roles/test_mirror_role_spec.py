# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mirror role's meta/argument_specs.yml must not drift from the modules it passes options to:
an option the module has and the role's spec lacks (client_cert once) fails only in a user's run.

Each role option that is handed to a module option must agree with it on type, elements,
choices, default and, for dictionaries, every suboption; defaults/main.yml must hold the spec's
defaults.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "mirror"

# role option -> (module, module option)
PASSED_TO = {
    "mirror_catalogs": ("catalog_mirror", "catalogs"),
    "mirror_dest": ("catalog_mirror", "dest"),
    "mirror_output_dir": ("catalog_mirror", "output_dir"),
    "mirror_manifests_only": ("catalog_mirror", "manifests_only"),
    "mirror_naming": ("catalog_mirror", "naming"),
    "mirror_max_components": ("catalog_mirror", "max_components"),
    "mirror_max_nested_paths": ("catalog_mirror", "max_nested_paths"),
    "mirror_icsp_scope": ("catalog_mirror", "icsp_scope"),
    "mirror_cache_dir": ("catalog_mirror", "cache_dir"),
    "mirror_base_image": ("catalog_mirror", "base_image"),
    "mirror_mapping_files": ("image_mirror_from_mapping", "mapping_file"),
    "mirror_filter_by_os": ("image_mirror_from_mapping", "filter_by_os"),
    "mirror_parallel_images": ("image_mirror_from_mapping", "parallel_images"),
    "mirror_parallel_layers": ("image_mirror_from_mapping", "parallel_layers"),
    "mirror_auth_file": ("image_mirror_from_mapping", "auth_file"),
    "mirror_registries": ("image_mirror_from_mapping", "registries"),
}
# Required in a module, optional in the role (which checks them only when they are needed).
ROLE_MAY_OMIT = {"mirror_catalogs", "mirror_dest", "mirror_output_dir", "mirror_mapping_files"}


class _Captured(Exception):
    pass


def module_spec(name, monkeypatch):
    """The argument spec a module's main() builds, captured at AnsibleModule()."""
    module = importlib.import_module(f"ansible_collections.airgap.operatorhub.plugins.modules.{name}")

    def capture(**kwargs):
        raise _Captured(kwargs)

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(_Captured) as info:
        module.main()
    return info.value.args[0]["argument_spec"]


def role_options():
    with open(ROLE / "meta" / "argument_specs.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def _comparable(option, required_too=True):
    out = {key: option.get(key) for key in ("type", "elements", "choices")}
    out["type"] = out["type"] or "str"
    out["default"] = option.get("default")
    out["no_log"] = bool(option.get("no_log"))
    if required_too:
        out["required"] = bool(option.get("required"))
    if "options" in option:
        out["options"] = {k: _comparable(v) for k, v in option["options"].items()}
    return out


@pytest.mark.parametrize("role_option", sorted(PASSED_TO))
def test_role_option_matches_the_module_option(role_option, monkeypatch):
    module, option = PASSED_TO[role_option]
    spec = module_spec(module, monkeypatch)[option]
    role = role_options()[role_option]
    want = _comparable(spec, required_too=False)
    have = _comparable(role, required_too=False)
    if role_option in ROLE_MAY_OMIT:
        # the role's empty default stands for "not given"; the module requires the option
        have.pop("default")
        want.pop("default")
    if role_option == "mirror_catalogs":
        # the role hands each entry to the module unchanged; the module checks its keys
        want.pop("options")
    assert have == want, f"roles/mirror/meta/argument_specs.yml {role_option} drifted from {module}.{option}"


def test_every_registry_option_of_the_modules_is_in_the_role(monkeypatch):
    spec = module_spec("image_mirror_from_mapping", monkeypatch)
    assert set(role_options()["mirror_registries"]["options"]) == set(spec["registries"]["options"])


def test_defaults_file_holds_the_spec_defaults():
    with open(ROLE / "defaults" / "main.yml", encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    options = role_options()
    for name, value in defaults.items():
        assert name in options, f"defaults/main.yml sets {name}, which meta/argument_specs.yml does not declare"
        assert options[name].get("default") == value, name
    for name, option in options.items():
        if "default" in option:
            assert defaults.get(name) == option["default"], f"{name}: defaults/main.yml and the spec differ"
