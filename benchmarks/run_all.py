"""Run every benchmark script in turn (``make bench``); each writes its own table under results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# extract.py and seed.py print their table and write it only when asked
SCRIPTS = [["dag_parse.py"], ["normalize_validate.py"], ["extract.py", "--write"], ["seed.py", "--write"],
           ["publish.py"], ["demo_overhead.py"], ["concurrency.py", "--write"], ["end_to_end.py", "--write"],
           ["staging.py", "--write"], ["delta_log.py", "--write"],
           ["onboard_suggest.py", "--write", str(HERE / "results" / "onboard_suggest.md")]]

if __name__ == "__main__":
    failed = [s for s, *args in SCRIPTS
              if subprocess.run([sys.executable, str(HERE / s), *args], check=False).returncode]
    sys.exit(1 if failed else 0)
