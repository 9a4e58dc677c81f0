"""The one contract every source kind passes, as a class a kind's own test module subclasses.

The built-in kinds run it against the real engines (``test_contract.py``); a new kind gets the same suite
by subclassing :class:`SourceContract` and giving it a ``host`` fixture, an object with what
:class:`ContractHost` lists (``source_hosts.Host`` is the built-in kinds' one)::

    from contract import SourceContract

    class TestParquetKind(SourceContract):
        @pytest.fixture
        def host(self, catalog, tmp_path):
            return ParquetHost(catalog, tmp_path)

The ``catalog`` fixture (``conftest.py`` of this folder) is the slice catalog; the suite reads its forms
``amr_enterprise_reg`` (incremental: decimal, date and date-time columns) and ``hcb_permit`` (a snapshot).
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.errors import SchemaDriftError, SourceUnavailable
from quancheng.sources.base import DriftPolicy, Source, Window
from quancheng.sources.types import native_schema, text_schema
from source_hosts import BASE_TIME, FAR, INCREMENTAL, ROWS, SNAPSHOT, as_text, read_all, sample_table


class ContractHost(Protocol):
    """Where one kind of source lives, as the contract needs it."""

    kind: str
    catalog: Catalog
    root: Path
    # the kind carries text only (file drops): its batches declare every column as text
    text_only: bool
    # the kind reports live column types (SQL engines): a retyped column is drift
    typed: bool

    def source(self, form: SourceForm, *, uri: str | None = None, drift: DriftPolicy = "fail") -> Source:
        """The kind's Source for ``form``, at the host's URI (or ``uri``)."""

    def put(self, form: SourceForm, table: pa.Table) -> None:
        """Replace the source table of ``form`` with ``table`` (which may add or lack catalog columns)."""

    def retype(self, form: SourceForm, column: str) -> None:
        """Turn ``column`` into a text column in the live table (typed kinds only)."""

    def broken_uri(self, form: SourceForm) -> str:
        """A URI to the same kind of source that is down; carries a password where the kind has one."""


class SourceContract:
    """The contract tests; subclass with a ``host`` fixture (pytest collects the subclass, not this)."""

    def test_columns_and_order(self, host: ContractHost) -> None:
        for form_id in (INCREMENTAL, SNAPSHOT):
            form = host.catalog.form[form_id]
            expected = sample_table(host.catalog, form, ROWS)
            host.put(form, expected)
            names = [f.column for f in host.catalog.fields_of(form_id)]
            assert host.source(form).live_columns(form) == names
            got = read_all(host, form_id)
            assert got.column_names == names
            assert as_text(got) == as_text(expected)


    @pytest.mark.parametrize(("start_h", "end_h"), [(None, 10), (10, 25), (0, 1), (59, 100), (100, 200)])
    def test_window_filtering(self, host: ContractHost, start_h: int | None, end_h: int) -> None:
        form = host.catalog.form[INCREMENTAL]
        table = sample_table(host.catalog, form, ROWS)
        host.put(form, table)
        start = None if start_h is None else BASE_TIME + timedelta(hours=start_h)
        end = BASE_TIME + timedelta(hours=end_h)
        stamps = table[form.updated_column].to_pylist()
        expected = [i for i, t in enumerate(stamps) if (start is None or t >= start) and t < end]
        got = read_all(host, INCREMENTAL, Window(start, end))
        assert as_text(got) == as_text(table.take(pa.array(expected, pa.int64())))


    @pytest.mark.parametrize("case", ["quiet_window", "empty_table"])
    def test_empty_window_yields_the_declared_schema_with_no_rows(self, host: ContractHost, case: str) -> None:
        """A quiet day (no row changed in the window; a drop whose export holds no row; an API with no page)
        still yields the form's columns: one empty batch of the kind's declared schema."""
        form_id = INCREMENTAL if case == "quiet_window" else SNAPSHOT
        form = host.catalog.form[form_id]
        rows = ROWS if case == "quiet_window" else 0
        host.put(form, sample_table(host.catalog, form, rows))
        window = Window(BASE_TIME + timedelta(hours=ROWS), BASE_TIME + timedelta(hours=ROWS + 24))
        source = host.source(form)
        batches = list(source.extract(form, window))
        declared = (text_schema if host.text_only else native_schema)(host.catalog, form)
        assert source.schema(form) == declared
        assert [(b.num_rows, b.schema) for b in batches] == [(0, declared)]
        assert declared.names == [f.column for f in host.catalog.fields_of(form_id)]


    def test_aware_window_is_read_in_the_system_s_zone(self, host: ContractHost) -> None:
        """Airflow's data interval is aware (UTC); the source's stamps carry no zone and are Beijing time (the
        system's catalog ``timezone``, Asia/Shanghai by default): 05:00-08:00 UTC is 13:00-16:00 there."""
        from datetime import UTC

        form = host.catalog.form[INCREMENTAL]
        assert host.catalog.system[form.system_id].timezone == "Asia/Shanghai"
        table = sample_table(host.catalog, form, ROWS)
        host.put(form, table)
        aware = Window(BASE_TIME.replace(tzinfo=UTC) + timedelta(hours=5), BASE_TIME.replace(tzinfo=UTC)
                       + timedelta(hours=8))
        assert as_text(read_all(host, INCREMENTAL, aware)) == as_text(table.slice(13, 3))


    @pytest.mark.parametrize("chunk_rows", [1, 7, 60, 1000])
    def test_chunks_are_bounded(self, host: ContractHost, chunk_rows: int) -> None:
        form = host.catalog.form[INCREMENTAL]
        host.put(form, sample_table(host.catalog, form, ROWS))
        batches = list(host.source(form).extract(form, FAR, chunk_rows))
        assert all(0 < b.num_rows <= chunk_rows for b in batches)
        assert sum(b.num_rows for b in batches) == ROWS
        assert len(batches) == math.ceil(ROWS / chunk_rows)


    def test_snapshot_form_reads_everything_whatever_the_window(self, host: ContractHost) -> None:
        form = host.catalog.form[SNAPSHOT]
        table = sample_table(host.catalog, form, ROWS)
        host.put(form, table)
        narrow = Window(BASE_TIME, BASE_TIME + timedelta(seconds=1))
        assert as_text(read_all(host, SNAPSHOT, narrow)) == as_text(table)


    @pytest.mark.parametrize("change", ["added", "removed"])
    def test_drift_fails_naming_system_table_and_columns(self, host: ContractHost, change: str) -> None:
        form = host.catalog.form[INCREMENTAL]
        table = sample_table(host.catalog, form, ROWS)
        victim = host.catalog.fields_of(form.form_id)[2].column
        if change == "added":
            table = table.append_column("new_col", pa.array(["x"] * ROWS))
            column = "new_col"
        else:
            table = table.drop_columns([victim])
            column = victim
        host.put(form, table)
        with pytest.raises(SchemaDriftError) as err:
            list(host.source(form).extract(form, FAR))
        msg = str(err.value)
        assert form.system_id in msg and form.table in msg and column in msg


    def test_retyped_column_fails_naming_both_types(self, host: ContractHost) -> None:
        form = host.catalog.form[INCREMENTAL]
        host.put(form, sample_table(host.catalog, form, ROWS))
        source = host.source(form)
        if not host.typed:  # drops and the API carry text only: no types to compare, no check
            assert source.live_types(form) is None
            return
        victim = next(f for f in host.catalog.fields_of(form.form_id)
                      if f.native_type == "decimal" and f.column not in form.primary_key)
        assert victim.native_type in source.live_types(form)[victim.column].accepts
        host.retype(form, victim.column)
        with pytest.raises(SchemaDriftError) as err:
            list(source.extract(form, FAR))
        msg = str(err.value)
        for part in (form.system_id, form.table, victim.column, "retyped", "catalog decimal", "live TEXT"):
            assert part in msg, (part, msg)
        with pytest.raises(SchemaDriftError):  # new columns may be let through, a retype never
            host.source(form, drift="allow_new").check_schema(form)


    def test_drift_policy_lets_new_columns_through(self, host: ContractHost) -> None:
        form = host.catalog.form[INCREMENTAL]
        table = sample_table(host.catalog, form, ROWS)
        host.put(form, table.append_column("new_col", pa.array(["x"] * ROWS)))
        source = host.source(form, drift="allow_new")
        assert source.check_schema(form) == ["new_col"]
        got = pa.Table.from_batches(list(source.extract(form, FAR)))
        assert got.column_names == [f.column for f in host.catalog.fields_of(form.form_id)]


    def test_outage_is_source_unavailable_without_password(self, host: ContractHost) -> None:
        form = host.catalog.form[INCREMENTAL]
        host.put(form, sample_table(host.catalog, form, 5))
        source = host.source(form, uri=host.broken_uri(form))
        for call in (lambda: source.live_columns(form), lambda: list(source.read(form, FAR, 100))):
            with pytest.raises(SourceUnavailable) as err:
                call()
            assert form.system_id in str(err.value)
            assert "s3cret" not in str(err.value)


    @pytest.mark.parametrize("chunk_rows", [7, 1000])
    def test_list_keys_yields_every_key_and_only_key_columns(self, host: ContractHost, chunk_rows: int) -> None:
        """Delete reconciliation compares published keys with this listing: every row's key, no other column,
        whatever the window, in bounded batches, as the same text the read's source keys are."""
        from quancheng.sources.types import source_keys

        for form_id in (INCREMENTAL, SNAPSHOT):
            form = host.catalog.form[form_id]
            table = sample_table(host.catalog, form, ROWS)
            host.put(form, table.slice(0, ROWS - 4))  # the last rows were deleted at the source
            batches = list(host.source(form).list_keys(form, chunk_rows))
            assert all(0 < b.num_rows <= chunk_rows and b.schema.names == list(form.primary_key) for b in batches)
            listed = sorted(k for b in batches for k in source_keys(b, form.primary_key).to_pylist())
            read = read_all(host, form_id)
            assert listed == sorted(source_keys(read, form.primary_key).to_pylist())
            assert len(listed) == ROWS - 4
