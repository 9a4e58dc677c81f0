"""Chinese and English names and definitions of shared tables and columns, for analysts.

Element columns take theirs from the registry; the columns the exchange adds (provenance,
consolidation, matching) are described here once. A tokenized column says so in its definition.
"""

from __future__ import annotations

from collections.abc import Iterable

from quancheng.catalog import Catalog

# column -> (Chinese name, English name, definition)
EXCHANGE_COLUMNS: dict[str, tuple[str, str, str]] = {
    "_source_system": ("来源系统", "Source system", "记录所来自的部门业务系统标识"),
    "_source_table": ("来源表", "Source table", "源系统中的原生表、文件或接口名称"),
    "_source_key": ("来源主键", "Source key", "记录在源系统中的主键值（多列以|连接）"),
    "_batch_id": ("批次标识", "Batch id", "发布该版本的批次标识"),
    "_extracted_at": ("抽取时间", "Extraction time", "记录从源系统抽取的时间（UTC）；合并数据集取各来源中最新者"),
    "_superseded_by_quarantine": ("已被隔离版本取代", "Superseded by quarantine",
                                  "源系统中该记录的新版本未通过校验、已隔离：此处仍为旧版本，待新版本修正后更新"),
    "_source_systems": ("来源系统列表", "Source systems", "提供本行取值的系统（以|连接）"),
    "_missing_required": ("缺失必填项", "Missing required elements", "本阶段必填而尚无任何系统提供的数据元（以|连接）"),
    "project_code": ("投资项目代码", "Investment project code", "规范化后的投资项目代码，用于跨系统匹配项目"),
    "element_id": ("数据元标识", "Element id", "数据元在注册库中的标识符"),
    "element_key": ("数据元列名", "Element key", "数据元在共享数据集中的列名"),
    "element_name_zh": ("数据元名称", "Element name", "数据元中文名称"),
    "system_id": ("系统", "System", "部门业务系统标识"),
    "source_table": ("来源表", "Source table", "源系统中的原生表"),
    "source_key": ("来源主键", "Source key", "记录在源系统中的主键值"),
    "value": ("取值", "Value", "该系统提供的值（文本形式）"),
    "winner_system": ("采用系统", "Winning system", "冲突裁决后被采用取值的系统"),
    "winner_value": ("采用取值", "Winning value", "冲突裁决后被采用的值（文本形式）"),
    "rule": ("裁决规则", "Rule", "authority_system：数据元权威系统优先；most_recent：最近更新优先"),
    "same_system": ("同系统", "Same system", "落选值与采用值是否来自同一系统（同一项目在该系统有多条记录）"),
    "batch_id": ("批次标识", "Batch id", "采用取值所在记录的发布批次"),
    "extracted_at": ("抽取时间", "Extraction time", "采用取值所在记录的抽取时间（UTC）"),
    "systems": ("系统数", "Systems", "提供该数据元取值的系统个数"),
    "distinct_values": ("不同取值数", "Distinct values", "各系统提供的不同取值个数"),
    "entity_id": ("主体标识", "Entity id", "企业主数据中的主体标识（uscc:/org:/reg:/name: 前缀）"),
    "enterprise_former_names": ("曾用名", "Former names", "历史名称（以|连接，最近在前）"),
    "former_names": ("曾用名", "Former names", "除现名外见过的名称（以|连接，最近在前）"),
    "name_count": ("名称数", "Names", "该主体见过的不同名称个数"),
    "mentions": ("出现次数", "Mentions", "该主体在各系统数据集中出现的记录数"),
    "source_systems": ("来源系统列表", "Source systems", "出现该主体的系统（以|连接）"),
    "match_rules": ("匹配规则", "Match rules", "归并所用规则：uscc、org_code、reg_no、name_exact、name_only"),
    "match_rule": ("匹配规则", "Match rule", "该记录归并到主体所用的规则"),
    "in_review": ("待复核", "In review", "该主体是否有待人工复核的疑似匹配"),
    "first_seen": ("首次出现", "First seen", "最早出现时间（UTC）"),
    "last_seen": ("最近出现", "Last seen", "最近出现时间（UTC）"),
    "name": ("名称", "Name", "主体名称"),
    "is_current": ("现用名", "Current name", "是否为现用名称"),
    "from_former_name": ("来自曾用名字段", "From former-name field", "该名称仅见于曾用名字段"),
    "dataset_id": ("数据集", "Dataset", "共享数据集标识"),
    "role": ("主体角色", "Role", "记录中该主体的角色（对象类，如建设单位）"),
    "review_id": ("复核标识", "Review id", "复核事项标识"),
    "reason": ("原因", "Reason", "列入复核或未免提交的原因"),
    "entity_id_a": ("主体A", "Entity A", "疑似同一的主体之一"),
    "entity_id_b": ("主体B", "Entity B", "疑似同一的主体之二"),
    "name_a": ("主体A名称", "Entity A name", "主体A的现用名"),
    "name_b": ("主体B名称", "Entity B name", "主体B的现用名"),
    "detail": ("说明", "Detail", "复核事项说明"),
    "systems_a": ("主体A来源系统", "Entity A systems", "出现主体A的系统"),
    "systems_b": ("主体B来源系统", "Entity B systems", "出现主体B的系统"),
    "status": ("状态", "Status", "复核状态"),
    "stage_id": ("审批阶段", "Stage", "审批阶段标识"),
    "stage_name_zh": ("审批阶段名称", "Stage name", "审批阶段中文名称"),
    "material_key": ("材料标识", "Material key", "申请材料标识（同一文件在各表单中共用）"),
    "name_zh": ("材料名称", "Material name", "申请材料中文名称"),
    "kind": ("材料类型", "Material kind", "issued：审批过程中核发的证照；identity：身份证明；applicant：申请人提供"),
    "issuer_system": ("核发系统", "Issuing system", "核发该证照的系统"),
    "issuer_name_zh": ("核发系统名称", "Issuing system name", "核发该证照的系统中文名称"),
    "asked_by_forms": ("要求表单", "Asked by forms", "要求提交该材料的源表单（以|连接）"),
    "asked_times": ("整合前要求次数", "Times asked before", "整合前各源表单要求该材料的次数"),
    "elements": ("承载数据元", "Elements carried", "材料承载的数据元标识（以|连接）"),
    "waived": ("免提交", "Waived", "材料承载的数据均已共享，申请人免予提交"),
    "shared_datasets": ("共享数据集", "Shared datasets", "提供材料所载数据的共享数据集"),
    "datasets_published": ("数据集已发布", "Datasets published", "提供数据的共享数据集是否均已发布"),
    "shared_rows": ("共享记录数", "Shared rows", "这些共享数据集的记录总数"),
}

TOKEN_NOTE = "（已令牌化：HMAC-SHA256，可用于关联，不可还原 / tokenized with a keyed hash）"


def column_meta(catalog: Catalog, columns: Iterable[str], tokenized: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """Names and definitions of ``columns`` (registry first, then the exchange's own columns)."""
    tok = set(tokenized)
    out: dict[str, dict[str, str]] = {}
    for c in columns:
        el = catalog.element_by_key.get(c)
        if el is not None:
            meta = {"element_id": el.element_id, "name_zh": el.name_zh, "name_en": el.name_en,
                    "definition": el.definition, "unit": el.unit, "share_type": el.share_type}
        elif c in EXCHANGE_COLUMNS:
            zh, en, definition = EXCHANGE_COLUMNS[c]
            meta = {"name_zh": zh, "name_en": en, "definition": definition}
        else:
            continue
        if c in tok:
            meta = {**meta, "definition": meta["definition"] + TOKEN_NOTE, "tokenized": "true"}
        out[c] = meta
    return out


def dataset_meta(catalog: Catalog, dataset_id: str) -> dict[str, str]:
    """Chinese and English title and description of a shared dataset."""
    head, _, rest = dataset_id.partition(".")
    if head in catalog.system and rest in catalog.form:
        f, s = catalog.form[rest], catalog.system[head]
        return {"name_zh": f.name_zh, "name_en": f.name_en,
                "definition": f"{s.department_zh}{s.name_zh}的{f.name_zh}（{f.table}）"}
    if head == "stage":
        stage_id, _, sub = rest.partition(".")
        st = catalog.stage.get(stage_id)
        zh, en = (st.name_zh, st.name_en) if st else (stage_id, stage_id)
        if sub == "provenance":
            return {"name_zh": f"{zh}阶段表单取值来源", "name_en": f"{en}: value provenance",
                    "definition": "每个项目每个数据元的取值来自哪个系统、哪条记录、依据哪条裁决规则"}
        return {"name_zh": f"{zh}阶段表单", "name_en": f"{en} (stage form)",
                "definition": f"每个进入{zh}阶段的项目一行，数据元取自持有它的各系统"}
    fixed = {
        "conflicts.stage_forms": ("阶段表单取值冲突", "Stage-form value conflicts",
                                  "各系统对同一项目同一数据元给出的落选取值及采用的取值与规则"),
        "master.enterprise": ("企业主数据", "Enterprise master", "跨系统每个法人主体一行"),
        "master.enterprise_names": ("企业名称历史", "Enterprise name history", "每个主体见过的每个名称"),
        "master.enterprise_links": ("企业主体关联", "Enterprise links", "各系统记录中的主体归并到哪个主体"),
        "master.enterprise_review": ("企业匹配待复核", "Enterprise match review", "疑似同一但未自动归并的主体"),
        "cases.approval": ("审批办件", "Approval cases",
                           "每个审批事项的每个办件一行：申请、受理、审批决定及其结论、意见和批准文件有效期，取自记录办件的各表单"),
        "materials.by_stage": ("阶段申请材料", "Application materials by stage",
                               "每个阶段表单要求的申请材料，及因数据共享免予提交者"),
    }
    if dataset_id in fixed:
        zh, en, d = fixed[dataset_id]
        return {"name_zh": zh, "name_en": en, "definition": d}
    return {"name_zh": dataset_id, "name_en": dataset_id, "definition": ""}
