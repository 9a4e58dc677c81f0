"""The Exchange app's routes, in-process (no Airflow server): pages, JSON, file serving and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.fixture
def client(synced_home, slice_catalog, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(PLUGINS))
    from quancheng_airflow.app import create_app

    home, _ = synced_home
    links = {"sync__ndrc_investment": "../dags/sync__ndrc_investment/runs/manual__1"}
    app = create_app(home=lambda: home, catalog=lambda: slice_catalog, run_links=lambda: links, auth=None)
    return TestClient(app), home


def test_pages_and_json(client, slice_catalog) -> None:  # type: ignore[no-untyped-def]
    c, _ = client
    page = c.get("/")
    assert page.status_code == 200 and 'data-system="hcb_construction_permit" data-state="failed"' in page.text
    assert "../dags/sync__ndrc_investment/runs/manual__1" in page.text
    status = c.get("/api/status").json()
    assert {s["system_id"] for s in status["systems"]} == {s.system_id for s in slice_catalog.systems}
    assert 'data-element="DE00001"' in c.get("/catalog", params={"q": "项目统一代码"}).text
    assert c.get("/api/search", params={"q": "xmdm"}).json()[0]["element_id"] == "DE00001"
    assert c.get("/element", params={"id": "DE00001"}).status_code == 200
    assert c.get("/element", params={"id": "DE404"}).status_code == 404
    assert c.get("/api/element", params={"id": "DE00001"}).json()["systems"]
    assert c.get("/icon.svg").headers["content-type"].startswith("image/svg+xml")


def test_files_are_served_from_the_home_only(client) -> None:  # type: ignore[no-untyped-def]
    c, home = client
    docs = home / "gx" / "uncommitted" / "data_docs" / "local_site"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<h1>Data Docs</h1>", encoding="utf-8")
    assert c.get("/files/gx/uncommitted/data_docs/local_site/index.html").text == "<h1>Data Docs</h1>"
    assert c.get("/files/../../../etc/passwd").status_code == 404
    assert c.get("/files/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    assert c.get("/files/shared/exchange.db").status_code == 404  # only web files


def test_missing_home_is_a_clear_503(slice_catalog, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(PLUGINS))
    from quancheng_airflow.app import create_app

    app = create_app(home=lambda: tmp_path / "nowhere", catalog=lambda: slice_catalog, run_links=dict, auth=None)
    c = TestClient(app)
    page = c.get("/")
    assert page.status_code == 503 and "no exchange home" in page.text
    assert c.get("/api/status").status_code == 503
