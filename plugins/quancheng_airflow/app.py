"""The Exchange view: a FastAPI app that Airflow's API server mounts at ``/exchange``.

Pages (HTML, rendered by :mod:`quancheng.ops.pages`): ``/`` systems and datasets, ``/catalog?q=`` the
catalog search, ``/element?id=`` one element with its flow picture. JSON for scripts: ``/api/status``,
``/api/search?q=``, ``/api/element?id=``. ``/files/...`` serves Data Docs and other files under the exchange
home, and nothing outside it. Every route requires an Airflow login (the same token the UI uses); the
data comes from ``$QUANCHENG_HOME`` and the catalog (``$QUANCHENG_CATALOG``), re-read on every request.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#2b6cb0" stroke-width="2">'
        '<circle cx="5" cy="6" r="2.5"/><circle cx="5" cy="18" r="2.5"/>'
        '<rect x="15" y="9" width="7" height="6" rx="1"/>'
        '<path d="M7.5 6 C12 6 11 12 15 12 M7.5 18 C12 18 11 12 15 12"/></svg>')
SERVED_SUFFIXES = {".html", ".css", ".js", ".json", ".png", ".svg", ".jpg", ".ico", ".woff", ".woff2", ".txt"}


async def airflow_login(request: Request) -> None:
    """Let through only callers Airflow's auth manager accepts (bearer header or the UI's cookie)."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
    await resolve_user_from_token(token)


def airflow_run_links() -> dict[str, str]:
    """dag id -> link (relative to the app) to the newest run of every sync DAG, from Airflow's database."""
    import sqlalchemy as sa
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    newest = (sa.select(DagRun.dag_id, sa.func.max(DagRun.id).label("id"))
              .where(DagRun.dag_id.like("sync\\_\\_%", escape="\\")).group_by(DagRun.dag_id).subquery())
    with create_session() as s:
        rows = s.execute(sa.select(DagRun.dag_id, DagRun.run_id).join(newest, DagRun.id == newest.c.id)).all()
    return {d: f"../dags/{quote(d)}/runs/{quote(r, safe='')}" for d, r in rows}


def default_home() -> Path:
    from quancheng.pipeline import default_home

    return default_home()


def default_catalog() -> Any:
    from quancheng.catalog import load_catalog

    return load_catalog()


def create_app(*, home: Callable[[], Path] = default_home, catalog: Callable[[], Any] = default_catalog,
               run_links: Callable[[], dict[str, str]] = airflow_run_links,
               auth: Callable[..., Any] | None = airflow_login) -> FastAPI:
    """The app; tests pass their own home, catalog, run links and no auth."""
    from quancheng.errors import QuanchengError
    from quancheng.ops import browser, pages
    from quancheng.ops.overview import build_overview
    from quancheng.ops.records import open_store, read_datasets

    app = FastAPI(title="Quancheng Exchange", dependencies=[Depends(auth)] if auth else [],
                  docs_url=None, redoc_url=None)

    @app.exception_handler(QuanchengError)
    def input_error(request: Request, exc: QuanchengError) -> Response:
        """No exchange home yet, a broken catalog: say so on the page instead of a bare 500."""
        if "/api/" in request.url.path:
            return JSONResponse({"error": str(exc)}, status_code=503)
        return HTMLResponse(pages.not_found_page(str(exc)), status_code=503)

    def overview() -> Any:
        return build_overview(home(), catalog(), datetime.now(UTC))

    @app.get("/", response_class=HTMLResponse)
    def ops_page() -> str:
        return pages.overview_page(overview(), run_links=run_links())

    @app.get("/catalog", response_class=HTMLResponse)
    def catalog_page(q: str = "") -> str:
        cat = catalog()
        return pages.catalog_page(q, browser.search(cat, q), len(cat.elements))

    def element_detail(id: str) -> browser.ElementDetail | None:
        store = open_store(home())  # the Delta tables may be in a bucket: their schemas read with its options
        return browser.element_detail(catalog(), id, read_datasets(store),
                                      columns_of=lambda path: browser.schema_columns(path, store.storage_options))

    @app.get("/element", response_class=HTMLResponse)
    def element_page(id: str) -> HTMLResponse:
        detail = element_detail(id)
        if detail is None:
            return HTMLResponse(pages.not_found_page(f"No data element {id!r} in the catalog."), status_code=404)
        return HTMLResponse(pages.element_page(detail))

    @app.get("/icon.svg")
    def icon() -> Response:
        return Response(ICON, media_type="image/svg+xml")

    @app.get("/api/status")
    def status_json() -> JSONResponse:
        return JSONResponse(overview().to_json())

    @app.get("/api/search")
    def search_json(q: str) -> JSONResponse:
        return JSONResponse([h.__dict__ for h in browser.search(catalog(), q)])

    @app.get("/api/element")
    def element_json(id: str) -> JSONResponse:
        detail = element_detail(id)
        if detail is None:
            raise HTTPException(404, f"no data element {id!r}")
        return JSONResponse(detail.to_json())

    @app.get("/files/{path:path}")
    def files(path: str) -> FileResponse:
        root = home().resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or target.suffix.lower() not in SERVED_SUFFIXES or not target.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(target, media_type=mimetypes.guess_type(target.name)[0])

    return app
