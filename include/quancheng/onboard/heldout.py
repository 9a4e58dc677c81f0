"""Measure the mapping assistant honestly: each system held out of the catalog in turn.

For a held-out system its fields' mappings and the synonyms only it contributed are ignored
(:class:`quancheng.onboard.suggest.Knowledge` ``hold_out``); the assistant then suggests elements for its
fields from the label, column name and context the catalog records, as introspection would give them.
Accuracy is counted over fields whose true element exists (top-1: the assistant does not call the field new
and its first candidate is one of the field's mapped elements; top-3: one of the first three is); "new element"
is judged against the fields the catalog excludes (no element fits them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from quancheng.catalog.loader import Catalog
from quancheng.onboard.suggest import FieldInfo, Knowledge, Suggestion


@dataclass
class Score:
    """Counts over held-out fields; the ratios are properties."""

    fields: int = 0
    mapped: int = 0
    top1: int = 0
    top3: int = 0
    transform_ok: int = 0
    new_true: int = 0  # fields the catalog excludes
    new_said: int = 0  # fields the assistant called new
    new_hit: int = 0  # both
    misses: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # system, column, label, want, got

    def add(self, other: Score) -> None:
        for k in ("fields", "mapped", "top1", "top3", "transform_ok", "new_true", "new_said", "new_hit"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.misses.extend(other.misses)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.mapped if self.mapped else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.mapped if self.mapped else 0.0

    @property
    def new_precision(self) -> float:
        return self.new_hit / self.new_said if self.new_said else 1.0

    @property
    def new_recall(self) -> float:
        return self.new_hit / self.new_true if self.new_true else 1.0


def fields_of_system(catalog: Catalog, system_id: str,
                     samples: Mapping[tuple[str, str], tuple[str, ...]] | None = None) -> list[FieldInfo]:
    """A system's fields as introspection drafts them (label, type, unit, the form's and system's names), with
    the sample values introspection kept, by (table, column), where there are any."""
    system = catalog.system[system_id]
    out = []
    for form in catalog.forms_of(system_id):
        for f in catalog.fields_of(form.form_id):
            out.append(FieldInfo(table=form.table, column=f.column, label=f.label_zh, native_type=f.native_type,
                                 unit=f.unit, samples=(samples or {}).get((form.table, f.column), ()),
                                 context=form.name_zh + system.name_zh))
    return out


def hold_out(catalog: Catalog, system_id: str) -> tuple[Score, list[Suggestion]]:
    """Suggest for one system with its own knowledge removed, and score against its real mappings."""
    know = Knowledge(catalog, hold_out=system_id)
    fields = fields_of_system(catalog, system_id)
    suggestions = know.suggest(fields)
    table_form = {f.table: f.form_id for f in catalog.forms_of(system_id)}
    truth: dict[tuple[str, str], set[str]] = {}
    transforms: dict[tuple[str, str], set[str]] = {}
    for form in catalog.forms_of(system_id):
        for m in catalog.mappings_of(form.form_id):
            truth.setdefault((form.table, m.column), set()).add(m.element_id)
            transforms.setdefault((form.table, m.column), set()).add(m.transform)
    excluded = {(form.table, f.column) for form in catalog.forms_of(system_id)
                for f in catalog.fields_of(form.form_id) if f.excluded_reason}
    s = Score()
    for sug in suggestions:
        key = (sug.table, sug.column)
        s.fields += 1
        ids = [c.element_id for c in sug.candidates]
        if key in excluded:
            s.new_true += 1
            s.new_hit += sug.new_element
        s.new_said += sug.new_element
        want = truth.get(key)
        if not want:
            continue
        s.mapped += 1
        if ids[:1] and ids[0] in want and not sug.new_element:  # "new element" for a field that has one: a miss
            s.top1 += 1
            s.transform_ok += sug.transform in transforms[key]
        else:
            s.misses.append((system_id, f"{table_form[sug.table]}.{sug.column}", sug.label, "|".join(sorted(want)),
                             ids[0] if ids else "-"))
        s.top3 += bool(set(ids[:3]) & want)
    return s, suggestions


def hold_out_all(catalog: Catalog, systems: Iterable[str] | None = None,
                 progress: Callable[[str, Score], None] | None = None) -> tuple[Score, dict[str, Score]]:
    """:func:`hold_out` for every system (or the ones named): the total and each system's score."""
    total, per = Score(), {}
    for sid in systems or [s.system_id for s in catalog.systems]:
        s, _ = hold_out(catalog, sid)
        per[sid] = s
        total.add(s)
        if progress:
            progress(sid, s)
    return total, per
