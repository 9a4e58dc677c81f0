"""Time (issue 17, item 9): source stamps are read in the system's zone, rows stamped after the window are
counted and reported, and the catalog refuses an unknown zone.

The investment system of the slice catalog on a real SQLite source; its stamps carry no zone and are
Beijing time, as the departments record them. The window is Airflow's: aware, in UTC.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from paths import SLICE
from quancheng import pipeline
from quancheng.catalog import load_catalog
from quancheng.errors import CatalogError
from quancheng.sources import Window
from storekit import FILING, NDRC, filings, put_filings, slice_cli

END = datetime(2026, 3, 1, 16, tzinfo=UTC)  # midnight of 2 March in Beijing: a daily interval's end
LATE_EVENING = "2026-03-01 23:30:00"  # Beijing time, inside the day that ends at END
NEXT_MORNING = "2026-03-02 09:00:00"  # after END: no window up to END reads it


def _catalog_with_zone(tmp: Path, zone: str) -> Path:
    root = tmp / "catalog"
    shutil.copytree(SLICE, root)
    path = root / "systems.csv"
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    rows[0].append("timezone")
    for r in rows[1:]:
        r.append(zone)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return root


def _source(tmp: Path) -> Path:
    db = tmp / "ndrc.db"
    put_filings(db, filings(0, 3, "2026-03-01 10:00:00"))
    put_filings(db, filings(3, 2, LATE_EVENING))
    put_filings(db, filings(5, 4, NEXT_MORNING))
    return db


@pytest.mark.parametrize(("zone", "extracted", "future"), [
    ("Asia/Shanghai", 5, 4),  # the late-evening rows belong to the day; the next morning's are ahead
    ("UTC", 3, 6),  # read as UTC, 23:30 is after 16:00: the catalog's zone is what decides
])
def test_stamps_are_read_in_the_system_s_zone(tmp_path: Path, zone: str, extracted: int, future: int) -> None:
    catalog = load_catalog(_catalog_with_zone(tmp_path, zone))
    ref = pipeline.run_system(NDRC, Window(None, END), catalog=catalog, home=tmp_path / "home",
                              uri=f"sqlite:///{_source(tmp_path)}")
    form = FILING.split(".", 1)[1]
    assert ref["forms"][form]["extracted"] == extracted
    assert ref["forms"][form].get("future_rows", 0) == future
    assert pipeline.totals(ref)["future_rows"] == future


def test_future_rows_reach_the_run_output_and_status(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    home = tmp_path / "home"
    db = _source(tmp_path)
    code, out, err = quancheng("run", NDRC, "--dir", str(home), "--uri", f"sqlite:///{db}",
                               "--end", END.strftime("%Y-%m-%dT%H:%M:%S"))
    assert code == 0, err
    assert json.loads(out)["future_rows"] == 4
    code, out, err = quancheng("status", "--dir", str(home), "--json")
    assert code == 0, err
    ndrc = next(s for s in json.loads(out)["systems"] if s["system_id"] == NDRC)
    assert ndrc["last_run"]["future_rows"] == 4


def test_an_unknown_zone_is_refused_naming_the_system(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as e:
        load_catalog(_catalog_with_zone(tmp_path, "Asia/Jinan"))
    assert "systems.csv" in str(e.value) and "Asia/Jinan" in str(e.value) and "timezone" in str(e.value)
