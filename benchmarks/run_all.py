"""Run every benchmark script in turn (``make bench``); each writes its own table under results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["dag_parse.py", "normalize_validate.py", "extract.py", "seed.py", "publish.py", "demo_overhead.py"]

if __name__ == "__main__":
    failed = [s for s in SCRIPTS if subprocess.run([sys.executable, str(HERE / s)], check=False).returncode]
    sys.exit(1 if failed else 0)
