"""Field bundles that many forms share, and the fields that real systems keep but the registry does not.

Every excluded field carries the reason it maps to nothing; the reasons are the ones a data steward
would give (internal remarks, serial numbers, workflow state), never "unused".
"""

from __future__ import annotations

from tools.generate_catalog.parties import party
from tools.generate_catalog.spec import F, excluded

PROJECT_ID: list[str | F] = ["project_code", "project_name"]


def builder(*extra: str) -> list[str | F]:
    """The construction unit as nearly every form asks for it."""
    return [*party("construction_unit", "name", "uscc", *extra)]


def firm(role: str, *extra: str) -> list[str | F]:
    return [*party(role, "name", "uscc", *extra)]


# --- excluded fields (label, English name, reason) ---
def serial() -> F:
    return excluded("系统流水号", "record_id", "系统流水号，无业务含义，仅作业务库主键", "integer")


def remark() -> F:
    return excluded("备注", "remark", "办理人员内部备注，不属于申报数据")


def clerk() -> F:
    return excluded("受理人", "clerk_name", "窗口受理人员姓名，属内部办理信息")


def workflow() -> F:
    return excluded("当前环节", "workflow_node", "审批流程节点状态，仅业务系统内部流转使用")


def attachment() -> F:
    return excluded("附件路径", "attachment_path", "附件在业务系统中的存储路径，不是数据")


def deleted() -> F:
    return excluded("删除标志", "deleted_flag", "逻辑删除标志，抽取时用于识别删除，不入共享数据")


def legacy_id() -> F:
    return excluded("原系统编号", "legacy_id", "系统迁移前的旧编号，已停用")


def print_count() -> F:
    return excluded("打印次数", "print_count", "证照打印次数，内部统计", "integer")


def opinion_draft() -> F:
    return excluded("经办人初审意见", "draft_opinion", "经办人内部初审意见，审批结论以正式文书为准")


def reviewer() -> F:
    return excluded("审核人", "approver_name", "内部审核人员姓名，属内部办理信息")


def sign_image() -> F:
    return excluded("电子签章", "signature_image", "电子签章图像数据，不是结构化数据")


