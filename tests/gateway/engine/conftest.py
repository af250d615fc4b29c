"""The engine's tests talk to a real server on loopback through raw sockets (`engine_wire.py`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module beside this file
