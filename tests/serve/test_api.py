"""The service's edges: bad input, credentials, rate limit, the audit log and the CLI around them.

Bad input must get a clear JSON error (422 naming the failed check, 404, 403), never a trace or an SQL
message; every call, refused ones included, must be in the audit log.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from issue6_builders import bad_check, uscc
from quancheng.cli import cli
from quancheng.publish.store import SharedStore
from quancheng.serve.audit import read_audit
from quancheng.serve.ratelimit import RateLimiter
from serve_kit import HCB, HRSS, key_for

LEAKS = ("Traceback", "SELECT", "sqlite", "psycopg", "File \"", "sqlalchemy")
INJECTIONS = ["' OR 1=1 --", "2019-370102-47-01-000200'; DROP TABLE _exchange_datasets; --", "\" OR \"\"=\"",
              "../../etc/passwd", "%00", "a" * 5000, "${jndi:ldap://x}", "<script>alert(1)</script>",
              "project_code; DELETE FROM x"]


def _no_leak(text: str) -> None:
    for word in LEAKS:
        assert word not in text, word


@pytest.mark.parametrize(("url", "status", "check"), [
    ("/v1/enterprises/{bad_uscc}", 422, "uscc.checksum"),
    ("/v1/enterprises/91370100", 422, "uscc.length"),
    ("/v1/prefill/s3_construction/2019-370102-47-01", 422, "project_code.format"),
    ("/v1/prefill/s1_project_land/2313-370102-47-01-00020A", 422, "project_code.date"),
    ("/v1/datasets/stage.s1_project_land/records?key={bad_uscc}", 422, "uscc.checksum"),
    ("/v1/datasets/stage.s1_project_land/records?key=xyz&column=project_code", 422, "project_code.format"),
])
def test_malformed_keys_name_the_failed_check(grants_home, catalog, api_factory, url, status, check) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    r = http.get(url.format(bad_uscc=bad_check(uscc("MA3C4X0C"))), headers=key_for(app, catalog, HCB))
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_key" and err["check"] == check and check in err["message"]


def test_unknown_things_and_oversized_pages(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    h = key_for(app, catalog, HCB)
    assert http.get("/v1/datasets/no.such", headers=h).json()["error"]["code"] == "not_found"
    assert http.get("/v1/prefill/s9_nothing/2019-370102-47-01-000200", headers=h).status_code == 404
    missing = http.get("/v1/prefill/s1_project_land/2019-370102-47-01-000299", headers=h)
    assert missing.status_code == 404 and "2019-370102-47-01-000299" in missing.json()["error"]["message"]
    big = http.get("/v1/datasets/stage.s1_project_land/records?page_size=1001", headers=h)
    assert big.status_code == 422 and big.json()["error"]["code"] == "page_too_large"
    assert http.get("/v1/datasets/stage.s1_project_land/records?page=0", headers=h).status_code == 422
    assert http.get("/v1/datasets/stage.s1_project_land/records?page=x", headers=h).status_code == 422
    assert http.get("/v1/datasets/stage.s1_project_land/records?fields=nope", headers=h).status_code == 422
    assert http.get("/v1/nowhere", headers=h).status_code == 404
    page = http.get("/v1/datasets/stage.s1_project_land/records?page_size=2&page=2", headers=h).json()
    assert page["total"] == 4 and len(page["records"]) == 2 and page["page"] == 2


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_in_filters_is_harmless(grants_home, catalog, api_factory, evil) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    h = key_for(app, catalog, HCB)
    before = SharedStore(grants_home).datasets()
    for url, params in [("/v1/datasets/stage.s1_project_land/records", {"key": evil}),
                        ("/v1/datasets/stage.s1_project_land/records", {"key": "2019-370102-47-01-000200",
                                                                         "column": evil}),
                        ("/v1/datasets/stage.s1_project_land/records", {"fields": evil}),
                        (f"/v1/datasets/{evil}/records", {}), (f"/v1/prefill/s1_project_land/{evil}", {}),
                        (f"/v1/enterprises/{evil}", {})]:
        r = http.get(url, params=params, headers=h)
        assert r.status_code in (403, 404, 422), (url, r.status_code, r.text[:300])
        assert r.json()["error"]["message"]
        _no_leak(r.text)
    assert SharedStore(grants_home).datasets() == before  # nothing dropped, nothing changed


def test_credentials(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog)
    assert http.get("/v1/datasets").status_code == 401
    assert http.get("/v1/datasets", headers={"Authorization": "Bearer qck_nope"}).status_code == 401
    key = app.state.clients.add("window-7", HRSS, catalog)
    h = {"Authorization": f"Bearer {key}"}
    assert http.get("/v1/datasets", headers=h).json()["department"] == HRSS
    app.state.clients.revoke("window-7")
    r = http.get("/v1/datasets", headers=h)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    stored = json.dumps(app.state.clients.listing())
    assert key not in stored and key[8:] not in stored  # only a hint of the key is ever shown


def test_rate_limit_per_client(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, app = api_factory(grants_home, catalog, rate=0.01, burst=3)
    a, b = key_for(app, catalog, HCB), key_for(app, catalog, HRSS)
    assert [http.get("/v1/datasets", headers=a).status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = http.get("/v1/datasets", headers=a)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert http.get("/v1/datasets", headers=b).status_code == 200  # another client has its own bucket


def test_token_bucket_refills() -> None:
    limiter = RateLimiter(rate=2, burst=2)
    assert [limiter.take("c", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.5]
    assert limiter.take("c", now=0.5) == 0.0  # one token back after 1/rate seconds


def test_every_call_is_audited_refused_ones_too(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    http, app = api_factory(grants_home, catalog)
    start = datetime.now(UTC)
    h = key_for(app, catalog, HRSS, name="auditee")
    http.get("/v1/datasets/stage.s1_project_land/records?key=2019-370102-47-01-000201", headers=h)
    http.get("/v1/datasets/amr_enterprise.amr_enterprise_reg/records?fields=legal_representative", headers=h)
    http.get("/v1/enterprises/123", headers=h)
    http.get("/v1/datasets")  # no key at all
    app.state.audit.flush()
    calls = [c for c in read_audit(app.state.service.engine, start) if c["client"] in ("auditee", "-")]
    got = [(c["client"], c["endpoint"], c["dataset"], c["status"], c["rows"]) for c in calls]
    assert got == [
        ("auditee", "/v1/datasets/{dataset_id}/records", "stage.s1_project_land", 200, 1),
        ("auditee", "/v1/datasets/{dataset_id}/records", "amr_enterprise.amr_enterprise_reg", 403, 0),
        ("auditee", "/v1/enterprises/{uscc}", "master.enterprise", 422, 0),
        ("-", "/v1/datasets", "", 401, 0),
    ]
    assert calls[0]["keys"] == {"key": "2019-370102-47-01-000201"} and calls[0]["department_en"] == HRSS
    assert "有条件共享" in calls[1]["error"] and all(c["latency_ms"] > 0 for c in calls)


def test_an_unexpected_error_is_a_plain_500_and_audited(grants_home, catalog, api_factory, monkeypatch,  # type: ignore[no-untyped-def]
                                                        caplog) -> None:
    from datetime import UTC, datetime

    from quancheng.serve import enterprise

    def outage(*_: object) -> None:
        raise RuntimeError("connection lost while running SELECT * FROM _exchange_api_clients")

    monkeypatch.setattr(enterprise, "enterprise", outage)
    http, app = api_factory(grants_home, catalog)
    start = datetime.now(UTC)
    h = key_for(app, catalog, HRSS, name="unlucky")
    r = http.get("/v1/enterprises/91370100MA3C5PLX2Y", headers=h)
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    body = r.json()["error"]
    assert body["code"] == "internal" and body["incident"] in body["message"]
    _no_leak(r.text)
    assert "connection lost" not in r.text
    assert f"incident {body['incident']}" in caplog.text and "connection lost" in caplog.text  # the operators' side
    app.state.audit.flush()
    [call] = [c for c in read_audit(app.state.service.engine, start) if c["client"] == "unlucky"]
    assert (call["endpoint"], call["status"], call["error"]) == (
        "/v1/enterprises/{uscc}", 500, f"internal error (incident {body['incident']})")


def test_cli_clients_and_audit(grants_home, catalog_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QUANCHENG_CATALOG", str(catalog_path))
    monkeypatch.delenv("QUANCHENG_SHARED_DB", raising=False)
    runner = CliRunner()
    home = str(grants_home)
    added = runner.invoke(cli, ["serve", "clients", "add", "cli-window", "--department", HCB, "--dir", home])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[0]
    assert key.startswith("qck_")
    listed = runner.invoke(cli, ["serve", "clients", "list", "--dir", home, "--json"])
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert any(r["name"] == "cli-window" and r["department_en"] == HCB for r in rows)
    assert key not in listed.stdout
    assert runner.invoke(cli, ["serve", "clients", "revoke", "cli-window", "--dir", home]).exit_code == 0
    again = runner.invoke(cli, ["serve", "clients", "revoke", "cli-window", "--dir", home])
    assert again.exit_code != 0
    audit = runner.invoke(cli, ["serve", "audit", "--since", "1d", "--json", "--dir", home])
    assert audit.exit_code == 0
    lines = [json.loads(line) for line in audit.stdout.splitlines()]
    assert lines and {"client", "endpoint", "dataset", "keys", "rows", "status", "at", "latency_ms"} <= set(lines[0])
    bad = runner.invoke(cli, ["serve", "audit", "--since", "yesterday", "--dir", home])
    assert bad.exit_code != 0
    per = runner.invoke(cli, ["serve", "audit", "--since", "1d", "--json", "--by-department", "--dir", home])
    depts = {d["department_en"]: d for d in map(json.loads, per.stdout.splitlines())}
    assert sum(d["calls"] for d in depts.values()) == len(lines)
    assert sum(d["refused"] for d in depts.values()) == sum(1 for c in lines if 400 <= c["status"] < 500)


def test_openapi_describes_every_endpoint(grants_home, catalog, api_factory) -> None:  # type: ignore[no-untyped-def]
    http, _ = api_factory(grants_home, catalog)
    spec = http.get("/openapi.json").json()
    assert {"/v1/datasets", "/v1/datasets/{dataset_id}", "/v1/datasets/{dataset_id}/records",
            "/v1/prefill/{stage_id}/{project_code}", "/v1/enterprises/{uscc}"} <= set(spec["paths"])
    prefill = spec["paths"]["/v1/prefill/{stage_id}/{project_code}"]["get"]
    assert {"200", "401", "403", "404", "422", "429"} <= set(prefill["responses"])
    assert "PrefillOut" in spec["components"]["schemas"]
