"""API tokens for automation: ``Authorization: Bearer dbt_...`` on ``/api/v1/``.

A token is shown once, when created (console or ``dingbridge admin token create``); only its
SHA-256 is stored (tokens are 256 random bits, so a plain hash is enough). Each token acts as
the admin who created it, can be revoked (deleted) at any time, and records when it was last
used (to the minute, so using it does not write on every request).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.names import clean_name
from dingbridge.settings import Settings
from dingbridge.spaces import audit
from dingbridge.spaces.headless import run_in_transaction
from dingbridge.storage.models import Admin, ApiToken, utcnow

TOKEN_PREFIX = "dbt_"
MAX_NAME = 100
LAST_USED_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    id: int
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_name(name: str) -> str:
    return clean_name(name, MAX_NAME)


async def create_token(
    session: AsyncSession, username: str, name: str, *, actor: str
) -> tuple[TokenInfo, str]:
    """A new token for the admin ``username``: (its listing, the token to show once)."""
    cleaned = _clean_name(name)
    admin = await session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        raise ValidationFailed({"username": Message("No admin with this name.")})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(admin_id=admin.id, name=cleaned, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        actor,
        "api_token.create",
        f"api_token:{row.id}",
        {"name": cleaned, "admin": username},
    )
    return TokenInfo(row.id, row.name, username, row.created_at, None), token


async def verify_token(session: AsyncSession, token: str) -> TokenInfo | None:
    """The token's owner and name when it is valid (not revoked); notes the time of use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    found = (
        await session.execute(
            select(ApiToken, Admin.username)
            .join(Admin, Admin.id == ApiToken.admin_id)
            .where(ApiToken.token_hash == hash_token(token))
        )
    ).first()
    if found is None:
        return None
    row, username = found
    now = utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or now - last >= LAST_USED_GRANULARITY:
        row.last_used_at = now
    return TokenInfo(row.id, row.name, username, row.created_at, row.last_used_at)


async def list_tokens(session: AsyncSession) -> Sequence[TokenInfo]:
    rows = await session.execute(
        select(ApiToken, Admin.username)
        .join(Admin, Admin.id == ApiToken.admin_id)
        .order_by(ApiToken.id)
    )
    return [
        TokenInfo(row.id, row.name, username, row.created_at, row.last_used_at)
        for row, username in rows.all()
    ]


async def revoke_token(session: AsyncSession, token_id: int, *, actor: str) -> None:
    row = await session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(Message("API token %(token)s does not exist.", token=token_id))
    await audit.record(
        session, actor, "api_token.revoke", f"api_token:{token_id}", {"name": row.name}
    )
    await session.delete(row)
    await session.flush()


# -------------------------------------------------------------------- headless (CLI)
CLI_ACTOR = "cli"


async def _owner(session: AsyncSession, username: str | None) -> str:
    """The admin a CLI-made token acts as: ``username``, or the only admin there is."""
    if username:
        return username
    names = (await session.scalars(select(Admin.username).order_by(Admin.id))).all()
    if len(names) == 1:
        return names[0]
    if not names:
        raise ValidationFailed(
            {"username": Message("No admin exists yet: run dingbridge admin create.")}
        )
    raise ValidationFailed(
        {"username": Message("Several admins exist: choose one with --username.")}
    )


def create_token_headless(settings: Settings, name: str, username: str | None) -> str:
    """``dingbridge admin token create``: the new token (to print once)."""

    async def work(session: AsyncSession) -> str:
        owner = await _owner(session, username)
        _info, token = await create_token(session, owner, name, actor=CLI_ACTOR)
        return token

    return run_in_transaction(settings, work)


def list_tokens_headless(settings: Settings) -> Sequence[TokenInfo]:
    return run_in_transaction(settings, list_tokens)


def revoke_token_headless(settings: Settings, token_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await revoke_token(session, token_id, actor=CLI_ACTOR)

    run_in_transaction(settings, work)
