#!/usr/bin/env bash
# `make demo`: the main job on an embedded default. Starts a plain-HTTP source registry and a
# TLS + htpasswd target registry on 127.0.0.1, pushes a generated multi-arch sample set and a sample
# operator catalog into the source, runs playbooks/demo.yml (one package of the catalog mirrored as
# `oc adm catalog mirror` would, its pruned catalog built and pushed, then a mapping.txt: dry run,
# mirror, re-run), then configures a cluster from the files it wrote (role cluster: default sources
# off, IDMS/ITMS applied and the pools rolled, CatalogSource READY, packagemanifests, sample-operator
# installed). The cluster is a TEST DOUBLE: the lab's stand-in API server with simulated nodes and
# OLM (tests/support/kube_lab.py), its nodes reaching the target registry only. Prints the
# summaries, stops the lab (DEMO_KEEP_LAB=1 leaves it running, for kubectl --kubeconfig
# $LAB/kube/kubeconfig, and prints the command that stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# The lab imports the collection (catalog images) and the playbook runs it: both from this clone.
export PYTHONPATH="$PWD/.build/collections:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections"
LAB=${DEMO_DIR:-.build/demo}
mkdir -p "$LAB"
rm -rf "$LAB/manifests"  # a new lab, new manifests
if [[ -z "${DEMO_KEEP_LAB:-}" ]]; then
    trap '"$PY" -m tests.support.lab down --dir "$LAB" >/dev/null 2>&1 || true' EXIT
fi

"$PY" -m tests.support.lab up --dir "$LAB" --images "${DEMO_IMAGES:-6}"
"$PY" - "$LAB" <<'PYEOF'
import json, os, sys
lab_dir = sys.argv[1]
with open(os.path.join(lab_dir, "lab.json")) as handle:
    lab = json.load(handle)
extra = {
    "demo_source_host": lab["source"]["host"],
    "demo_target_host": lab["target"]["host"],
    "demo_target_ca": lab["target"]["ca_path"],
    "demo_auth_file": os.path.abspath(lab["auth_file"]),
    "demo_mapping_file": os.path.abspath(lab["mapping"]),
    "demo_catalog": lab["catalog"],
    "demo_output_dir": os.path.abspath(os.path.join(lab_dir, "manifests")),
    "demo_report_file": os.path.abspath(os.path.join(lab_dir, "report.json")),
    "demo_kubeconfig": lab["kube"]["kubeconfig"],
}
with open(os.path.join(lab_dir, "vars.json"), "w") as handle:
    json.dump(extra, handle, indent=2)
PYEOF

echo "mapping: $LAB/mapping.txt"
sed 's/^/  /' "$LAB/mapping.txt"
ANSIBLE_PYTHON_INTERPRETER="$PWD/$PY" \
  ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  .venv/bin/ansible-playbook -i localhost, playbooks/demo.yml -e @"$LAB/vars.json"
if [[ -n "${DEMO_KEEP_LAB:-}" ]]; then
    echo "lab kept running: kubectl --kubeconfig $LAB/kube/kubeconfig get csv -A"
    echo "stop it with: PYTHONPATH=$PYTHONPATH $PY -m tests.support.lab down --dir $LAB"
fi
