"""The integration tier's fixtures and hooks live in bpfd_fixtures.py (shared with
tests/interop). Run: BPFD_BUILD_DIR=<meson build dir> /usr/bin/python3 -m pytest tests/integration
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bpfd_fixtures import *  # noqa: E402,F401,F403
