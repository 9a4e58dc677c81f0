"""Native column names in each system's own style.

Real systems name the same data differently: legacy government systems use pinyin initials of the
label (建设单位名称 -> JSDWMC, or jsdwmc), newer ones English snake case (construction_unit_name, or
an abbreviated build_unit_name), JSON APIs camelCase (constructionUnitName), and file drops the Chinese
label itself. Pinyin initials come from ``pinyin_initials.json``, a committed table built once with
pypinyin (``python -m tools.generate_catalog --refresh-pinyin`` rebuilds it when labels change);
like real systems, it takes each character's most common reading.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PINYIN_TABLE = Path(__file__).with_name("pinyin_initials.json")
_PAREN = re.compile(r"[（(][^）)]*[）)]")

# words newer systems shorten (snake_abbrev / camel styles); longest first so phrases win
ABBREV: list[tuple[str, str]] = [
    ("construction_unit", "build_unit"), ("unified_social_credit_code", "credit_code"), ("uscc", "credit_code"),
    ("qualification", "qual"), ("certificate", "cert"), ("number", "no"), ("legal_rep", "lr"),
    ("contractor", "contr"), ("supervision", "sup"), ("application", "app"), ("approval", "appr"),
    ("acceptance", "acpt"), ("registration", "reg"), ("investment", "invest"), ("enterprise", "ent"),
    ("environmental", "env"), ("building", "bldg"), ("address", "addr"), ("contact", "cont"),
    ("phone", "tel"), ("amount", "amt"), ("review", "rev"), ("drawing", "dwg"), ("design", "dsgn"),
]


class Namer:
    """Names the columns of one form in one style; a name already taken in the form gets a digit."""

    def __init__(self, style: str, pinyin: dict[str, str]):
        self.style = style
        self.pinyin = pinyin
        self.taken: set[str] = set()

    def name(self, label: str, key: str) -> str:
        base = self._base(label, key)
        out, n = base, 2
        while out.lower() in self.taken:
            out = f"{base}{n}"
            n += 1
        self.taken.add(out.lower())
        return out

    def _base(self, label: str, key: str) -> str:
        bare = _PAREN.sub("", label).strip()
        match self.style:
            case "label":
                return re.sub(r"[\s/、，,:：]+", "", bare) or key
            case "upper_initials":
                return initials(bare, self.pinyin).upper() or key.upper()
            case "lower_initials":
                return initials(bare, self.pinyin).lower() or key
            case "snake":
                return key
            case "snake_abbrev":
                return abbreviate(key)
            case "camel":
                parts = abbreviate(key).split("_")
                return parts[0] + "".join(p.capitalize() for p in parts[1:])
        raise ValueError(f"unknown column style {self.style!r}")


def abbreviate(key: str) -> str:
    out = key
    for long, short in ABBREV:
        out = re.sub(rf"(?<![a-z]){long}(?![a-z])", short, out)
    return out


def initials(label: str, pinyin: dict[str, str]) -> str:
    """Pinyin initials of the Chinese characters of ``label`` (letters and digits kept as they are)."""
    bare = _PAREN.sub("", label)
    if bare in pinyin:
        return pinyin[bare]
    raise KeyError(f"no pinyin initials for {bare!r}: run python -m tools.generate_catalog --refresh-pinyin")


def compute_initials(labels: set[str]) -> dict[str, str]:
    """Initials of every label with pypinyin (phrase-aware); only the refresh needs pypinyin."""
    from pypinyin import Style, lazy_pinyin  # only for --refresh-pinyin

    out = {}
    for label in sorted(labels):
        bare = _PAREN.sub("", label)
        letters = []
        for piece in lazy_pinyin(bare, style=Style.FIRST_LETTER, errors=lambda s: list(s)):
            letters.append(piece if re.fullmatch(r"[A-Za-z0-9]+", piece) else "")
        out[bare] = "".join(letters)
    return out


def load_pinyin() -> dict[str, str]:
    return json.loads(PINYIN_TABLE.read_text(encoding="utf-8")) if PINYIN_TABLE.exists() else {}


def save_pinyin(table: dict[str, str]) -> None:
    PINYIN_TABLE.write_text(json.dumps(dict(sorted(table.items())), ensure_ascii=False, indent=0) + "\n",
                            encoding="utf-8")
