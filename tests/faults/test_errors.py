"""Hangs and tracebacks (issue 17, item 8): every failure below ends in one line naming the system, form,
file or URL and the cause, never a traceback, never a hang, never a raw row or a password.

Real files, a real SQLite file, a real local HTTP server (threads on a free loopback port), the CLI run
in this process.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources.base import canonical_uri
from quancheng.sources.http import HttpSource
from storekit import NDRC, drop_permits, slice_cli

SECRET = "s3cr3t-not-in-any-output"
HCB = "hcb_construction_permit"


@contextmanager
def api(answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A local HTTP server whose every GET is answered by ``answer``; yields its base URL and the headers
    of each request it received."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            answer(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/ndrc", seen
    finally:
        server.shutdown()
        server.server_close()


def _json(body: bytes) -> Callable[[BaseHTTPRequestHandler], None]:
    def answer(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return answer


def _trickle(h: BaseHTTPRequestHandler) -> None:
    """Headers at once, then one byte of a valid answer every 0.2 s: never silent long enough to time out."""
    body = json.dumps({"columns": ["x"] * 20}).encode()
    h.send_response(200)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    for b in body:
        try:
            h.wfile.write(bytes([b]))
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up at its deadline: the point
            return
        time.sleep(0.2)


def _source(catalog: Catalog, uri: str) -> tuple[HttpSource, object]:
    form = catalog.forms_of(NDRC)[0]
    return HttpSource(catalog.system[NDRC], catalog, uri), form


def test_a_trickling_api_fails_at_its_deadline(slice_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANCHENG_HTTP_DEADLINE", "1.5")
    with api(_trickle) as (base, _):
        source, form = _source(slice_catalog, base)
        with pytest.raises(SourceUnavailable) as err:
            source.live_columns(form)  # type: ignore[arg-type]
    message = str(err.value)
    assert "\n" not in message and NDRC in message and base in message
    assert "deadline" in message and "QUANCHENG_HTTP_DEADLINE" in message


@pytest.mark.parametrize(("userinfo", "query", "expected"), [
    ("clerk:" + SECRET + "@", "", "Basic "),  # a user and a password: HTTP Basic
    (":" + SECRET + "@", "", "Bearer " + SECRET),  # a password alone: a token
    ("", "?token=" + SECRET, "Bearer " + SECRET),  # a token in the connection's extra (query)
])
def test_credentials_come_from_the_connection_and_stay_secret(slice_catalog: Catalog, userinfo: str, query: str,
                                                              expected: str) -> None:
    with api(_json(b'{"nothing": 1}')) as (base, seen):
        uri = base.replace("http://", "http://" + userinfo) + query
        source, form = _source(slice_catalog, uri)
        with pytest.raises(SourceError) as err:
            source.live_columns(form)  # type: ignore[arg-type]
    assert seen and seen[0]["Authorization"].startswith(expected)
    if expected == "Basic ":
        import base64

        assert base64.b64decode(seen[0]["Authorization"][6:]).decode() == f"clerk:{SECRET}"
    assert SECRET not in str(err.value) and SECRET not in source.base


@pytest.mark.parametrize(("body", "cause"), [
    (b"<html>502 Bad Gateway</html>", "not JSON"),
    (b'{"rows": []}', "no 'items' list"),
])
def test_an_api_answering_nonsense_is_one_clear_error(slice_catalog: Catalog, body: bytes, cause: str) -> None:
    with api(_json(body)) as (base, _):
        source, form = _source(slice_catalog, base)
        with pytest.raises(SourceError) as err:
            list(source.read(form, _whole(), 1000))  # type: ignore[arg-type]
    message = str(err.value)
    assert cause in message and NDRC in message and "\n" not in message


def _whole():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from quancheng.sources import Window

    return Window(None, datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("airflow", "canonical"), [
    ("http://127.0.0.1:8000/api%2Fv1%2Ftax_credit", "http://127.0.0.1:8000/api/v1/tax_credit"),
    ("https://u:p%40ss@api.example.cn/api%2Fv1?token=a%2Fb", "https://u:p%40ss@api.example.cn/api/v1?token=a%2Fb"),
    ("http://127.0.0.1:8000/tax", "http://127.0.0.1:8000/tax"),
    ("sqlite:///%2Ftmp%2Fa.db", "sqlite:////tmp/a.db"),
    ("file://%2Ftmp%2Fdrop", "file:///tmp/drop"),
    ("postgres://u@h:5432/db", "postgresql://u@h:5432/db"),
])
def test_canonical_uri_undoes_airflow_s_encoding(airflow: str, canonical: str) -> None:
    assert canonical_uri(airflow) == canonical


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_cut_csv_is_one_line_without_its_rows(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    drop = tmp_path / "drop"
    drop_permits(drop, 6, "20260301T0800")
    path = next((drop / "sgxk").glob("*.csv"))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    row = lines[2].rstrip("\n")
    short = ",".join(row.split(",")[:3])  # a row with fewer cells than the header
    path.write_text("".join([*lines[:2], short + "\n", *lines[3:]]), encoding="utf-8")
    from quancheng.sources.files import marker_of

    meta = json.loads(marker_of(path).read_text(encoding="utf-8"))
    marker_of(path).write_text(json.dumps({**meta, "bytes": path.stat().st_size}), encoding="utf-8")
    home = tmp_path / "home"
    code, _, err = quancheng("run", HCB, "--dir", str(home), "--uri", f"file://{drop}", "--end", "2026-03-02")
    line = _one_line(err)
    assert code == 2 and HCB in line and str(path) in line and "CSV parse error" in line
    assert short not in err and "3701022020010201" not in line  # no cell of the export is repeated
    code, out, _ = quancheng("status", "--dir", str(home), "--json")
    record = next(s for s in json.loads(out)["systems"] if s["system_id"] == HCB)
    assert "CSV parse error" in record["error"] and short not in record["error"]


def test_a_zero_byte_sqlite_file_is_not_schema_drift(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    db = tmp_path / "ndrc.db"
    db.touch()
    code, _, err = quancheng("run", NDRC, "--dir", str(tmp_path / "home"), "--uri", f"sqlite:///{db}",
                             "--end", "2026-03-02")
    line = _one_line(err)
    assert code == 2 and "not a SQLite database" in line and "0 bytes" in line and str(db) in line
    assert "drift" not in line and "fields.csv" not in line
    with sqlite3.connect(db):  # still 0 bytes: nothing was created in it
        pass
    assert db.stat().st_size == 0


def test_a_bad_port_names_the_system_and_hides_the_password(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    code, _, err = quancheng("run", NDRC, "--dir", str(tmp_path / "home"),
                             "--uri", f"postgresql://postgres:{SECRET}@127.0.0.1:99999/db", "--end", "2026-03-02")
    line = _one_line(err)
    assert code == 2 and NDRC in line and "port" in line and SECRET not in err


def test_a_home_that_cannot_be_written_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The tests run as root, which writes anywhere; a file where the home's staging folder must be fails
    the same way a read-only home does (an OSError) and reaches the same handler."""
    quancheng = slice_cli(capsys, monkeypatch)
    home = tmp_path / "home"
    home.mkdir()
    (home / "staging").write_text("not a folder")
    db = tmp_path / "ndrc.db"
    from storekit import filings, put_filings

    put_filings(db, filings(0, 2, "2026-03-01 10:00:00"))
    code, _, err = quancheng("run", NDRC, "--dir", str(home), "--uri", f"sqlite:///{db}", "--end", "2026-03-02")
    line = _one_line(err)
    assert code == 2 and str(home / "staging") in line and "writable folder" in line


@pytest.mark.parametrize("args", [
    ["run", NDRC, "--start", "2026-03-02", "--end", "2026-03-01"],
    ["demo", "seed", "--scale", "0"],
    ["demo", "seed", "--scale", "-3"],
    ["demo", "advance", "--fraction", "7"],
    ["demo", "advance", "--fraction", "0"],
])
def test_impossible_arguments_are_usage_errors(args: list[str], tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quancheng = slice_cli(capsys, monkeypatch)
    code, _, err = quancheng(*args, "--dir", str(tmp_path / "home"))
    assert code == 2 and "Traceback" not in err and ("Invalid value" in err or "not after" in err), err
    assert not (tmp_path / "home").exists()  # refused before anything was made


def _writer(base: str, rounds: int) -> None:
    from quancheng.publish.store import content_hash, make_current, write_version

    table = pa.table({"_source_key": [str(i) for i in range(2000)], "v": list(range(2000))})
    digest = content_hash(table)
    for _ in range(rounds):
        make_current(Path(base), "s.f", write_version(Path(base), "s.f", table, digest))


def test_two_writers_of_the_same_version_do_not_break_each_other(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), 15)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "s.f" / "data.parquet").num_rows == 2000
    assert not any((tmp_path / ".writing").iterdir())  # no temporary folder left behind
