#!/usr/bin/env bash
# Prepare a machine for `make test` / `make demo`. Idempotent: a second run only checks and
# returns within a second or two.
#   - Debian packages the tests and the demo run for real (registry, skopeo, umoci, openssl,
#     htpasswd); `apt-get update` only when one is missing.
#   - .venv with requirements-dev.txt and requirements-cluster.txt (the `ansible` package, for
#     kubernetes.core), re-installed only when a requirements file changed.
#   - .venv-oldest: the same with the oldest ansible-core series that meta/runtime.yml supports.
#   - .build/collections/ansible_collections/airgap/operatorhub -> repo root, so the collection
#     is importable as ansible_collections.airgap.operatorhub and ANSIBLE_COLLECTIONS_PATH works.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf 'bootstrap: %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------------------------
# (shellcheck too: without it ansible-test sanity skips its shellcheck test silently.)
# (openssh-server: a throwaway sshd gives the tests a real remote host, tests/support/sshd.py.)
apt_packages=(docker-registry skopeo umoci openssl apache2-utils shellcheck openssh-server)
missing=()
for pkg in "${apt_packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    log "installing $*"
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@"
}
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi

# --- Python virtualenv -----------------------------------------------------------------------
python=${PYTHON:-python3}
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
# requirements-cluster.txt pins `ansible` to the newest ansible-core series: .venv only.
want_main=$(cat requirements.txt requirements-dev.txt requirements-cluster.txt | sha256sum | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" ]]; then
    log "creating $venv"
    if ! "$python" -m venv "$venv"; then
        # Debian's own python3 needs python3-venv for ensurepip.
        rm -rf "$venv"
        apt_install python3-venv
        "$python" -m venv "$venv"
    fi
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want_main" ]]; then
    log "installing requirements-dev.txt and requirements-cluster.txt into .venv"
    # pip's output goes to a log (this machine's pip config names index paths that may be
    # absent, which makes pip warn once per package); shown only when the install fails.
    if ! "$venv/bin/python" -m pip install -r requirements-dev.txt -r requirements-cluster.txt \
        > "$venv/pip-install.log" 2>&1; then
        cat "$venv/pip-install.log" >&2
        exit 1
    fi
    printf '%s\n' "$want_main" > "$stamp"
fi

# --- Oldest supported ansible-core -----------------------------------------------------------
# meta/runtime.yml's requires_ansible is the supported range. .venv has the newest release pip
# finds in it; .venv-oldest has the latest patch release of its lowest series, for `make test`'s
# unit tests on the oldest ansible-core.
oldest=$(sed -n 's/^requires_ansible: *">=\([0-9]*\.[0-9]*\)\..*/\1/p' meta/runtime.yml)
if [[ -z "$oldest" ]]; then
    echo "bootstrap: no '>=X.Y.Z' lower bound in meta/runtime.yml's requires_ansible" >&2
    exit 1
fi
venv_oldest="$root/.venv-oldest"
stamp_oldest="$venv_oldest/.requirements.sha256"
want_oldest=$(printf '%s ansible-core==%s.*\n' "$want" "$oldest" | sha256sum | cut -d' ' -f1)
if [[ ! -x "$venv_oldest/bin/python" ]]; then
    log "creating $venv_oldest"
    "$python" -m venv "$venv_oldest"
fi
if [[ ! -f "$stamp_oldest" || "$(cat "$stamp_oldest")" != "$want_oldest" ]]; then
    log "installing requirements-dev.txt with ansible-core $oldest.* into .venv-oldest"
    if ! "$venv_oldest/bin/python" -m pip install -r requirements-dev.txt "ansible-core==$oldest.*" \
        > "$venv_oldest/pip-install.log" 2>&1; then
        cat "$venv_oldest/pip-install.log" >&2
        exit 1
    fi
    printf '%s\n' "$want_oldest" > "$stamp_oldest"
fi

# --- Collection path -------------------------------------------------------------------------
link="$root/.build/collections/ansible_collections/airgap/operatorhub"
if [[ "$(readlink "$link" 2>/dev/null || true)" != "$root" ]]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$root" "$link"
fi
