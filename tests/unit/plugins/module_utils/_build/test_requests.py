# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""catalog_build's parameters as a CatalogBuildRequest: the source filtered as catalog_info's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._build.requests import CatalogBuildRequest
from ansible_collections.airgap.operatorhub.plugins.module_utils.args import default_of
from ansible_collections.airgap.operatorhub.plugins.module_utils.args_catalog import catalog_build_request
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def params(**overrides):
    values = {"source": None, "packages": None, "full": False, "include_dependencies": False,
              "imageset_config": None, "fbc": None, "base_image": "example.com/opm:v4.16",
              "dest": "mirror.example.com/olm/catalog:v1", "filter_by_os": None, "cache_dir": None,
              "platform": default_of(CatalogBuildRequest, "platform"), "retries": 2, "timeout": 9.0}
    values.update(overrides)
    return SimpleNamespace(params=values)


def test_source_with_packages_is_a_filtered_spec():
    request = catalog_build_request(params(source="example.com/index:v1", packages=["a", "b"]))
    assert request.source.source == "example.com/index:v1"
    assert request.source.filtered and request.source.field == "source"
    assert sorted(request.source.catalog_filter.package_names()) == ["a", "b"]
    assert (request.connection.retries, request.connection.timeout) == (2, 9.0)
    assert request.platform == "linux/amd64"


def test_source_without_filter_keeps_every_package():
    request = catalog_build_request(params(source="example.com/index:v1"))
    assert not request.source.filtered


def test_fbc_alone_has_no_source():
    request = catalog_build_request(params(fbc="/srv/fbc"))
    assert request.source is None and request.fbc == "/srv/fbc"


def test_imageset_config_names_the_source_and_filter():
    isc = {"apiVersion": "mirror.openshift.io/v2alpha1", "kind": "ImageSetConfiguration",
           "mirror": {"operators": [{"catalog": "example.com/index:v1", "packages": [{"name": "a"}]}]}}
    request = catalog_build_request(params(imageset_config=isc))
    assert request.source.source == "example.com/index:v1"
    assert sorted(request.source.catalog_filter.package_names()) == ["a"]


def test_a_filter_without_a_source_is_refused():
    with pytest.raises(ConfigError, match="filter the source"):
        catalog_build_request(params(fbc="/srv/fbc", packages=["a"]))


def test_no_input_is_refused():
    with pytest.raises(ConfigError, match="at least one input"):
        CatalogBuildRequest(base_image="b", dest="d")
