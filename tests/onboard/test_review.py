"""Introspection of SQLite and a JSON API, and the review file: accepted rows, corrections taught as synonyms,
and clear errors for a review a steward got wrong."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cli_runner import quancheng
from paths import FULL
from quancheng.catalog import load_catalog
from quancheng.onboard.introspect import introspect


def sqlite_system(path: Path, table: str, columns: dict[str, str], rows: list[tuple[object, ...]]) -> str:
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
    return f"sqlite:///{path}"


@pytest.fixture
def catalog_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(FULL, root)
    monkeypatch.setenv("QUANCHENG_CATALOG", str(root))
    monkeypatch.setenv("QUANCHENG_HOME", str(tmp_path / "home"))
    return root


def read_review(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_review(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def onboard_without_serial(catalog_copy: Path, system_id: str, uri: str) -> None:
    """Introspect, suggest and accept a system, its serial number ``SQBH`` excluded in the review."""
    assert quancheng("onboard", "introspect", "--system-id", system_id, "--uri", uri)[0] == 0
    assert quancheng("onboard", "suggest", "--system-id", system_id)[0] == 0
    review = catalog_copy / "onboarding" / f"{system_id}.review.csv"
    rows = read_review(review)
    for r in rows:
        if r["column"] == "SQBH":
            r.update(element_id="", new_name_zh="", excluded_reason="系统受理流水号")
    write_review(review, rows)
    assert quancheng("onboard", "accept", "--system-id", system_id)[0] == 0


def test_sqlite_introspection_types_keys_and_the_update_column(tmp_path: Path) -> None:
    uri = sqlite_system(tmp_path / "s.db", "T_XM", {"ID": "INTEGER PRIMARY KEY", "XMMC": "TEXT", "ZTZ": "REAL",
                                                     "KGRQ": "TEXT", "UPDATED_AT": "TEXT"},
                        [(1, "甲工程", 12.5, "2024-03-01", "2024-03-02 08:00:00")])
    [t] = introspect(uri)
    assert (t.table, t.primary_key, t.updated_column) == ("T_XM", ("ID",), "UPDATED_AT")
    assert {c.name: c.native_type for c in t.columns} == {"ID": "integer", "XMMC": "text", "ZTZ": "decimal",
                                                         "KGRQ": "date", "UPDATED_AT": "datetime"}
    assert [c.label for c in t.columns] == ["ID", "XMMC", "ZTZ", "KGRQ", "UPDATED_AT"]  # SQLite has no comments
    assert t.columns[1].samples == ("甲工程",)


@contextlib.contextmanager
def api(tables: dict[str, list[dict[str, object]]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server interface
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[0] != "base" or parts[1] not in tables:
                self.send_response(404)
                self.end_headers()
                return
            items = tables[parts[1]]
            body = {"columns": list(items[0])} if parts[-1] == "schema" else \
                {"items": items, "page": 1, "next_page": None, "total": len(items)}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/base"
    finally:
        server.shutdown()


def test_api_introspection_reads_schema_and_a_sample_page() -> None:
    items = [{"permitNo": "P1", "area": 12.5, "floors": 3, "issuedAt": "2024-03-01 08:00:00"},
             {"permitNo": "P2", "area": 7, "floors": 2, "issuedAt": "2024-03-02 09:00:00"}]
    with api({"permits": items}) as base:
        [t] = introspect(base, ["permits"])
        with pytest.raises(Exception, match="--table"):
            introspect(base)
    assert {c.name: c.native_type for c in t.columns} == {"permitNo": "text", "area": "decimal", "floors": "integer",
                                                         "issuedAt": "datetime"}
    assert t.primary_key == () and t.columns[0].samples == ("P1", "P2")


def test_a_correction_becomes_a_synonym_and_the_next_system_maps_by_it(tmp_path: Path, catalog_copy: Path) -> None:
    # a column whose name no element knows: KFS is this department's own abbreviation of 建设单位名称
    columns = {"SQBH": "TEXT PRIMARY KEY", "KFS": "TEXT", "XMMC": "TEXT"}
    row = [("A1", "济南某建设公司", "某工程")]
    first = sqlite_system(tmp_path / "a.db", "T_A", columns, row)
    assert quancheng("onboard", "introspect", "--system-id", "dept_a", "--uri", first)[0] == 0
    code, out = quancheng("onboard", "suggest", "--system-id", "dept_a", "--json")
    kfs = next(json.loads(line) for line in out.splitlines() if json.loads(line)["column"] == "KFS")
    cat = load_catalog(catalog_copy)
    unit_name = cat.element_by_key["construction_unit_name"].element_id
    assert not kfs["candidates"] or kfs["candidates"][0]["element_id"] != unit_name  # nothing could tell

    assert quancheng("onboard", "suggest", "--system-id", "dept_a")[0] == 0
    review = catalog_copy / "onboarding" / "dept_a.review.csv"
    rows = read_review(review)
    for r in rows:
        if r["column"] == "SQBH":
            r.update(element_id="", new_key="", excluded_reason="系统受理流水号")
        if r["column"] == "KFS":
            r.update(element_id=unit_name, transform="text", excluded_reason="", new_name_zh="")
    write_review(review, rows)
    code, out = quancheng("onboard", "accept", "--system-id", "dept_a")
    assert code == 0, out
    assert "1 synonyms learned" in out
    synonyms = load_catalog(catalog_copy).element[unit_name].synonyms
    assert "KFS" in synonyms
    # accepting again changes nothing: no second mapping, no doubled synonym
    before = {p.name: p.read_bytes() for p in catalog_copy.glob("*.csv")}
    assert quancheng("onboard", "accept", "--system-id", "dept_a")[0] == 0
    assert {p.name: p.read_bytes() for p in catalog_copy.glob("*.csv")} == before

    second = sqlite_system(tmp_path / "b.db", "T_B", {"ID": "TEXT PRIMARY KEY", "KFS": "TEXT"}, [("B1", "某公司")])
    assert quancheng("onboard", "introspect", "--system-id", "dept_b", "--uri", second)[0] == 0
    code, out = quancheng("onboard", "suggest", "--system-id", "dept_b", "--json")
    kfs = next(json.loads(line) for line in out.splitlines() if json.loads(line)["column"] == "KFS")
    assert kfs["candidates"][0]["element_id"] == unit_name and not kfs["new_element"]


def test_review_mistakes_are_named_by_file_line_and_column(tmp_path: Path, catalog_copy: Path) -> None:
    uri = sqlite_system(tmp_path / "a.db", "T_A", {"SQBH": "TEXT PRIMARY KEY", "XMMC": "TEXT"}, [("A1", "某工程")])
    assert quancheng("onboard", "introspect", "--system-id", "dept_a", "--uri", uri)[0] == 0
    code, out = quancheng("onboard", "introspect", "--system-id", "dept_a", "--uri", uri)
    assert code == 2 and "already in" in out and "--replace" in out
    assert quancheng("onboard", "introspect", "--system-id", "dept_a", "--uri", uri, "--replace")[0] == 0
    assert sum(r.startswith("dept_a,") for r in (catalog_copy / "systems.csv").read_text().splitlines()) == 1

    assert quancheng("onboard", "suggest", "--system-id", "dept_a")[0] == 0
    review = catalog_copy / "onboarding" / "dept_a.review.csv"
    rows = read_review(review)
    line = 2 + next(i for i, r in enumerate(rows) if r["column"] == "SQBH")
    for r in rows:
        if r["column"] == "SQBH":
            r.update(element_id="", new_key="", new_name_zh="", excluded_reason="")
    write_review(review, rows)
    code, out = quancheng("onboard", "accept", "--system-id", "dept_a")
    assert code == 2 and f"dept_a.review.csv:{line}: SQBH" in out and "no decision" in out, out
    rows[line - 2]["element_id"] = "DE99999"
    write_review(review, rows)
    code, out = quancheng("onboard", "accept", "--system-id", "dept_a")
    assert code == 2 and f":{line}: unknown element 'DE99999' for SQBH" in out, out
    assert "Traceback" not in out


def test_introspect_json_writes_nothing_and_bad_uris_are_one_line(tmp_path: Path, catalog_copy: Path) -> None:
    uri = sqlite_system(tmp_path / "a.db", "T_A", {"ID": "INTEGER PRIMARY KEY"}, [(1,)])
    before = (catalog_copy / "systems.csv").read_bytes()
    code, out = quancheng("onboard", "introspect", "--system-id", "dept_a", "--uri", uri, "--json")
    assert code == 0 and json.loads(out)["tables"][0]["table"] == "T_A"
    assert (catalog_copy / "systems.csv").read_bytes() == before
    for bad, says in ((f"sqlite:///{tmp_path / 'none.db'}", "does not exist"),
                      (f"file://{tmp_path / 'nodrops'}", "does not exist"),
                      ("postgresql://postgres@127.0.0.1:1/x", "cannot read")):
        code, out = quancheng("onboard", "introspect", "--system-id", "dept_x", "--uri", bad)
        assert code == 2 and says in out and "Traceback" not in out, out


def test_dry_run_says_what_would_be_quarantined_and_why(tmp_path: Path, catalog_copy: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from quancheng.ids import make

    good = make.uscc(random.Random(3))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # a wrong check character
    uri = sqlite_system(tmp_path / "a.db", "T_A", {"SQBH": "TEXT PRIMARY KEY", "XMMC": "TEXT", "JSDWTYSHXYDM": "TEXT"},
                        [("A1", "甲工程", good), ("A2", "乙工程", bad)])
    onboard_without_serial(catalog_copy, "dept_a", uri)
    # the exchange's own shared database is never touched: an unusable one does not matter
    monkeypatch.setenv("QUANCHENG_SHARED_DB", "postgresql://nobody@127.0.0.1:1/none")
    code, out = quancheng("onboard", "dry-run", "--system-id", "dept_a", "--uri", uri)
    assert code == 0, out
    assert "2 rows read, 1 would be published, 1 quarantined" in out
    assert "uscc.checksum" in out and "JSDWTYSHXYDM" in out and bad in out
    # the exchange's home holds the introspected samples and nothing else: no batch, no dataset
    assert [p.name for p in (tmp_path / "home").iterdir()] == ["onboarding"]


def test_a_database_by_its_sqlalchemy_url_is_drafted_as_the_generic_sql_kind(tmp_path: Path,
                                                                               catalog_copy: Path) -> None:
    # 达梦, 金仓 and the like are reached by their SQLAlchemy dialect's URL; SQLite's stands in for them here
    uri = sqlite_system(tmp_path / "a.db", "T_A", {"XMDM": "TEXT PRIMARY KEY", "XMMC": "TEXT"},
                        [("2019-370102-04-01-123456", "某工程")]).replace("sqlite://", "sqlite+pysqlite://")
    code, out = quancheng("onboard", "introspect", "--system-id", "dept_dm", "--uri", uri)
    assert code == 0, out
    assert load_catalog(catalog_copy).system["dept_dm"].kind == "sql"
    code, out = quancheng("onboard", "suggest", "--system-id", "dept_dm")
    assert code == 0, out
    code, out = quancheng("onboard", "accept", "--system-id", "dept_dm")
    assert code == 0 and "catalog check: clean" in out, out
    code, out = quancheng("onboard", "dry-run", "--system-id", "dept_dm", "--uri", uri)
    assert code == 0 and "1 rows read, 1 would be published, 0 quarantined" in out, out


def test_an_onboarded_system_runs_day_after_day(tmp_path: Path, catalog_copy: Path) -> None:
    """The second day of a system onboarded by data: a rerun, a day with no data, then a day of inserts,
    updates and deletes; the published dataset ends equal to the source."""
    db = tmp_path / "d.db"
    uri = sqlite_system(db, "T_D", {"SQBH": "TEXT PRIMARY KEY", "XMMC": "TEXT", "GXSJ": "TEXT"},
                        [(f"D{i}", f"工程{i}", f"2025-06-01 0{i}:00:00") for i in range(1, 6)])
    onboard_without_serial(catalog_copy, "dept_d", uri)
    assert load_catalog(catalog_copy).forms_of("dept_d")[0].updated_column == "GXSJ"
    home = tmp_path / "exchange"
    form = load_catalog(catalog_copy).forms_of("dept_d")[0]
    dataset = f"dept_d.{form.form_id}"

    def run(start: str | None, end: str) -> dict[str, object]:  # UTC bounds; the system keeps Beijing time
        window = ["--start", start] if start else []
        code, out = quancheng("run", "dept_d", "--dir", str(home), "--uri", uri, *window, "--end", end)
        assert code == 0, out
        result: dict[str, object] = json.loads(out[out.index("{"):])
        return result

    def published() -> dict[str, str]:
        from quancheng.publish.store import SharedStore

        table = SharedStore(home).read(dataset)
        assert table is not None
        return dict(zip(table["_source_key"].to_pylist(), table["project_name"].to_pylist(), strict=True))

    first = run(None, "2025-06-02T00:00:00")
    assert first["extracted"] == 5
    hashes = {ds: p["content_hash"] for ds, p in first["published"].items()}  # type: ignore[attr-defined]
    again = run(None, "2025-06-02T00:00:00")  # a rerun changes nothing
    assert {ds: p["content_hash"] for ds, p in again["published"].items()} == hashes  # type: ignore[attr-defined]
    quiet = run("2025-06-02T00:00:00", "2025-06-03T00:00:00")  # a day with no data
    assert quiet["extracted"] == 0
    assert {ds: p["content_hash"] for ds, p in quiet["published"].items()} == hashes  # type: ignore[attr-defined]

    with sqlite3.connect(db) as conn:  # the next day: one insert, one update, one delete
        conn.execute("INSERT INTO T_D VALUES ('D9', '新工程', '2025-06-03 10:00:00')")
        conn.execute("UPDATE T_D SET XMMC = '改名工程', GXSJ = '2025-06-03 11:00:00' WHERE SQBH = 'D2'")
        conn.execute("DELETE FROM T_D WHERE SQBH = 'D4'")
    day = run("2025-06-03T00:00:00", "2025-06-04T00:00:00")
    assert (day["extracted"], day["deleted"]) == (2, 1)
    with sqlite3.connect(db) as conn:
        source = dict(conn.execute("SELECT SQBH, XMMC FROM T_D").fetchall())
    assert published() == source
