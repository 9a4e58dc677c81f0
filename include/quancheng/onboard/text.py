"""Pure text helpers for matching a field to an element: labels, column names, pinyin initials.

A department labels the same element ``建筑面积（平方米）``, ``建筑面积(㎡)`` or ``建筑 面积``; names its column
``JZMJ`` (pinyin initials), ``jzmj``, ``build_area`` or ``buildArea``. These functions bring all of them to
comparable forms; they hold no catalog knowledge (that is :mod:`quancheng.onboard.suggest`).
"""

from __future__ import annotations

import functools
import re
import unicodedata

# a bracketed tail or part of a label: (万元), （平方米）, [m²], 【必填】
_BRACKETED = re.compile(r"[(\[（【〔]([^()\[\]（）【】〔〕]*)[)\]）】〕]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NOISE = re.compile(r"[\s:：*＊、,，.。·/\\_\-—]+")


def nfkc(text: str) -> str:
    """Full-width letters, digits and brackets to their ordinary forms (``（ＡＢ１）`` -> ``(AB1)``)."""
    return unicodedata.normalize("NFKC", text)


def split_label(label: str, units: frozenset[str] = frozenset()) -> tuple[str, str]:
    """``建筑面积（平方米）`` -> (``建筑面积``, ``平方米``): the label's core and the unit its brackets name.

    A bracketed part that is a known unit spelling is taken as the unit; any other bracketed part (``【必填】``,
    ``(含税)``) is dropped from the core. Without brackets, a unit of two or more characters written at the end
    (``总投资万元``, a column name that may not hold brackets) is split off too. Spaces, colons and stars go.
    """
    text = nfkc(label).strip()
    unit = ""
    for inner in _BRACKETED.findall(text):
        if inner.strip() in units and not unit:
            unit = inner.strip()
    core = _BRACKETED.sub("", text)
    core = _NOISE.sub("", core).lower()
    if not unit:
        tail = max((u for u in units if len(u) >= 2 and has_han(u) and core.endswith(u) and len(core) - len(u) >= 2),
                   key=len, default="")
        if tail:
            unit, core = tail, core[: -len(tail)]
    return core, unit


def column_key(column: str) -> str:
    """A column name compared as lower-case letters and digits only (``TZ_XMDM`` -> ``tzxmdm``)."""
    return _SEPARATORS.sub("", nfkc(column).lower())


def column_tokens(column: str) -> tuple[str, ...]:
    """English-ish tokens of a column: ``buildingArea`` / ``building_area`` -> (``building``, ``area``)."""
    spaced = _CAMEL.sub("_", nfkc(column))
    return tuple(t for t in _SEPARATORS.split(spaced.lower()) if t)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


@functools.lru_cache(maxsize=65536)
def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters, ascii letters and digits kept: ``投资项目代码`` -> ``tzxmdm``."""
    from pypinyin import Style, lazy_pinyin

    out = []
    for syllable in lazy_pinyin(nfkc(text), style=Style.FIRST_LETTER, errors="default"):
        out.append(_SEPARATORS.sub("", syllable.lower()))
    return "".join(out)


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams (a single character is its own gram), the unit of fuzzy label matching."""
    if len(text) < 2:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Sørensen-Dice overlap of two gram sets (0..1)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))
