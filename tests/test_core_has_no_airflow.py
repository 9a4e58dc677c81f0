"""The core package never imports Airflow: every module imports in a process where Airflow cannot load."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import quancheng

SRC = Path(quancheng.__file__).resolve().parent


def test_no_module_mentions_an_airflow_import() -> None:
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if any(line.lstrip().startswith(("import airflow", "from airflow"))
                        for line in p.read_text(encoding="utf-8").splitlines())]
    assert offenders == []


def test_every_module_imports_with_airflow_blocked() -> None:
    modules = [m.name for m in pkgutil.walk_packages([str(SRC)], prefix="quancheng.")]
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'airflow' or name.startswith('airflow.'):\n"
        "            raise ImportError('airflow is blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    __import__(m)\n"
        "print(len(sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
