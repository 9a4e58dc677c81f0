"""The building blocks the catalog is written in: element specs, field specs and their helpers.

An :class:`ElementSpec` is one canonical data element before it gets its id; a form lists its
fields as element keys (plain fields) or as :class:`F` objects (renamed, packed, ranged,
concatenated or excluded fields). The helpers below keep the content modules short and readable:
``money("total_investment", "总投资", "Total investment", "建设项目")`` says everything a
GB/T 19488.1 element needs, the rest (format, representation term, unit) follows from its kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

STAGES = ("s1_project_land", "s2_engineering", "s3_construction", "s4_acceptance")
ALL = STAGES


@dataclass(frozen=True)
class ElementSpec:
    """A canonical data element as the content modules define it (id assigned at build time)."""

    key: str
    name_zh: str
    name_en: str
    object_class: str
    prop: str
    rep: str
    data_type: str
    definition: str = ""
    fmt: str = ""
    max_length: int | None = None
    unit: str = ""
    code_list: str = ""
    identifier_kind: str = ""
    min_value: float | None = None
    max_value: float | None = None
    pi_class: str = "none"
    share_type: str = ""  # empty: derived (personal information -> conditional, else unconditional)
    synonyms: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # stages where required (kept only where the element is a member)
    authority: str = ""  # empty: the system of the earliest form that feeds the element
    version: str = "V1.0"  # V<major>.<minor>: a change that breaks exchange bumps major

    def with_(self, **kw: object) -> ElementSpec:
        return replace(self, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class F:
    """One native field of a form.

    ``elements`` are the canonical element keys the field feeds: one for a plain field, two or
    three for a packed (``split``) or ranged (``date_range``) cell. ``label`` overrides the Chinese
    label (default: the element's name). ``excluded`` holds the reason when the field maps to
    nothing; ``en`` then names it in English (for snake/camel column styles).
    """

    elements: tuple[str, ...] = ()
    label: str = ""
    transform: str = ""  # "" = derived from the element; split / date_range / concat explicit
    parts: tuple[int, ...] = ()
    unit: str = ""  # native unit spelling when it differs from the form's default for the dimension
    part_units: tuple[str, ...] = ()  # per part, for packed cells holding two quantities
    sep: str = ""
    excluded: str = ""
    en: str = ""
    native_type: str = ""  # override the derived native type
    code_list: str = ""  # override: a crosswalk id or canonical list for this field only
    column: str = ""  # override the generated native column name


def lab(key: str, label: str, **kw: object) -> F:
    """A plain field whose form calls the element by another name (a synonym)."""
    return F((key,), label=label, **kw)  # type: ignore[arg-type]


def unit(key: str, u: str, label: str = "") -> F:
    """A plain quantity field recorded in unit ``u`` (e.g. 万元, 亩)."""
    return F((key,), label=label, unit=u)


def packed(keys: tuple[str, ...], label: str, sep: str = "/", u: str = "",
           part_units: tuple[str, ...] = ()) -> F:
    """One cell holding several values (地上/地下, 层/栋, 建筑面积/造价), split on ``sep``."""
    return F(keys, label=label, transform="split", parts=tuple(range(len(keys))), sep=sep, unit=u,
             part_units=part_units)


def date_range(start: str, end: str, label: str) -> F:
    """A cell such as ``2019-03-01至2020-03-01`` feeding a start (part 0) and an end (part 1)."""
    return F((start, end), label=label, transform="date_range", parts=(0, 1))


def duration(key: str, label: str) -> F:
    """A cell such as ``365天`` feeding a duration in days (date_range part 2)."""
    return F((key,), label=label, transform="date_range", parts=(2,))


def concat(key: str, pieces: list[tuple[str, str]]) -> list[F]:
    """Several fields joined in order into one element (住所: 省 + 市 + 区县 + 详细地址)."""
    return [F((key,), label=zh, transform="concat", parts=(i,), en=en) for i, (zh, en) in enumerate(pieces)]


def excluded(label: str, en: str, reason: str, native_type: str = "text") -> F:
    """A field that feeds no element, with the reason it is left out."""
    return F((), label=label, excluded=reason, en=en, native_type=native_type)


@dataclass
class FormSpec:
    """A form (table, file or endpoint) of a system, its fields and the materials it asks for."""

    form_id: str
    system_id: str
    name_zh: str
    name_en: str
    table: str
    stage: str
    fields: list[str | F]
    primary_key: tuple[str, ...]  # element keys or ``en`` names of excluded fields
    materials: list[str] = field(default_factory=list)
    money_unit: str = ""  # native spelling for money fields on this form (default: the system's)
    area_unit: str = ""


@dataclass(frozen=True)
class SystemSpec:
    """A departmental system: the row of systems.csv plus how it names and types its columns."""

    system_id: str
    reference_id: str
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str
    holds: str
    kind: str
    style: str  # upper_initials | lower_initials | snake | snake_abbrev | camel | label
    incremental: bool
    schedule: str = "@daily"
    typed_dates: bool = True  # False: dates kept as text (legacy systems)
    money_unit: str = "元"
    area_unit: str = "m²"
    freshness_hours: int = 36
    quarantine_threshold: float = 0.1  # demo dirt is ~3% of rows; 10% means a source has really gone bad


# ---- element helpers: the kind of an element decides its representation term, type and format ----

def _el(key: str, zh: str, en: str, obj: str, rep: str, dtype: str, prop: str = "", **kw: object) -> ElementSpec:
    prop = prop or (zh[len(obj):] if zh.startswith(obj) and len(zh) > len(obj) else zh)
    return ElementSpec(key=key, name_zh=zh, name_en=en, object_class=obj, prop=prop, rep=rep,
                       data_type=dtype, **kw)  # type: ignore[arg-type]


def name(key: str, zh: str, en: str, obj: str, n: int = 200, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "名称", "string", fmt=f"an..{n}", max_length=n, **kw)


def text(key: str, zh: str, en: str, obj: str, n: int = 500, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "文本", "string", fmt=f"an..{n}", max_length=n, **kw)


def code(key: str, zh: str, en: str, obj: str, cl: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "代码", "string", code_list=cl, **kw)


def docno(key: str, zh: str, en: str, obj: str, n: int = 50, **kw: object) -> ElementSpec:
    """A document or certificate number (文号、编号) issued by an authority."""
    return _el(key, zh, en, obj, "标识符", "string", fmt=f"an..{n}", max_length=n, **kw)


def ident(key: str, zh: str, en: str, obj: str, kind: str, n: int, fixed: bool = True,
          **kw: object) -> ElementSpec:
    """An identifier checked by its kind (uscc, ric, project_code, ...)."""
    return _el(key, zh, en, obj, "标识符", "string", fmt=f"an{n}" if fixed else f"an..{n}", max_length=n,
               identifier_kind=kind, **kw)


def date(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "日期", "date", fmt="YYYY-MM-DD", **kw)


def datetime_(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "日期时间", "datetime", fmt="YYYY-MM-DDThh:mm:ss", **kw)


def money(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    kw.setdefault("min_value", 0)
    return _el(key, zh, en, obj, "金额", "decimal", fmt="n..18.2", unit="元", **kw)


def area(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    kw.setdefault("min_value", 0)
    return _el(key, zh, en, obj, "面积", "decimal", fmt="n..14.2", unit="m²", **kw)


def length(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    kw.setdefault("min_value", 0)
    return _el(key, zh, en, obj, "长度", "decimal", fmt="n..10.2", unit="m", **kw)


def measure(key: str, zh: str, en: str, obj: str, u: str, scale: int = 2, **kw: object) -> ElementSpec:
    """A decimal quantity in canonical unit ``u`` (m³, m³/d, kW·h, t, ...)."""
    kw.setdefault("min_value", 0)
    return _el(key, zh, en, obj, "数量", "decimal", fmt=f"n..16.{scale}", unit=u, **kw)


def count(key: str, zh: str, en: str, obj: str, u: str = "个", hi: float | None = None,
          **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "数量", "integer", fmt="n..8", unit=u, min_value=0, max_value=hi, **kw)


def pct(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "比率", "decimal", fmt="n..5.2", unit="%", min_value=0, max_value=100, **kw)


def number(key: str, zh: str, en: str, obj: str, scale: int = 2, lo: float | None = 0,
           hi: float | None = None, **kw: object) -> ElementSpec:
    """A dimensionless number (容积率, 坐标)."""
    return _el(key, zh, en, obj, "数值", "decimal", fmt=f"n..12.{scale}", min_value=lo, max_value=hi, **kw)


def flag(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "指示符", "boolean", fmt="n1", **kw)


def person(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    """A natural person's name: personal information, shared on condition."""
    return _el(key, zh, en, obj, "名称", "string", fmt="an..50", max_length=50, pi_class="personal", **kw)


def phone(key: str, zh: str, en: str, obj: str, **kw: object) -> ElementSpec:
    return _el(key, zh, en, obj, "号码", "string", fmt="an..20", max_length=20, pi_class="personal", **kw)


def id_number(key: str, zh: str, en: str, obj: str, kind: str = "ric", **kw: object) -> ElementSpec:
    """A natural person's ID number: sensitive personal information."""
    return _el(key, zh, en, obj, "标识符", "string", fmt="an18", max_length=18, identifier_kind=kind,
               pi_class="sensitive", **kw)
