# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate Kubernetes objects against the real CRD schemas of tests/fixtures/crds, as an API
server would at admission (openAPIV3Schema of the served storage version; the x-kubernetes-*
extensions and CEL rules are left out: no API server runs here)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

_VALIDATORS: dict = {}


def _without_extensions(node):
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if isinstance(node, list):
        return [_without_extensions(v) for v in node]
    return node


def crd_validator(crd_file: Path, kind: str):
    """(apiVersion, validator) of the served storage version of ``kind``'s CRD in ``crd_file``."""
    key = (str(crd_file), kind)
    if key not in _VALIDATORS:
        crd = yaml.safe_load(Path(crd_file).read_text(encoding="utf-8"))
        assert crd["spec"]["names"]["kind"] == kind, f"{crd_file} is not the CRD of {kind}"
        served = [v for v in crd["spec"]["versions"] if v.get("served")]
        version = next((v for v in served if v.get("storage")), served[0])
        schema = _without_extensions(version["schema"]["openAPIV3Schema"])
        _VALIDATORS[key] = (f"{crd['spec']['group']}/{version['name']}", jsonschema.Draft7Validator(schema))
    return _VALIDATORS[key]


def assert_matches_crd(obj: dict, crd_file: Path) -> None:
    """``obj`` has its CRD's apiVersion and is accepted by its schema; errors name the field."""
    kind = obj["kind"]
    api_version, validator = crd_validator(crd_file, kind)
    assert obj["apiVersion"] == api_version
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{kind} {'/'.join(map(str, e.path))}: {e.message}" for e in errors)
