"""Identifier rules, one line per case; and the column versions agree with the scalar ones value by value."""

from __future__ import annotations

import random

import polars as pl
import pytest
from click.testing import CliRunner
from quancheng.ids import KINDS, check, check_column
from quancheng.ids.commands import ids
from quancheng.ids.make import make, mistype

CASES = [
    # (kind, value, valid, normalized or reason)
    ("uscc", "91110000600037341L", True, "91110000600037341L"),
    ("uscc", " 9 1 110000 600037341l", True, "91110000600037341L"),             # spaces, lower-case check letter
    ("uscc", "９１１１００００６０００３７３４１Ｌ", True, "91110000600037341L"),        # full-width
    ("uscc", "9111-0000-6000-3734-1L", True, "91110000600037341L"),            # hyphens
    ("uscc", "91110000600037341N", False, "uscc.checksum"),
    ("uscc", "91110000600037341", False, "uscc.length"),
    ("uscc", "91110000600O37341L", False, "uscc.charset"),                    # letter O is not in the alphabet
    ("uscc", "B1110000600037341L", False, "uscc.authority"),                  # B is no registration authority
    ("uscc", "98110000600037341L", False, "uscc.authority"),                  # 工商 has no category 8
    ("uscc", "N2370102MA3C4K5Q4L", True, "N2370102MA3C4K5Q4L"),               # letter authority (stdnum rejects)
    ("uscc", "913701007620260211", False, "uscc.checksum"),                    # mistyped, from a real record
    ("ric", "11010519491231002X", True, "11010519491231002X"),
    ("ric", "11010519491231002x", True, "11010519491231002X"),
    ("ric", "370171199001010012", True, "370171199001010012"),                # 高新区 370171: stdnum KeyError
    ("ric", "371202199001010032", True, "371202199001010032"),                # abolished 莱城区 code
    ("ric", "110105195001010014", False, "ric.checksum"),                      # claimed valid in a test file
    ("ric", "990105194912310021", False, "ric.region"),                        # no province 99
    ("ric", "110105209912310021", False, "ric.birth_date"),                    # born in the future
    ("ric", "370802940221002", True, "370802199402210029"),                   # 15 digits: insert 19, add check
    ("ric", "370802941321002", False, "ric.birth_date"),
    ("ric", "3708029402210", False, "ric.length"),
    ("org_code", "60003734-1", True, "600037341"),
    ("org_code", "600037341", True, "600037341"),
    ("org_code", "MA2PBMEM-2", True, "MA2PBMEM2"),
    ("org_code", "60003734-2", False, "org_code.checksum"),
    ("org_code", "6000373-41", True, "600037341"),                            # hyphen anywhere is dropped
    ("org_code", "60003734-Y", False, "org_code.charset"),
    ("reg_no", "110108000000016", True, "110108000000016"),
    ("reg_no", "110108000000017", False, "reg_no.checksum"),
    ("reg_no", "11010800000001A", False, "reg_no.charset"),
    ("project_code", "2019-370102-47-03-000001", True, "2019-370102-47-03-000001"),
    ("project_code", "20193701024703000001", True, "2019-370102-47-03-000001"),  # hyphens restored
    ("project_code", "2509-320193-89-01-54406A", True, "2509-320193-89-01-54406A"),
    ("project_code", "2513-320193-89-01-544060", False, "project_code.date"),  # month 13
    ("project_code", "2019-370102-47-03-00001", False, "project_code.format"),
    ("project_code", "２０１９－３７０１０２－４７－０３－０００００１", True, "2019-370102-47-03-000001"),
    ("construction_permit", "320623202004020101", True, "320623202004020101"),
    ("construction_permit", "320623202004020101S", True, "320623202004020101S"),  # Rizhao 副本 suffix
    ("construction_permit", "320623202013020101", False, "construction_permit.date"),
    ("construction_permit", "32062320200402010", False, "construction_permit.format"),
    ("planning_permit", "建字第320623202000006号", True, "建字第320623202000006号"),
    ("planning_permit", "建字第 32058320250012 号", True, "建字第32058320250012号"),
    ("planning_permit", "地字第370102202000006号", True, "地字第370102202000006号"),
    ("planning_permit", "建字第320623207700006号", False, "planning_permit.date"),
    ("planning_permit", "建字320623202000006号", False, "planning_permit.format"),
    ("license_no", "91110000600037341L", True, "91110000600037341L"),
    ("license_no", "370802940221002", True, "370802199402210029"),
    ("license_no", "110108000000016", True, "110108000000016"),
    ("license_no", "60003734-1", True, "600037341"),
    ("license_no", "91110000600037341N", False, "uscc.checksum"),
    ("license_no", "36042619910102009X", False, "ric.checksum"),
    ("license_no", "12345", False, "license_no.unrecognized"),
    ("tax_no", "370102600037341", True, "370102600037341"),                   # region + org code 60003734-1
    ("tax_no", "370102600037342", False, "tax_no.checksum"),
    ("license_no", "370102600037341", True, "370102600037341"),
]


@pytest.mark.parametrize(("kind", "value", "valid", "expected"), CASES)
def test_case(kind: str, value: str, valid: bool, expected: str) -> None:
    r = check(value, kind)  # type: ignore[arg-type]
    assert r.valid is valid, r
    assert (r.normalized if valid else r.reason) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_column_agrees_with_scalar(kind: str) -> None:
    rng = random.Random(kind)
    values: list[str | None] = [v for _, v, _, _ in CASES]
    for k in KINDS:
        for _ in range(40):
            v = make(k, rng)  # type: ignore[arg-type]
            values += [v, mistype(v, k, rng), v.lower(), " " + v, v[:-1]]  # type: ignore[arg-type]
    values += [None, "", "   ", "０"]
    col = check_column(pl.Series(values, dtype=pl.String), kind)  # type: ignore[arg-type]
    for i, v in enumerate(values):
        if v is None or not v.strip():
            assert col.valid[i] and col.reason[i] is None, v
            continue
        r = check(v, kind)  # type: ignore[arg-type]
        assert (bool(col.valid[i]), col.reason[i], col.normalized[i]) == (r.valid, r.reason, r.normalized), v
        if kind == "license_no" and r.valid:
            assert col.kind[i] == r.kind


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "license_no"])
def test_made_values_are_valid_and_mistyped_ones_not(kind: str) -> None:
    rng = random.Random(7)
    for _ in range(200):
        v = make(kind, rng)  # type: ignore[arg-type]
        assert check(v, kind).valid, v  # type: ignore[arg-type]
        assert not check(mistype(v, kind, rng), kind).valid, v  # type: ignore[arg-type]


def test_cli_json() -> None:
    import json

    res = CliRunner().invoke(ids, ["check", "--json", "91110000600037341L", "60003734-1", "12345"])
    assert res.exit_code == 1  # one value is invalid
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [set(r) for r in rows] == [{"value", "kind", "valid", "normalized", "reason"}] * 3
    assert [(r["kind"], r["valid"]) for r in rows] == [("uscc", True), ("org_code", True), ("unknown", False)]
    assert rows[1]["normalized"] == "600037341"


def test_cli_kind_and_text() -> None:
    res = CliRunner().invoke(ids, ["check", "--kind", "ric", "370802940221002"])
    assert res.exit_code == 0
    assert "370802199402210029" in res.output
