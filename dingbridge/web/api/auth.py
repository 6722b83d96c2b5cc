"""Who is calling the API: an API token (``Authorization: Bearer dbt_...``) or the console's
admin session (changes need the ``X-CSRF-Token`` header, so another site cannot make them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request

from dingbridge.errors import CsrfFailed, Unauthorized
from dingbridge.web.admin_session import ADMIN_COOKIE, csrf_header_ok, current_admin
from dingbridge.web.api_tokens import verify_token
from dingbridge.web.context import get_context

log = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Declared for the OpenAPI document; the checks themselves are in api_caller.
_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="dbt_...",
    description="An API token from the console (API 令牌) or `dingbridge admin token create`.",
)
_cookie = APIKeyCookie(
    name=ADMIN_COOKIE,
    auto_error=False,
    description="The console's admin session; changes also need the X-CSRF-Token header.",
)


@dataclass(frozen=True)
class ApiCaller:
    username: str
    via: Literal["session", "token"]
    token_name: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.via == "token":
            return f"admin:{self.username} (API token {self.token_name})"
        return f"admin:{self.username}"


async def api_caller(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> ApiCaller:
    header = request.headers.get("authorization")
    if header is not None:
        if bearer is None or not bearer.credentials:
            raise Unauthorized("Send the API token as: Authorization: Bearer dbt_...")
        async with get_context(request).db.transaction() as session:
            info = await verify_token(session, bearer.credentials)
        if info is None:
            log.info("API call with an unknown or revoked token refused")
            raise Unauthorized("The API token is unknown or has been revoked.")
        return ApiCaller(info.username, "token", info.name)
    user = await current_admin(request)
    if user is None:
        raise Unauthorized("Sign in to the console or send an API token.")
    if request.method not in SAFE_METHODS and not csrf_header_ok(request, user):
        raise CsrfFailed("Send the console's CSRF token in the X-CSRF-Token header.")
    return ApiCaller(user.username, "session")


Caller = Annotated[ApiCaller, Depends(api_caller)]
