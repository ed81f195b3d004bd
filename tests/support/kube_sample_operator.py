# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sample operator catalogs whose bundles carry a full CSV (deployments, install modes), for the
simulated OLM install (kube_install_sim.py) and the operator_install role's tests.

A real catalog built by ``opm render`` carries each bundle's CSV in an ``olm.bundle.object``
property (base64 JSON); this writes the same shape, so the simulation can read the deployment
images a node would pull. Push the directory with :func:`tests.support.catalog_images.push_catalog`.
"""

from __future__ import annotations

import base64
import json
import os

INSTALL_MODES = ("OwnNamespace", "SingleNamespace", "MultiNamespace", "AllNamespaces")


def sample_csv(package: str, version: str, images: list[str], replaces: str | None = None,
               related: list[str] = (), provider: str = "Airgap Lab", install_modes=INSTALL_MODES) -> dict:
    """A ClusterServiceVersion for ``package`` ``version`` with one deployment
    ``<package>-controller-manager`` whose containers run ``images`` (the first one is the manager),
    supporting ``install_modes`` (all four by default)."""
    name = f"{package}.v{version}"
    containers = [{"name": "manager" if i == 0 else f"sidecar-{i}", "image": image} for i, image in enumerate(images)]
    spec = {
        "displayName": package.replace("-", " ").title(),
        "description": f"{package} for the air-gap lab",
        "version": version,
        "provider": {"name": provider},
        "maturity": "stable",
        "installModes": [{"type": mode, "supported": mode in install_modes} for mode in INSTALL_MODES],
        "install": {"strategy": "deployment", "spec": {"deployments": [{
            "name": f"{package}-controller-manager",
            "spec": {"replicas": 1, "selector": {"matchLabels": {"control-plane": package}},
                     "template": {"metadata": {"labels": {"control-plane": package}},
                                  "spec": {"containers": containers}}},
        }]}},
        "relatedImages": [{"name": f"related-{i}", "image": image} for i, image in enumerate(related)],
    }
    if replaces:
        spec["replaces"] = replaces
    return {"apiVersion": "operators.coreos.com/v1alpha1", "kind": "ClusterServiceVersion",
            "metadata": {"name": name, "annotations": {"capabilities": "Basic Install"},
                         "labels": {"operatorframework.io/arch.amd64": "supported",
                                    "operatorframework.io/os.linux": "supported"}},
            "spec": spec}


def write_operator_package(directory: str, package: str, channel: str, bundles: list[dict]) -> str:
    """Write ``directory/<package>/catalog.json``: the package, one channel (each bundle replacing
    the one before) and the bundles. Each bundle: {version, image (the bundle image), images (the
    deployment's), related (extra related images, optional), install_modes (the supported ones,
    optional: all four)}. Returns ``directory``."""
    blobs = [{"schema": "olm.package", "name": package, "defaultChannel": channel,
              "description": f"{package} (sample)"}]
    entries, names = [], []
    for bundle in bundles:
        name = f"{package}.v{bundle['version']}"
        entry = {"name": name}
        if names:
            entry["replaces"] = names[-1]
        entries.append(entry)
        names.append(name)
    blobs.append({"schema": "olm.channel", "package": package, "name": channel, "entries": entries})
    for index, bundle in enumerate(bundles):
        related = list(bundle.get("related") or [])
        csv = sample_csv(package, bundle["version"], bundle["images"], names[index - 1] if index else None,
                         related=related, install_modes=bundle.get("install_modes") or INSTALL_MODES)
        related_images = [{"name": "bundle", "image": bundle["image"]}]
        related_images += [{"name": c["name"], "image": c["image"]} for c in
                           csv["spec"]["install"]["spec"]["deployments"][0]["spec"]["template"]["spec"]["containers"]]
        related_images += csv["spec"]["relatedImages"]
        blobs.append({
            "schema": "olm.bundle", "package": package, "name": names[index], "image": bundle["image"],
            "properties": [
                {"type": "olm.package", "value": {"packageName": package, "version": bundle["version"]}},
                {"type": "olm.bundle.object",
                 "value": {"data": base64.b64encode(json.dumps(csv).encode()).decode()}},
            ],
            "relatedImages": related_images,
        })
    os.makedirs(os.path.join(directory, package), exist_ok=True)
    with open(os.path.join(directory, package, "catalog.json"), "w", encoding="utf-8") as handle:
        for blob in blobs:
            handle.write(json.dumps(blob, indent=2) + "\n")
    return directory
