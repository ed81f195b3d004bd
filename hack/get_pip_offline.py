# -*- coding: utf-8 -*-
# Copyright (c) 2026, airgap.operatorhub contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What ansible-test runs in place of get-pip.py: hack/sanity.sh puts it in ansible-test's cache.

ansible-test sanity creates a virtualenv per test and fills it by running a get-pip script that
it downloads from a host outside the package index. Where only the index is reachable, this
script does the same job: pip from the interpreter's own wheel (ensurepip), then ``pip install``
with the arguments ansible-test gives (the pinned pip version and its options).
"""

import ensurepip
import os
import subprocess
import sys

# get-pip.py options that pip install does not know: without them get-pip leaves setuptools and
# wheel out, which a plain pip install does anyway.
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main():
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE to os.devnull for its own run; the install below must read
    # the machine's pip configuration (its index) again.
    os.environ.pop("PIP_CONFIG_FILE", None)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    sys.exit(main())
