"""Console: API tokens (API 令牌) for the JSON API. A new token is shown once, on the page that
created it (never in a URL, never again); the list shows names, owners and last use."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.accounts.api_tokens import create_token, list_tokens, revoke_token
from dingbridge.context import get_context
from dingbridge.errors import ValidationFailed
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin

router = APIRouter(include_in_schema=False)


async def _tokens_page(
    request: Request,
    *,
    new_token: str = "",
    name: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with get_context(request).db.session() as session:
        tokens = await list_tokens(session)
    return await render_page(
        request,
        "console/tokens.html",
        {"tokens": tokens, "new_token": new_token, "name": name, "errors": errors or {}},
        status=status,
    )


@router.get("/admin/tokens")
async def tokens_page(request: Request) -> Response:
    await require_admin(request)
    return await _tokens_page(request)


@router.post("/admin/tokens")
async def create_api_token(request: Request) -> Response:
    user = await require_admin(request)
    form = await request.form()
    name = str(form.get("name", ""))
    try:
        async with get_context(request).db.transaction() as session:
            _info, token = await create_token(
                session, user.username, name, actor=actor(user.username)
            )
    except ValidationFailed as exc:
        return await _tokens_page(request, name=name, errors=exc.problems, status=400)
    return await _tokens_page(request, new_token=token)


@router.post("/admin/tokens/{token_id:int}/revoke")
async def revoke_api_token(request: Request, token_id: int) -> Response:
    user = await require_admin(request)
    async with get_context(request).db.transaction() as session:
        await revoke_token(session, token_id, actor=actor(user.username))
    return redirect("/admin/tokens?done=token_revoked")
