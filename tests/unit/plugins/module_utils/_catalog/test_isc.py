# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ImageSetConfiguration loading: text, mapping and file input, v1alpha2, several documents, and
errors that name the path."""

from __future__ import annotations

import pytest

from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.isc import (
    ImageSetConfig,
    IscCatalog,
    load_imageset_config,
)
from ansible_collections.airgap.operatorhub.plugins.module_utils._catalog.options import ChannelSelector
from ansible_collections.airgap.operatorhub.plugins.module_utils.errors import ConfigError


ISC = """
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v2alpha1
archiveSize: 4
mirror:
  platform:
    channels: [{name: stable-4.18}]
  additionalImages: [{name: quay.io/a/b:c}]
  helm: {}
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.18
    targetCatalog: my/index
    targetTag: v1
    packages:
    - name: a
      channels:
      - name: stable
        minVersion: '1.0.0'
  - catalog: oci:///tmp/catalog
    full: true
"""


def test_isc_text_dict_and_path(tmp_path):
    result = load_imageset_config(ISC)
    assert isinstance(result, ImageSetConfig) and len(result) == 2
    first, second = result
    assert isinstance(first, IscCatalog)
    assert (first.catalog, first.target_catalog, first.target_tag) == (
        "registry.redhat.io/redhat/redhat-operator-index:v4.18", "my/index", "v1")
    assert first.filter.packages[0].channels[0] == ChannelSelector("stable", "1.0.0")
    assert second.filter.full and not second.filter.packages
    text = "\n".join(result.warnings)
    for section in ("mirror.platform", "mirror.additionalImages", "mirror.helm", "archiveSize"):
        assert section in text
    path = tmp_path / "isc.yaml"
    path.write_text(ISC, encoding="utf-8")
    assert [c.catalog for c in load_imageset_config(path)] == [c.catalog for c in result]
    assert [c.catalog for c in load_imageset_config(str(path))] == [c.catalog for c in result]
    import yaml
    assert [c.catalog for c in load_imageset_config(yaml.safe_load(ISC))] == [c.catalog for c in result]


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["mirror"]["operators"][0]["packages"][0]["channels"][0].update(minVersion="x.y"),
     "mirror.operators[0].packages[0].channels[0].minVersion: 'x.y' is not a semantic version"),
    (lambda d: d["mirror"]["operators"][0]["packages"].append({"name": "b", "chanels": []}),
     "mirror.operators[0].packages[1].chanels: unknown field; did you mean 'channels'?"),
    (lambda d: d["mirror"]["operators"][1].update(packges=[]),
     "mirror.operators[1].packges: unknown field; did you mean 'packages'?"),
    (lambda d: d["mirror"]["operators"][0].update(targetCatalog="my/index:v1"),
     "mirror.operators[0].targetCatalog: 'my/index:v1' is not a repository path"),
    (lambda d: d["mirror"]["operators"][0].update(targetTag="-bad"), "mirror.operators[0].targetTag"),
    (lambda d: d["mirror"]["operators"][1].update(full="yes"), "mirror.operators[1].full: must be true or false"),
    (lambda d: d["mirror"]["operators"].append(dict(d["mirror"]["operators"][1])), "is listed twice"),
    (lambda d: d.update(apiVersion="mirror.openshift.io/v9"), "apiVersion: expected one of"),
    (lambda d: d.update(kind="DeleteImageSetConfiguration"), "DeleteImageSetConfiguration describes images to delete"),
    (lambda d: d.update(kind="Other"), "kind: expected 'ImageSetConfiguration'"),
    (lambda d: d.update(mirorr={}), "(top level).mirorr: unknown field; did you mean 'mirror'?"),
    (lambda d: d["mirror"].pop("operators"), "has no mirror.operators entry"),
])
def test_isc_errors_name_the_path(edit, message):
    import yaml
    data = yaml.safe_load(ISC)
    edit(data)
    with pytest.raises(ConfigError) as info:
        load_imageset_config(data)
    assert message in str(info.value)


def test_isc_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the ImageSetConfiguration"):
        load_imageset_config(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+:\d+: invalid YAML"):
        load_imageset_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        load_imageset_config(empty)


def test_isc_v1alpha2_and_multi_document():
    text = """
apiVersion: mirror.openshift.io/v1alpha2
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
    targetName: my-index
    packages: [{name: a}]
---
apiVersion: mirror.openshift.io/v1alpha2
kind: ImageSetConfiguration
mirror:
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.10
    full: true
"""
    result = load_imageset_config(text)
    assert [c.target_catalog for c in result] == ["redhat/my-index", None]
    assert any("2 YAML documents" in w for w in result.warnings)
    with pytest.raises(ConfigError, match="document 1: mirror.operators\\[0\\].targetName: unknown field"):
        load_imageset_config(text.replace("v1alpha2", "v2alpha1"))
