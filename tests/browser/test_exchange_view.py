"""The Exchange view in a real headless Chromium, ``quancheng status``, and what Airflow emitted on the way.

One source was broken before the run (see ``conftest.site``): the view and the CLI must show that system
failed and why, every other system in the state its own figures give, and the catalog browser must find an
element by a Chinese synonym with its systems and datasets. The same Airflow run is checked for OpenLineage
events (console transport) and for the alert the freshness DAG posted to the webhook.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from exchange_site import Site, chromium, dump_dom
from paths import FULL as CATALOG

pytestmark = [pytest.mark.airflow, pytest.mark.xdist_group("airflow")]
browser = pytest.mark.browser


class Rows(HTMLParser):
    """The data-* attributes and the text of every table row that carries them."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and any(k.startswith("data-") for k, _ in attrs):
            self.rows.append({k: v or "" for k, v in attrs} | {"text": ""})
            self._depth = 1
        elif tag == "tr":
            self._depth = 0

    def handle_data(self, data: str) -> None:
        if self._depth and self.rows:
            self.rows[-1]["text"] += data


def rows(html: str, key: str) -> dict[str, dict[str, str]]:
    p = Rows()
    p.feed(html)
    return {r[key]: r for r in p.rows if key in r}


def quancheng(*args: str) -> str:
    """Run the ``quancheng`` CLI in-process on the slice catalog; its output."""
    from click.testing import CliRunner
    from quancheng.cli import cli

    out = CliRunner(env={"QUANCHENG_CATALOG": str(CATALOG), "COLUMNS": "250"}).invoke(cli, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def status_json(site: Site) -> dict:  # type: ignore[type-arg]
    return json.loads(quancheng("status", "--dir", str(site.home), "--json"))  # type: ignore[no-any-return]


def test_airflow_ran_every_dag_and_only_the_broken_sync_failed(site: Site) -> None:
    failed = {d for d, s in site.states.items() if s != "success"}
    assert failed == {f"sync__{site.broken_system}"}


@browser
def test_view_shows_every_system_and_the_broken_one_failed_and_why(site: Site) -> None:
    from quancheng.catalog import load_catalog

    html = dump_dom(f"{site.url}/exchange/")
    shown = rows(html, "data-system")
    catalog = load_catalog(CATALOG)
    assert set(shown) == {s.system_id for s in catalog.systems}
    broken = shown[site.broken_system]
    assert broken["data-state"] == "failed"
    assert "schema drift" in broken["text"] and site.broken_column in broken["text"]
    others = {sid: row["data-state"] for sid, row in shown.items() if sid != site.broken_system}
    assert len(others) == len(catalog.systems) - 1 and set(others.values()) == {"ok"}, others
    status = {s["system_id"]: s for s in status_json(site)["systems"]}
    assert {sid: row["data-state"] for sid, row in shown.items()} == {sid: s["state"] for sid, s in status.items()}
    tiles = dict(re.findall(r'data-count="(\w+)"[^>]*>\s*<b>(\d+)</b>', html))  # the counters over the table
    assert (tiles["failed"], tiles["ok"]) == ("1", str(len(catalog.systems) - 1)), tiles
    from quancheng.publish.store import SharedStore

    registry = {d["dataset_id"] for d in SharedStore(site.home).datasets()}
    assert set(rows(html, "data-dataset")) == registry
    assert {f"{f.system_id}.{f.form_id}" for f in catalog.forms if f.system_id != site.broken_system} <= registry


def test_status_cli_shows_the_failure_and_its_reason(site: Site) -> None:
    from quancheng.catalog import load_catalog

    status = {s["system_id"]: s for s in status_json(site)["systems"]}
    broken = status[site.broken_system]
    assert broken["state"] == "failed"
    assert site.broken_table in broken["reason"] and site.broken_column in broken["reason"]
    assert {s for s, v in status.items() if v["state"] != "ok"} == {site.broken_system}
    assert len(status) == len(load_catalog(CATALOG).systems)
    table = quancheng("status", "--dir", str(site.home))
    line = next(ln for ln in table.splitlines() if site.broken_system in ln)
    assert "failed" in line


def chinese_synonym(catalog) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An element fed by a system, found by a Chinese synonym that is not its own name."""
    fed = {m.element_id for m in catalog.mappings}
    for e in catalog.elements:
        for s in e.synonyms:
            if e.element_id in fed and s != e.name_zh and any(unicodedata.east_asian_width(c) == "W" for c in s):
                return e.element_id, s
    raise AssertionError("no element with a Chinese synonym in the catalog")


@browser
def test_catalog_browser_finds_an_element_by_chinese_synonym(site: Site) -> None:
    from quancheng.catalog import load_catalog
    from quancheng.publish.store import SharedStore

    catalog = load_catalog(CATALOG)
    element_id, synonym = chinese_synonym(catalog)
    hits = rows(dump_dom(f"{site.url}/exchange/catalog?q={quote(synonym)}"), "data-element")
    assert element_id in hits and synonym in hits[element_id]["text"]
    page = dump_dom(f"{site.url}/exchange/element?id={element_id}")
    forms = [catalog.form[m.form_id] for m in catalog.mappings if m.element_id == element_id]
    assert set(rows(page, "data-system")) == {f.system_id for f in forms}
    published = {d["dataset_id"] for d in SharedStore(site.home).datasets()}
    carriers = rows(page, "data-dataset")
    assert set(carriers) == {f"{f.system_id}.{f.form_id}" for f in forms}
    for ds, row in carriers.items():
        assert ("not published yet" in row["text"]) == (ds not in published)
    assert re.search(r'<svg class="flow"[^>]*>', page) and "共享" in page


@browser
def test_exchange_is_a_page_of_the_airflow_ui(site: Site, tmp_path: Path) -> None:
    with urllib.request.urlopen(f"{site.url}/api/v2/plugins") as r:
        plugins = json.load(r)["plugins"]
    ours = next(p for p in plugins if p["name"] == "quancheng_exchange")
    assert {v["url_route"] for v in ours["external_views"]} == {"exchange", "exchange-catalog"}
    ui = dump_dom(f"{site.url}/plugin/exchange")
    assert re.search(r'<iframe[^>]*title="Exchange"', ui)


@browser
def test_screenshots_of_both_views(site: Site, tmp_path: Path) -> None:
    """The README's pictures, taken from this run: ``QUANCHENG_SCREENSHOTS=docs/screenshots`` keeps them."""
    from quancheng.catalog import load_catalog

    out = Path(os.environ.get("QUANCHENG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    element_id, synonym = chinese_synonym(load_catalog(CATALOG))
    pages = {"exchange-ops.png": ("1600,1000", f"{site.url}/plugin/exchange"),
             "exchange-search.png": ("1400,700", f"{site.url}/exchange/catalog?q={quote(synonym)}"),
             "exchange-element.png": ("1400,1000", f"{site.url}/exchange/element?id={element_id}")}
    for name, (size, url) in pages.items():
        shot = out / name
        chromium(f"--window-size={size}", f"--screenshot={shot}", "--virtual-time-budget=8000",
                 "--hide-scrollbars", url)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, name


def openlineage_events(log: Path) -> list[dict]:  # type: ignore[type-arg]
    text = log.read_text(encoding="utf-8", errors="replace")
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(text, m.start())[0] for m in re.finditer(r'\{"eventTime"', text)]


def test_every_sync_task_emitted_lineage_with_inputs_and_outputs(site: Site) -> None:
    from quancheng.catalog import load_catalog

    events = openlineage_events(site.log)
    catalog = load_catalog(CATALOG)
    for system in catalog.systems:
        if system.system_id == site.broken_system:
            continue
        for task in ("extract", "normalize", "validate", "publish"):
            job = f"sync__{system.system_id}.{task}"
            kinds = {e["eventType"] for e in events if e["job"]["name"] == job}
            assert {"START", "COMPLETE"} <= kinds, job
            done = next(e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE")
            assert done["inputs"] and done["outputs"], job
        publish = next(e for e in events if e["job"]["name"] == f"sync__{system.system_id}.publish"
                       and e["eventType"] == "COMPLETE")
        names = {o["name"].rsplit("/", 1)[-1] for o in publish["outputs"]}
        assert {f"{system.system_id}.{f.form_id}" for f in catalog.forms_of(system.system_id)} <= names
    failed = [e for e in events if e["job"]["name"] == f"sync__{site.broken_system}.extract"]
    assert "FAIL" in {e["eventType"] for e in failed}


def test_freshness_dag_posted_the_failure_to_the_webhook(site: Site) -> None:
    alerts = [a for body in site.webhook for a in body["json"]["alerts"]]
    failed = [a for a in alerts if a["kind"] == "failed"]
    assert [a["system_id"] for a in failed] == [site.broken_system]
    assert site.broken_column in failed[0]["detail"]
    status = {s["system_id"]: s for s in status_json(site)["systems"]}
    expected = {(sid, i["kind"]) for sid, s in status.items() for i in s["issues"]
                if i["kind"] in ("failed", "stale", "quarantine")}
    assert {(a["system_id"], a["kind"]) for a in alerts} == expected
