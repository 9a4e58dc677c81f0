"""Run the ``quancheng`` console entry point in the test's own process: exit code and everything it printed."""

from __future__ import annotations

import contextlib
import io

from quancheng.cli import main


def quancheng(*argv: str) -> tuple[int, str]:
    """(exit code, standard output and error together), as a user at a terminal would see them."""
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, out.getvalue()
