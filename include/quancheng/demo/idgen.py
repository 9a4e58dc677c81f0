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
"""

from __future__ import annotations

from datetime import date

import numpy as np

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_check(body: str) -> str:
    total = sum(ORG_WEIGHTS[i] * (int(c) if c.isdigit() else ord(c) - 55) for i, c in enumerate(body))
    c = 11 - total % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def org_code(rng: np.random.Generator, new_style: bool) -> str:
    """A GB 11714 code (9 characters, no hyphen); ``new_style`` gives the post-2015 ``MA`` bodies."""
    if new_style:
        body = "MA" + "".join(rng.choice(list(ORG_BODY_CHARS), 6))
    else:
        body = "".join(str(d) for d in rng.integers(0, 10, 8))
    return body + org_check(body)


def uscc_check(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc(authority_category: str, division: str, org: str) -> str:
    head = authority_category + division + org
    return head + uscc_check(head)


def ric_check(first17: str) -> str:
    c = (12 - sum(int(d) * w for d, w in zip(first17, RIC_WEIGHTS, strict=True)) % 11) % 11
    return "X" if c == 10 else str(c)


def ric18(division: str, birth: date, seq: int) -> str:
    head = f"{division}{birth:%Y%m%d}{seq:03d}"
    return head + ric_check(head)


def ric15(division: str, birth: date, seq: int) -> str:
    return f"{division}{birth:%y%m%d}{seq:03d}"


def upgrade_ric15(old: str) -> str:
    """15-digit -> 18-digit: insert 19 (never 20) and add the check."""
    head = old[:6] + "19" + old[6:]
    return head + ric_check(head)


def reg_no15(division: str, serial: int) -> str:
    from stdnum.iso7064 import mod_11_10

    head = f"{division}{serial:08d}"
    return head + mod_11_10.calc_check_digit(head)


def project_code(approved: date, division: str, rng: np.random.Generator) -> str:
    """Old-generation code before November 2020, new-generation code from then on."""
    kind = rng.choice(["01", "02", "03"], p=[0.15, 0.25, 0.6])
    if approved < date(2020, 11, 1):
        industry = f"{rng.integers(1, 97):02d}"
        return f"{approved:%Y}-{division}-{industry}-{kind}-{rng.integers(0, 1_000_000):06d}"
    dept = f"{rng.integers(0, 90):02d}"
    check = USCC_CHARS[int(rng.integers(0, len(USCC_CHARS)))]
    return f"{approved:%y%m}-{division}-{dept}-{kind}-{rng.integers(0, 100_000):05d}{check}"


def construction_permit(division: str, issued: date, seq: int, category: int) -> str:
    return f"{division}{issued:%Y%m%d}{seq % 100:02d}{category:02d}"


def planning_permit(division: str, year: int, serial: int) -> str:
    return f"建字第{division}{year}{serial:05d}号"
