"""Kind-specific faults: half-written file drops, API paging and rate limits, unknown kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.demo.api import serve
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources import http as http_source
from quancheng.sources.base import source_class
from quancheng.sources.files import marker_of, write_drop
from source_hosts import FAR, INCREMENTAL, KINDS, ROWS, Host, as_text, read_all, sample_table


@pytest.fixture(params=["csv", "excel"])
def drop_host(request: pytest.FixtureRequest, catalog: Catalog, tmp_path: Path) -> Host:
    from contextlib import ExitStack

    return Host(request.param, catalog, tmp_path, ExitStack())


def _fmt(host: Host) -> str:
    return "csv" if host.kind == "csv" else "xlsx"


def test_half_written_drop_is_not_read(drop_host: Host) -> None:
    form = drop_host.catalog.form[INCREMENTAL]
    old = sample_table(drop_host.catalog, form, ROWS)
    drop_host.put(form, old)
    folder = Path(drop_host.uri.removeprefix("file://")) / form.table
    newer = write_drop(folder, sample_table(drop_host.catalog, form, ROWS + 5), _fmt(drop_host), "99991231T000000")
    marker_of(newer).unlink()  # the exporter has not finished: the older complete export is read
    assert as_text(read_all(drop_host, INCREMENTAL)) == as_text(old)


def test_drop_changed_after_its_marker_is_refused(drop_host: Host) -> None:
    """Once the marker exists the export is declared complete: a size change is damage, not growth, and
    falling back to the older export would roll published data back."""
    form = drop_host.catalog.form[INCREMENTAL]
    drop_host.put(form, sample_table(drop_host.catalog, form, ROWS))
    folder = Path(drop_host.uri.removeprefix("file://")) / form.table
    newer = write_drop(folder, sample_table(drop_host.catalog, form, ROWS + 5), _fmt(drop_host), "99991231T000000")
    with newer.open("ab") as fh:
        fh.write(b"more,rows,arriving\n")
    with pytest.raises(SourceError, match=r"99991231T000000\.(csv|xlsx) is \d+ bytes but its \.done marker"):
        read_all(drop_host, INCREMENTAL)


def test_only_incomplete_drops_means_unavailable(drop_host: Host) -> None:
    form = drop_host.catalog.form[INCREMENTAL]
    folder = drop_host.root / "drop" / form.table
    path = write_drop(folder, sample_table(drop_host.catalog, form, 3), _fmt(drop_host), "20250101T000000")
    marker_of(path).unlink()
    drop_host.uri = f"file://{drop_host.root / 'drop'}"
    with pytest.raises(SourceUnavailable, match="no complete"):
        list(drop_host.source(form).extract(form, FAR))


def test_csv_in_gb18030_is_read(catalog: Catalog, tmp_path: Path) -> None:
    from contextlib import ExitStack

    host = Host("csv", catalog, tmp_path, ExitStack())
    form = catalog.form[INCREMENTAL]
    table = sample_table(catalog, form, ROWS)
    folder = tmp_path / "drop" / form.table
    path = write_drop(folder, table, "csv", "20250101T000000", encoding="gb18030")
    assert json.loads(marker_of(path).read_text())["encoding"] == "gb18030"
    host.uri = f"file://{tmp_path / 'drop'}"
    assert as_text(read_all(host, INCREMENTAL)) == as_text(table)


def test_api_is_read_to_the_last_page_honouring_429(catalog: Catalog, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import ExitStack

    waits: list[float] = []
    real_sleep = http_source.time.sleep

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(http_source.time, "sleep", sleep)
    monkeypatch.setattr(http_source, "MAX_PAGE_SIZE", 7)
    with ExitStack() as stack:
        host = Host("http", catalog, tmp_path, stack)
        host.api_base = stack.enter_context(serve(tmp_path, rate_limit=4, per_seconds=1.0))
        form = catalog.form[INCREMENTAL]
        table = sample_table(catalog, form, ROWS)
        host.put(form, table)
        got = read_all(host, INCREMENTAL, chunk_rows=25)
    assert as_text(got) == as_text(table)  # ceil(60 / 7) = 9 pages, more than 4 a second
    assert waits and all(w >= 1 for w in waits)


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(SourceError) as err:
        source_class("oracle")
    for kind in KINDS:
        assert kind in str(err.value)


def test_api_unknown_table_is_drift(catalog: Catalog, tmp_path: Path) -> None:
    from contextlib import ExitStack

    with ExitStack() as stack:
        host = Host("http", catalog, tmp_path, stack)
        host.api_base = stack.enter_context(serve(tmp_path))
        form = catalog.form[INCREMENTAL]
        assert host.source(form).live_columns(form) == []


def test_value_that_does_not_fit_its_native_type_is_passed_on_as_text(catalog: Catalog, tmp_path: Path) -> None:
    """One bad cell never stops the extraction: the column goes on as text for normalization to reject."""
    import sqlite3
    from contextlib import ExitStack

    host = Host("sqlite", catalog, tmp_path, ExitStack())
    form = catalog.form[INCREMENTAL]
    host.put(form, sample_table(catalog, form, 5))
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.execute('UPDATE enterprise SET est_date = \'二〇一九年\' WHERE uscc = \'uscc-00003\'')
    got = read_all(host, INCREMENTAL)
    assert got.schema.field("est_date").type == pa.string()
    assert dict(zip(got["uscc"].to_pylist(), got["est_date"].to_pylist(), strict=True))["uscc-00003"] == "二〇一九年"
    assert got["reg_capital"].type == pa.decimal128(24, 4)  # the other columns keep their native types


def test_api_without_a_keys_endpoint_is_paged_through_whole(catalog: Catalog, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Key listing for delete reconciliation: an API that answers 404 on ``<table>/keys`` is read page by page,
    every row whatever its update time, keeping only the key columns."""
    from contextlib import ExitStack

    from quancheng.sources.types import source_keys

    asked: list[str] = []
    real_get = http_source.HttpSource._get

    def get(self: http_source.HttpSource, form: object, path: str, params: dict[str, object] | None = None) -> object:
        asked.append(path)
        if path.endswith("/keys"):
            raise http_source._NotFound
        return real_get(self, form, path, params)  # type: ignore[arg-type]

    monkeypatch.setattr(http_source.HttpSource, "_get", get)
    monkeypatch.setattr(http_source, "MAX_PAGE_SIZE", 7)
    with ExitStack() as stack:
        host = Host("http", catalog, tmp_path, stack)
        host.api_base = stack.enter_context(serve(tmp_path))
        form = catalog.form[INCREMENTAL]
        table = sample_table(catalog, form, ROWS)
        host.put(form, table)
        batches = list(host.source(form).list_keys(form, 25))
    assert all(b.schema.names == list(form.primary_key) for b in batches)
    assert sorted(k for b in batches for k in source_keys(b, form.primary_key).to_pylist()) == \
        sorted(source_keys(table, form.primary_key).to_pylist())
    assert asked.count(form.table) == -(-ROWS // 7)  # every page of the table, after the one 404
