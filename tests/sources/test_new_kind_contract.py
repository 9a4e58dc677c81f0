"""A kind the package does not have, registered by name, passes the same contract as the built-in kinds.

``ParquetSource`` is what a new kind is: one class registered under its name (here for the test's duration;
a kind of another package names it in the entry point group ``quancheng.source_kinds``). Its test is a host
that puts a table where the kind reads it, and the contract suite (contract.py) for free.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from contract import SourceContract
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.errors import SourceUnavailable
from quancheng.registry import SOURCE_KINDS
from quancheng.sources.base import DriftPolicy, Source, Window, register, source_class
from quancheng.sources.types import conform, rechunk


class ParquetSource(Source):
    """A folder of Parquet exports, one file per table (``parquet:///path/to/folder``); typed, but its types
    are not compared with the catalog (``live_types`` keeps the default)."""

    kind = "parquet"

    def _read(self, form: SourceForm) -> pa.Table:
        path = Path(self.uri.removeprefix("parquet://")) / f"{form.table}.parquet"
        try:
            return pq.read_table(path)
        except OSError:
            raise SourceUnavailable(self.system.system_id, form.table, f"no export at {path}") from None

    def live_columns(self, form: SourceForm) -> list[str]:
        return self._read(form).column_names

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        table = self._read(form)
        if form.updated_column:
            stamp = table[form.updated_column]
            keep = pc.less(stamp, self.local(window.end))
            if window.start is not None:
                keep = pc.and_(keep, pc.greater_equal(stamp, self.local(window.start)))
            table = table.filter(pc.fill_null(keep, False))
        schema = self.schema(form)
        batches = (conform(b, schema, self.system.system_id, form.table) for b in table.to_batches())
        yield from rechunk(batches, chunk_rows)

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        yield from rechunk(self._read(form).select(list(form.primary_key)).to_batches(), chunk_rows)


class ParquetHost:
    """Puts a form's table where :class:`ParquetSource` reads it (what contract.ContractHost asks)."""

    kind = "parquet"
    text_only = False
    typed = False

    def __init__(self, catalog: Catalog, root: Path):
        self.catalog, self.root = catalog, root
        self.folder = root / "exports"

    def source(self, form: SourceForm, *, uri: str | None = None, drift: DriftPolicy = "fail") -> Source:
        cls = source_class(self.kind)  # by name, through the registry, as the pipeline finds a kind
        return cls(self.catalog.system[form.system_id], self.catalog, uri or f"parquet://{self.folder}", drift=drift)

    def put(self, form: SourceForm, table: pa.Table) -> None:
        self.folder.mkdir(exist_ok=True)
        pq.write_table(table, self.folder / f"{form.table}.parquet")

    def retype(self, form: SourceForm, column: str) -> None:
        raise AssertionError("the contract retypes columns of typed kinds only")

    def broken_uri(self, form: SourceForm) -> str:
        return f"parquet://{self.root}/no-such-folder"


@pytest.fixture(autouse=True)
def parquet_kind() -> Iterator[None]:
    with SOURCE_KINDS.scoped():
        register(ParquetSource)
        yield


class TestParquetKind(SourceContract):
    @pytest.fixture
    def host(self, catalog: Catalog, tmp_path: Path) -> ParquetHost:
        return ParquetHost(catalog, tmp_path)


def test_the_kind_is_known_only_while_registered() -> None:
    assert "parquet" in SOURCE_KINDS.names()
    with SOURCE_KINDS.scoped():
        SOURCE_KINDS.unregister("parquet")
        assert "parquet" not in SOURCE_KINDS
