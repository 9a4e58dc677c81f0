"""``quancheng onboard``: introspect a new system, suggest its mappings, accept the steward's review."""

from __future__ import annotations

import json
from pathlib import Path

import click

from quancheng.catalog.loader import SAFE_ID, catalog_dir, load_catalog
from quancheng.errors import QuanchengError

CATALOG_OPT = click.option("--catalog", "catalog_path", type=click.Path(file_okay=False, path_type=Path),
                           default=None, help="Catalog folder to write into (default: $QUANCHENG_CATALOG or the "
                                              "project's).")
HOME_OPT = click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Where samples are kept, outside the catalog (default: $QUANCHENG_HOME or ./work).")
SYSTEM_OPT = click.option("--system-id", required=True, help="The new system's id (lower-case snake case).")


@click.group()
def onboard() -> None:
    """Onboard a departmental system: introspect -> suggest -> review -> accept -> catalog check.

    \b
    quancheng onboard introspect --system-id eqb_seismic --uri postgresql://...   # draft rows
    quancheng onboard suggest --system-id eqb_seismic                            # review file
    (edit catalog/onboarding/eqb_seismic.review.csv)
    quancheng onboard accept --system-id eqb_seismic                             # mappings
    quancheng catalog check
    """


@onboard.command()
@SYSTEM_OPT
@click.option("--uri", required=True, help="The system's connection URI (postgresql://, mysql://, sqlite:////, "
              "file:///dropdir, http://host/base, or any SQLAlchemy URL). Used now, never written to the catalog.")
@click.option("--table", "tables", multiple=True, help="Only these tables (repeat); required for an API.")
@click.option("--stage", "stage_id", default=None, help="Approval stage of its forms (default: the first stage).")
@click.option("--name-zh", default="", help="The system's Chinese name (default: its id; edit systems.csv later).")
@click.option("--department-zh", default="", help="The department that runs it (default: 待定).")
@click.option("--conn-id", default="", help="Airflow connection id the sync will use (default: qc_<system-id>).")
@click.option("--replace", is_flag=True, help="Draft a system that is already in the catalog again (its forms, "
              "fields and mappings are replaced).")
@click.option("--json", "as_json", is_flag=True, help="Print what was read as JSON and write nothing.")
@CATALOG_OPT
@HOME_OPT
def introspect(system_id: str, uri: str, tables: tuple[str, ...], stage_id: str | None, name_zh: str,
               department_zh: str, conn_id: str, replace: bool, as_json: bool, catalog_path: Path | None,
               home: Path | None) -> None:
    """Read a new system's schema and write draft catalog rows for it, its forms and their fields.

    Column comments become the Chinese labels, table comments the form names; primary keys and an update-time
    column are taken from the database or guessed (check them in forms.csv). Samples stay out of the catalog.
    """
    from quancheng.onboard.drafts import CatalogFiles, onboarding_file, save_introspection, write_drafts
    from quancheng.onboard.introspect import introspect as read_schema
    from quancheng.onboard.introspect import kind_of

    if not SAFE_ID.match(system_id):
        raise click.BadParameter("lower-case ascii snake case, at most 63 characters", param_hint="--system-id")
    kind = kind_of(uri)
    drafts = read_schema(uri, tables)
    if as_json:
        click.echo(json.dumps({"system_id": system_id, "kind": kind, "tables": [t.as_json() for t in drafts]},
                              ensure_ascii=False, indent=1))
        return
    cat = load_catalog(catalog_path)
    stage = stage_id or cat.stages[0].stage_id
    if stage not in cat.stage:
        raise click.BadParameter(f"unknown stage {stage!r}; known: {sorted(cat.stage)}", param_hint="--stage")
    form_ids = write_drafts(CatalogFiles(cat.root), system_id, kind, drafts,
                            units=frozenset(u.unit for u in cat.units), stage_id=stage,
                            options={"name_zh": name_zh, "department_zh": department_zh, "conn_id": conn_id},
                            replace=replace)
    save_introspection(onboarding_file(system_id, home), system_id, kind, drafts)
    for fid, t in zip(form_ids, drafts, strict=True):
        click.echo(f"{fid}: {t.table} ({t.label}), {len(t.columns)} columns, key "
                   f"{'|'.join(t.primary_key) or '(guessed)'}, updated column {t.updated_column or '(none: snapshot)'}")
    click.echo(f"drafted {system_id} ({kind}) in {cat.root}: {len(form_ids)} forms, "
               f"{sum(len(t.columns) for t in drafts)} fields. Next: quancheng onboard suggest "
               f"--system-id {system_id}; "
               f"the sync reads connection {conn_id or 'qc_' + system_id} (AIRFLOW_CONN_"
               f"{(conn_id or 'qc_' + system_id).upper()}).")


@onboard.command()
@SYSTEM_OPT
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per field (table, column, candidates "
              "[{element_id, score}] best first, transform, unit, new_element) and write nothing.")
@CATALOG_OPT
@HOME_OPT
def suggest(system_id: str, as_json: bool, catalog_path: Path | None, home: Path | None) -> None:
    """Propose, for every field, the best data elements (top 3, score, evidence), a transform and a unit.

    Without --json writes the review file <catalog>/onboarding/<system-id>.review.csv for a steward.
    """
    from quancheng.onboard.drafts import load_introspection, onboarding_file
    from quancheng.onboard.heldout import fields_of_system
    from quancheng.onboard.review import review_file, write_review
    from quancheng.onboard.suggest import Knowledge

    cat = load_catalog(catalog_path)
    if system_id not in cat.system:
        raise QuanchengError(f"system {system_id!r} is not in {cat.root} (fix: quancheng onboard introspect first)")
    path = onboarding_file(system_id, home)
    samples: dict[tuple[str, str], tuple[str, ...]] = {}
    if path.is_file():
        _, tables = load_introspection(path)
        samples = {(t.table, c.name): c.samples for t in tables for c in t.columns}
    form_of = {form.table: form.form_id for form in cat.forms_of(system_id)}
    fields = fields_of_system(cat, system_id, samples)
    know = Knowledge(cat, hold_out=system_id)  # its own draft rows (and any earlier mappings) are not evidence
    suggestions = know.suggest(fields)
    if as_json:
        for s in suggestions:
            click.echo(json.dumps(s.as_json(), ensure_ascii=False))
        return
    target = review_file(cat.root, system_id)
    write_review(target, cat, [(form_of[s.table], s) for s in suggestions])
    new = sum(s.new_element for s in suggestions)
    click.echo(f"{len(suggestions)} fields: {len(suggestions) - new} matched to elements, {new} new or not data. "
               f"Review {target} (edit element_id, or new_key/new_name_zh, or excluded_reason), then "
               f"quancheng onboard accept --system-id {system_id}")


@onboard.command()
@SYSTEM_OPT
@click.option("--review", "review_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The reviewed file (default: <catalog>/onboarding/<system-id>.review.csv).")
@CATALOG_OPT
def accept(system_id: str, review_path: Path | None, catalog_path: Path | None) -> None:
    """Write the reviewed rows into the catalog: mappings, new elements, exclusions, synonyms from corrections."""
    from quancheng.catalog.check import check
    from quancheng.onboard.review import accept as write_accepted
    from quancheng.onboard.review import review_file

    cat = load_catalog(catalog_path)
    if system_id not in cat.system:
        raise QuanchengError(f"system {system_id!r} is not in {cat.root} (fix: quancheng onboard introspect first)")
    done = write_accepted(cat, system_id, review_path or review_file(cat.root, system_id))
    click.echo(f"accepted into {cat.root}: {done.mappings} mappings, {done.new_elements} new elements (candidate), "
               f"{done.excluded} excluded fields, {done.synonyms} synonyms learned from corrections")
    problems = check(load_catalog(catalog_dir(catalog_path)))
    for p in problems:
        click.echo(p.render())
    if problems:
        raise QuanchengError(f"{len(problems)} problem(s) left in the catalog: fix them, then quancheng catalog check")
    click.secho("catalog check: clean. The system's DAG appears on the next parse.", fg="green")


@onboard.command("dry-run")
@SYSTEM_OPT
@click.option("--uri", default=None, help="Connection URI (default: $AIRFLOW_CONN_<CONN_ID>).")
@click.option("--start", type=click.DateTime(), default=None, help="Window start (default: from the beginning).")
@click.option("--end", type=click.DateTime(), default=None, help="Window end (default: now).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the scratch home here to look at (default: a temporary folder, removed).")
@CATALOG_OPT
def dry_run(system_id: str, uri: str | None, start: object, end: object, keep: Path | None,
            catalog_path: Path | None) -> None:
    """Sync the system into a scratch home: how many rows it would publish, which it would quarantine and why.

    Nothing reaches the exchange's home or shared database. Run it after `onboard accept` and before giving
    Airflow the connection.
    """
    from datetime import UTC, datetime

    from quancheng.onboard.dryrun import dry_run as run
    from quancheng.sources.base import Window

    cat = load_catalog(catalog_path)
    if system_id not in cat.system:
        raise QuanchengError(f"system {system_id!r} is not in {cat.root} (fix: quancheng onboard introspect first)")
    window = Window(start.replace(tzinfo=UTC) if isinstance(start, datetime) else None,
                    end.replace(tzinfo=UTC) if isinstance(end, datetime) else datetime.now(UTC))
    r = run(cat, system_id, window, uri=uri, keep=keep)
    click.echo(f"{system_id}: {r.extracted} rows read, {r.valid} would be published, {r.quarantined} quarantined")
    for (rule, column), n in r.reasons.most_common():
        click.echo(f"  {n:>6}  {rule:<28} {column:<28} e.g. {r.examples[(rule, column)]!r}")
    if keep:
        click.echo(f"scratch home kept at {keep} (quancheng status --dir {keep})")
