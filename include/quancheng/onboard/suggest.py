"""The mapping assistant: for every field of a new system, the best data elements, with score and evidence.

Evidence, all from the catalog in use (no network model):

- the Chinese label against each element's name, its synonyms and the labels other systems' fields mapped
  to it carry (normalized by :func:`quancheng.onboard.text.split_label`: full width, brackets, a unit in the
  label such as ``(万元)``); exact equality first, else character-bigram overlap;
- the column name against the element's ascii synonyms, the columns other systems mapped to it, the pinyin
  initials of its names (``XMDM`` <-> 项目代码) and the tokens of its key and English name (``projectName``);
- the context: a generic label (``受理编号``, ``审批意见``) matches many elements that end with it; the one
  whose remaining words (``市政工程规划许可``) best match the form's and system's names wins;
- the native type and the sample values (a USCC, an ID number, a date, a number with its unit) against the
  element's type and identifier kind, and membership in its code list;
- the siblings: a second pass adds the names of the elements the table's other columns matched to the context.

A field is a ``new_element`` when no element scores :data:`NEW_ELEMENT_BELOW` or more, or when its label is one
other systems mark as not data (``备注``, ``系统流水号``: their ``excluded_reason``) and no element matches it
exactly. :class:`Knowledge` can leave one system out (``hold_out``): its mappings and the synonyms only it
contributed are ignored, which is how ``benchmarks/onboard_suggest.py`` measures the assistant honestly.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from quancheng.catalog.loader import Catalog
from quancheng.catalog.models import Element
from quancheng.onboard.text import (
    bigrams,
    column_key,
    column_tokens,
    dice,
    has_han,
    initials,
    nfkc,
    split_label,
)

LICENSE_KINDS = ("uscc", "ric", "reg_no", "org_code", "tax_no")  # what a 证照号码 (license_no) element holds
NEW_ELEMENT_BELOW = 0.5  # best score under this: propose a new element
TOP = 3


@dataclass(frozen=True)
class FieldInfo:
    """What the assistant knows of one field of the new system (from introspection or the catalog)."""

    table: str
    column: str
    label: str
    native_type: str = "text"
    unit: str = ""
    samples: tuple[str, ...] = ()
    context: str = ""  # the form's and the system's names: 市政工程规划许可 ... 建设工程规划许可系统


@dataclass(frozen=True)
class Candidate:
    element_id: str
    score: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Suggestion:
    """The proposal for one field; :meth:`as_json` is the ``onboard suggest --json`` line."""

    table: str
    column: str
    label: str
    candidates: tuple[Candidate, ...]
    transform: str
    unit: str
    new_element: bool
    not_data: str = ""  # the reason other systems gave for excluding a field labelled so

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "column": self.column,
                "candidates": [{"element_id": c.element_id, "score": round(c.score, 3),
                                "evidence": list(c.evidence)} for c in self.candidates],
                "transform": self.transform, "unit": self.unit, "new_element": self.new_element}


@dataclass
class _Names:
    labels: dict[str, str] = field(default_factory=dict)  # normalized label -> where it comes from
    columns: dict[str, str] = field(default_factory=dict)  # column key -> where it comes from
    tokens: set[str] = field(default_factory=set)  # english tokens of key and name_en


class Knowledge:
    """Everything the catalog says about how fields are named, indexed for suggestion."""

    def __init__(self, catalog: Catalog, *, hold_out: str | None = None):
        self.catalog = catalog
        self.units = frozenset(u.unit for u in catalog.units)
        self.elements = {e.element_id: e for e in catalog.elements if e.status != "retired"}
        # each element's name as labels are compared (brackets, units and noise gone), once
        self.name_core = {eid: split_label(e.name_zh, self.units)[0] for eid, e in self.elements.items()}
        held_forms = {f.form_id for f in catalog.forms if f.system_id == hold_out}
        field_of = {(f.form_id, f.column): f for f in catalog.fields}
        # what each system's mapped fields call an element (to tell which synonyms only the held-out one gave)
        said: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for m in catalog.mappings:
            f = field_of.get((m.form_id, m.column))
            if f is None:
                continue
            who = "held" if m.form_id in held_forms else "other"
            said[m.element_id][who].update({split_label(f.label_zh, self.units)[0], column_key(f.column)})
        self.names: dict[str, _Names] = {}
        for e in self.elements.values():
            n = _Names()
            only_held = said[e.element_id]["held"] - said[e.element_id]["other"]
            self._add_label(n, e.name_zh, "name")
            n.columns.setdefault(initials(self.name_core[e.element_id]), "pinyin of name")
            n.columns.setdefault(column_key(e.key), "key")
            n.tokens.update(column_tokens(e.key))
            n.tokens.update(t for t in column_tokens(e.name_en) if len(t) > 2)
            for s in e.synonyms:
                norm = split_label(s, self.units)[0] if has_han(s) else column_key(s)
                if norm in only_held:
                    continue
                if has_han(s):
                    self._add_label(n, s, "synonym")
                    n.columns.setdefault(initials(norm), "pinyin of synonym")
                else:
                    n.columns.setdefault(column_key(s), "synonym")
                    n.tokens.update(t for t in column_tokens(s) if len(t) > 2)
            self.names[e.element_id] = n
        for m in catalog.mappings:
            f = field_of.get((m.form_id, m.column))
            if f is None or m.form_id in held_forms or m.element_id not in self.names:
                continue
            sid = catalog.form[m.form_id].system_id if m.form_id in catalog.form else "?"
            self._add_label(self.names[m.element_id], f.label_zh, f"label in {sid}")
            self.names[m.element_id].columns.setdefault(column_key(f.column), f"column in {sid}")
        # labels other systems excluded as not data, with their reason
        self.not_data: dict[str, str] = {}
        for f in catalog.fields:
            if f.excluded_reason and f.form_id not in held_forms:
                self.not_data.setdefault(split_label(f.label_zh, self.units)[0], f.excluded_reason)
        self._label_index: dict[str, set[str]] = defaultdict(set)
        self._column_index: dict[str, set[str]] = defaultdict(set)
        self._token_index: dict[str, set[str]] = defaultdict(set)
        for eid, n in self.names.items():
            for lab in n.labels:
                for g in bigrams(lab):
                    self._label_index[g].add(eid)
            for col in n.columns:
                self._column_index[col].add(eid)
            for t in n.tokens:
                self._token_index[t].add(eid)
        self._specific: dict[str, int] = {}
        self._owners: dict[str, set[str]] = defaultdict(set)  # exact label -> the elements it names
        for eid, n in self.names.items():
            for lab in n.labels:
                self._owners[lab].add(eid)
        self._grams = {eid: {lab: bigrams(lab) for lab in n.labels} for eid, n in self.names.items()}
        self._codes = {cl: {c.code for c in codes} | {c.name_zh for c in codes}
                       for cl, codes in catalog.codes_by_list.items()}

    def _add_label(self, n: _Names, label: str, where: str) -> None:
        core = split_label(label, self.units)[0]
        if core:
            n.labels.setdefault(core, where)

    # --- scoring ---
    def _label_score(self, eid: str, core: str, grams: frozenset[str], context: frozenset[str]) -> tuple[float, str]:
        n = self.names[eid]
        name = self.name_core[eid]
        if core in n.labels and (name == core or not name.endswith(core)
                                 or (n.labels[core] in ("name", "synonym") and len(self._owners[core]) == 1)):
            if name != core and not name.endswith(core) and self._specific_count(core) >= 2:
                # 受理编号 is a synonym of 办件编号, but also the end of many specific elements' names: the
                # context may name one of those, which then wins
                return 0.9, f"label = {n.labels[core]} (generic)"
            return 1.0, f"label = {n.labels[core]}"
        best, why = 0.0, ""
        for lab, lg in self._grams[eid].items():
            if lab.endswith(core) and len(core) >= 2 and lab != core:
                # a generic label (受理日期): the element is a specific one of its kind (燃气报装受理日期); the
                # context (form, system, siblings) must name the rest
                s = 0.55 + 0.4 * covered(bigrams(lab[: -len(core)]), context)
                why_here = f"label ends {n.labels[lab]} {lab}"
            elif lab == core:  # another system's generic label for this specific element
                s = 0.6 + 0.4 * covered(bigrams(name[: -len(core)]), context)
                why_here = f"label = {n.labels[lab]}, context {name}"
            elif core.endswith(lab) and len(lab) >= 2:
                s = 0.5 + 0.45 * len(lab) / len(core)
                why_here = f"label contains {n.labels[lab]} {lab}"
            else:
                s = dice(grams, lg)
                why_here = f"label ~ {n.labels[lab]} {lab}"
            if s > best:
                best, why = s, why_here
        return best, why

    def _specific_count(self, core: str) -> int:
        """How many element names end with ``core`` and say more (``...受理编号`` for ``受理编号``)."""
        if core not in self._specific:
            self._specific[core] = sum(1 for eid, e in self.elements.items()
                                       if e.name_zh != core and self.name_core[eid].endswith(core))
        return self._specific[core]

    def _column_score(self, eid: str, ck: str, tokens: tuple[str, ...]) -> tuple[float, str]:
        n = self.names[eid]
        if ck in n.columns:
            # a column name several elements share (SQRQ: every case's 申请日期) says little on its own
            return 1.0 / len(self._column_index[ck]), f"column = {n.columns[ck]}"
        useful = [t for t in tokens if len(t) > 2]
        if useful and n.tokens:
            share = len(set(useful) & n.tokens) / len(set(useful))
            if share:
                return 0.8 * share, "column words ~ key/English name"
        return 0.0, ""

    def _type_factor(self, e: Element, f: FieldInfo) -> tuple[float, str]:
        native, dt = f.native_type, e.data_type
        if native in ("date", "datetime") and dt not in ("date", "datetime", "string"):
            return 0.6, f"native {native} vs {dt}"
        if native in ("integer", "decimal") and dt in ("date", "datetime", "boolean"):
            return 0.6, f"native {native} vs {dt}"
        if native == "boolean" and dt != "boolean":
            return 0.7, f"native boolean vs {dt}"
        samples = [s for s in f.samples if s]
        if not samples or native != "text":  # a typed column's values say nothing its type does not
            return 1.0, ""
        kind = sample_kind(samples)
        if e.identifier_kind:
            if kind == e.identifier_kind or (e.identifier_kind == "license_no" and kind in LICENSE_KINDS):
                return 1.1, f"samples are {kind}"
            if kind:
                return 0.7, f"samples are {kind}, element wants {e.identifier_kind}"
        elif kind in ("uscc", "ric"):
            return 0.8, f"samples are {kind}"
        if e.code_list and e.code_list in self._codes:
            inside = sum(s.strip() in self._codes[e.code_list] for s in samples) / len(samples)
            if inside >= 0.8:
                return 1.1, f"samples in code list {e.code_list}"
        if dt in ("date", "datetime") and kind == "date":
            return 1.05, "samples are dates"
        if dt in ("decimal", "integer") and kind == "number":
            return 1.05, "samples are numbers"
        if dt in ("decimal", "integer", "date", "datetime") and kind == "text":
            return 0.8, f"samples are text, element is {dt}"
        return 1.0, ""

    def score(self, f: FieldInfo, context: str | None = None) -> list[Candidate]:
        core, _ = split_label(f.label, self.units)
        han = has_han(core)
        grams = bigrams(core) if han else frozenset()
        ctx = bigrams(split_label(context if context is not None else f.context, self.units)[0])
        ck, tokens = column_key(f.column), column_tokens(f.column)
        pool: set[str] = set()
        if han:
            for g in grams:
                pool |= self._label_index.get(g, set())
        pool |= self._column_index.get(ck, set())
        if not han and ck:
            pool |= self._column_index.get(initials(core), set())
        for t in tokens:
            if len(t) > 2:
                pool |= self._token_index.get(t, set())
        out = []
        for eid in pool:
            e = self.elements[eid]
            ls, lwhy = self._label_score(eid, core, grams, ctx) if han else (0.0, "")
            cs, cwhy = self._column_score(eid, ck, tokens)
            # an exact label leaves the column to confirm; a fuzzy one shares the weight with it
            s = (0.85 + 0.15 * cs if ls == 1.0 else 0.75 * ls + 0.25 * cs) if han else 0.9 * cs
            if not han or ls == 1.0:
                # an exact label shared by several elements, or no label at all: the context decides
                s += 0.1 * dice(bigrams(self.name_core[eid]), ctx)
            tf, twhy = self._type_factor(e, f)
            s *= tf
            if s <= 0.05:
                continue
            out.append(Candidate(eid, min(s, 1.0), tuple(w for w in (lwhy, cwhy, twhy) if w)))
        out.sort(key=lambda c: (-c.score, c.element_id))
        return out

    def suggest(self, fields: Sequence[FieldInfo]) -> list[Suggestion]:
        """Suggestions for the fields of one or more tables; siblings refine each other's context."""
        first = {(f.table, f.column): self.score(f) for f in fields}
        by_table: dict[str, list[FieldInfo]] = defaultdict(list)
        for f in fields:
            by_table[f.table].append(f)
        out = []
        for f in fields:
            sibling_names = [self.elements[c[0].element_id].name_zh for g in by_table[f.table]
                             if g is not f and (c := first[(g.table, g.column)]) and c[0].score >= 0.85]
            cands = first[(f.table, f.column)]
            core = split_label(f.label, self.units)[0]
            if cands and len(cands) > 1 and cands[0].score - cands[1].score < 0.1 and sibling_names:
                cands = self.score(f, f.context + "".join(_prefixes(sibling_names, core)))
            out.append(self._suggestion(f, cands))
        return out

    def _suggestion(self, f: FieldInfo, cands: list[Candidate]) -> Suggestion:
        core, label_unit = split_label(f.label, self.units)
        top = tuple(cands[:TOP])
        not_data = self.not_data.get(core, "")
        exact = bool(top) and any(w.startswith("label =") for w in top[0].evidence)
        # a generic label (申请日期) whose context names none of its elements: the best ones tie, and none is it
        tied = len(top) > 1 and top[0].score - top[1].score < 0.005 and top[0].score < 0.7
        new = not top or top[0].score < NEW_ELEMENT_BELOW or (bool(not_data) and not exact) or tied
        e = self.elements[top[0].element_id] if top and not new else None
        unit = f.unit or label_unit or (sample_unit(f.samples, self.units) if f.samples else "")
        if e is not None and not unit:
            unit = e.unit
        return Suggestion(f.table, f.column, f.label, top, transform_for(e, f) if e else "", unit if e else f.unit,
                          new, not_data)


def covered(part: frozenset[str], context: frozenset[str]) -> float:
    """The share of ``part``'s bigrams that the context holds (0..1, plus a little for each one held)."""
    if not part:
        return 0.0
    hit = len(part & context)
    # of two fully covered names the longer is the more specific (用地预审与选址 over 用地预审)
    return hit / len(part) + 0.01 * min(hit, 8)


def _prefixes(names: Iterable[str], core: str) -> list[str]:
    """What sibling elements' names add to a generic label (``市政工程规划许可`` of ``市政工程规划许可证号``)."""
    counts = Counter(n for n in names)
    return [n for n, _ in counts.most_common(6) if n != core]


def transform_for(e: Element, f: FieldInfo) -> str:
    """The transform a field of this native type needs to become element ``e`` (the catalog's own practice)."""
    samples = [s for s in f.samples if s]
    if e.identifier_kind:
        return "identifier"
    if e.code_list:
        return "code"
    if e.data_type == "date":
        if samples and sum("至" in s or "天" in s for s in samples) / len(samples) > 0.5:
            return "date_range"
        return "date"
    if e.data_type in ("decimal", "integer") and e.unit:
        return "quantity" if e.data_type == "decimal" else "copy"
    if e.data_type == "string":
        return "text"
    return "copy"


_DATE = re.compile(r"^\d{4}(年|[-/.])\d{1,2}(月|[-/.])\d{1,2}日?([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$|^\d{8}$")
_NUMBER = re.compile(r"^[-+]?\d[\d,]*(\.\d+)?\s*([^\d\s].{0,4})?$")


def sample_kind(samples: Sequence[str]) -> str:
    """What most sample values are: an identifier kind whose check digits hold (uscc, ric, project_code, ...),
    date, number or text ("" without samples)."""
    from quancheng.ids.scalar import check

    values = [nfkc(s).strip() for s in samples if s and s.strip()]
    if not values:
        return ""
    kinds = Counter(r.kind for r in map(check, values) if r.valid)
    if kinds:
        kind, n = kinds.most_common(1)[0]
        if n >= 0.8 * len(values):
            return str(kind)
    for kind, pattern in (("date", _DATE), ("number", _NUMBER)):
        if sum(bool(pattern.match(v)) for v in values) >= 0.8 * len(values):
            return kind
    return "text"


def sample_unit(samples: Sequence[str], units: frozenset[str]) -> str:
    """A unit written after the numbers (``12.5万元``), when most samples carry the same one."""
    tails: Counter[str] = Counter()
    for s in samples:
        m = _NUMBER.match(nfkc(s).strip())
        if m and m.group(2) and m.group(2).strip() in units:
            tails[m.group(2).strip()] += 1
    if tails:
        unit, n = tails.most_common(1)[0]
        if n >= 0.5 * len(samples):
            return str(unit)
    return ""
