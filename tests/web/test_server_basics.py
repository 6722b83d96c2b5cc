"""Health, readiness, metrics, error pages, language switch."""

from __future__ import annotations

import pytest

from dingbridge.storage.db import Database
from tests.web.conftest import Server


async def test_healthz_readyz_metrics(server: Server) -> None:
    assert (await server.client.get("/healthz")).json() == {"status": "ok"}
    assert (await server.client.get("/readyz")).json() == {"status": "ok", "database": "ok"}
    metrics = await server.client.get("/metrics")
    assert metrics.status == 200 and "dingbridge_http_requests_total" in metrics.text


async def test_readyz_fails_when_database_is_gone(server: Server) -> None:
    context = server.app.state.context
    working = context.db
    context.db = Database("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    try:
        result = await server.client.get("/readyz")
    finally:
        await context.db.dispose()
        context.db = working
    assert result.status == 503 and result.json()["database"] == "unreachable"
    assert (await server.client.get("/healthz")).status == 200


async def test_unknown_page_html_and_json(server: Server) -> None:
    html = await server.client.get("/no/such/page")
    assert html.status == 404 and "<html" in html.text
    api = await server.client.get("/api/nothing")
    assert api.status == 404 and api.json()["error"] == "not_found"


async def test_language_switch(server: Server) -> None:
    client = server.client
    default = await client.get("/admin/login")
    assert 'lang="zh-CN"' in default.text and "登录" in default.text
    switched = await client.get("/lang/en?next=/admin/login", follow=True)
    assert 'lang="en"' in switched.text and "Sign in" in switched.text
    back = await client.get("/lang/zh_CN?next=https://evil.example/")
    assert back.header("location") == "/"
    assert (await client.get("/lang/fr")).status == 404


async def test_unexpected_error_shows_no_traceback(server: Server) -> None:
    @server.app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals appsecret=abc")

    server.client.raise_app_exceptions = False
    result = await server.client.get("/boom")
    assert result.status == 500
    assert "Traceback" not in result.text and "secret internals" not in result.text


async def test_racing_unique_write_is_a_conflict_not_a_crash(server: Server) -> None:
    from sqlalchemy.exc import IntegrityError

    @server.app.get("/race")
    async def race() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    result = await server.client.get("/race", headers={"accept": "application/json"})
    assert result.status == 409 and result.json()["error"] == "conflict"


def test_windows_gets_the_selector_loop_psycopg_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn alone would run the Proactor loop on Windows, where psycopg's async mode (and so
    # PostgreSQL) cannot work; without uvloop the server must ask for the selector loop there.
    import importlib.util

    from dingbridge import server_runner

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "uvloop" else real_find_spec(name, *a),
    )
    assert server_runner.event_loop_choice("win32") == "asyncio:SelectorEventLoop"
    assert server_runner.event_loop_choice("linux") == "asyncio"
