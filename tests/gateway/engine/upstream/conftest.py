"""The upstream client's tests: scripted HTTP/1.1 servers on loopback (`scripted_upstream.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file
