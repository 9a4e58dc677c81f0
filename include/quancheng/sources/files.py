"""File-drop sources: CSV and Excel exports a department drops into a folder.

The drop protocol (``file:///abs/dropdir``):

- each form's exports go to ``<dropdir>/<table>/<stamp>.csv`` (or ``.xlsx``), where ``<stamp>`` sorts by
  time (``20250101T120000``); every export holds the whole table;
- the exporter writes the data file first, then a completion marker ``<file>.done`` holding JSON
  ``{"rows": n, "bytes": size, "encoding": "utf-8"}`` (``encoding`` is optional, CSV only: without it the
  bytes decide, UTF-8 with or without a byte-order mark, else GB18030, see :func:`detect_encoding`);
- the reader takes the newest export that has its marker and whose size still equals the marker's
  ``bytes``; a file without its marker is still being written and is skipped; if no complete export
  exists the source is unavailable (the task retries later);
- an export newer than that one whose marker exists but whose size differs from the marker's ``bytes``
  was cut short or overwritten after it was declared complete: that is an error naming the file, never
  a silent fall back to an older export (which would roll published data back);
- the rows read must equal the marker's ``rows`` (when given), else the export is refused, naming the
  file and both counts;
- the export a read sees is its :meth:`FileDropSource.position` (the file name, which sorts by time); the
  pipeline remembers the last one consumed and refuses to go back to an older one
  (:mod:`quancheng.sources.deletes`). One source object reads one export per form, however often asked.

Every column is read as text (a CSV or Excel cell carries no type the pipeline may trust; the
normalizer parses it). Empty cells are null; placeholders such as ``NA`` or ``/`` stay as text.
Incremental forms keep the rows whose ``updated_column`` parses into the window; a row with no
timestamp is read only by the first window (``start=None``), so nothing is silently left out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.compute as pc

from quancheng.catalog.models import SourceForm
from quancheng.errors import SourceError, SourceUnavailable
from quancheng.sources.base import Source, Window, register
from quancheng.sources.types import conform, rechunk, text_schema

DropFormat = Literal["csv", "xlsx"]
MARKER = ".done"


def drop_dir(uri: str) -> Path:
    """``file:///abs/dropdir`` -> ``/abs/dropdir``."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise SourceError("?", None, f"a file drop needs a file:/// URI, got scheme {parts.scheme!r}")
    return Path(unquote(parts.path))


def marker_of(path: Path) -> Path:
    return path.with_name(path.name + MARKER)


def read_marker(path: Path, system: str = "?") -> dict[str, Any]:
    """The completion marker of export ``path`` as a dict ({} for an empty marker)."""
    marker = marker_of(path)
    text = marker.read_text(encoding="utf-8").strip()
    try:
        meta = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise SourceError(system, path.parent.name, f"completion marker {marker} is not JSON ({exc.msg}); "
                          "the exporter must write {\"rows\": n, \"bytes\": size}") from None
    if not isinstance(meta, dict):
        raise SourceError(system, path.parent.name, f"completion marker {marker} is not a JSON object")
    return meta


def complete_exports(folder: Path, fmt: DropFormat, system: str = "?") -> tuple[list[Path], list[Path]]:
    """(complete exports newest first, incomplete ones) in ``folder``."""
    complete: list[Path] = []
    incomplete: list[Path] = []
    for path in sorted(folder.glob(f"*.{fmt}"), reverse=True):
        marker = marker_of(path)
        if not marker.is_file():
            incomplete.append(path)
            continue
        expected = read_marker(path, system).get("bytes")
        if expected is not None and path.stat().st_size != int(expected):
            incomplete.append(path)  # still growing, or cut short
            continue
        complete.append(path)
    return complete, incomplete


def write_drop(folder: Path, table: pa.Table, fmt: DropFormat, stamp: str, *, encoding: str = "utf-8") -> Path:
    """Write one export of ``table`` with its completion marker (the exporter's side of the protocol)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.{fmt}"
    text = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    if fmt == "csv":
        import pyarrow.csv as pcsv

        if encoding.lower().replace("-", "") == "utf8":
            pcsv.write_csv(text, path)
        else:
            sink = pa.BufferOutputStream()
            pcsv.write_csv(text, sink)
            path.write_bytes(sink.getvalue().to_pybytes().decode("utf-8").encode(encoding))
    else:
        from quancheng.sources.xlsx import write_xlsx

        write_xlsx(text, path)
    meta = {"rows": table.num_rows, "bytes": path.stat().st_size}
    if fmt == "csv":
        meta["encoding"] = encoding
    marker_of(path).write_text(json.dumps(meta), encoding="utf-8")
    return path


def _cell_text(value: object) -> str | None:
    # Excel stores numbers as floats and dates as serials; render them as a clerk would read them
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


class FileDropSource(Source):
    """A folder of full exports, one subfolder per table."""

    kind: ClassVar[str] = "file"
    fmt: ClassVar[DropFormat]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._chosen: dict[str, Path] = {}  # table -> the export this source reads, chosen once
        self._future: dict[str, int] = {}  # form -> rows stamped at or after the window's end, counted by read
        self._detected: dict[Path, str] = {}  # export -> the encoding its bytes show (no declared one)

    def _latest(self, form: SourceForm) -> Path:
        if form.table not in self._chosen:
            self._chosen[form.table] = self._choose(form)
        return self._chosen[form.table]

    def _choose(self, form: SourceForm) -> Path:
        folder = drop_dir(self.uri) / form.table
        if not folder.is_dir():
            raise SourceUnavailable(self.system.system_id, form.table, f"drop folder {folder} does not exist")
        complete, incomplete = complete_exports(folder, self.fmt, self.system.system_id)
        newest = complete[0].name if complete else ""
        for path in incomplete:  # newest first
            if path.name > newest and marker_of(path).is_file():
                declared = read_marker(path, self.system.system_id).get("bytes")
                raise SourceError(
                    self.system.system_id, form.table,
                    f"export {path} is {path.stat().st_size} bytes but its {MARKER} marker declares {declared}: "
                    "it was cut short or overwritten after it was declared complete; nothing published "
                    f"(fix: have the department re-export it, or move {path.name} and its marker aside)")
        if not complete:
            raise SourceUnavailable(
                self.system.system_id, form.table,
                f"no complete {self.fmt} export in {folder} ({len(incomplete)} file(s) without a {MARKER} "
                "marker or still being written); retry later")
        return complete[0]

    def _encoding(self, path: Path) -> str:
        """The marker's ``encoding`` when the exporter declares one, else the one the bytes show."""
        declared = read_marker(path, self.system.system_id).get("encoding")
        if declared:
            return str(declared)
        if path not in self._detected:
            self._detected[path] = detect_encoding(path, self.system.system_id)
        return self._detected[path]

    def position(self, form: SourceForm) -> str:
        return self._latest(form).name

    def live_columns(self, form: SourceForm) -> list[str]:
        path = self._latest(form)
        return list(self._header(path))

    def schema(self, form: SourceForm) -> pa.Schema:
        """Every column as text: a CSV or Excel cell has no type the pipeline may trust."""
        return text_schema(self.catalog, form)

    def future_rows(self, form: SourceForm, window: Window) -> int | None:
        """Counted while the window was read (an export is read whole anyway)."""
        return self._future.get(form.form_id, 0) if form.updated_column else None

    def read(self, form: SourceForm, window: Window, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        self._future[form.form_id] = 0
        for batch in self._whole(form, chunk_rows, text_schema(self.catalog, form)):
            if form.updated_column:
                batch = self._in_window(batch, form, window)
            if batch.num_rows:
                yield batch

    def list_keys(self, form: SourceForm, chunk_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """The whole export's primary key columns (an export holds the whole table)."""
        schema = text_schema(self.catalog, form)
        keys = pa.schema([f for f in schema if f.name in form.primary_key])
        for batch in self._whole(form, chunk_rows, schema):
            yield batch.select(keys.names)

    def _whole(self, form: SourceForm, chunk_rows: int, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """Every row of the export, checked at the end against the marker's ``rows``."""
        path = self._latest(form)
        declared = read_marker(path, self.system.system_id).get("rows")
        seen = 0
        batches = rechunk(self._batches(path, chunk_rows), chunk_rows)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:  # a CSV cut in the middle of a row
                raise SourceError(self.system.system_id, form.table, f"export {path} cannot be parsed after "
                                  f"{seen} rows ({parse_error(exc)}); nothing published (fix: have the "
                                  "department re-export it)") from None
            seen += batch.num_rows
            yield conform(batch, schema, self.system.system_id, form.table)
        if declared is not None and int(declared) != seen:
            raise SourceError(
                self.system.system_id, form.table,
                f"export {path} holds {seen} rows but its {MARKER} marker declares {declared}: the file is "
                "incomplete or the marker is wrong; nothing published (fix: have the department re-export it)")

    def _in_window(self, batch: pa.RecordBatch, form: SourceForm, window: Window) -> pa.RecordBatch:
        raw = batch.column(form.updated_column)
        try:
            stamps = pc.cast(raw, pa.timestamp("us"))
        except pa.ArrowInvalid as exc:
            raise SourceError(self.system.system_id, form.table, f"update timestamp is not a date-time: {exc}",
                              column=form.updated_column) from None
        end = pa.scalar(self.local(window.end), pa.timestamp("us"))
        self._future[form.form_id] = self._future.get(form.form_id, 0) + pc.sum(
            pc.cast(pc.fill_null(pc.greater_equal(stamps, end), False), pa.int64())).as_py()
        mask = pc.less(stamps, end)
        if window.start is None:
            mask = pc.or_kleene(mask, pc.is_null(stamps))
        else:
            mask = pc.and_kleene(mask, pc.greater_equal(stamps, pa.scalar(self.local(window.start),
                                                                          pa.timestamp("us"))))
        return batch.filter(pc.fill_null(mask, False))

    # --- per format ---
    def _header(self, path: Path) -> list[str]:
        raise NotImplementedError

    def _batches(self, path: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError


@register
class CsvSource(FileDropSource):
    """CSV exports (UTF-8 unless the marker names another encoding, e.g. GB18030)."""

    kind = "csv"
    fmt = "csv"

    def _open(self, path: Path) -> pa.RecordBatchReader:
        import pyarrow.csv as pcsv

        read = pcsv.ReadOptions(encoding=self._encoding(path), block_size=1 << 20)
        convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in self._header(path)}, null_values=[""],
                                      strings_can_be_null=True, quoted_strings_can_be_null=False)
        return pcsv.open_csv(path, read_options=read, convert_options=convert)

    def _header(self, path: Path) -> list[str]:
        """The first line's names, read without parsing the rows (a cut row further down is the read's error)."""
        import csv

        with path.open("rb") as fh:
            first = fh.readline().decode(self._encoding(path)).lstrip("\ufeff").rstrip("\r\n")
        return next(csv.reader([first]), [])

    def _batches(self, path: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        yield from self._open(path)


@register
class ExcelSource(FileDropSource):
    """Excel (.xlsx) exports, first sheet, first row is the header."""

    kind = "excel"
    fmt = "xlsx"

    _opened: tuple[Path, Any] | None = None  # the last workbook sheet: the schema check and the read share it

    def _rows(self, path: Path) -> Iterator[Sequence[object]]:
        from python_calamine import CalamineWorkbook

        if self._opened is None or self._opened[0] != path:
            try:
                sheet = CalamineWorkbook.from_path(os.fspath(path)).get_sheet_by_index(0)
            except Exception as exc:  # noqa: BLE001 -- calamine raises its own untyped errors for a broken file
                raise SourceUnavailable(self.system.system_id, path.parent.name,
                                        f"cannot open workbook {path.name}: {exc}") from None
            self._opened = (path, sheet)
        yield from self._opened[1].iter_rows()

    def _header(self, path: Path) -> list[str]:
        for row in self._rows(path):
            return [str(c) for c in row if c not in (None, "")]
        return []

    def _batches(self, path: Path, chunk_rows: int) -> Iterator[pa.RecordBatch]:
        rows = self._rows(path)
        header = [str(c) for c in next(rows, [])]
        width = len(header)
        buffer: list[Sequence[object]] = []
        for row in rows:
            buffer.append(row)
            if len(buffer) == chunk_rows:
                yield self._batch(header, buffer, width)
                buffer = []
        if buffer:
            yield self._batch(header, buffer, width)

    @staticmethod
    def _batch(header: list[str], rows: list[Sequence[object]], width: int) -> pa.RecordBatch:
        columns = [[_cell_text(r[i]) if i < len(r) else None for r in rows] for i in range(width)]
        return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=header)


def parse_error(exc: BaseException) -> str:
    """Arrow's CSV parse error without the row it quotes (``Expected 18 columns, got 7: <the row>``): a row of
    a departmental export may hold personal data, and errors go to logs and run records."""
    import re

    first = (str(exc).splitlines() or [""])[0]
    return re.sub(r"^(CSV parse error: [^:]*):.*$", r"\1", first)


def detect_encoding(path: Path, system: str = "?") -> str:
    """The text encoding of an export whose marker declares none: UTF-8 (with or without a byte-order
    mark) when every byte sequence is valid UTF-8, else GB18030 (a superset of GBK and GB2312, what
    departments' older systems export) when that decodes the whole file; otherwise an error naming the file
    and the first byte offset neither can read. The whole file is checked, in 1 MiB steps."""
    import codecs

    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    offsets: dict[str, int] = {}
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        done = 0
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk, final=False)
                    done += len(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError as exc:
            offsets[encoding] = done + exc.start
    raise SourceError(system, path.parent.name,
                      f"export {path} is neither UTF-8 (invalid byte at offset {offsets['utf-8']}) nor GB18030 "
                      f"(at offset {offsets['gb18030']}); nothing published (fix: have the exporter write UTF-8, "
                      "or declare the file's encoding in its marker: {\"encoding\": \"...\"})")
