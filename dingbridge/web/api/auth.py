"""Who is calling the API: an API token (``Authorization: Bearer dbt_...``) or the console's
admin session (changes need the ``X-CSRF-Token`` header, checked by :mod:`dingbridge.web.csrf`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import Request

from dingbridge.accounts.api_tokens import verify_token
from dingbridge.context import get_context
from dingbridge.errors import Unauthorized
from dingbridge.web.console.session import ADMIN_COOKIE, current_admin

log = logging.getLogger(__name__)

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
    return ApiCaller(user.username, "session")


Caller = Annotated[ApiCaller, Depends(api_caller)]
