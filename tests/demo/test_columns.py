"""The column builders behind fast seeding agree with the scalar rules they replace."""

from __future__ import annotations

import re
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest
from quancheng.demo import idgen
from quancheng.demo.vec import lookup, num_text, strftime
from stdnum.iso7064 import mod_11_10

RNG = np.random.default_rng(5)
N = 400
DIVISIONS = np.array([370102, 370181, 371202, 370125, 510103])[RNG.integers(0, 5, N)]
BIRTHS = RNG.integers(idgen.day_number(date(1950, 1, 1)), idgen.day_number(date(1999, 12, 31)), N)
SEQS = RNG.integers(0, 1000, N)


def test_ric_columns_match_the_scalar_rule() -> None:
    ric = idgen.ric18_many(DIVISIONS, BIRTHS, SEQS).to_pylist()
    ric15 = idgen.ric15_many(DIVISIONS, BIRTHS, SEQS).to_pylist()
    for r18, r15, div, born, seq in zip(ric, ric15, DIVISIONS, BIRTHS, SEQS, strict=True):
        birth = date.fromordinal(date(1970, 1, 1).toordinal() + int(born))
        assert r18[:17] == f"{div}{birth:%Y%m%d}{seq:03d}"
        assert r18[17] == idgen.ric_check(r18[:17])
        assert idgen.upgrade_ric15(r15) == r18


def test_org_and_credit_codes_carry_both_checks() -> None:
    new_style = RNG.random(N) < 0.5
    orgs = idgen.org_code_matrix(RNG, new_style)
    codes = idgen.uscc_many(pa.array(["91", "N2", "Y1", "A1"] * (N // 4)), DIVISIONS, orgs).to_pylist()
    for code, new in zip(codes, new_style, strict=True):
        assert idgen.org_check(code[8:16]) == code[16]
        assert idgen.uscc_check(code[:17]) == code[17]
        assert code[8:10] == "MA" if new else code[8:16].isdigit()


def test_registration_numbers_pass_iso_7064() -> None:
    numbers = idgen.reg_no15_many(DIVISIONS, RNG.integers(0, 10**8, N)).to_pylist()
    assert all(len(n) == 15 and mod_11_10.is_valid(n) for n in numbers)


def test_project_codes_follow_the_generation_of_their_date() -> None:
    days = RNG.integers(idgen.day_number(date(2015, 3, 1)), idgen.day_number(date(2025, 6, 1)), N)
    codes = idgen.project_codes(RNG, days, pa.array([str(d) for d in DIVISIONS])).to_pylist()
    old = re.compile(r"^(20\d{2})-(\d{6})-\d{2}-0[123]-\d{6}$")
    new = re.compile(r"^(\d{2})(\d{2})-(\d{6})-\d{2}-0[123]-\d{5}[0-9A-Z]$")
    for code, day, div in zip(codes, days, DIVISIONS, strict=True):
        approved = date.fromordinal(date(1970, 1, 1).toordinal() + int(day))
        m = old.match(code) if approved < idgen.NEW_PROJECT_CODES else new.match(code)
        assert m, (code, approved)
        assert str(div) in code


@pytest.mark.parametrize(("value", "text"), [(1234.5, "1234.5"), (12.0, "12"), (0.0, "0"), (300000.0, "300000"),
                                             (0.1 + 0.2, "0.3"), (1.23456789, "1.2346"), (None, None)])
def test_num_text(value: float | None, text: str | None) -> None:
    assert num_text(pa.array([value], pa.float64())).to_pylist() == [text]


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y年%m月%d日", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d", "%Y-%m-%d %H:%M:%S",
                                 "%d.%m.%Y"])
def test_strftime_matches_python(fmt: str) -> None:
    days = [date(2019, 11, 21), date(2000, 2, 29), None]
    stamps = [datetime(2025, 6, 30, 23, 59, 58, 123456), None]
    assert strftime(pa.array(days, pa.date32()), fmt).to_pylist() == [d.strftime(fmt) if d else None for d in days]
    assert strftime(pa.array(stamps, pa.timestamp("us")), fmt).to_pylist() == [
        s.replace(microsecond=0).strftime(fmt) if s else None for s in stamps]


@pytest.mark.parametrize(("table", "default", "expected"), [
    ({"A": "甲", "B": "乙"}, None, ["甲", "乙", "C", None]),
    ({"A": "甲", "B": "乙"}, "其他", ["甲", "乙", "其他", None]),
    ({}, None, ["A", "B", "C", None]),
])
def test_lookup(table: dict[str, str], default: str | None, expected: list[str | None]) -> None:
    assert lookup(pa.array(["A", "B", "C", None]), table, default).to_pylist() == expected
