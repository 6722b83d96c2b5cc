"""The one-time setup link that creates the first admin when none exists.

The token is printed on the operator's console (``AppContext.announce``), never logged; only its
SHA-256 is stored, in the key-value store, for 24 hours. It works once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from dingbridge.accounts.admins import count_admins
from dingbridge.context import AppContext

log = logging.getLogger(__name__)

SETUP_TOKEN_TTL = 24 * 3600


def setup_token_key(token: str) -> str:
    return "admin-setup:" + hashlib.sha256(token.encode()).hexdigest()


async def announce_setup_link(context: AppContext) -> str | None:
    """When no admin exists, print a one-time link to create the first one; return the token.

    The token goes to the console only (``context.announce``), never to the log.
    """
    async with context.db.session() as session:
        if await count_admins(session) > 0:
            return None
    token = secrets.token_urlsafe(24)
    await context.kv.set(setup_token_key(token), b"1", ttl=SETUP_TOKEN_TTL)
    settings = context.settings
    base = (
        settings.external_url or f"http://{_display_host(settings.host)}:{settings.port}"
    ).rstrip("/")
    context.announce(
        "No admin account exists yet. Open this one-time link to create the first admin "
        f"(valid 24 hours):\n\n    {base}/admin/setup?token={token}\n"
    )
    log.info("no admin account yet: a one-time setup link was printed on the console")
    return token


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
