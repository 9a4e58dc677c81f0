"""Every row of shared/reference/identifier_examples.csv, with its expected verdict, scalar and column-wise."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import polars as pl
import pytest
from quancheng.ids import check, check_column

REFERENCE = Path(os.environ.get("QUANCHENG_REFERENCE",
                                Path(__file__).resolve().parents[2] / "reference"))
EXAMPLES = REFERENCE / "identifier_examples.csv"
KIND_OF = [("RIC", "ric"), ("USCC", "uscc"), ("Org code", "org_code"), ("工商注册号", "reg_no"),
           ("投资项目代码", "project_code"), ("施工许可证", "construction_permit"),
           ("建设工程规划许可证", "planning_permit")]
VALID = {"valid", "checksum-valid synthetic", "valid format (no check digit)", "format only"}


def _rows() -> list[dict[str, str]]:
    if not EXAMPLES.exists():
        if os.environ.get("CI", "").lower() == "true":
            raise FileNotFoundError(EXAMPLES)
        pytest.skip(f"reference file not found: {EXAMPLES} (set QUANCHENG_REFERENCE)", allow_module_level=True)
    with EXAMPLES.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()


def kind_of(label: str) -> str:
    return next(k for prefix, k in KIND_OF if label.startswith(prefix))


def expected_valid(expected: str) -> bool:
    assert expected in VALID or expected.startswith("invalid"), f"unknown verdict {expected!r}"
    return expected in VALID


def instance_of(template: str) -> str:
    """A concrete value of a format template such as YYYY-AAAAAA-II-TT-NNNNNN."""
    return template.replace("YYYY", "2019").replace("AAAAAA", "370102").replace("II", "47").replace(
        "TT", "03").replace("NNNNNN", "000001")


def test_every_row_is_read() -> None:
    assert len(ROWS) == sum(1 for _ in EXAMPLES.open(encoding="utf-8")) - 1


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['kind'][:12]}:{r['value']}" for r in ROWS])
def test_expected_verdict(row: dict[str, str]) -> None:
    kind, value = kind_of(row["kind"]), row["value"]
    if re.fullmatch(r"[YANIT-]+", value):  # a format template, not a code: it is invalid, an instance valid
        assert not check(value, kind).valid  # type: ignore[arg-type]
        assert check(instance_of(value), kind).valid  # type: ignore[arg-type]
        return
    r = check(value, kind)  # type: ignore[arg-type]
    assert r.valid is expected_valid(row["expected"]), r
    if "(checksum)" in row["expected"]:
        assert r.reason == f"{kind}.checksum"
    if "(birth date)" in row["expected"]:
        assert r.reason == "ric.birth_date"
    upgraded = re.search(r"=(\d{17}[\dX])$", row["computed"])
    if upgraded:
        assert r.normalized == upgraded.group(1)
    col = check_column(pl.Series([value]), kind)  # type: ignore[arg-type]
    assert bool(col.valid[0]) is r.valid and col.reason[0] == r.reason and col.normalized[0] == r.normalized
    if kind in ("uscc", "ric", "org_code", "reg_no"):  # a mixed 证照号码 column classifies it the same way
        mixed = check(value, "license_no")
        assert mixed.valid is r.valid
        if r.valid:
            assert mixed.kind == kind


def test_stdnum_gaps_are_covered() -> None:
    """Rows where python-stdnum 2.2 is wrong (per the reference) are right here."""
    gaps = [r for r in ROWS if "stdnum2.2" in r["computed"] and "valid" in r["expected"]
            and not r["expected"].startswith("invalid") and "stdnum2.2=valid" not in r["computed"]]
    assert gaps, "the reference lists values python-stdnum rejects"
    for r in gaps:
        assert check(r["value"], kind_of(r["kind"])).valid, r  # type: ignore[arg-type]
