"""The JSON API's authentication: admin session + CSRF header, or an API token."""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest
from sqlalchemy import select

from dingbridge.storage.models import ApiToken
from tests.web.conftest import AsgiClient, Server, csrf_of

TOKEN_RE = re.compile(r'<code id="v-token">(dbt_[^<]+)</code>')


async def new_token(admin: AsgiClient, name: str = "deploy script") -> str:
    page = await admin.post(
        "/admin/tokens", form={"csrf_token": await csrf_of(admin, "/admin/tokens"), "name": name}
    )
    assert page.status == 200, page.text
    match = TOKEN_RE.search(page.text)
    assert match, "the new token is shown once"
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def post_json(
    client: AsgiClient, url: str, body: object, headers: dict[str, str] | None = None
) -> tuple[int, object]:
    result = await client.request(
        "POST",
        url,
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(body).encode(),
    )
    return result.status, result.json()


async def test_anonymous_callers_are_refused(server: Server) -> None:
    result = await server.new_client().get("/api/v1/spaces")
    assert result.status == 401
    assert result.json()["error"] == "unauthorized"


async def test_session_reads_freely_but_changes_need_the_csrf_header(
    server: Server, admin: AsgiClient
) -> None:
    assert (await admin.get("/api/v1/spaces")).status == 200
    status, body = await post_json(admin, "/api/v1/spaces", {"name": "销售部"})
    assert status == 403 and body["error"] == "csrf_failed"  # type: ignore[index]
    token = await csrf_of(admin)
    # Console pages offer the token to their own scripts.
    assert f'<meta name="csrf-token" content="{token}">' in (await admin.get("/admin/spaces")).text
    status, body = await post_json(
        admin, "/api/v1/spaces", {"name": "销售部"}, {"x-csrf-token": token}
    )
    assert status == 201 and body["id"] == 10001  # type: ignore[index]


async def test_token_works_without_a_session_and_is_stored_hashed(
    server: Server, admin: AsgiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await new_token(admin)
    robot = server.new_client()
    status, body = await post_json(robot, "/api/v1/spaces", {"name": "财务部"}, bearer(token))
    assert status == 201, body
    listed = await robot.get("/api/v1/spaces", headers=bearer(token))
    assert [s["name"] for s in listed.json()] == ["财务部"]
    async with server.app.state.context.db.session() as session:
        row = (await session.scalars(select(ApiToken))).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.last_used_at is not None
    tokens_page = (await admin.get("/admin/tokens")).text
    assert "deploy script" in tokens_page and token not in tokens_page  # shown once only
    audit = (await admin.get("/api/v1/audit")).text
    assert "API token deploy script" in audit and token not in audit
    assert token not in caplog.text
    assert token[4:] not in caplog.text


async def test_revoked_and_unknown_tokens_are_refused(server: Server, admin: AsgiClient) -> None:
    token = await new_token(admin)
    robot = server.new_client()
    assert (await robot.get("/api/v1/spaces", headers=bearer(token))).status == 200
    page = (await admin.get("/admin/tokens")).text
    token_id = re.search(r"/admin/tokens/(\d+)/revoke", page)
    assert token_id
    revoke = await admin.post(
        f"/admin/tokens/{token_id.group(1)}/revoke", form={"csrf_token": await csrf_of(admin)}
    )
    assert revoke.status == 303
    refused = await robot.get("/api/v1/spaces", headers=bearer(token))
    assert refused.status == 401 and "revoked" in refused.json()["message"]
    for header in ("Bearer dbt_not-a-real-token", "Bearer ", "Basic YWRtaW46eA=="):
        result = await robot.get("/api/v1/spaces", headers={"authorization": header})
        assert result.status == 401
    assert "api_token.revoke" in (await admin.get("/admin/audit")).text


async def test_a_token_needs_no_csrf_header_and_ignores_cookies(
    server: Server, admin: AsgiClient
) -> None:
    token = await new_token(admin)
    # The admin's own browser with a bad token: the token decides, not the cookie.
    result = await admin.get("/api/v1/spaces", headers=bearer("dbt_wrong"))
    assert result.status == 401
    status, _body = await post_json(admin, "/api/v1/spaces", {"name": "A"}, bearer(token))
    assert status == 201


async def test_openapi_document_lists_the_routes(server: Server) -> None:
    result = await server.new_client().get("/api/v1/openapi.json")
    assert result.status == 200
    document = result.json()
    paths = document["paths"]
    for path in (
        "/api/v1/spaces",
        "/api/v1/spaces/{space_id}",
        "/api/v1/spaces/{space_id}/members",
        "/api/v1/spaces/{space_id}/members/{member_id}",
        "/api/v1/spaces/{space_id}/members/import",
        "/api/v1/spaces/{space_id}/dingtalk",
        "/api/v1/spaces/{space_id}/dingtalk/test",
        "/api/v1/spaces/{space_id}/dingtalk/setup-values",
        "/api/v1/spaces/{space_id}/directory-import",
        "/api/v1/audit",
    ):
        assert path in paths, path
    assert not any(p.startswith("/admin") for p in paths)  # console pages are not API
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
    # No CDN-loaded docs page.
    assert (await server.new_client().get("/docs")).status == 404
