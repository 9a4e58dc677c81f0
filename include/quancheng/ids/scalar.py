"""Per-value identifier checks: the reference implementation the column versions must agree with.

Rules (each check returns an :class:`IdResult` with a machine-readable ``reason`` when invalid):

- every value is first compacted: NFKC (full-width ``９１`` -> ``91``), spaces removed, upper-cased;
  hyphens are removed for all kinds except the two 24-character project codes.
- ``uscc`` (GB 32100-2015): 18 characters of ``0-9A-HJ-NP-RTUWXY``; position 1 is a registration
  authority (1-9, A, N, Y) and position 2 one of its categories; positions 3-8 are digits; the mod-31
  check character at 18 (python-stdnum's ``calc_check_digit`` is right for it) and the GB 11714 check
  character of the organisation code embedded at 9-17. python-stdnum's own ``validate`` is not used:
  it rejects the letter authorities N, Y, A and ignores the embedded check.
- ``ric`` (GB 11643-1999): 17 digits and a MOD 11-2 check (``X`` = 10); a real birth date
  (1800-01-01 .. today); a known province (first two digits). The county code is never checked against
  the current GB/T 2260 list: numbers keep the code of first registration (370181 章丘市, 371202 莱城区,
  functional zones such as 370171), and python-stdnum's region check raises ``KeyError`` on those.
  15-digit numbers (pre-1999) are upgraded by inserting ``19`` and computing the check character.
- ``org_code`` (GB 11714-1997): 8 body characters (digits, upper-case letters) and a check character
  (weights 3,7,9,10,5,8,4,2; 11 - sum mod 11; 10 -> X, 11 -> 0); the hyphen is optional on input and
  dropped on output, so the result equals ``uscc[8:17]``.
- ``reg_no`` (15-digit 工商注册号, GS15-2006): 15 digits, ISO 7064 MOD 11,10 (python-stdnum).
- ``tax_no`` (15-digit 税务登记号, pre-2015): a 6-digit region and the 9-character organisation code, whose
  GB 11714 check is the only check there is.
- ``project_code`` (投资项目代码, both 24 characters, format only): old 2015-2020
  ``YYYY-RRRRRR-II-TT-NNNNNN`` with year 2014-2020; new (GB/T 40058-2021, Nov 2020 on)
  ``YYMM-RRRRRR-DD-TT-NNNNNC`` with a real month from 2011 on and a digit or letter last. Without
  hyphens (20 characters) they are re-hyphenated. Neither check character is verified.
- ``construction_permit`` (施工许可证编号): 6-digit region + a real date ``YYYYMMDD`` + 2-digit same-day
  sequence + 2-digit category (local extensions beyond 01-19 accepted), optionally one of the
  副本 suffixes S, J, Z, A.
- ``planning_permit`` (规划许可证号): ``建字第`` / ``地字第`` / ``乡字第`` + 6-digit region + 4-digit year
  + 4- or 5-digit sequence + ``号``.
- ``license_no`` (证照号码, a mixed column): classified by length, charset and check: 18 characters ->
  USCC, else ID number; 15 characters -> registration number, else old ID number, else tax number;
  9 characters -> organisation code. When nothing fits, the reason of the candidate that got furthest
  is reported. (15 digits are weak evidence: a mistyped registration number can still read as an old ID
  number with a real birth date.)
- :func:`embedded_org_code` gives the organisation code inside a valid USCC (positions 9-17), tax number
  (7-15) or organisation code: the key that links pre-USCC records to today's entities.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2, mod_11_10

Kind = Literal[
    "uscc", "ric", "org_code", "reg_no", "tax_no", "project_code", "construction_permit", "planning_permit",
    "license_no",
]
KINDS: tuple[Kind, ...] = get_args(Kind)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 table 1: registration authority -> the entity categories it may issue
USCC_CATEGORIES: dict[str, str] = {
    "1": "1239", "2": "19", "3": "1234579", "4": "19", "5": "1239", "6": "129", "7": "129",
    "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}
PROVINCES = frozenset([  # GB/T 2260 provinces; 71/81/82 Taiwan, Hong Kong, Macao; 83 residence permits
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"])
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
PERMIT_SUFFIXES = "SJZA"

_PROJECT_OLD = re.compile(r"^(20(?:1[4-9]|20))-(\d{6})-(\d{2})-(\d{2})-(\d{6})$")
_PROJECT_NEW = re.compile(r"^(\d{2})(\d{2})-(\d{6})-(\d{2})-(\d{2})-(\d{5}[0-9A-Z])$")
_PROJECT_BARE = re.compile(r"^(\d{4})(\d{6})(\d{2})(\d{2})(\d{5}[0-9A-Z])$")
_CONSTRUCTION = re.compile(r"^([1-8]\d{5})(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})([SJZA]?)$")
_PLANNING = re.compile(r"^([建地乡])字第([1-8]\d{5})(\d{4})(\d{4,5})号$")


@dataclass(frozen=True)
class IdResult:
    """The verdict on one value: its kind, whether it is valid, its normal form, and why not."""

    value: str | None
    kind: str
    valid: bool
    normalized: str | None
    reason: str | None = None


def compact(value: str, keep_hyphens: bool = False) -> str:
    """NFKC, drop whitespace (incl. U+3000) and, unless kept, hyphens; upper-case."""
    v = unicodedata.normalize("NFKC", value)
    v = re.sub(r"\s+", "", v)
    if not keep_hyphens:
        v = v.replace("-", "")
    return v.upper()


def real_date(y: int, m: int, d: int, lo: int = 1800) -> bool:
    """True when y-m-d is a calendar date between ``lo``-01-01 and today."""
    try:
        return date(lo, 1, 1) <= date(y, m, d) <= date.today()
    except ValueError:
        return False


def org_check_char(body: str) -> str:
    """GB 11714 check character of an 8-character body."""
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def ric_check_char(body17: str) -> str:
    """GB 11643 MOD 11-2 check character of the first 17 digits (python-stdnum's algorithm)."""
    return mod_11_2.calc_check_digit(body17)


def _bad(value: str | None, kind: str, norm: str | None, reason: str) -> IdResult:
    return IdResult(value, kind, False, norm, f"{kind}.{reason}")


def check_uscc(value: str) -> IdResult:
    v = compact(value)
    if len(v) != 18:
        return _bad(value, "uscc", v, "length")
    if any(c not in USCC_ALPHABET for c in v):
        return _bad(value, "uscc", v, "charset")
    if v[1] not in USCC_CATEGORIES.get(v[0], ""):
        return _bad(value, "uscc", v, "authority")
    if not v[2:8].isdigit():
        return _bad(value, "uscc", v, "region")
    if stdnum_uscc.calc_check_digit(v[:17]) != v[17]:
        return _bad(value, "uscc", v, "checksum")
    if org_check_char(v[8:16]) != v[16]:
        return _bad(value, "uscc", v, "org_code_checksum")
    return IdResult(value, "uscc", True, v)


def check_ric(value: str) -> IdResult:
    v = compact(value)
    if len(v) == 15:
        if not v.isdigit():
            return _bad(value, "ric", v, "charset")
        body = v[:6] + "19" + v[6:]
        v = body + ric_check_char(body)
    if len(v) != 18:
        return _bad(value, "ric", v, "length")
    if not (v[:17].isdigit() and (v[17].isdigit() or v[17] == "X")):
        return _bad(value, "ric", v, "charset")
    if v[:2] not in PROVINCES:
        return _bad(value, "ric", v, "region")
    if not real_date(int(v[6:10]), int(v[10:12]), int(v[12:14])):
        return _bad(value, "ric", v, "birth_date")
    if not mod_11_2.is_valid(v):
        return _bad(value, "ric", v, "checksum")
    return IdResult(value, "ric", True, v)


def check_org_code(value: str) -> IdResult:
    v = compact(value)
    if len(v) != 9:
        return _bad(value, "org_code", v, "length")
    if not (re.fullmatch(r"[0-9A-Z]{8}[0-9X]", v)):
        return _bad(value, "org_code", v, "charset")
    if org_check_char(v[:8]) != v[8]:
        return _bad(value, "org_code", v, "checksum")
    return IdResult(value, "org_code", True, v)


def check_reg_no(value: str) -> IdResult:
    v = compact(value)
    if len(v) != 15:
        return _bad(value, "reg_no", v, "length")
    if not v.isdigit():
        return _bad(value, "reg_no", v, "charset")
    if not mod_11_10.is_valid(v):
        return _bad(value, "reg_no", v, "checksum")
    return IdResult(value, "reg_no", True, v)


def check_tax_no(value: str) -> IdResult:
    v = compact(value)
    if len(v) != 15:
        return _bad(value, "tax_no", v, "length")
    if not (v[:6].isdigit() and re.fullmatch(r"[0-9A-Z]{8}[0-9X]", v[6:])):
        return _bad(value, "tax_no", v, "charset")
    if org_check_char(v[6:14]) != v[14]:
        return _bad(value, "tax_no", v, "checksum")
    return IdResult(value, "tax_no", True, v)


def embedded_org_code(normalized: str, kind: str) -> str | None:
    """The GB 11714 organisation code inside a valid identifier of ``kind`` (None when it has none)."""
    if kind == "uscc":
        return normalized[8:17]
    if kind == "tax_no":
        return normalized[6:15]
    if kind == "org_code":
        return normalized
    return None


def check_project_code(value: str) -> IdResult:
    v = compact(value, keep_hyphens=True)
    bare = _PROJECT_BARE.match(v)
    if bare:
        v = "-".join(bare.groups())
    if _PROJECT_OLD.match(v):
        return IdResult(value, "project_code", True, v)
    m = _PROJECT_NEW.match(v)
    if not m:
        return _bad(value, "project_code", v, "format")
    yymm = int(m.group(1)) * 100 + int(m.group(2))
    today = date.today()
    if not (1 <= int(m.group(2)) <= 12 and 2011 <= yymm <= (today.year % 100) * 100 + today.month):
        return _bad(value, "project_code", v, "date")
    return IdResult(value, "project_code", True, v)


def check_construction_permit(value: str) -> IdResult:
    v = compact(value)
    m = _CONSTRUCTION.match(v)
    if not m:
        return _bad(value, "construction_permit", v, "format")
    if not real_date(int(m.group(2)), int(m.group(3)), int(m.group(4)), lo=1980):
        return _bad(value, "construction_permit", v, "date")
    return IdResult(value, "construction_permit", True, v)


def check_planning_permit(value: str) -> IdResult:
    v = compact(value)
    m = _PLANNING.match(v)
    if not m:
        return _bad(value, "planning_permit", v, "format")
    if not 1980 <= int(m.group(3)) <= date.today().year:
        return _bad(value, "planning_permit", v, "date")
    return IdResult(value, "planning_permit", True, v)


# how far each failure got; used to pick the most telling reason for an unrecognised mixed value
_PROGRESS = {"length": 0, "charset": 1, "authority": 2, "region": 2, "birth_date": 3, "checksum": 4,
             "org_code_checksum": 5, "format": 1, "date": 3}


def classify(value: str) -> IdResult:
    """Classify a 证照号码 (USCC, ID number, registration number or organisation code) and check it."""
    v = compact(value)
    if len(v) == 18:
        candidates = [check_uscc(value), check_ric(value)]
    elif len(v) == 15:
        candidates = [check_reg_no(value), check_ric(value), check_tax_no(value)]
    elif len(v) == 9:
        candidates = [check_org_code(value)]
    else:
        return IdResult(value, "license_no", False, v, "license_no.unrecognized")
    for c in candidates:
        if c.valid:
            return c
    return max(candidates, key=lambda c: _PROGRESS[(c.reason or ".").split(".", 1)[1]])


CHECKS = {
    "uscc": check_uscc, "ric": check_ric, "org_code": check_org_code, "reg_no": check_reg_no, "tax_no": check_tax_no,
    "project_code": check_project_code, "construction_permit": check_construction_permit,
    "planning_permit": check_planning_permit, "license_no": classify,
}
# the order in which ``check`` without a kind tries them: checked kinds before format-only ones
GUESS_ORDER: tuple[Kind, ...] = ("uscc", "ric", "reg_no", "org_code", "project_code", "planning_permit",
                                 "construction_permit")


def check(value: str | None, kind: Kind | None = None) -> IdResult:
    """Check ``value`` as ``kind``.

    Without a kind: the first kind of :data:`GUESS_ORDER` it is valid as; else, for 18, 15 or 9
    characters, the verdict of :func:`classify` (e.g. ``uscc.checksum``); else ``unknown``.
    """
    if value is None or not compact(value, keep_hyphens=True):
        return IdResult(value, kind or "unknown", False, None, "empty")
    if kind is not None:
        return CHECKS[kind](value)
    for k in GUESS_ORDER:
        r = CHECKS[k](value)
        if r.valid:
            return r
    guess = classify(value)  # an 18/15/9-character value: the reason of the kind it came closest to
    if guess.reason != "license_no.unrecognized":
        return guess
    return IdResult(value, "unknown", False, compact(value, keep_hyphens=True), "unrecognized")
