"""Matching keys: how a project code, an enterprise identifier or an enterprise name is compared.

Stored display values are never rewritten here; these keys only decide what matches what.

Project codes (投资项目代码), :func:`project_key`:
  - NFKC (full-width ``２０１９－３７０１０２`` -> ``2019-370102``), upper-case, whitespace removed;
  - dash-like separators (``‐ ‑ ‒ – — ― − _ / \\ .``) -> ``-``, runs of ``-`` collapsed;
  - a 20-character code written without separators is re-hyphenated ``4-6-2-2-6``.

Enterprise identifiers, :func:`id_key`: NFKC, whitespace and hyphens removed, upper-case; the
organisation code of a credit code is its positions 9-17 (:func:`embedded_org_code`).

Enterprise names:
  - :func:`name_exact_key`: NFKC, whitespace removed, brackets unified to ``()``, Latin upper-cased.
    Two names with the same exact key are the same name written differently.
  - :func:`name_fuzzy_key`: the exact key with the legal-form suffix unified (股份有限公司 /
    有限责任公司 / 有限公司 -> 有限公司), parenthesised regions dropped (``某某(济南)有限公司``) and leading
    region names stripped (山东省 / 山东 / 济南市 / 历下区 ...). Names that share only a fuzzy key are
    *probably* one entity: they go to review, never merged silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

_DASHES = r"[\s]+"
_SEPARATORS = r"[‐‑‒–—―−_/\\.]"
_BARE_PROJECT = r"^([0-9A-Z]{4})([0-9A-Z]{6})([0-9A-Z]{2})([0-9A-Z]{2})([0-9A-Z]{6})$"


def project_key(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The matching key of a column of project codes (nulls and blanks stay null)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    v = pc.cast(arr, pa.string())
    v = pc.utf8_normalize(v, "NFKC")
    v = pc.utf8_upper(v)
    v = pc.replace_substring_regex(v, _DASHES, "")
    v = pc.replace_substring_regex(v, _SEPARATORS, "-")
    v = pc.replace_substring_regex(v, "-{2,}", "-")
    v = pc.replace_substring_regex(v, _BARE_PROJECT, r"\1-\2-\3-\4-\5")
    out: pa.Array = pc.if_else(pc.equal(pc.utf8_length(v), 0), pa.scalar(None, pa.string()), v)
    return out


def id_key(value: str | None) -> str | None:
    """An identifier compacted for comparison (``None`` when blank)."""
    if value is None:
        return None
    v = re.sub(r"[\s\-－—]+", "", unicodedata.normalize("NFKC", str(value))).upper()
    return v or None


def embedded_org_code(uscc: str | None) -> str | None:
    """The GB 11714 organisation code inside an 18-character credit code (positions 9-17)."""
    if uscc is None or len(uscc) != 18:
        return None
    return uscc[8:17]


_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")",
                           "［": "(", "］": ")", "｛": "(", "｝": ")", "{": "(", "}": ")"})
# the longest first, so 股份有限公司 is not read as ...股份 + 有限公司
_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司")
# province-level names, full and short (companies from anywhere bid on Jinan projects)
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省",
    "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省",
    "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省",
    "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区",
    "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
    "中国", "中华人民共和国",
)
_REGION_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市", "区", "县")


def name_exact_key(name: str | None) -> str | None:
    """Same name, written differently: NFKC, no whitespace, ``()`` brackets, Latin upper-case."""
    if name is None:
        return None
    v = unicodedata.normalize("NFKC", str(name)).translate(_BRACKETS)
    v = re.sub(r"\s+", "", v).upper()
    return v or None


def region_names(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Region names to strip, each also without its 省/市/区/县 suffix; longest first."""
    names: set[str] = set()
    for n in [*PROVINCES, *extra]:
        n = re.sub(r"\(.*?\)|（.*?）", "", n).strip()
        if not n or n in ("市辖区", "郊区", "市区"):
            continue
        names.add(n)
        for suf in _REGION_SUFFIXES:
            if n.endswith(suf) and len(n) - len(suf) >= 2:
                names.add(n[: -len(suf)])
                break
    return tuple(sorted(names, key=lambda s: (-len(s), s)))


class NameKeyer:
    """Fuzzy enterprise-name keys with a fixed list of region names (built once, used per name)."""

    def __init__(self, regions: Iterable[str] = ()):
        self.regions = region_names(regions)
        alt = "|".join(re.escape(r) for r in self.regions)
        self._lead = re.compile(rf"^(?:{alt})+") if alt else None
        self._inner = re.compile(rf"\((?:{alt})\)") if alt else None

    def fuzzy(self, name: str | None) -> str | None:
        v = name_exact_key(name)
        if v is None:
            return None
        for suf in _SUFFIXES:
            if v.endswith(suf):
                v = v[: -len(suf)] + "有限公司"
                break
        if self._inner is not None:
            v = self._inner.sub("", v)
        if self._lead is not None:
            stripped = self._lead.sub("", v)
            # a name that is nothing but a region (济南市政公司 -> 政公司) keeps its region
            v = stripped if len(stripped) >= 4 else v
        return v or None
