"""The FastAPI application: routes, the caller's credential, the rate limit, and the audit of every call.

Order of a call: the audit middleware stamps the start; the ``caller`` dependency checks the bearer key
(401), then the client's token bucket (429); the handler answers or raises :class:`ApiError` (404, 403,
422); the middleware records the outcome, refused calls included. Anything unexpected is logged with
its trace on the server and answered with a 500 that says only that (no trace, no SQL, to the caller).
The prefill runs on the event loop when its copies are in memory (no thread hop, no contention for the
interpreter lock among pool threads: ``benchmarks/results/serve.md``), in the thread pool when a copy must
be read first; the other handlers are plain functions FastAPI runs in its thread pool.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quancheng.catalog import Catalog
from quancheng.serve import describe, enterprise, prefill, records
from quancheng.serve.audit import AuditLog, Call
from quancheng.serve.cache import Refresher, dumps
from quancheng.serve.clients import Authenticator, Client, ClientStore
from quancheng.serve.models import (
    DatasetDetail,
    DatasetList,
    EnterpriseOut,
    ErrorOut,
    Health,
    PrefillOut,
    RecordsOut,
)
from quancheng.serve.problems import ApiError
from quancheng.serve.ratelimit import RateLimiter, retry_after
from quancheng.serve.service import Service

log = logging.getLogger(__name__)
UNAUDITED = frozenset({"/health"})
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (401, 403, 404, 422, 429)}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(exc: ApiError) -> Response:
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.status == 429 and "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    return json_response(exc.body(), exc.status, headers)


bearer = HTTPBearer(auto_error=False, description="API key of a department's client")


async def caller(request: Request,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Client:
    """The calling client: its key checked (401), then its rate (429); recorded on the call for the audit.
    On the event loop: keys and buckets are in memory (the keys' table is re-read by one call every few
    seconds, a small read), so a call does not wait for a thread of the pool to check it."""
    if credentials is None:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer KEY (keys come from "
                       "`quancheng serve clients add NAME --department DEPT`)")
    auth: Authenticator = request.app.state.auth
    client = auth.client(credentials.credentials)
    if client is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked")
    call: Call = request.state.call
    call.client, call.department_en = client.name, client.department_en
    limiter: RateLimiter = request.app.state.limiter
    wait = limiter.take(client.name)
    if wait:
        raise ApiError(429, "rate_limited", f"client {client.name} is over its limit of {limiter.rate:g} calls "
                       "a second; retry later", retry_after=retry_after(wait))
    return client


Caller = Annotated[Client, Depends(caller)]


class Audited:
    """Stamps each call's start, records its outcome in the audit log, and turns anything unexpected into a
    plain 500 (logged here with its trace, an incident id for the caller).

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` runs every call through an extra task and
    a streamed copy of the response, which under a closed loop of 50 clients was a measured share of each
    call's time (``benchmarks/results/serve.md``)."""

    def __init__(self, app: ASGIApp, audit: AuditLog):
        self.app, self.audit = app, audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        call = Call(at=datetime.now(UTC), method=scope["method"], endpoint=path, path=path)
        scope.setdefault("state", {})["call"] = call  # ``request.state.call`` in the handlers
        sent: list[int] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:  # an outage or a bug: logged with its trace here, a plain 500 for the caller
            incident = uuid.uuid4().hex[:12]
            log.exception("incident %s on %s %s", incident, scope["method"], path)
            call.error = f"internal error (incident {incident})"
            if not sent:
                body = ApiError(500, "internal", "internal error; the exchange's operators can find it as "
                                f"incident {incident}", incident=incident).body()
                await json_response(body, 500)(scope, receive, sending)
        call.endpoint = getattr(scope.get("route"), "path", call.endpoint)
        call.status = sent[0] if sent else 500
        call.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if path not in UNAUDITED:
            self.audit.record(call)


def create_app(home: Path, catalog: Catalog, *, sql_url: str | None = None, rate: float = 100.0,
               burst: float | None = None, auth_ttl: float = 2.0, audit_interval: float = 0.2,
               warm: bool = False, refresh_interval: float = 5.0) -> FastAPI:
    """The data service over ``home``'s published datasets (``rate``: calls a second per client).

    ``warm``: read the copies the prefill and enterprise endpoints use before serving (``quancheng serve`` does;
    a first call would otherwise wait for a stage form's read, 0.6 s at scale 2,000); a background thread then
    reads each new version of a held copy every ``refresh_interval`` seconds, before a caller needs it."""
    service = Service(home, catalog, sql_url=sql_url)
    refresher = Refresher(service.cache, interval=refresh_interval)
    clients = ClientStore(service.engine)
    auth = Authenticator(clients, ttl=auth_ttl)
    audit = AuditLog(service.engine, interval=audit_interval)
    limiter = RateLimiter(rate, burst)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            started = time.perf_counter()
            n = refresher.warm(service.hot_copies())
            log.warning("read %d copies into memory in %.1f s", n, time.perf_counter() - started)
        refresher.start()
        yield
        refresher.stop()
        audit.close()

    app = FastAPI(
        title="Quancheng Exchange data service (泉城共享交换数据服务)", version="1",
        description="Shared datasets, the stage-form prefill and the enterprise master, for the departments' "
                    "systems. Send `Authorization: Bearer KEY` (keys: `quancheng serve clients add`). What a "
                    "department gets follows the catalog's sharing types and grants, as for its SQL role.",
        lifespan=lifespan)
    app.state.service, app.state.audit, app.state.clients, app.state.limiter = service, audit, clients, limiter
    app.state.auth = auth

    app.add_middleware(Audited, audit=audit)

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> Response:
        request.state.call.error = exc.message
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        code = "not_found" if exc.status_code == 404 else "invalid_parameter"
        message = f"no such endpoint: {request.method} {request.url.path[:200]}" if exc.status_code == 404 \
            else str(exc.detail)
        request.state.call.error = message
        return error_response(ApiError(exc.status_code, code, message))  # type: ignore[arg-type]

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        message = f"parameter {where or '?'}: {first.get('msg', 'invalid')}"
        request.state.call.error = message
        return error_response(ApiError(422, "invalid_parameter", message, parameter=where))


    @app.get("/health", response_model=None, responses={200: {"model": Health}}, tags=["service"])
    def health() -> Response:
        """Whether the service is up (no key needed, not audited)."""
        return json_response({"status": "ok"})

    @app.get("/v1/datasets", response_model=None, responses={200: {"model": DatasetList}, **ERRORS},
             tags=["datasets"])
    def list_datasets(request: Request, client: Caller) -> Response:
        """Every published dataset: names, sharing type, and whether (and which version) you may read it."""
        items = describe.listing(service, client)
        request.state.call.rows = len(items)
        return json_response({"department": client.department_en, "datasets": items})

    @app.get("/v1/datasets/{dataset_id}", response_model=None, responses={200: {"model": DatasetDetail}, **ERRORS},
             tags=["datasets"])
    def get_dataset(request: Request, client: Caller, dataset_id: str) -> Response:
        """One dataset: names, sharing type, version, freshness, keys, and every column with your access."""
        request.state.call.dataset = dataset_id
        body, _ = describe.detail(service, client, dataset_id)
        return json_response(body)

    @app.get("/v1/datasets/{dataset_id}/records", response_model=None,
             responses={200: {"model": RecordsOut}, **ERRORS}, tags=["datasets"])
    def get_records(request: Request, client: Caller, dataset_id: str,
                    key: Annotated[str | None, Query(description="an identifier: project code, USCC, permit")] = None,
                    column: Annotated[str | None, Query(description="the key column to match (default: every key "
                                                                    "column of the key's kind)")] = None,
                    fields: Annotated[str | None, Query(description="columns to return, comma-separated")] = None,
                    page: Annotated[int, Query(description="page number, from 1")] = 1,
                    page_size: Annotated[int, Query(description=f"rows per page, at most {records.MAX_PAGE_SIZE}")]
                    = records.DEFAULT_PAGE_SIZE,
                    as_of: Annotated[str | None, Query(description="a version or an ISO date-time: the records as "
                                                                   "they were then, while that version is kept "
                                                                   "(a week by default; else a 404)")] = None,
                    ) -> Response:
        """Records of a dataset, by key or all, a page at a time."""
        call: Call = request.state.call
        call.dataset = dataset_id
        call.keys = {k: v[:200] for k, v in (("key", key), ("column", column)) if v is not None}
        body = records.records(service, client, dataset_id, key=key, column=column, fields=fields, page=page,
                               page_size=page_size, as_of=as_of)
        call.rows = len(body["records"])
        return json_response(body)

    @app.get("/v1/prefill/{stage_id}/{project_code}", response_model=None,
             responses={200: {"model": PrefillOut}, **ERRORS}, tags=["prefill"])
    async def get_prefill(request: Request, client: Caller, stage_id: str, project_code: str) -> Response:
        """A stage's form pre-filled for a project: values with source and time, conflicts, and materials."""
        call: Call = request.state.call
        call.dataset = f"stage.{stage_id}"[:200]
        call.keys = {"stage_id": stage_id[:200], "project_code": project_code[:200]}
        if stage_id in service.catalog.stage and service.in_memory(client, prefill.inputs(service, stage_id)):
            answer = prefill.prefill_answer(service, client, stage_id, project_code)
        else:  # a copy to read from disk first (a new version the refresher has not read yet): off the loop
            answer = await run_in_threadpool(prefill.prefill_answer, service, client, stage_id, project_code)
        call.rows = 1
        return Response(answer, media_type="application/json")

    @app.get("/v1/enterprises/{uscc}", response_model=None, responses={200: {"model": EnterpriseOut}, **ERRORS},
             tags=["enterprises"])
    def get_enterprise(request: Request, client: Caller, uscc: str) -> Response:
        """An enterprise from the master: its record, name history and the systems it was seen in."""
        call: Call = request.state.call
        call.dataset = "master.enterprise"
        call.keys = {"uscc": uscc[:200]}
        body = enterprise.enterprise(service, client, uscc)
        call.rows = 1
        return json_response(body)

    return app
