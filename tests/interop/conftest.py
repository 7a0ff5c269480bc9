"""The interop tier uses the integration tier's fixtures and hooks (tests/integration/
bpfd_fixtures.py): a private bpfd, veth pairs, generated stubs, the leak check.
Run: BPFD_BUILD_DIR=<meson build dir> /usr/bin/python3 -m pytest tests/interop
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from bpfd_fixtures import *  # noqa: E402,F401,F403
