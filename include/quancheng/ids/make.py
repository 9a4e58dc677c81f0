"""Valid identifiers made to order (for generated test and benchmark batches), and typical typos.

Every maker returns a value the checks of :mod:`quancheng.ids.scalar` accept; :func:`mistype`
turns one into a value they must reject (one character changed, so a check character no longer fits).
"""

from __future__ import annotations

import random

from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_10

from quancheng.ids.scalar import USCC_ALPHABET, USCC_CATEGORIES, Kind, org_check_char, ric_check_char

JINAN_COUNTIES = ["370102", "370103", "370104", "370105", "370112", "370113", "370114", "370115", "370116",
                  "370117", "370124", "370126", "370181", "371202"]
_ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # USCC-safe, so the code can be embedded


def org_code(rng: random.Random) -> str:
    body = "".join(rng.choice(_ORG_BODY) for _ in range(8))
    return body + org_check_char(body)


def uscc(rng: random.Random) -> str:
    authority = rng.choice("9999999125N")
    category = rng.choice(USCC_CATEGORIES[authority])
    body = authority + category + rng.choice(JINAN_COUNTIES) + org_code(rng)
    return body + stdnum_uscc.calc_check_digit(body)


def ric(rng: random.Random) -> str:
    born = f"{rng.randint(1940, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = rng.choice(JINAN_COUNTIES) + born + f"{rng.randint(0, 999):03d}"
    return body + ric_check_char(body)


def reg_no(rng: random.Random) -> str:
    body = rng.choice(JINAN_COUNTIES) + "".join(rng.choice("0123456789") for _ in range(8))
    return body + mod_11_10.calc_check_digit(body)  # ISO 7064 MOD 11,10


def tax_no(rng: random.Random) -> str:
    return rng.choice(JINAN_COUNTIES) + org_code(rng)


def project_code(rng: random.Random) -> str:
    county = rng.choice(JINAN_COUNTIES)
    if rng.random() < 0.5:
        return f"{rng.randint(2015, 2020)}-{county}-{rng.randint(1, 99):02d}-{rng.choice(['01', '02', '03'])}-" \
               f"{rng.randint(0, 999999):06d}"
    yymm = f"{rng.randint(21, 25)}{rng.randint(1, 12):02d}"
    return f"{yymm}-{county}-{rng.randint(1, 99):02d}-{rng.choice(['01', '02', '03'])}-" \
           f"{rng.randint(0, 99999):05d}{rng.choice('0123456789')}"


def construction_permit(rng: random.Random) -> str:
    day = f"{rng.randint(2010, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"{rng.choice(JINAN_COUNTIES)}{day}{rng.randint(1, 20):02d}{rng.randint(1, 19):02d}"


def planning_permit(rng: random.Random) -> str:
    return f"建字第{rng.choice(JINAN_COUNTIES)}{rng.randint(2010, 2025)}{rng.randint(1, 99999):05d}号"


def license_no(rng: random.Random) -> str:
    return rng.choice([uscc, uscc, uscc, ric, reg_no, org_code])(rng)


MAKERS = {"uscc": uscc, "ric": ric, "org_code": org_code, "reg_no": reg_no, "tax_no": tax_no,
          "project_code": project_code,
          "construction_permit": construction_permit, "planning_permit": planning_permit, "license_no": license_no}


def make(kind: Kind, rng: random.Random) -> str:
    """A valid identifier of ``kind``."""
    return MAKERS[kind](rng)


CHECKED: tuple[Kind, ...] = ("uscc", "ric", "org_code", "reg_no", "tax_no", "license_no")


def mistype(value: str, kind: Kind, rng: random.Random) -> str:
    """An invalid variant of a valid ``value``: its check character replaced (kinds with one) or a
    middle character dropped (format-only kinds)."""
    if kind not in CHECKED:
        i = len(value) // 2
        return value[:i] + value[i + 1:]
    i = len(value) - 1
    c = value[i]
    pool = "0123456789" if c.isdigit() else USCC_ALPHABET
    return value[:i] + rng.choice([x for x in pool if x != c]) + value[i + 1:]
