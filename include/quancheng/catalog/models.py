"""Typed models of the catalog: one class per catalog file, one instance per row.

Every model is frozen; fixed choices are ``Literal`` types so a typo in the catalog fails
at load time with the file and line (see :mod:`quancheng.catalog.loader`). Open choices (a system's
source kind, a mapping's transform, a cross-field rule's kind) are names checked against their registry
(:mod:`quancheng.registry`), so a new one is registered, not added here.
Multi-valued cells are written ``a|b|c`` in the CSV files and arrive here as tuples.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from quancheng.registry import CROSS_RULES, SOURCE_KINDS, TRANSFORMS, Registry


def _named(registry: Registry[Any]) -> AfterValidator:
    return AfterValidator(registry.check)


# a name of a registry: the registry rides along as metadata, so the loader's fix can list the known names
SystemKind = Annotated[str, _named(SOURCE_KINDS), SOURCE_KINDS]  # built in: postgresql mariadb sqlite csv excel http
ExtractMode = Literal["incremental", "snapshot"]
# a published row whose newer source version was quarantined: kept and flagged, or withdrawn
# (see quancheng.publish.superseded)
InvalidUpdate = Literal["flag", "withdraw"]
# How deletes in a form with an update column reach the shared data (snapshot forms see them by comparison):
#   reconcile    list the source's primary keys (cheap: key columns only) and delete published keys gone from it
#   soft_delete  the form's ``deleted_column`` holds one of its ``deleted_values`` when a row is withdrawn
#   none         the system never deletes (or the exchange keeps what it once published); say so in the catalog
DeleteDetection = Literal["reconcile", "soft_delete", "none"]
DataType = Literal["string", "integer", "decimal", "date", "datetime", "boolean"]
Status = Literal["standard", "candidate", "retired"]
PiClass = Literal["none", "personal", "sensitive"]
ShareType = Literal["unconditional", "conditional", "none"]
NativeType = Literal["text", "integer", "decimal", "date", "datetime", "boolean"]
IdentifierKind = Literal[
    "uscc", "ric", "org_code", "reg_no", "project_code", "construction_permit", "planning_permit", "license_no",
]
# How a source field becomes a canonical value (see quancheng.normalize for each rule):
#   copy        cast to the element's type, nothing else
#   text        trim, unify spaces (incl. U+3000), placeholders -> null
#   date        any Chinese/ISO date spelling -> ISO date
#   quantity    number in the field's unit -> the element's unit (万元->元, 亩->m², ...)
#   code        department code -> canonical code via the field's crosswalk, or code list normalisation
#   identifier  identifier compacted and checked as the element's identifier_kind
#   split       packed cell (e.g. "地上/地下") -> part ``part`` (0-based) split on the field's packed_sep
#   date_range  "2019-03-01至2020-03-01" -> start (part 0) or end (part 1); "365天" -> duration (part 2)
#   concat      several fields joined in ``part`` order into one element
# (built-in transforms; more are registered by name, see quancheng.normalize.transforms)
TransformName = Annotated[str, _named(TRANSFORMS), TRANSFORMS]
MaterialKind = Literal["issued", "identity", "applicant"]
# who records an element's value: the applicant on the form (the reform's form elements, on the stage forms),
# or the approving office while it processes the case (受理, 审批决定 ...: the case record, not a form element)
FilledBy = Literal["applicant", "office"]
# What a source form is: an application form an applicant fills (counted as the reform's forms and fields
# before, asks for materials), or a data table a department keeps (a register, a rating, a result, one row per
# building or party of another form), which syncs and publishes alike but is counted apart
FormKind = Literal["application", "data"]
# built in: sum_equals, before, duration_days (see quancheng.validate.cross)
CrossRuleKind = Annotated[str, _named(CROSS_RULES), CROSS_RULES]
# the headline figures a reform publishes and ``quancheng catalog stats`` computes (keys of its JSON)
FigureName = Literal["systems", "source_forms", "stage_forms", "source_fields", "elements", "materials_before",
                     "materials_after"]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    line: int = Field(default=0, exclude=True, description="line in the catalog file, for error messages")


class Stage(_Row):
    """One of the four consolidated approval stages (立项用地规划许可 ... 竣工验收)."""

    stage_id: str
    order: int
    name_zh: str
    name_en: str


class System(_Row):
    """A departmental business system the exchange reads from."""

    system_id: str
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str
    holds: str = ""
    stages: tuple[str, ...]
    kind: SystemKind
    conn_id: str
    schedule: str = "@daily"
    extract_mode: ExtractMode
    freshness_hours: int = 36
    quarantine_threshold: float = 0.05
    reference_id: str = ""  # row id in shared/reference/departments.csv
    invalid_update: InvalidUpdate = "flag"
    delete_detection: DeleteDetection = "reconcile"
    # a batch deleting more than this share of a dataset's published rows is refused (a truncated export,
    # an emptied table) unless the run is told to allow it (``quancheng run --allow-mass-delete``)
    max_delete_share: float = Field(default=0.5, ge=0.0, le=1.0)
    # the Celery queue its tasks go to: a heavy system gets a queue of its own, served by workers sized for it
    queue: str = Field(default="default", pattern=r"^[a-z][a-z0-9_]{0,39}$")
    # the zone its timestamps are recorded in when they carry none (Chinese departments record Beijing time):
    # window bounds are converted to it before they are compared with the source's update column
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai)") from None
        return v


class SourceForm(_Row):
    """A form as one system stores it: one native table, file or API endpoint."""

    form_id: str
    system_id: str
    name_zh: str
    name_en: str
    table: str
    stage_id: str
    form_kind: FormKind  # no default: every row says whether it is an application form or a data table
    primary_key: tuple[str, ...]
    updated_column: str = ""  # empty: no change timestamp, extracted as a snapshot
    deleted_column: str = ""  # soft_delete systems: the status or flag column that marks a withdrawn row
    deleted_values: tuple[str, ...] = ()  # its values (compared as trimmed, case-folded text) meaning "deleted"


class SourceField(_Row):
    """A column of a source form, exactly as the system names and types it."""

    form_id: str
    column: str
    label_zh: str
    native_type: NativeType
    unit: str = ""
    code_list: str = ""  # crosswalk id when the system uses its own codes, else the canonical code list
    packed_sep: str = ""  # separator for packed cells (split transforms)
    excluded_reason: str = ""  # set when the field maps to no element


class Mapping(_Row):
    """How one source field feeds one canonical element."""

    form_id: str
    column: str
    element_id: str
    transform: TransformName
    part: int = 0
    # unit of this part when a packed cell holds quantities in different units (建筑面积(㎡)/造价(万元));
    # empty: the field's unit applies
    unit: str = ""


class Element(_Row):
    """A canonical data element (GB/T 19488.1 attributes plus sharing and privacy)."""

    element_id: str
    key: str  # canonical column name in shared datasets
    name_zh: str
    name_en: str
    definition: str
    object_class: str
    property: str
    representation_term: str
    data_type: DataType
    format: str = ""
    max_length: int | None = None
    unit: str = ""
    code_list: str = ""
    code_list_version: str = ""
    identifier_kind: IdentifierKind | None = None
    min_value: float | None = None
    max_value: float | None = None
    version: str = "V1.0"
    status: Status = "standard"
    pi_class: PiClass = "none"
    share_type: ShareType = "unconditional"
    synonyms: tuple[str, ...] = ()
    required_in: tuple[str, ...] = ()  # stage ids where the element is required
    authority_system: str = ""  # wins conflicts in stage-form consolidation
    filled_by: FilledBy = "applicant"


class ServiceItem(_Row):
    """An approval item (政务服务事项) and the form its cases are recorded on.

    A form's case-record fields (受理日期, 审批决定日期 ... , elements ``filled_by == "office"``) are about
    this item: the case record of a project is its rows over every form, each read with its form's item.
    """

    item_id: str
    name_zh: str
    name_en: str
    form_id: str


class CodeList(_Row):
    """A versioned code list; its codes live in ``codes/<code_list_id>.csv``."""

    code_list_id: str
    name_zh: str
    name_en: str
    version: str
    standard: str = ""
    source: str = ""


class Code(_Row):
    """One code of a code list, effective-dated (GB/T 2260 codes change over time)."""

    code_list_id: str
    code: str
    name_zh: str
    parent: str = ""
    valid_from: str = ""
    valid_to: str = ""
    successor: str = ""


class Crosswalk(_Row):
    """A department's own code mapped to the canonical code list."""

    crosswalk_id: str
    system_id: str
    code_list_id: str
    native_value: str
    code: str


class Unit(_Row):
    """A unit spelling and its exact factor to the canonical unit of its dimension."""

    unit: str
    dimension: str
    canonical: str
    factor_num: int
    factor_den: int = 1


class Material(_Row):
    """An application material as one source form asks for it (counted as ``materials_before``)."""

    material_id: str
    material_key: str  # the same document asked by several forms shares one key
    name_zh: str
    kind: MaterialKind
    form_id: str
    issuer_system: str = ""
    elements: tuple[str, ...] = ()  # element ids the document carries


class CrossRule(_Row):
    """A rule between elements of one record (地上 + 地下 = 总建筑面积, start before end, ...)."""

    rule_id: str
    kind: CrossRuleKind
    elements: tuple[str, ...]
    tolerance: float = 0.0
    message_zh: str = ""


class Grant(_Row):
    """A department granted conditional (有条件共享) elements of a system's datasets."""

    department_en: str
    system_id: str
    elements: tuple[str, ...] = ()  # empty: every conditional element of the system


class ReformFigure(_Row):
    """A figure the reform itself published (the seed), shown by ``catalog stats`` beside the computed one.

    Only the figure's public value lives here, never in code: a catalog whose content departs from the
    seed reports the difference instead of being padded to meet it.
    """

    figure: FigureName
    seed: int
    source: str
    # where the content review moved a figure away from the seed: by how much, and why (README "Content
    # review"); ``catalog stats`` shows both, and the fidelity test holds the catalog to exactly that
    departure: int = 0
    departure_reason: str = ""
