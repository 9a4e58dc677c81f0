"""Drops whose marker names no encoding: the bytes decide (UTF-8 with or without BOM, else GB18030, which
reads GBK and GB2312 too), Chinese values arrive intact, and a file neither can read is one clear error."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from quancheng.catalog import Catalog
from quancheng.errors import SourceError
from quancheng.sources import Window
from quancheng.sources.files import CsvSource, detect_encoding, marker_of, write_drop

SYSTEM, FORM = "hcb_construction_permit", "hcb_permit"
WHOLE = Window(None, datetime(2030, 1, 1, tzinfo=UTC))


def _permits(catalog: Catalog) -> pa.Table:
    cols = [f.column for f in catalog.fields_of(FORM)]
    rows = [{c: "" for c in cols} | {"施工许可证编号": f"3701022020010201{i:02d}",
                                     "工程名称": f"济南市历下区泉城路{i}号综合楼",
                                     "建设单位": "山东省鲁信建筑工程有限责任公司"} for i in range(30)]
    return pa.Table.from_pylist(rows).select(cols)


def _drop(folder: Path, table: pa.Table, encoding: str, bom: bool = False) -> Path:
    path = write_drop(folder / "sgxk", table, "csv", "20260301T0800", encoding=encoding)
    if bom:
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    meta = json.loads(marker_of(path).read_text(encoding="utf-8"))
    meta.pop("encoding", None)  # the exporter declared nothing
    meta["bytes"] = path.stat().st_size
    marker_of(path).write_text(json.dumps(meta), encoding="utf-8")
    return path


@pytest.mark.parametrize(("encoding", "bom", "detected"), [
    ("utf-8", False, "utf-8"),
    ("utf-8", True, "utf-8"),
    ("gbk", False, "gb18030"),
    ("gb18030", False, "gb18030"),
])
def test_undeclared_encodings_are_detected_and_read(slice_catalog: Catalog, tmp_path: Path, encoding: str,
                                                    bom: bool, detected: str) -> None:
    table = _permits(slice_catalog)
    path = _drop(tmp_path, table, encoding, bom)
    assert detect_encoding(path) == detected
    source = CsvSource(slice_catalog.system[SYSTEM], slice_catalog, f"file://{tmp_path}")
    form = slice_catalog.form[FORM]
    assert source.live_columns(form) == table.column_names
    got = pa.Table.from_batches(list(source.extract(form, WHOLE)))
    assert got.column("工程名称").to_pylist() == table.column("工程名称").to_pylist()
    assert got.column("建设单位").to_pylist() == table.column("建设单位").to_pylist()


def test_bytes_no_encoding_reads_are_one_clear_error(slice_catalog: Catalog, tmp_path: Path) -> None:
    path = _drop(tmp_path, _permits(slice_catalog), "utf-8")
    data = path.read_bytes()
    cut = data.index(b"\n") + 5
    path.write_bytes(data[:cut] + b"\xff\xfe\xff" + data[cut:])
    marker_of(path).write_text(json.dumps({"rows": 30, "bytes": path.stat().st_size}), encoding="utf-8")
    source = CsvSource(slice_catalog.system[SYSTEM], slice_catalog, f"file://{tmp_path}")
    with pytest.raises(SourceError) as err:
        list(source.extract(slice_catalog.form[FORM], WHOLE))
    message = str(err.value)
    assert str(path) in message and f"offset {cut}" in message and "\n" not in message
