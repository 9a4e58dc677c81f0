"""Valid Chinese identifiers for the demo world, with their real check characters.

- 组织机构代码 (GB 11714): 8 body characters, weights 3 7 9 10 5 8 4 2, check ``11 - s mod 11``
  (10 -> X, 11 -> 0).
- 统一社会信用代码 (GB 32100): authority + category + 6-digit division + the 9-character organisation
  code + a mod-31 check over the 31-character set without I O S V Z; authorities 9 (企业), 1 (机构编制),
  5 (民政), N (农业), Y (其他), A (宗教) -- the letters are valid since 2016.
- 身份证号 (GB 11643): 6-digit division + birth date + 3-digit sequence + MOD 11-2 check (X = 10);
  the old 15-digit form has a 2-digit year and no check.
- 工商注册号 (GS15-2006): 14 digits + ISO 7064 MOD 11,10 check.
- 投资项目代码: old ``YYYY-division-II-TT-NNNNNN`` (2015-2020) and new ``YYMM-division-DD-TT-NNNNNC``.
- 施工许可证编号: division + YYYYMMDD + same-day sequence + 专业分类 (18 digits);
  建设工程规划许可证号: ``建字第`` + division + year + 5-digit serial + ``号``.

Each rule has a scalar form (``org_check``, ``uscc_check``, ``ric_check`` ...: the readable reference the
tests use) and a column form (``*_many``) that builds a whole column as an ``(n, width)`` ASCII byte
matrix and computes the check characters with array arithmetic (see :mod:`quancheng.demo.vec`).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from quancheng.demo.vec import concat, digit_matrix, from_matrix, zfill

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
EPOCH = date(1970, 1, 1)
NEW_PROJECT_CODES = date(2020, 11, 1)

_USCC_VALUE = np.full(256, 255, np.int64)
for _i, _c in enumerate(USCC_CHARS):
    _USCC_VALUE[ord(_c)] = _i
_USCC_BYTES = np.frombuffer(USCC_CHARS.encode(), np.uint8)
_ORG_VALUE = np.full(256, 255, np.int64)  # GB 11714 body characters: 0-9 -> 0-9, A-Z -> 10-35
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _ORG_VALUE[ord(_c)] = _i


# --- scalar reference forms ---
def org_check(body: str) -> str:
    total = sum(ORG_WEIGHTS[i] * (int(c) if c.isdigit() else ord(c) - 55) for i, c in enumerate(body))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def uscc_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def ric_check(first17: str) -> str:
    c = (12 - sum(int(d) * w for d, w in zip(first17, RIC_WEIGHTS, strict=True)) % 11) % 11
    return "X" if c == 10 else str(c)


def upgrade_ric15(old: str) -> str:
    """15-digit -> 18-digit: insert 19 (never 20) and add the check."""
    head = old[:6] + "19" + old[6:]
    return head + ric_check(head)


# --- check characters over byte matrices ---
def org_check_bytes(body: np.ndarray) -> np.ndarray:
    """GB 11714 check byte per row of an ``(n, 8)`` ASCII body matrix."""
    r = 11 - (_ORG_VALUE[body] * np.array(ORG_WEIGHTS)).sum(1) % 11
    return np.where(r == 10, ord("X"), np.where(r == 11, ord("0"), 48 + r)).astype(np.uint8)


def uscc_check_bytes(head: np.ndarray) -> np.ndarray:
    """GB 32100 check byte per row of an ``(n, 17)`` ASCII matrix."""
    total = (_USCC_VALUE[head] * np.array(USCC_WEIGHTS)).sum(1)
    check: np.ndarray = _USCC_BYTES[(31 - total % 31) % 31]
    return check


def ric_check_bytes(head: np.ndarray) -> np.ndarray:
    """GB 11643 MOD 11-2 check byte per row of an ``(n, 17)`` digit matrix."""
    r = (12 - ((head.astype(np.int64) - 48) * np.array(RIC_WEIGHTS)).sum(1) % 11) % 11
    return np.where(r == 10, ord("X"), 48 + r).astype(np.uint8)


def mod_11_10_bytes(head: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11,10 check byte per row of a digit matrix (as python-stdnum computes it)."""
    check = np.full(len(head), 5, np.int64)
    for j in range(head.shape[1]):
        check = (np.where(check == 0, 10, check) * 2 % 11 + head[:, j].astype(np.int64) - 48) % 10
    return (48 + (1 - np.where(check == 0, 10, check) * 2 % 11) % 10).astype(np.uint8)


# --- whole columns ---
def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of day numbers since 1970-01-01."""
    d = np.asarray(days, np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def day_number(when: date) -> int:
    return (when - EPOCH).days


def ric18_many(division: np.ndarray, birth_days: np.ndarray, seq: np.ndarray) -> pa.Array:
    """18-digit ID numbers from division codes, birth days and 3-digit sequences."""
    y, m, d = ymd(birth_days)
    head = digit_matrix(((np.asarray(division, np.int64) * 10**8 + y * 10**4 + m * 100 + d) * 1000
                         + np.asarray(seq, np.int64)), 17)
    return from_matrix(np.concatenate([head, ric_check_bytes(head)[:, None]], 1))


def ric15_many(division: np.ndarray, birth_days: np.ndarray, seq: np.ndarray) -> pa.Array:
    """The same persons' old 15-digit numbers (2-digit year, no check)."""
    y, m, d = ymd(birth_days)
    return from_matrix(digit_matrix((np.asarray(division, np.int64) * 10**6 + (y % 100) * 10**4 + m * 100 + d)
                                    * 1000 + np.asarray(seq, np.int64), 15))


def org_code_matrix(rng: np.random.Generator, new_style: np.ndarray) -> np.ndarray:
    """``(n, 9)`` GB 11714 codes (no hyphen); ``new_style`` rows get the post-2015 ``MA`` bodies."""
    n = len(new_style)
    old = 48 + rng.integers(0, 10, (n, 8)).astype(np.uint8)
    new = np.frombuffer(ORG_BODY_CHARS.encode(), np.uint8)[rng.integers(0, len(ORG_BODY_CHARS), (n, 8))]
    new[:, 0], new[:, 1] = ord("M"), ord("A")
    body = np.where(np.asarray(new_style)[:, None], new, old).astype(np.uint8)
    return np.concatenate([body, org_check_bytes(body)[:, None]], 1)


def uscc_many(authority_category: pa.Array, division: np.ndarray, org: np.ndarray) -> pa.Array:
    """Credit codes: 2-character authority+category, 6-digit division, 9-character organisation code, check."""
    ac = np.frombuffer(pa.array(authority_category).cast(pa.binary()).buffers()[2], np.uint8)
    ac = ac[:2 * len(division)].reshape(len(division), 2)
    head = np.concatenate([ac, digit_matrix(division, 6), org], 1)
    return from_matrix(np.concatenate([head, uscc_check_bytes(head)[:, None]], 1))


def reg_no15_many(division: np.ndarray, serial: np.ndarray) -> pa.Array:
    """15-digit registration numbers: division + 8-digit serial + MOD 11,10 check."""
    head = digit_matrix(np.asarray(division, np.int64) * 10**8 + np.asarray(serial, np.int64), 14)
    return from_matrix(np.concatenate([head, mod_11_10_bytes(head)[:, None]], 1))


def project_codes(rng: np.random.Generator, approved_days: np.ndarray, division: pa.Array) -> pa.Array:
    """Old-generation codes before November 2020, new-generation codes from then on."""
    n = len(approved_days)
    kind = pa.array(["01", "02", "03"]).take(pa.array(rng.choice(3, n, p=[0.15, 0.25, 0.6])))
    industry = zfill(rng.integers(1, 97, n), 2)
    old_seq = zfill(rng.integers(0, 1_000_000, n), 6)
    dept = zfill(rng.integers(0, 90, n), 2)
    new_seq = zfill(rng.integers(0, 100_000, n), 5)
    check = pa.array(list(USCC_CHARS)).take(pa.array(rng.integers(0, len(USCC_CHARS), n)))
    y, m, _ = ymd(approved_days)
    old = concat(zfill(y, 4), "-", division, "-", industry, "-", kind, "-", old_seq)
    new = concat(zfill(y % 100, 2), zfill(m, 2), "-", division, "-", dept, "-", kind, "-", new_seq, check)
    is_old = pa.array(np.asarray(approved_days) < day_number(NEW_PROJECT_CODES))
    return pc.if_else(is_old, old, new)


def construction_permits(division: pa.Array, issued_days: np.ndarray, seq: np.ndarray,
                         category: np.ndarray) -> pa.Array:
    y, m, d = ymd(issued_days)
    return concat(division, zfill(y * 10000 + m * 100 + d, 8), zfill(np.asarray(seq) % 100, 2), zfill(category, 2))


def planning_permits(division: pa.Array, year: np.ndarray, serial: np.ndarray) -> pa.Array:
    return concat("建字第", division, zfill(year, 4), zfill(serial, 5), "号")
