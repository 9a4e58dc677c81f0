"""The ``sql`` kind (any database with a SQLAlchemy dialect) passes the source contract on every engine we
have, reached through SQLAlchemy URLs instead of the built-in kinds' Arrow-native drivers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from contract import SourceContract
from quancheng.catalog import Catalog
from quancheng.catalog.models import SourceForm
from quancheng.demo import engines
from quancheng.sources.base import Source, source_class
from source_hosts import Host, kind_param


class GenericHost(Host):
    """A built-in engine's host whose source is the ``sql`` kind on the engine's SQLAlchemy URL."""

    def source(self, form: SourceForm, *, uri: str | None = None, drift: str = "fail") -> Source:
        return source_class("sql")(self.system_of(form), self.catalog, uri or self._sqlalchemy(self.uri),
                                   drift=drift)  # type: ignore[arg-type]

    @staticmethod
    def _sqlalchemy(uri: str) -> str:
        scheme, rest = uri.split("://", 1)
        driver = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}[scheme]
        return f"{driver}://{rest.split('?', 1)[0]}"

    def broken_uri(self, form: SourceForm) -> str:
        return {"sqlite": f"sqlite+pysqlite:///{self.root}/missing/none.sqlite",
                "postgresql": "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/qc_nowhere",
                "mariadb": "mysql+pymysql://root:s3cret-pw@127.0.0.1:1/qc_nowhere"}[self.kind]


class TestGenericSqlKind(SourceContract):
    @pytest.fixture(params=[kind_param(k) for k in ("sqlite", "postgresql", "mariadb")])
    def host(self, request: pytest.FixtureRequest, catalog: Catalog, tmp_path: Path) -> Iterator[GenericHost]:
        with ExitStack() as stack:
            h = GenericHost(request.param, catalog, tmp_path, stack)
            try:
                yield h
            finally:
                for db in h.databases:
                    engines.drop_database(request.param, db)


def test_an_unusable_url_is_one_line(catalog: Catalog) -> None:
    from quancheng.errors import SourceError

    form = catalog.form["hcb_permit"]
    src = source_class("sql")(catalog.system[form.system_id], catalog, "nosuchdialect://u:pw@h/db")
    with pytest.raises(SourceError, match="no usable SQLAlchemy URL") as err:
        src.live_columns(form)
    assert "pw@" not in str(err.value)
