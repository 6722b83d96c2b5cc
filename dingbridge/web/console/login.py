"""Console sign-in, sign-out, and the one-time setup link that creates the first admin."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.accounts.admins import authenticate, count_admins, create_admin
from dingbridge.accounts.setup_link import setup_token_key
from dingbridge.context import get_context
from dingbridge.errors import NotFound, TooManyRequests, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.web.console.pages import redirect, render_page
from dingbridge.web.console.session import (
    current_admin,
    end_admin_session,
    require_admin,
    start_admin_session,
)
from dingbridge.web.urls import safe_next

log = logging.getLogger(__name__)
CONSOLE_HOME = "/admin/spaces"


def _next(value: str | None) -> str:
    """A post-login destination inside the console only."""
    return safe_next(value, prefix="/admin/", default=CONSOLE_HOME)


router = APIRouter(include_in_schema=False)

LOGIN_WINDOW = 15 * 60
LOGIN_LIMIT_PER_USER = 5
LOGIN_LIMIT_PER_IP = 30


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.get("/admin")
@router.get("/admin/")
async def console_home(request: Request) -> Response:
    if await current_admin(request) is None:
        return redirect("/admin/login")
    return redirect("/admin/spaces")


@router.get("/admin/login")
async def login_page(request: Request) -> Response:
    if await current_admin(request) is not None:
        return redirect(_next(request.query_params.get("next")))
    return await render_page(
        request, "console/login.html", {"next": _next(request.query_params.get("next"))}
    )


@router.post("/admin/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _next(str(form.get("next", "")))
    context = get_context(request)
    buckets = [
        (f"admin-login:user:{username.lower()}", LOGIN_LIMIT_PER_USER),
        (f"admin-login:ip:{_client_ip(request)}", LOGIN_LIMIT_PER_IP),
    ]
    # Counted before the password is checked: parallel guesses cannot pass the limit together.
    for bucket, limit in buckets:
        state = await context.ratelimit.hit(bucket, limit, LOGIN_WINDOW)
        if not state.allowed:
            log.warning("admin login throttled for %s from %s", username, _client_ip(request))
            raise TooManyRequests(
                "Too many failed sign-in attempts. Wait a few minutes and retry.",
                retry_after=state.retry_after,
            )
    async with context.db.transaction() as session:
        admin = await authenticate(session, username, password)
    if admin is None:
        log.info("admin login failed for %s from %s", username, _client_ip(request))
        return await render_page(
            request,
            "console/login.html",
            {"next": target, "username": username, "failed": True},
            status=401,
        )
    await context.ratelimit.reset(buckets[0][0])
    await context.ratelimit.give_back(buckets[1][0], LOGIN_WINDOW)  # a success is no guess
    log.info("admin %s signed in from %s", admin.username, _client_ip(request))
    response = redirect(target)
    await start_admin_session(request, response, admin.username)
    return response


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    await require_admin(request)
    response = redirect("/admin/login")
    await end_admin_session(request, response)
    return response


async def _valid_setup_token(request: Request, token: str) -> bool:
    context = get_context(request)
    if not token or await context.kv.get(setup_token_key(token)) is None:
        return False
    async with context.db.session() as session:
        return await count_admins(session) == 0


@router.get("/admin/setup")
async def setup_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    if not await _valid_setup_token(request, token):
        raise NotFound("This setup link is not valid: it was used already or has expired.")
    return await render_page(request, "console/setup.html", {"token": token})


@router.post("/admin/setup")
async def setup(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token", ""))
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    if not await _valid_setup_token(request, token):
        raise NotFound("This setup link is not valid: it was used already or has expired.")
    errors: dict[str, str] = {}
    if password != str(form.get("password2", "")):
        errors["password2"] = Message("The two passwords differ.")
    context = get_context(request)
    if not errors:
        # Single use across instances: only the first request claims the token.
        claimed = await context.kv.set_if_absent(setup_token_key(token) + ":used", b"1", ttl=3600)
        if not claimed:
            raise NotFound("This setup link is not valid: it was used already or has expired.")
        try:
            async with context.db.transaction() as session:
                await create_admin(session, username, password, actor="setup-link")
        except ValidationFailed as exc:
            await context.kv.delete(setup_token_key(token) + ":used")
            errors = exc.problems
        else:
            await context.kv.delete(setup_token_key(token))
            log.info("first admin %s created through the setup link", username)
            response = redirect("/admin/spaces?done=welcome")
            await start_admin_session(request, response, username)
            return response
    return await render_page(
        request,
        "console/setup.html",
        {"token": token, "username": username, "errors": errors},
        status=400,
    )
