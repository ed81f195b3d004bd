#!/usr/bin/env bash
# Run `ansible-test sanity` on this collection.
#
# ansible-test wants the collection at .../ansible_collections/<namespace>/<name>, so it runs on
# a copy placed that way in a temp dir: the files git knows plus untracked files that are not
# ignored, so the result is the same before and after a commit. Extra arguments go to
# ansible-test (e.g. `hack/sanity.sh --test pep8`).
#
# tests/fixtures is left out of the copy: it is upstream test data kept byte for byte (catalogs
# as multi-document YAML or JSON streams in .yaml files, upstream's quotes), not collection
# content, and galaxy.yml keeps it out of the built collection too.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv="$root/.venv"
[[ -x "$venv/bin/ansible-test" ]] || bash hack/bootstrap.sh
export PATH="$venv/bin:$PATH"
# The copy below is what gets tested; a PYTHONPATH pointing at the work tree would shadow it.
unset PYTHONPATH

# ansible-test bootstraps pip into its per-test virtualenvs with a get-pip script fetched from
# a host these machines cannot reach. hack/get_pip_offline.py installs pip from ensurepip instead;
# it must sit in ansible-test's cache under the name of the pip version ansible-test pins.
get_pip_offline="$root/hack/get_pip_offline.py"
pip_tag=$(python - <<'EOF'
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="3.11"))["pip"].replace(".", "_"))
EOF
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_tag}.py"
if ! cmp -s "$get_pip_offline" "$cache"; then
    mkdir -p "$(dirname "$cache")"
    cp "$get_pip_offline" "$cache"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/ansible_collections/airgap/operatorhub"
mkdir -p "$dest"
list_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -z --cached --others --exclude-standard
    else
        find . \( -name .git -o -name .venv -o -name .venv-oldest -o -name .build -o -name __pycache__ -o -name .pytest_cache \
            -o -path ./tests/output \) -prune -o \( -type f -o -type l \) -printf '%P\0'
    fi
}
list_files |
    while IFS= read -r -d '' f; do
        # --cached still lists files deleted from the work tree.
        [[ "$f" == tests/fixtures/* ]] && continue
        if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
    done |
    tar --null -T - -cf - | tar -xf - -C "$dest"

cd "$dest"
# Every test runs: the full set takes about a minute here (most of it pylint and
# validate-modules), so nothing is skipped for time.
# This machine's pip config names local index paths that may be absent; pip then warns once per
# package, which would bury ansible-test's own messages.
ansible-test sanity --local --python 3.11 --color no "$@" 2>&1 |
    sed -u '/is ignored: it is neither a file nor a directory/d'
