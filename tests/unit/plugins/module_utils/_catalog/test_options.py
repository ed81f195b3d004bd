# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""filter_from_options: package and channel selectors from module options, and the errors that
name the field."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import (
    ChannelSelector,
    PackageSelector,
    filter_from_options,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


def test_options_names_and_mappings():
    flt = filter_from_options([
        "a",
        {"name": "b", "channels": ["x", {"name": "y", "minVersion": "1.0.0"}], "defaultChannel": "y"},
        {"name": "c", "min_version": "1.2", "max_version": "v2.0.0"},
        {"name": "d", "bundles": ["d.v1", {"name": "d.v2"}]},
    ])
    assert flt.packages[0] == PackageSelector("a")
    assert flt.packages[1].channels == [ChannelSelector("x"), ChannelSelector("y", "1.0.0")]
    assert flt.packages[1].default_channel == "y"
    assert (flt.packages[2].min_version, flt.packages[2].max_version) == ("1.2", "v2.0.0")
    assert flt.packages[3].bundles == ["d.v1", "d.v2"]
    assert flt.package_names() == {"a", "b", "c", "d"}
    assert filter_from_options(None).package_names() is None
    assert filter_from_options(["a"], include_dependencies=True).package_names() is None


@pytest.mark.parametrize("packages, field, message", [
    ([{"name": "a"}, {"name": "b"}, {"name": "c", "chanels": []}], "catalogs[0].packages",
     "catalogs[0].packages[2].chanels: unknown field; did you mean 'channels'?"),
    ([{"name": "a", "channels": [{"name": "s", "minVersoin": "1.0.0"}]}], "packages",
     "packages[0].channels[0].minVersoin: unknown field; did you mean 'minVersion'?"),
    ([{"name": "a", "minBundle": "a.v1"}], "packages", "minBundle is an oc-mirror v1 field"),
    ([{"name": "a", "minVersion": 4.1}], "packages", "quote it"),
    ([{"name": "a", "maxVersion": "abc"}], "packages", "packages[0].maxVersion: 'abc' is not a semantic version"),
    ([{"name": "a", "minVersion": "1.0.0", "min_version": "1.0.0"}], "packages", "both 'minVersion' and 'min_version'"),
    ([{"channels": ["s"]}], "packages", "packages[0].name: a package needs a name"),
    ([{"name": "a"}, "a"], "packages", "duplicate package entry"),
    ([{"name": "a", "channels": ["s", {"name": "s"}]}], "packages", "duplicate channel entry 's'"),
    ([{"name": "a", "minVersion": "2.0.0", "maxVersion": "1.0.0"}], "packages",
     "minVersion '2.0.0' is greater than maxVersion '1.0.0'"),
    ([{"name": "a", "channels": [{"name": "s", "maxVersion": "1.0.0"}], "minVersion": "0.1.0"}], "packages",
     "exclusive"),
    ([{"name": "a", "bundles": ["a.v1"], "channels": ["s"]}], "packages", "mixing both filtering by bundles"),
    ([3], "packages", "packages[0]: a package is a name or a mapping"),
    ("a", "packages", "must be a list"),
])
def test_options_errors_name_the_field(packages, field, message):
    with pytest.raises(ConfigError) as info:
        filter_from_options(packages, field=field)
    assert message in str(info.value)


def test_full_with_range_is_an_error():
    with pytest.raises(ConfigError, match="full: true cannot be mixed with minVersion/maxVersion"):
        filter_from_options([{"name": "a", "minVersion": "1.0.0"}], full=True)
    with pytest.raises(ConfigError, match="full: true cannot be mixed"):
        filter_from_options([{"name": "a", "channels": [{"name": "s", "maxVersion": "1.0.0"}]}], full=True)
    with pytest.raises(ConfigError, match="full: true cannot be mixed with filtering by bundle"):
        filter_from_options([{"name": "a", "bundles": ["a.v1"]}], full=True)
