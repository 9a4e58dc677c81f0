"""Lineage of the sync tasks: what each reads and writes, named without credentials."""

from __future__ import annotations

import pytest
from quancheng.ops.lineage import shared_outputs, source_namespace, task_lineage


@pytest.mark.parametrize(("uri", "namespace", "prefix"), [
    ("postgresql://etl:pw@db.example:6543/amr", "postgres://db.example:6543", "amr.public."),
    ("postgres://etl:pw@db/amr", "postgres://db:5432", "amr.public."),
    ("mysql+pymysql://root:@127.0.0.1:3306/hcb", "mysql://127.0.0.1:3306", "hcb."),
    ("sqlite:////srv/world/ndrc.db", "sqlite:///srv/world/ndrc.db", ""),
    ("file:///srv/drops/hcb", "file://", "/srv/drops/hcb/"),
    ("http://127.0.0.1:8765/api/amr", "http://127.0.0.1:8765", "api/amr/"),
    (None, "quancheng-source://qc_ndrc_investment", ""),
])
def test_source_namespace(slice_catalog, uri, namespace, prefix) -> None:  # type: ignore[no-untyped-def]
    assert source_namespace(slice_catalog.system["ndrc_investment"], uri) == (namespace, prefix)


def test_every_task_has_inputs_and_outputs_that_chain(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    kw = {"uri": "postgresql://u:secret@h/db", "parquet_root": "/home/shared/parquet",
          "sql_url": "sqlite:////home/shared/exchange.db"}
    for system in slice_catalog.systems:
        forms = slice_catalog.forms_of(system.system_id)
        steps = {t: task_lineage(t, system.system_id, slice_catalog, **kw)
                 for t in ("extract", "normalize", "validate", "publish")}
        for t, (ins, outs) in steps.items():
            assert ins and outs, t
        assert [d.name.rsplit(".", 1)[-1] for d in steps["extract"][0]] == [f.table for f in forms]
        assert steps["extract"][1] == steps["normalize"][0]
        assert steps["normalize"][1] == steps["validate"][0]
        assert steps["validate"][1] == steps["publish"][0]
        published = {d.name.rsplit("/", 1)[-1] for d in steps["publish"][1] if d.namespace == "file://"}
        assert published == {f"{system.system_id}.{f.form_id}" for f in forms} | {f"quarantine.{system.system_id}"}
        assert all("secret" not in d.namespace + d.name for _, outs in steps.values() for d in outs)
    pub = task_lineage("publish", "ndrc_investment", slice_catalog, **kw)[1]
    filing = next(d for d in pub if d.name.endswith("ndrc_investment__ndrc_filing"))
    assert filing.namespace == "sqlite:///home/shared/exchange.db"
    assert {c.name for c in filing.columns} == {e.key for e in slice_catalog.elements_of("ndrc_filing")}


@pytest.mark.parametrize(("root", "namespace", "name"), [
    ("/home/shared/parquet", "file://", "/home/shared/parquet/ndrc_investment.ndrc_filing"),
    ("s3://quancheng-shared/exchange", "s3://quancheng-shared", "exchange/ndrc_investment.ndrc_filing"),
    ("s3://quancheng-shared", "s3://quancheng-shared", "ndrc_investment.ndrc_filing"),
])
def test_delta_table_location_by_storage(root: str, namespace: str, name: str) -> None:
    table = shared_outputs("ndrc_investment.ndrc_filing", (), parquet_root=root, sql_url="sqlite:////x.db")[0]
    assert (table.namespace, table.name) == (namespace, name)


def test_unknown_task_or_system_has_no_lineage(slice_catalog) -> None:  # type: ignore[no-untyped-def]
    kw = {"uri": None, "parquet_root": "/p", "sql_url": "sqlite:////x.db"}
    assert task_lineage("report", "ndrc_investment", slice_catalog, **kw) == ([], [])
    assert task_lineage("extract", "nope", slice_catalog, **kw) == ([], [])
