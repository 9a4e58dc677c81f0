"""Builders for the consolidation and sharing tests: an extended slice catalog, valid identifiers,
and system datasets shaped exactly as the pipeline publishes them (provenance + typed element columns)."""

from __future__ import annotations

import shutil
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from paths import SLICE
from quancheng.catalog import Catalog, load_catalog
from quancheng.normalize.types import PROVENANCE, arrow_type
from quancheng.publish.store import SharedStore
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_11_2, mod_11_10

EXTRA = Path(__file__).resolve().parent / "extra_catalog"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
_ORG_W = (3, 7, 9, 10, 5, 8, 4, 2)


def extended_catalog(tmp: Path) -> Catalog:
    """The slice catalog plus the rows in ``extra_catalog/`` (org code, registration number, personal
    information, a not-shared element, a fourth system and a grant of every conditional element)."""
    root = tmp / "catalog"
    shutil.copytree(SLICE, root)
    for extra in EXTRA.glob("*.csv"):
        lines = extra.read_text(encoding="utf-8").splitlines()[1:]
        target = root / extra.name
        text = target.read_text(encoding="utf-8")
        target.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return load_catalog(root)


def without_grant(tmp: Path, department_en: str) -> Catalog:
    """:func:`extended_catalog` whose grants no longer name ``department_en`` (a grant withdrawn)."""
    extended_catalog(tmp)
    grants = tmp / "catalog" / "grants.csv"
    grants.write_text("".join(line for line in grants.read_text(encoding="utf-8").splitlines(keepends=True)
                              if not line.startswith(f"{department_en},")), encoding="utf-8")
    return load_catalog(tmp / "catalog")


def org_code(body8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_W, strict=True))
    r = 11 - total % 11
    return body8 + ("X" if r == 10 else "0" if r == 11 else str(r))


def uscc(body8: str, region: str = "370100") -> str:
    """A credit code with valid GB 32100 and embedded GB 11714 check characters."""
    head = "91" + region + org_code(body8)
    return head + stdnum_uscc.calc_check_digit(head)


def reg_no(n: int) -> str:
    body = f"37010000{n:06d}"
    return body + mod_11_10.calc_check_digit(body)


def ric(n: int) -> str:
    """A GB 11643 ID number (Jinan, born 1980-01-01) with a valid check character."""
    body = f"37010219800101{n:03d}"
    return body + mod_11_2.calc_check_digit(body)


def bad_check(code: str) -> str:
    """The same code with a wrong last character."""
    alphabet = string.digits
    return code[:-1] + next(c for c in alphabet if c != code[-1])


def system_table(catalog: Catalog, form_id: str, rows: list[dict[str, Any]], *,
                 extracted_at: datetime = T0, batch_id: str = "b1") -> pa.Table:
    """A system dataset as the pipeline publishes it: provenance columns, then every element of the form."""
    form = catalog.form[form_id]
    elements = catalog.elements_of(form_id)
    cols: dict[str, pa.Array] = {
        "_source_system": pa.array([form.system_id] * len(rows), pa.string()),
        "_source_table": pa.array([form.table] * len(rows), pa.string()),
        "_source_key": pa.array([r.get("_source_key", f"{form_id}-{i}") for i, r in enumerate(rows)], pa.string()),
        "_batch_id": pa.array([batch_id] * len(rows), pa.string()),
        "_extracted_at": pa.array([r.get("_extracted_at", extracted_at) for r in rows], PROVENANCE["_extracted_at"]),
    }
    for e in elements:
        cols[e.key] = pa.array([r.get(e.key) for r in rows], arrow_type(e))
    return pa.table(cols)


def publish_system(store: SharedStore, catalog: Catalog, form_id: str, rows: list[dict[str, Any]],
                   **kw: Any) -> pa.Table:
    form = catalog.form[form_id]
    table = system_table(catalog, form_id, rows, **kw)
    store.publish(f"{form.system_id}.{form_id}", table, kind="system", batch_id="b1")
    return table


def build_grants_world(store: SharedStore, catalog: Catalog, *, key: str, role_prefix: str | None = None) -> Any:
    """System datasets of four forms, shared by the rules (tokens under ``key``), consolidated; plus a
    quarantine dataset. Returns the sharing areas (an ``AreaStore``)."""
    from quancheng.consolidate.run import (
        publish_enterprise_master,
        publish_materials,
        publish_stage_forms,
        share_system_datasets,
    )
    from quancheng.sharing.areas import AreaStore
    from quancheng.sharing.tokenize import Tokenizer

    u = [uscc(f"MA3C4X{i}C") for i in range(4)]
    publish_system(store, catalog, "amr_enterprise_reg", [
        {"enterprise_uscc": u[i], "enterprise_name": f"济南恒{i}建设有限公司", "legal_representative": f"张{i}",
         "legal_rep_id_no": ric(i), "enterprise_phone": f"1380013800{i}", "tax_credit_score": 90 + i,
         "source_updated_at": datetime(2026, 3, 1, 8), "_source_key": u[i]} for i in range(4)])
    publish_system(store, catalog, "qual_cert", [
        {"enterprise_org_code": org_code(f"MA3C4X{i}C"), "enterprise_name": f"恒{i}建设有限责任公司",
         "enterprise_phone": f"1380013800{i}", "_source_key": f"ZS-{i}"} for i in range(3)])
    publish_system(store, catalog, "ndrc_filing", [
        {"project_code": f"2019-370102-47-01-00020{i}", "project_name": f"项目{i}", "construction_unit_uscc": u[i],
         "construction_unit_name": f"济南恒{i}建设有限公司", "construction_site_division": "370102",
         "_source_key": f"2019-370102-47-01-00020{i}"} for i in range(4)])
    publish_system(store, catalog, "hcb_permit", [
        {"project_code": f"2019-370102-47-01-00020{i}", "project_name": f"项目{i}期" if i == 1 else f"项目{i}",
         "construction_unit_uscc": u[i], "construction_permit_no": f"3701022020010{i}0101",
         "_source_key": f"3701022020010{i}0101"} for i in range(2)])
    store.publish("quarantine.amr_enterprise", pa.table({"_source_key": ["x"], "reason": ["rule"]}),
                  kind="quarantine", batch_id="b1")
    areas = AreaStore(store, catalog, **({"role_prefix": role_prefix} if role_prefix else {}))
    tok = Tokenizer(key.encode())
    for step in (share_system_datasets, publish_stage_forms, publish_enterprise_master):
        step(store, catalog, areas=areas, tokenizer=tok)
    publish_materials(store, catalog, areas=areas)
    return areas
