"""The one-time setup link that creates the first admin when none exists.

The token is printed on the operator's console (``AppContext.announce``), never logged; only its
SHA-256 is stored, in the key-value store, for 24 hours. It works once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets

from dingbridge.accounts.admins import count_admins
from dingbridge.context import AppContext
from dingbridge.kv import KVError

log = logging.getLogger(__name__)

SETUP_TOKEN_TTL = 24 * 3600
KV_RETRY_SECONDS = 5.0  # how often the setup link is tried again while the KV is unreachable


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


async def announce_setup_link_when_ready(context: AppContext) -> asyncio.Task[None] | None:
    """:func:`announce_setup_link`, but a key-value store (Redis) that does not answer yet
    does not stop the server: say so, and return a task that tries again every
    ``KV_RETRY_SECONDS`` until the link is out (cancel it at shutdown)."""
    try:
        await announce_setup_link(context)
    except KVError:
        pass
    else:
        return None
    log.warning("the key-value store (Redis) is unreachable; the server runs without it")
    context.announce(
        "Redis (--kv-url) is not reachable: sign-in and admin sessions wait for it. "
        "If no admin exists yet, the one-time setup link follows as soon as Redis answers."
    )

    async def retry() -> None:
        while True:
            await asyncio.sleep(KV_RETRY_SECONDS)
            try:
                await announce_setup_link(context)
            except KVError:
                continue
            log.info("the key-value store (Redis) answers again")
            return

    return asyncio.create_task(retry(), name="setup-link-retry")


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
