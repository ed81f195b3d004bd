# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The subscription_state filter: what an OLM Subscription's status says about its resolution,
said once for the operator_install role's waits and its failure report."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
---
name: subscription_state
short_description: What an OLM Subscription's status says about its resolution
version_added: 0.2.0
description:
  - Reads a Subscription (C(operators.coreos.com/v1alpha1)), as C(kubernetes.core.k8s_info) returns
    it in RV(kubernetes.core.k8s_info#module:resources), and says whether OLM resolved it, whether OLM
    found it unsatisfiable, and which of its conditions hold (what C(oc get subscription NAME -o yaml)
    shows under C(status)).
  - Resolved means C(status.currentCSV) is set and OLM either made an InstallPlan for it
    (C(status.installPlanRef)) or installed it already (C(status.installedCSV) equal to C(status.currentCSV)).
  - Unsatisfiable means a C(ResolutionFailed) condition with status C(True) and reason
    C(ConstraintsNotSatisfiable) (the package, channel or CSV is not in the catalogs, or their
    constraints conflict). OLM does not requeue that one; it resolves again only when a catalog or the
    Subscription changes. Other reasons, such as C(ErrorPreventedResolution) (the resolver cache not
    populated while a CatalogSource pod rolls or a source is unreachable), are retried by OLM and are
    not unsatisfiable.
author:
  - airgap.operatorhub maintainers (@airgap-operatorhub)
options:
  _input:
    description:
      - A Subscription resource, one item of RV(kubernetes.core.k8s_info#module:resources); an empty
        dictionary (or V(null)) when there is none.
    type: dict
    required: true
seealso:
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Wait for OLM to resolve the Subscription, or to find it unsatisfiable
  kubernetes.core.k8s_info:
    api_version: operators.coreos.com/v1alpha1
    kind: Subscription
    namespace: openshift-logging
    name: cluster-logging
  register: subscription
  until: >-
    not (subscription.resources | default([]) | first | default({})
         | airgap.operatorhub.subscription_state).pending
  retries: 60
  delay: 5

- name: Name the conditions that hold
  ansible.builtin.debug:
    msg: >-
      {% for c in (subscription.resources | default([]) | first | default({})
                   | airgap.operatorhub.subscription_state).conditions %}{{ c.type }} {{ c.reason | default('') }}
      {% endfor %}
"""

RETURN = r"""
_value:
  description: What the Subscription's status says.
  type: dict
  contains:
    resolved:
      description:
        - Whether OLM resolved the Subscription; C(status.currentCSV) set, and C(status.installPlanRef)
          present or C(status.installedCSV) equal to C(status.currentCSV).
      type: bool
      sample: true
    unsatisfiable:
      description:
        - Whether a C(ResolutionFailed) condition holds (status C(True)) with reason C(ConstraintsNotSatisfiable).
      type: bool
      sample: false
    pending:
      description:
        - Neither resolved nor unsatisfiable; OLM has not resolved the Subscription yet, or retries
          (C(ResolutionFailed) with reason C(ErrorPreventedResolution), an unhealthy CatalogSource).
      type: bool
      sample: false
    conditions:
      description:
        - The Subscription's conditions that hold (status C(True)), in the Subscription's order.
      type: list
      elements: dict
      sample:
        - type: ResolutionFailed
          status: "True"
          reason: ErrorPreventedResolution
          message: "failed to populate resolver cache from source redhat-operators/openshift-marketplace: ..."
"""

UNSATISFIABLE = "ConstraintsNotSatisfiable"


def _mapping(value, what: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(f"subscription_state: {what} must be a dictionary, not {type(value).__name__}")
    return value


def subscription_state(subscription) -> dict:
    """``{resolved, unsatisfiable, pending, conditions}`` of a Subscription resource ({} or None: none)."""
    status = _mapping(_mapping(subscription, "the input (a Subscription resource)").get("status"), "status")
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        raise AnsibleFilterError(f"subscription_state: status.conditions must be a list, not {type(conditions).__name__}")
    holding = [c for c in conditions if isinstance(c, Mapping) and c.get("status") == "True"]
    current = status.get("currentCSV") or ""
    resolved = bool(current) and ("installPlanRef" in status or (status.get("installedCSV") or "") == current)
    unsatisfiable = any(c.get("type") == "ResolutionFailed" and c.get("reason") == UNSATISFIABLE for c in holding)
    return {"resolved": resolved, "unsatisfiable": unsatisfiable, "pending": not (resolved or unsatisfiable),
            "conditions": holding}


class FilterModule:
    """airgap.operatorhub's filters."""

    def filters(self):
        return {"subscription_state": subscription_state}
