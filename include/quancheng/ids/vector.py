"""Column versions of the identifier checks, for the hot path: numpy over fixed-width byte matrices.

The rules are those of :mod:`quancheng.ids.scalar` (which the tests hold these to, value by value):
compact (NFKC and rewriting only for the few rows that need it, see :mod:`quancheng.ids.arrays`), then
view the values of the expected byte length as an ``(n, width)`` uint8 matrix straight from the Arrow
data buffer and compute charset, authority, date and check characters with array arithmetic.
A null input is neither valid nor invalid: its ``valid`` entry is True and its reason null
(required-ness is a validation rule, not an identifier rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.ids.arrays import (
    _DIGIT,
    all_digits,
    byte_matrix,
    codes_to_series,
    compact_marked,
    digits_to_int,
    from_matrix,
    lut,
    real_dates,
    wsum,
)
from quancheng.ids.scalar import (
    _PROGRESS,
    ORG_WEIGHTS,
    PROVINCES,
    USCC_ALPHABET,
    USCC_CATEGORIES,
    Kind,
)

USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], np.int64)
RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], np.int64)
_ORG_W = np.array(ORG_WEIGHTS, np.int64)

_USCC_LUT = np.full(256, 255, np.uint8)
for _i, _c in enumerate(USCC_ALPHABET):
    _USCC_LUT[ord(_c)] = _i
_ORG_LUT = np.full(256, 255, np.uint8)  # GB 11714 body characters: 0-9 -> 0-9, A-Z -> 10-35
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_LUT[ord(_c)] = _i
_AUTHORITY = np.zeros((256, 256), bool)
for _a, _cats in USCC_CATEGORIES.items():
    for _k in _cats:
        _AUTHORITY[ord(_a), ord(_k)] = True
_PROVINCE = np.zeros((256, 256), bool)
for _p in PROVINCES:
    _PROVINCE[ord(_p[0]), ord(_p[1])] = True
_DASHES = [4, 11, 14, 17]  # where a 24-character project code has its hyphens
_PROJECT_DIGITS = [i for i in range(23) if i not in _DASHES]


@dataclass(frozen=True)
class ColumnCheck:
    """Per row: the normal form, the verdict, the reason (null when valid or null) and the kind."""

    normalized: pl.Series
    valid: np.ndarray
    reason: pl.Series
    kind: pl.Series
    fullwidth: np.ndarray | None = None  # rows NFKC changed (full-width digits, letters, U+3000)
    upgraded: np.ndarray | None = None  # 15-digit ID numbers upgraded to 18


def _org_expected(body: np.ndarray) -> np.ndarray:
    """The GB 11714 check byte for each row of an 8-column body value matrix."""
    r = 11 - wsum(body, _ORG_W) % 11
    return np.where(r == 10, ord("X"), np.where(r == 11, ord("0"), 48 + r))


class _Verdict:
    """Reasons accumulated in precedence order: the first failing rule of a row is its reason."""

    def __init__(self, n: int):
        self.code = np.full(n, -1, np.int16)
        self.names: list[str] = []
        self.upgraded: np.ndarray | None = None

    def fail(self, mask: np.ndarray, reason: str) -> None:
        self.names.append(reason)
        self.code[(self.code < 0) & mask] = len(self.names) - 1

    def reasons(self) -> pl.Series:
        return codes_to_series(self.code, self.names)


def _chars(v: pl.Series) -> np.ndarray:
    return v.str.len_chars().fill_null(0).to_numpy()


def _uscc(v: pl.Series, present: np.ndarray) -> _Verdict:
    mat, ok = byte_matrix(v, 18)
    vals = lut(mat, _USCC_LUT)
    verdict = _Verdict(len(v))
    verdict.fail(present & (_chars(v) != 18), "uscc.length")
    verdict.fail(present & (~ok | (vals.max(1) == 255)), "uscc.charset")
    verdict.fail(present & ~_AUTHORITY[mat[:, 0], mat[:, 1]], "uscc.authority")
    verdict.fail(present & (vals[:, 2:8].max(1) > 9), "uscc.region")  # digits are 0-9 in the alphabet too
    check = (31 - wsum(vals[:, :17], USCC_WEIGHTS) % 31) % 31
    verdict.fail(present & (check != vals[:, 17]), "uscc.checksum")
    # every character passed the charset rule above, so each has a GB 11714 value
    verdict.fail(present & (_org_expected(lut(mat[:, 8:16], _ORG_LUT)) != mat[:, 16]), "uscc.org_code_checksum")
    return verdict


def _ric(v: pl.Series, present: np.ndarray) -> tuple[pl.Series, _Verdict]:
    ok15 = np.zeros(len(v), bool)
    if (v.str.len_bytes() == 15).any():
        mat15, ok15 = byte_matrix(v, 15)
        ok15 &= all_digits(mat15)
    if ok15.any():  # pre-1999 numbers: insert "19" before the 2-digit year and compute the check
        idx = np.flatnonzero(ok15)
        m = mat15[idx]
        body = np.concatenate([m[:, :6], np.full((len(m), 2), [ord("1"), ord("9")], np.uint8), m[:, 6:]], 1)
        up = np.concatenate([body, _ric_check(body)[:, None]], 1)
        v = v.clone().scatter(idx, from_matrix(up))
    mat, ok = byte_matrix(v, 18)
    verdict = _Verdict(len(v))
    verdict.upgraded = ok15
    nchar = _chars(v)
    verdict.fail(present & (nchar != 18) & (nchar != 15), "ric.length")
    charset = ok & all_digits(mat[:, :17]) & (_DIGIT[mat[:, 17]] | (mat[:, 17] == ord("X")))
    verdict.fail(present & ~charset, "ric.charset")
    verdict.fail(present & ~_PROVINCE[mat[:, 0], mat[:, 1]], "ric.region")
    born = real_dates(digits_to_int(mat[:, 6:10]), digits_to_int(mat[:, 10:12]), digits_to_int(mat[:, 12:14]))
    verdict.fail(present & ~born, "ric.birth_date")
    verdict.fail(present & (_ric_check(mat[:, :17]) != mat[:, 17]), "ric.checksum")
    return v, verdict


def _ric_check(body17: np.ndarray) -> np.ndarray:
    r = (12 - (wsum(body17, RIC_WEIGHTS) - 48 * int(RIC_WEIGHTS.sum())) % 11) % 11
    return np.where(r == 10, ord("X"), 48 + r).astype(np.uint8)


def _org(v: pl.Series, present: np.ndarray) -> _Verdict:
    mat, ok = byte_matrix(v, 9)
    body = lut(mat[:, :8], _ORG_LUT)
    verdict = _Verdict(len(v))
    verdict.fail(present & (_chars(v) != 9), "org_code.length")
    verdict.fail(present & (~ok | (body.max(1) == 255) | ~(_DIGIT[mat[:, 8]] | (mat[:, 8] == ord("X")))),
                 "org_code.charset")
    verdict.fail(present & (_org_expected(body) != mat[:, 8]), "org_code.checksum")
    return verdict


def _reg_no(v: pl.Series, present: np.ndarray) -> _Verdict:
    mat, ok = byte_matrix(v, 15)
    verdict = _Verdict(len(v))
    verdict.fail(present & (_chars(v) != 15), "reg_no.length")
    verdict.fail(present & (~ok | ~all_digits(mat)), "reg_no.charset")
    d = mat.astype(np.int64) - 48
    p = np.full(len(v), 10, np.int64)
    for j in range(14):  # ISO 7064 MOD 11,10
        s = (p + d[:, j]) % 10
        p = (np.where(s == 0, 10, s) * 2) % 11
    verdict.fail(present & ((p + d[:, 14]) % 10 != 1), "reg_no.checksum")
    return verdict


def _tax_no(v: pl.Series, present: np.ndarray) -> _Verdict:
    mat, ok = byte_matrix(v, 15)
    verdict = _Verdict(len(v))
    verdict.fail(present & (_chars(v) != 15), "tax_no.length")
    body = lut(mat[:, 6:14], _ORG_LUT)
    last = mat[:, 14]
    verdict.fail(present & (~ok | ~all_digits(mat[:, :6]) | (body.max(1) == 255)
                            | ~(_DIGIT[last] | (last == ord("X")))), "tax_no.charset")
    verdict.fail(present & (_org_expected(body) != last), "tax_no.checksum")
    return verdict


def _regex_kind(v: pl.Series, present: np.ndarray, kind: str) -> tuple[pl.Series, _Verdict]:
    """The format-only kinds: project codes and permit numbers (regex, then the embedded date)."""
    verdict = _Verdict(len(v))
    today = date.today()
    if kind == "project_code":
        bare = (v.str.len_bytes() == 20).fill_null(False)
        if bare.any():  # written without hyphens: put them back (few rows)
            idx = bare.arg_true()
            v = v.clone().scatter(idx, v.gather(idx).str.replace(
                r"^([0-9]{4})([0-9]{6})([0-9]{2})([0-9]{2})([0-9]{5}[0-9A-Z])$", "${1}-${2}-${3}-${4}-${5}"))
        # one shape holds both generations (NNNN-NNNNNN-NN-NN-NNNNNC, checked on the byte matrix);
        # the old one is the subset with a 2014-2020 year and a digit last
        mat, ok = byte_matrix(v, 24)
        last = mat[:, 23]
        shape = ok & (mat[:, _DASHES] == ord("-")).all(1) & all_digits(mat[:, _PROJECT_DIGITS]) & (
            _DIGIT[last] | ((last >= ord("A")) & (last <= ord("Z"))))
        yymm = digits_to_int(mat[:, :4])
        old = shape & (yymm >= 2014) & (yymm <= 2020) & _DIGIT[last]
        verdict.fail(present & ~shape, "project_code.format")
        mm = yymm % 100
        good = (mm >= 1) & (mm <= 12) & (yymm >= 2011) & (yymm <= (today.year % 100) * 100 + today.month)
        verdict.fail(present & ~old & ~good, "project_code.date")
    elif kind == "construction_permit":
        fmt = v.str.contains(r"^[1-8][0-9]{5}[0-9]{12}[SJZA]?$").fill_null(False).to_numpy()
        verdict.fail(present & ~fmt, "construction_permit.format")
        ymd = v.str.slice(6, 8).cast(pl.Int64, strict=False).fill_null(0).to_numpy()
        verdict.fail(present & ~real_dates(ymd // 10000, ymd // 100 % 100, ymd % 100, lo=1980),
                     "construction_permit.date")
    else:
        fmt = v.str.contains(r"^[建地乡]字第[1-8][0-9]{9}[0-9]{4,5}号$").fill_null(False).to_numpy()
        verdict.fail(present & ~fmt, "planning_permit.format")
        year = v.str.slice(9, 4).cast(pl.Int64, strict=False).fill_null(0).to_numpy()  # after 建字第 + region
        verdict.fail(present & ((year < 1980) | (year > today.year)), "planning_permit.date")
    return v, verdict


def check_column(values: pl.Series | pa.Array | pa.ChunkedArray, kind: Kind) -> ColumnCheck:
    """Check a whole column as ``kind`` (see :mod:`quancheng.ids.scalar` for the rules)."""
    s = values if isinstance(values, pl.Series) else pl.Series(values)
    v, wide = compact_marked(s, keep_hyphens=kind == "project_code", allow_cjk=kind == "planning_permit")
    empty = (v == "").fill_null(False)
    if empty.any():
        v = pl.select(pl.when(empty).then(None).otherwise(v)).to_series()
    present = v.is_not_null().to_numpy()
    n = len(v)
    if kind == "uscc":
        verdict = _uscc(v, present)
    elif kind == "ric":
        v, verdict = _ric(v, present)
    elif kind == "org_code":
        verdict = _org(v, present)
    elif kind == "reg_no":
        verdict = _reg_no(v, present)
    elif kind == "tax_no":
        verdict = _tax_no(v, present)
    elif kind == "license_no":
        c = _classify(v, present)
        return ColumnCheck(c.normalized, c.valid, c.reason, c.kind, wide, c.upgraded)
    else:
        v, verdict = _regex_kind(v, present, kind)
    return ColumnCheck(v, verdict.code < 0, verdict.reasons(), pl.repeat(kind, n, eager=True, dtype=pl.String),
                       wide, verdict.upgraded)


_CLASSES: list[str] = ["license_no", "uscc", "ric", "reg_no", "org_code", "tax_no"]


def _classify(v: pl.Series, present: np.ndarray) -> ColumnCheck:
    """证照号码: by length 18 (USCC, else ID), 15 (registration number, else old ID), 9 (org code)."""
    n = len(v)
    lens = _chars(v)
    ric_v, ric = _ric(v, present & ((lens == 15) | (lens == 18)))
    cands = {"uscc": _uscc(v, present & (lens == 18)), "ric": ric,
             "reg_no": _reg_no(v, present & (lens == 15)), "org_code": _org(v, present & (lens == 9)),
             "tax_no": _tax_no(v, present & (lens == 15))}
    order = {18: ["uscc", "ric"], 15: ["reg_no", "ric", "tax_no"], 9: ["org_code"]}
    kind = np.zeros(n, np.int16)
    names = ["license_no.unrecognized"]
    reason = np.where(present, 0, -1).astype(np.int16)
    valid = ~present
    for length, kinds in order.items():
        rows = present & (lens == length)
        best = np.full(n, -1)
        for name in kinds:
            verd = cands[name]
            ok = rows & (verd.code < 0) & ~valid
            kind[ok] = _CLASSES.index(name)
            valid |= ok
            prog = np.array([_PROGRESS[x.split(".", 1)[1]] for x in verd.names] + [-1])[verd.code]
            better = rows & ~valid & (prog > best)
            reason[better] = len(names) + verd.code[better]
            kind[better] = _CLASSES.index(name)
            best = np.where(better, prog, best)
            names += verd.names
    reason[valid] = -1
    is_ric = kind == _CLASSES.index("ric")
    normalized = pl.select(pl.when(pl.Series(is_ric)).then(ric_v).otherwise(v)).to_series()
    upgraded = is_ric & valid & (ric.upgraded if ric.upgraded is not None else False)
    return ColumnCheck(normalized, valid, codes_to_series(reason, names), codes_to_series(kind, _CLASSES),
                       upgraded=upgraded)


