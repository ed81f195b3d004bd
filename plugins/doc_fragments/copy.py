# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of the copy engine, shared by every module that mirrors images.
    DOCUMENTATION = r"""
options:
  filter_by_os:
    description:
      - A regular expression on C(os/architecture[/variant]). Only the matching entries of a manifest
        list are copied, as C(oc image mirror --filter-by-os) does. One match is pushed as a single-platform
        manifest, several as a new list; the result then reports that the digest changed, and
        digest-pinned consumers of that image will not find it.
      - By default the whole list is copied unchanged, which is what a disconnected cluster needs.
    type: str
  parallel_images:
    description: How many images are copied at the same time (C(oc image mirror --max-per-registry)).
    type: int
    default: 4
  parallel_layers:
    description: How many blobs are transferred at the same time, across all images.
    type: int
    default: 8
  continue_on_error:
    description:
      - Go on with the other images when one fails (C(oc image mirror --continue-on-error)); the task
        fails at the end with a summary.
      - V(false) stops starting new images after the first failure.
    type: bool
    default: true
  report_file:
    description:
      - Write a JSON report of the copy here, updated while the run goes on (progress, finished
        images) and complete at the end (copied, already present, failed, bytes sent).
      - Beside it, a small file named after it (C(report.json) gives C(report.progress.json)) holds
        only the latest progress figures, for a progress display to poll.
    type: path
  progress_interval:
    description: Seconds between progress updates of O(report_file) and of the job output.
    type: float
    default: 5
  progress_display:
    description:
      - How progress (images, bytes, rate, ETA) reaches the job output while the task runs.
      - V(auto) reads the progress file beside O(report_file) directly when the task runs on the
        controller (a local connection, C(delegate_to=localhost), an execution environment), and
        otherwise runs the module in the background on the host and polls it (its job status and
        that small progress file) every O(progress_interval) seconds. Without O(report_file), both
        files go to a temporary directory, removed at the end.
      - V(poll) always polls; V(off) shows nothing while the task runs.
      - A task with C(async) set is run as the user asked (C(poll) or M(ansible.builtin.async_status)),
        without progress lines.
    type: str
    choices: [auto, poll, "off"]
    default: auto
"""
