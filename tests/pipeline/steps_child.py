"""One sync step as an Airflow task runs it (``quancheng.steps``), in a child process of
``test_shared_nothing``; prints the step's ref as one JSON line.

A child for two reasons: each step must run in its own process with its own ``$QUANCHENG_HOME`` (a worker
of its own), and delta-rs on S3 may abort at interpreter exit (``tests/publish/s3_child.py``), so the
result is printed and flushed and the process leaves with ``os._exit``: 0 when the step succeeded, 1 with
the traceback on stderr when it did not.

Usage: ``python steps_child.py '<json>'`` with ``step`` (extract, normalize, validate or publish) and, for
extract, ``system_id``, ``start`` (ISO or null), ``end`` (ISO) and ``uri``; else ``ref``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from datetime import datetime


def main(args: dict[str, object]) -> dict[str, object]:
    from quancheng import steps

    step = args["step"]
    if step == "extract":
        start = args["start"]
        return steps.extract_step(str(args["system_id"]), datetime.fromisoformat(str(start)) if start else None,
                                  datetime.fromisoformat(str(args["end"])), uri=str(args["uri"]))
    ref = dict(args["ref"])  # type: ignore[call-overload]
    return {"normalize": steps.normalize_step, "validate": steps.validate_step,
            "publish": steps.publish_step}[str(step)](ref)


if __name__ == "__main__":
    try:
        print(json.dumps(main(json.loads(sys.argv[1])), default=str), flush=True)
        code = 0
    except BaseException:  # noqa: BLE001 - reported to the parent on stderr
        traceback.print_exc()
        sys.stderr.flush()
        code = 1
    os._exit(code)
