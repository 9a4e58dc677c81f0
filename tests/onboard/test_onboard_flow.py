"""Onboard a system that is not in the catalog, by data only: introspect -> suggest -> review -> accept ->
``catalog check`` -> a sync through Airflow; ``catalog stats`` then counts one system more.

Two new systems, each into its own copy of the project's catalog:

- 地震局's seismic review system in PostgreSQL, a table with ``COMMENT ON`` labels and a primary key;
- a fire-equipment testing company's exports dropped as a GBK CSV whose marker names no encoding, with a
  Chinese folder name and Chinese headers.

The steward's part is what a person would do with the review file: keep the proposals, name the new
elements, exclude the serial number. No Python is edited; the DAG comes from the factory on the next parse.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import quancheng
from paths import FULL
from quancheng.catalog import load_catalog
from quancheng.ids import make
from scratch_pg import postgres_database

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]

INTERVAL_END = "2025-06-02T00:00:00+00:00"
ROWS = 6




@dataclass
class NewSystem:
    system_id: str
    uri: str
    expected: dict[str, str]  # column -> element key the assistant must propose
    new: dict[str, tuple[str, str]]  # column -> (new key, name) the steward gives
    exclude: dict[str, str]  # column -> reason the steward gives
    amounts: dict[str, float]  # key -> total_investment in 万元 as written in the source


def _rows(rng: random.Random) -> list[dict[str, object]]:
    return [{"no": f"SQ2025{i:04d}", "code": make.project_code(rng), "name": f"济南市第{i}中学改扩建工程",
             "unit": f"济南第{i}建设有限公司", "uscc": make.uscc(rng), "invest": round(1000 + 37.5 * i, 2),
             "applied": f"2025-05-{10 + i:02d}", "report": f"DZ2025-{i:03d}",
             "updated": f"2025-06-01 09:{i:02d}:00"} for i in range(1, ROWS + 1)]


@contextlib.contextmanager
def seismic_postgres() -> Iterator[NewSystem]:
    import psycopg

    rows = _rows(random.Random(11))
    with postgres_database("qc_onb_") as url:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as db:
            db.execute("""CREATE TABLE dz_aqxpj (sqbh varchar(32) PRIMARY KEY, xmdm varchar(24), xmmc varchar(200),
                jsdwmc varchar(200), jsdwtyshxydm varchar(18), ztz numeric(18,2), sqrq date, sdbh varchar(50),
                bz text, gxsj timestamp)""")
            db.execute("COMMENT ON TABLE dz_aqxpj IS '建设工程地震安全性评价报告审定申请表'")
            for col, label in {"sqbh": "申请编号", "xmdm": "项目代码", "xmmc": "项目名称", "jsdwmc": "建设单位名称",
                               "jsdwtyshxydm": "建设单位统一社会信用代码", "ztz": "总投资（万元）", "sqrq": "申请日期",
                               "sdbh": "地震安全性评价审定编号", "bz": "备注", "gxsj": "更新时间"}.items():
                db.execute(f"COMMENT ON COLUMN dz_aqxpj.{col} IS '{label}'")
            with db.cursor() as cur:
                cur.executemany("INSERT INTO dz_aqxpj VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL, %s)",
                                [tuple(r.values()) for r in rows])
        yield NewSystem(
            "eqb_seismic", url.replace("postgresql+psycopg", "postgresql"),
            expected={"xmdm": "project_code", "xmmc": "project_name", "jsdwmc": "construction_unit_name",
                      "jsdwtyshxydm": "construction_unit_uscc", "ztz": "total_investment",
                      "gxsj": "source_updated_at"},
            new={"sqrq": ("seismic_review_application_date", "地震安全性评价审定申请日期"),
                 "sdbh": ("seismic_review_no", "地震安全性评价审定编号")},
            exclude={"sqbh": "系统受理流水号，不属于申报数据"},
            amounts={str(r["no"]): float(r["invest"]) for r in rows})  # type: ignore[arg-type]


@contextlib.contextmanager
def fire_testing_gbk(tmp: Path) -> Iterator[NewSystem]:
    rows = _rows(random.Random(12))
    header = ["检测报告编号", "项目代码", "项目名称", "建设单位名称", "建设单位统一社会信用代码", "总投资万元",
              "更新时间"]
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r["report"], r["code"], r["name"], r["unit"], r["uscc"], r["invest"], r["updated"]])
    folder = tmp / "drops" / "消防检测报告"
    folder.mkdir(parents=True)
    data = folder / "20250601T120000.csv"
    data.write_bytes(text.getvalue().encode("gbk"))
    (folder / (data.name + ".done")).write_text(json.dumps({"rows": ROWS, "bytes": data.stat().st_size}))
    with pytest.raises(UnicodeDecodeError):
        data.read_bytes().decode("utf-8")  # the file really is GBK
    yield NewSystem(
        "fire_testing", f"file://{tmp / 'drops'}",
        expected={"项目代码": "project_code", "项目名称": "project_name", "建设单位名称": "construction_unit_name",
                  "建设单位统一社会信用代码": "construction_unit_uscc", "总投资万元": "total_investment",
                  "更新时间": "source_updated_at"},
        new={"检测报告编号": ("fire_testing_report_no", "消防设施检测报告编号")}, exclude={},
        amounts={str(r["report"]): float(r["invest"]) for r in rows})  # type: ignore[arg-type]


SOURCES: dict[str, Callable[[Path], contextlib.AbstractContextManager[NewSystem]]] = {
    "postgresql_with_comments": lambda tmp: seismic_postgres(),
    "gbk_csv_drop": fire_testing_gbk,
}


@pytest.mark.postgres
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_onboard_a_new_system_by_data_and_sync_it_through_airflow(
        source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from quancheng.demo.run import airflow_env, run_dags
    from quancheng.publish.store import SharedStore

    root = tmp_path / "catalog"
    shutil.copytree(FULL, root)
    home = tmp_path / "home"
    monkeypatch.setenv("QUANCHENG_CATALOG", str(root))
    monkeypatch.setenv("QUANCHENG_HOME", str(home))
    shipped = load_catalog(FULL)
    with SOURCES[source](tmp_path) as new:
        sid = new.system_id
        code, out = quancheng("onboard", "introspect", "--system-id", sid, "--uri", new.uri, "--name-zh", f"{sid}系统",
                              "--stage", "s3_construction")
        assert code == 0, out
        assert new.uri.split("@")[-1] not in (root / "systems.csv").read_text(encoding="utf-8")  # no URI in the catalog
        code, out = quancheng("catalog", "check")
        assert code == 1 and "neither mapped nor excluded" in out, out  # drafted fields are still to be mapped

        code, out = quancheng("onboard", "suggest", "--system-id", sid, "--json")
        assert code == 0, out
        proposals = {(d := json.loads(line))["column"]: d for line in out.splitlines()}
        for column, element_key in new.expected.items():
            best = proposals[column]
            assert not best["new_element"] and best["candidates"][0]["element_id"] == \
                shipped.element_by_key[element_key].element_id, (column, best)
        assert proposals["总投资万元" if "总投资万元" in proposals else "ztz"]["unit"] == "万元"

        code, out = quancheng("onboard", "suggest", "--system-id", sid)
        assert code == 0, out
        review = root / "onboarding" / f"{sid}.review.csv"
        with review.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:  # the steward: keep the proposals, name the new elements, exclude the serial number
            if r["column"] in new.exclude:
                r.update(element_id="", excluded_reason=new.exclude[r["column"]])
            elif r["column"] in new.new:
                r.update(element_id="", new_key=new.new[r["column"]][0], new_name_zh=new.new[r["column"]][1],
                         transform="date" if "date" in new.new[r["column"]][0] else "text", excluded_reason="")
            else:
                assert r["element_id"] or r["excluded_reason"], r
        with review.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

        code, out = quancheng("onboard", "accept", "--system-id", sid)
        assert code == 0, out
        code, out = quancheng("catalog", "check")
        assert code == 0, out
        code, out = quancheng("catalog", "stats", "--json")
        assert code == 0, out
        stats = json.loads(out)
        assert stats["systems"] == len(shipped.systems) + 1
        assert stats["elements"] + stats["case_elements"] == len(shipped.elements) + len(new.new)

        cat = load_catalog(root)
        [form] = cat.forms_of(sid)
        env = {**airflow_env(home, {"systems": {}}, {}), "QUANCHENG_CATALOG": str(root),
               "AIRFLOW_CONN_" + cat.system[sid].conn_id.upper(): new.uri}
        result = run_dags(env, INTERVAL_END, log=home / "airflow" / "onboard.log", full_refresh=True,
                          dag_ids=[f"sync__{sid}"])
        assert result.states == {f"sync__{sid}": "success"}, (home / "airflow" / "onboard.log").read_text()[-3000:]

        store = SharedStore(home)
        published = store.read(f"{sid}.{form.form_id}")
        assert published is not None
        quarantined = store.read(f"quarantine.{sid}")
        assert published.num_rows + (quarantined.num_rows if quarantined is not None else 0) == ROWS
        assert published.num_rows == ROWS  # valid ids, dates and amounts: nothing quarantined
        got = published.to_pylist()
        key = next(c for c in new.amounts if any(c in map(str, r.values()) for r in got))
        row = next(r for r in got if key in map(str, r.values()))
        assert float(row["total_investment"]) == pytest.approx(new.amounts[key] * 10_000)  # 万元 -> 元
