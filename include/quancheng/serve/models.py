"""The shapes of the API's answers, for the OpenAPI description (``/openapi.json``).

Handlers build plain dictionaries and return them as JSON directly (no per-call model validation on the
hot path); the contract tests check that the answers match these models.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ShareType = Literal["unconditional", "conditional", "none"]
Access = Literal["clear", "token", "hidden"]


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: int
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


class DatasetSummary(BaseModel):
    id: str
    name_zh: str
    name_en: str
    definition: str
    kind: str
    sharing_type: ShareType
    sharing_type_zh: str
    readable: bool
    version: str | None
    rows: int | None
    updated_at: str | None


class DatasetList(BaseModel):
    department: str
    datasets: list[DatasetSummary]


class Column(BaseModel):
    name: str
    name_zh: str
    name_en: str
    type: str
    element_id: str | None
    share_type: ShareType | None
    access: Access
    reason: str | None = None


class Freshness(BaseModel):
    updated_at: str | None
    age_hours: float | None
    last_batch: str | None


class DatasetDetail(BaseModel):
    id: str
    name_zh: str
    name_en: str
    definition: str
    sharing_type: ShareType
    sharing_type_zh: str
    area: str
    version: str
    rows: int
    freshness: Freshness
    keys: list[str]
    columns: list[Column]


class DatasetRef(BaseModel):
    id: str
    name_zh: str
    name_en: str
    definition: str
    area: str
    version: str
    updated_at: str | None


class KeyFilter(BaseModel):
    key: str
    columns: list[str]


class RecordsOut(BaseModel):
    dataset: DatasetRef
    filter: KeyFilter | None
    page: int
    page_size: int
    total: int
    records: list[dict[str, Any]]


class StageRef(BaseModel):
    id: str
    name_zh: str
    name_en: str


class PrefillElement(BaseModel):
    element_id: str
    key: str
    name_zh: str
    name_en: str
    value: Any
    required: bool
    access: Access
    source_system: str | None
    source_system_name_zh: str | None
    source_table: str | None
    source_key: str | None
    as_of: str | None
    rule: str | None
    systems: int
    distinct_values: int


class Conflict(BaseModel):
    element_id: str
    element_key: str
    element_name_zh: str
    system_id: str
    source_table: str | None
    source_key: str | None
    value: str | None
    winner_system: str | None
    winner_value: str | None
    rule: str | None
    same_system: bool | None


class Withheld(BaseModel):
    key: str
    name_zh: str
    name_en: str
    share_type: ShareType
    share_type_zh: str
    reason: str


class MaterialData(BaseModel):
    element_id: str
    key: str
    name_zh: str
    value: Any
    dataset: str | None


class Material(BaseModel):
    material_key: str
    name_zh: str
    kind: str
    status: Literal["waived", "required"]
    waived: bool
    rule: str
    issuer_system: str | None
    issuer_name_zh: str | None
    asked_by_forms: list[str]
    asked_times: int
    shared_datasets: list[str]
    datasets_published: bool | None
    data: list[MaterialData]


class PrefillSummary(BaseModel):
    elements: int
    filled: int
    conflicts: int
    materials: int
    waived: int
    required: int


class CopyRef(BaseModel):
    area: str
    version: str


class PrefillOut(BaseModel):
    stage: StageRef
    project_code: str
    as_of: str | None
    source_systems: list[str]
    missing_required: list[str]
    elements: list[PrefillElement]
    conflicts: list[Conflict]
    withheld: list[Withheld]
    materials: list[Material]
    summary: PrefillSummary
    datasets: dict[str, CopyRef]


class EnterpriseName(BaseModel):
    name: str
    is_current: bool
    from_former_name: bool
    first_seen: str | None
    last_seen: str | None
    systems: str | None
    mentions: int


class EnterpriseSource(BaseModel):
    dataset_id: str
    system_id: str
    system_name_zh: str | None
    department_zh: str | None
    role: str | None
    match_rule: str | None
    records: int


class EnterpriseOut(BaseModel):
    uscc: str
    entity_id: str
    record: dict[str, Any]
    names: list[EnterpriseName]
    sources: list[EnterpriseSource]
    datasets: dict[str, CopyRef]


class Health(BaseModel):
    status: Literal["ok"]
