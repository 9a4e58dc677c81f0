"""Quantity, integer and yes/no normalizers: one line per case (rules in quancheng.normalize.quantity)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from quancheng.normalize.quantity import UnitTable, parse_booleans, parse_integers, parse_quantities, suspect_scale


@pytest.fixture(scope="module")
def units(slice_catalog):  # type: ignore[no-untyped-def]
    return UnitTable.of(slice_catalog.units)


MONEY = [  # field declared in 万元, element in 元
    ("12.5", Decimal("125000.00"), None),
    ("12.5万元", Decimal("125000.00"), None),             # the declared unit, written out
    ("1250000元", Decimal("1250000.00"), "unit.converted"),
    ("1,234.5", Decimal("12345000.00"), None),
    ("1，234.5", Decimal("12345000.00"), None),
    ("７８９", Decimal("7890000.00"), None),
    (" 100 ", Decimal("1000000.00"), None),
    ("0.00005", Decimal("0.50"), None),
    ("0.000001", Decimal("0.01"), None),                  # 0.01 元: half away from zero
    ("-3", Decimal("-30000.00"), None),
    ("0", Decimal("0.00"), None),                         # a real zero for a quantity
    ("1.5亿元", Decimal("150000000.00"), "unit.converted"),
    ("/", None, "placeholder.null"),
    ("无", None, "placeholder.null"),
    ("NA", None, "placeholder.null"),
    ("壹佰", None, "quantity.unparseable"),
    ("5kg", None, "unit.unknown"),
    ("5亩", None, "unit.mismatch"),
    ("99999999999999999999", None, "quantity.too_large"),
    (None, None, None),
]


@pytest.mark.parametrize(("text", "value", "code"), MONEY)
def test_money(units: UnitTable, text: str | None, value: Decimal | None, code: str | None) -> None:
    o = parse_quantities(pl.Series([text], dtype=pl.String), units.get("万元"), units.get("元"), units, 2)
    assert (o.values[0], o.codes[0]) == (value, code)


AREA = [  # field declared in 亩, element in m²
    ("3", Decimal("2000.00"), None),
    ("1", Decimal("666.67"), None),                       # 10000/15, half away from zero
    ("1.5公顷", Decimal("15000.00"), "unit.converted"),
    ("1200㎡", Decimal("1200.00"), "unit.converted"),
    ("1200 平方米", Decimal("1200.00"), "unit.converted"),
    ("1200m2", Decimal("1200.00"), "unit.converted"),
    ("1200M2", Decimal("1200.00"), "unit.converted"),
    ("1200M²", Decimal("1200.00"), "unit.converted"),
    ("1200m&sup2;", Decimal("1200.00"), "unit.converted"),
    ("1200平米", Decimal("1200.00"), "unit.converted"),
    ("12.5万元", None, "unit.mismatch"),
]


@pytest.mark.parametrize(("text", "value", "code"), AREA)
def test_area(units: UnitTable, text: str, value: Decimal | None, code: str | None) -> None:
    o = parse_quantities(pl.Series([text]), units.get("亩"), units.get("m²"), units, 2)
    assert (o.values[0], o.codes[0]) == (value, code)


def test_conversion_is_exact_on_many_rows(units: UnitTable) -> None:
    """A million-row path and a one-row path give the same exact decimals."""
    texts = [f"{i}.{i % 100:02d}" for i in range(2000)]
    o = parse_quantities(pl.Series(texts), units.get("亩"), units.get("m²"), units, 2)
    for t, v in zip(texts, o.values, strict=True):
        exact = Decimal(t) * 10000 / 15
        assert v == exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_too_large_after_a_unit_conversion_is_still_an_error(units) -> None:  # type: ignore[no-untyped-def]
    """The unit.converted note must not hide the error: the value is gone, so the row must be quarantined."""
    o = parse_quantities(pl.Series(["999999999999999999万元", "12万元"]), units.get("元"), units.get("元"), units, 2)
    assert o.values.to_list() == [None, Decimal("120000.00")]
    assert o.codes.to_list() == ["quantity.too_large", "unit.converted"]


def test_suspect_scale_flags_values_off_by_ten_thousand() -> None:
    """High side only: 元 typed into 万元 lands 10⁴ over the median; a small amount is genuine."""
    values = pl.Series([Decimal(100 + i) for i in range(30)] + [Decimal(1_000_000), Decimal("0.01"), None],
                       dtype=pl.Decimal(38, 2))
    assert suspect_scale(values).to_list() == [False] * 30 + [True, False, False]


def test_suspect_scale_needs_ten_values_and_a_real_outlier() -> None:
    few = pl.Series([Decimal(100)] * 9 + [Decimal(10**7)], dtype=pl.Decimal(38, 2))
    assert not suspect_scale(few[:9].append(pl.Series([None], dtype=few.dtype))).any()
    spread = pl.Series([Decimal(10 ** (i % 4)) for i in range(40)], dtype=pl.Decimal(38, 2))  # 1 .. 1000
    assert not suspect_scale(spread).any()



def test_small_batch_is_held_against_the_reference_asked_only_then() -> None:
    asked: list[int] = []

    def published_median() -> float:
        asked.append(1)
        return 100.0

    big = pl.Series([Decimal(100 + i) for i in range(30)] + [Decimal(1_000_000)], dtype=pl.Decimal(38, 2))
    assert suspect_scale(big, reference=published_median).to_list()[-1] and not asked
    small = pl.Series([Decimal(120), Decimal(1_000_000), None], dtype=pl.Decimal(38, 2))
    assert suspect_scale(small, reference=published_median).to_list() == [False, True, False] and asked == [1]
    assert not suspect_scale(small).any()  # nothing published yet: no yardstick


@pytest.mark.parametrize(("text", "value", "code"), [
    ("18", 18, None), ("18层", 18, None), ("3栋", 3, None), ("3.0", 3, None), ("１２", 12, None), ("1,200", 1200, None),
    ("3.5", None, "integer.unparseable"), ("三", None, "integer.unparseable"), ("/", None, "placeholder.null"),
])
def test_integers(text: str, value: int | None, code: str | None) -> None:
    o = parse_integers(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)


@pytest.mark.parametrize(("text", "value", "code"), [
    ("是", True, None), ("否", False, None), ("有", True, None), ("无", False, None), ("Y", True, None),
    ("n", False, None), ("1", True, None), ("0", False, None), ("true", True, None),
    ("也许", None, "boolean.unparseable"), ("/", None, "placeholder.null"),
])
def test_booleans(text: str, value: bool | None, code: str | None) -> None:
    o = parse_booleans(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)
