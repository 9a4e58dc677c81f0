"""Airflow plugin: the "Exchange" view (systems, datasets, catalog browser) in Airflow 3's UI.

The FastAPI app (``quancheng_airflow.app``) is mounted by the API server at ``/exchange``; two external
views put it in the navigation bar, rendered in an iframe at ``/plugin/exchange`` and
``/plugin/exchange-catalog``. The app is built only when the API server asks for it, so the scheduler,
DAG processor and task processes that also load plugins never import FastAPI for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/exchange"


@cache
def _app() -> Any:
    from quancheng_airflow.app import create_app

    return create_app()


class QuanchengExchangePlugin(AirflowPlugin):
    """Registers the Exchange app and its navigation entries."""

    name = "quancheng_exchange"
    external_views = [  # noqa: RUF012 - Airflow reads these class attributes
        {"name": "Exchange", "href": "exchange/", "url_route": "exchange", "destination": "nav",
         "nav_top_level": True, "icon": "exchange/icon.svg"},
        {"name": "Exchange catalog", "href": "exchange/catalog", "url_route": "exchange-catalog",
         "destination": "nav", "category": "browse", "icon": "exchange/icon.svg"},
    ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return [{"app": _app(), "url_prefix": URL_PREFIX, "name": "Quancheng Exchange"}]
