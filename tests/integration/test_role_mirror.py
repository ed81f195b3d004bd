# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The airgap.operatorhub.mirror role through playbooks/mirror.yml, against real registries.

The catalog is a small FBC written here whose bundle and related images are the sample images
pushed into the plain source registry, packed into a catalog image with the builder of
tests/integration/test_catalog_image.py. The target is a TLS + htpasswd registry whose password
is given in ``mirror_registries``; it must never show in the output, even with -v.

Each case runs the four ways of the house style: check mode, real, check mode again (no change
reported), real again (no change).
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.support.catalog_images import push_catalog, write_demo_fbc
from tests.support.registry import registry_options
from tests.support.playbook import run_playbook

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "mirror.yml")
FILES = ["mapping.txt", "imageContentSourcePolicy.yaml", "imageDigestMirrorSet.yaml", "catalogSource.yaml",
         "clusterCatalog.yaml"]


def mirror_result(run):
    facts = [t["result"]["ansible_facts"]["mirror_result"] for t in run.result["tasks"]
             if t["task"].endswith("Set mirror_result")]
    assert facts, run.output
    return facts[-1]


def four_ways(tmp_path, extra_vars, secret, written=(), after_check=None):
    runs = {}
    for label, check in (("check", True), ("real", False), ("check-again", True), ("real-again", False)):
        # -v prints every task result, -vvv the connection's commands too
        run = run_playbook(str(tmp_path / label), PLAYBOOK, extra_vars, check=check,
                           verbosity=3 if label == "real" else 1)
        assert run.rc == 0, (label, run.output)
        assert secret not in run.output, label
        assert secret not in json.dumps(run.result["tasks"]), label
        if label == "check":
            assert not any(os.path.exists(path) for path in written), "check mode wrote files"
            if after_check:
                after_check()
        runs[label] = run
    for label in ("check-again", "real-again"):
        assert runs[label].result["stats"]["localhost"]["changed"] == 0, runs[label].output
    return runs


@pytest.fixture(scope="module")
def demo_catalog(plain_registry, image_set, tmp_path_factory):
    """The demo FBC as a catalog image in the source registry: (ref, app0, app1 by digest, app2)."""
    tmp = tmp_path_factory.mktemp("role-catalog")
    app0, app1_digest, app2 = write_demo_fbc(str(tmp / "fbc"), image_set)
    index_ref = push_catalog(str(tmp / "fbc"), tmp, plain_registry, "src/role-demo-index", "v1")[0]
    return index_ref, app0, app1_digest, app2


def test_catalogs_and_extra_images_four_ways(tmp_path, plain_registry, registry_factory, image_set, demo_catalog,
                                             skopeo_inspect):
    """Method 1 (oc adm catalog mirror) and a mapping file of additional images, in one run."""
    target = registry_factory(tls=True, auth="htpasswd")
    index_ref, app0, app1_digest = demo_catalog[:3]
    # method 1 plus "additional images": app0 belongs to the filtered-out bundle, mirrored by hand
    extra = tmp_path / "extra-mapping.txt"
    extra.write_text(f"{app0}={target.host}/extra/app0:v1\n")
    out, reports = tmp_path / "out", tmp_path / "reports"
    extra_vars = {
        "mirror_catalogs": [{"source": index_ref, "packages": ["demo"]}],
        "mirror_dest": f"{target.host}/olm",
        "mirror_output_dir": str(out),
        "mirror_max_components": 0,
        "mirror_mapping_files": [str(extra)],
        "mirror_report_dir": str(reports),
        "mirror_cache_dir": str(tmp_path / "cache"),
        "mirror_registries": registry_options(plain_registry, target),
    }

    def nothing_landed():
        with pytest.raises(RuntimeError):
            skopeo_inspect(target, "extra/app0:v1", raw=True)

    runs = four_ways(tmp_path, extra_vars, target.password, written=(out, reports), after_check=nothing_landed)
    check, real, check2, real2 = (mirror_result(runs[k]) for k in ("check", "real", "check-again", "real-again"))

    assert check["changed"] is True and check["check_mode"] is True
    assert check["catalogs"][0]["name"] == "role-demo-index"
    assert sorted(check["catalogs"][0]["files_changed"]) == sorted(FILES + ["imageTagMirrorSet.yaml"])
    # the catalog is filtered: its images are copied, the catalog itself is built pruned, not copied
    assert check["catalog_copy"]["missing"] == 2 and check["catalog_copy"]["copied"] == 0
    assert check["mapping_copy"]["missing"] == 1

    assert real["changed"] is True and real["check_mode"] is False
    assert real["catalogs"][0]["files_changed"] == check["catalogs"][0]["files_changed"]
    assert real["catalogs"][0]["images"] == 2 and real["catalogs"][0]["pruned"] is True
    assert real["catalog_copy"]["copied"] == 2 and real["catalog_copy"]["failed"] == 0
    assert real["mapping_copy"]["copied"] == 1
    assert sorted(real["reports"]) == [str(reports / "catalog-mirror.json"), str(reports / "mapping-mirror.json")]
    assert json.loads((reports / "catalog-mirror.json").read_text())["state"] == "finished"

    for again in (check2, real2):
        assert again["changed"] is False
        assert again["catalogs"][0]["files_changed"] == []
        assert again["catalog_copy"]["copied"] == 0 and again["catalog_copy"]["missing"] == 0
        assert again["mapping_copy"]["copied"] == 0 and again["mapping_copy"]["missing"] == 0
    assert real2["catalog_copy"]["present"] == 2 and real2["catalog_copy"]["bytes_sent"] == 0
    assert real2["catalogs"][0]["catalog_image"] == real["catalogs"][0]["catalog_image"]

    directory = out / "role-demo-index"
    for name in FILES:
        assert (directory / name).is_file(), name
    lines = (directory / "mapping.txt").read_text().splitlines()
    assert not any(line.startswith(index_ref + "=") for line in lines)
    assert not any(line.startswith(app0 + "=") for line in lines)
    index_repo = index_ref.split("/", 1)[1].rsplit(":", 1)[0]
    pruned_digest = skopeo_inspect(target, f"olm/{index_repo}:v1")["Digest"]
    pruned = f"{target.host}/olm/{index_repo}@{pruned_digest}"
    assert lines[0].startswith(f"# {pruned}:")
    catalog_source = yaml.safe_load((directory / "catalogSource.yaml").read_text())
    assert catalog_source["spec"]["image"] == pruned == real["catalogs"][0]["catalog_image"]

    # what landed, seen by skopeo: the pruned catalog image, the head bundle's images, the extra image
    assert skopeo_inspect(target, f"olm/{index_repo}:v1", raw=True)
    repo1 = app1_digest.split("/", 1)[1].split("@")[0]
    assert skopeo_inspect(target, f"olm/{repo1}@{image_set.image('app1').digest}", raw=True)
    assert skopeo_inspect(target, "extra/app0:v1", raw=True) == skopeo_inspect(plain_registry, app0, raw=True)


def test_manifests_only_then_mapping_four_ways(tmp_path, plain_registry, registry_factory, demo_catalog,
                                               skopeo_inspect):
    """Method 2 in one run: --manifests-only, then the mapping.txt it wrote mirrored."""
    target = registry_factory(tls=True, auth="htpasswd")
    index_ref = demo_catalog[0]
    mapping = tmp_path / "out" / "role-demo-index" / "mapping.txt"
    extra_vars = {
        "mirror_catalogs": [{"source": index_ref, "packages": ["demo"]}],
        "mirror_dest": f"{target.host}/olm",
        "mirror_output_dir": str(tmp_path / "out"),
        "mirror_manifests_only": True,
        "mirror_mapping_files": [str(mapping)],
        "mirror_cache_dir": str(tmp_path / "cache"),
        "mirror_registries": registry_options(plain_registry, target),
    }
    runs = four_ways(tmp_path, extra_vars, target.password, written=(tmp_path / "out",))
    check, real, check2, real2 = (mirror_result(runs[k]) for k in ("check", "real", "check-again", "real-again"))
    # the dry run cannot read a mapping.txt that is not written yet: it says so instead of failing
    assert check["changed"] is True and check["mapping_files_pending"] == [str(mapping)]
    assert check["mapping_files"] == [] and check["mapping_copy"] is None and check["catalog_copy"] is None
    # the catalog is filtered: mapping.txt holds the images of the kept bundle, not the catalog
    assert real["changed"] is True and real["mapping_copy"]["copied"] == 2 and real["catalog_copy"] is None
    assert check2["changed"] is False and check2["mapping_files_pending"] == []
    assert check2["mapping_copy"]["missing"] == 0
    assert real2["changed"] is False and real2["mapping_copy"]["present"] == 2
    # max_components 2 (the default): the pruned catalog is named olm/src-role-demo-index, by the
    # digest the catalog_build task the module warns about pushes; manifests_only pushed nothing
    catalog_image = real["catalogs"][0]["catalog_image"]
    assert real["catalogs"][0]["pruned"] is True
    assert catalog_image.startswith(f"{target.host}/olm/src-role-demo-index@sha256:")
    assert real2["catalogs"][0]["catalog_image"] == catalog_image
    with pytest.raises(RuntimeError):
        skopeo_inspect(target, "olm/src-role-demo-index:v1", raw=True)


def test_mapping_files_only_four_ways(tmp_path, plain_registry, registry_factory, image_set, skopeo_inspect):
    """Method 2's second half: a trimmed mapping.txt mirrored alone, no catalog, no dest."""
    target = registry_factory(tls=True, auth="htpasswd")
    mapping = tmp_path / "mapping.txt"
    mapping.write_text("# trimmed by hand\n" + "".join(
        f"{image_set.pushed[name]}={target.host}/trimmed/{name}:v1\n" for name in ("app1", "app2")))
    extra_vars = {"mirror_mapping_files": [str(mapping)], "mirror_registries": registry_options(plain_registry, target)}
    runs = four_ways(tmp_path, extra_vars, target.password)
    check, real, check2, real2 = (mirror_result(runs[k]) for k in ("check", "real", "check-again", "real-again"))
    assert check["changed"] is True and check["mapping_copy"]["missing"] == 2
    assert check["catalogs"] == [] and check["catalog_copy"] is None
    assert real["changed"] is True and real["mapping_copy"]["copied"] == 2 and real["reports"] == []
    assert check2["changed"] is False and check2["mapping_copy"]["missing"] == 0
    assert real2["changed"] is False and real2["mapping_copy"]["present"] == 2
    for name in ("app1", "app2"):
        assert skopeo_inspect(target, f"trimmed/{name}:v1", raw=True) == skopeo_inspect(
            plain_registry, image_set.pushed[name], raw=True)


def test_catalogs_need_a_destination(tmp_path):
    run = run_playbook(str(tmp_path / "run"), PLAYBOOK, {"mirror_catalogs": [{"source": "/nonexistent"}]})
    assert run.rc != 0
    assert "mirror_dest" in run.output and "mirror_output_dir" in run.output


def test_mapping_files_sharded_across_the_hosts_of_the_play(tmp_path, plain_registry, registry_factory, image_set,
                                                            skopeo_inspect):
    """mirror_shard: three inventory hosts each mirror a disjoint part of one mapping.txt, and
    together all of it."""
    target = registry_factory()
    lines = [f"{image_set.pushed[name]}={target.host}/fan{n}/{name}:v1" for name in ("app0", "app1", "app2")
             for n in range(4)]
    mapping = tmp_path / "mapping.txt"
    mapping.write_text("\n".join(lines) + "\n")
    hosts = ("mirror-a", "mirror-b", "mirror-c")
    extra_vars = {"mirror_hosts": "all", "mirror_shard": True, "mirror_mapping_files": [str(mapping)],
                  "mirror_registries": registry_options(plain_registry, target)}
    run = run_playbook(str(tmp_path / "run"), PLAYBOOK, extra_vars, hosts=hosts)
    assert run.rc == 0, run.output
    copied = {}
    for task in run.result["tasks"]:
        if task["task"].endswith("Mirror the mapping files (oc image mirror -f mapping.txt)"):
            copied[task["host"]] = [c["dest"] for c in task["result"].get("copied", [])]
    assert sorted(copied) == list(hosts)
    everything = [dest for part in copied.values() for dest in part]
    assert sorted(everything) == sorted(line.split("=")[1] for line in lines)  # all, each once
    assert sum(1 for part in copied.values() if part) >= 2
    for line in lines:
        assert skopeo_inspect(target, line.split("=")[1], raw=True)
