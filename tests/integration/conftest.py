"""pytest configuration for the integration tests: makes harness.py (and the
workloads) importable. The helpers and fixtures live in harness.py."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
