"""Issued tokens, stored as SHA-256 hashes (``oidc_tokens``): each row one access token and
its refresh token.

A refresh rotates: the used row is revoked (reason ``rotated``) and a new row of the same
``family`` issued. A refresh token presented again after its rotation is a reuse (someone kept
a copy): the whole family is revoked, so both the thief's and the app's tokens stop working.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from dingbridge.storage.db import Database
from dingbridge.storage.models import OidcToken

ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class TokenRecord:
    """An issued token as authlib sees it (``TokenMixin``); ``client_id`` is the app's."""

    id: int
    space_id: int
    app_id: int
    client_id: str
    member_id: int
    family: str
    sid: str | None
    scope: str
    auth_time: int
    issued_at: int
    expires_in: int
    refresh_expires_at: int | None
    revoked_reason: str | None
    matched: str
    """Which of the row's tokens was presented: ``access_token`` or ``refresh_token``."""

    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        now = time.time()
        if self.matched == "refresh_token":
            return self.refresh_expires_at is None or now >= self.refresh_expires_at
        return now >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked_reason is not None


def _record(row: OidcToken, client_id: str, matched: str) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        space_id=row.space_id,
        app_id=row.app_id,
        client_id=client_id,
        member_id=row.member_id,
        family=row.family,
        sid=row.sid,
        scope=row.scope,
        auth_time=row.auth_time,
        issued_at=row.issued_at,
        expires_in=row.expires_in,
        refresh_expires_at=row.refresh_expires_at,
        revoked_reason=row.revoked_reason,
        matched=matched,
    )


@dataclass(frozen=True)
class Issued:
    """Who a token was for: enough to send a back-channel logout."""

    space_id: int
    app_id: int
    member_id: int
    sid: str | None
    issuer: str


class TokenStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(
        self,
        *,
        space_id: int,
        app_id: int,
        member_id: int,
        family: str,
        sid: str | None,
        issuer: str,
        scope: str,
        auth_time: int,
        access_token: str,
        refresh_token: str | None,
        expires_in: int,
    ) -> None:
        now = int(time.time())
        async with self._db.transaction() as session:
            session.add(
                OidcToken(
                    space_id=space_id,
                    app_id=app_id,
                    member_id=member_id,
                    family=family,
                    sid=sid,
                    issuer=issuer,
                    scope=scope,
                    access_token_hash=token_hash(access_token),
                    refresh_token_hash=token_hash(refresh_token) if refresh_token else None,
                    auth_time=auth_time,
                    issued_at=now,
                    expires_in=expires_in,
                    refresh_expires_at=now + REFRESH_TOKEN_LIFETIME if refresh_token else None,
                )
            )

    async def find(
        self, token: str, client_ids: dict[int, str], hint: str | None = None
    ) -> TokenRecord | None:
        """The row holding ``token`` (an access or refresh token), revoked or not.
        ``client_ids`` maps the space's app ids to their client ids."""
        if not token or len(token) > 200:
            return None
        digest = token_hash(token)
        if hint == "access_token":
            where = OidcToken.access_token_hash == digest
        elif hint == "refresh_token":
            where = OidcToken.refresh_token_hash == digest
        else:
            where = or_(
                OidcToken.access_token_hash == digest, OidcToken.refresh_token_hash == digest
            )
        async with self._db.session() as session:
            row = await session.scalar(select(OidcToken).where(where))
        if row is None or row.app_id not in client_ids:
            return None
        matched = "access_token" if row.access_token_hash == digest else "refresh_token"
        return _record(row, client_ids[row.app_id], matched)

    async def revoke(self, token_id: int, reason: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(OidcToken)
                .where(OidcToken.id == token_id, OidcToken.revoked_at.is_(None))
                .values(revoked_at=int(time.time()), revoked_reason=reason)
            )

    async def revoke_family(self, family: str, reason: str = "reused") -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(OidcToken)
                .where(OidcToken.family == family, OidcToken.revoked_at.is_(None))
                .values(revoked_at=int(time.time()), revoked_reason=reason)
            )

    async def revoke_member(
        self, space_id: int, member_id: int, *, sid: str | None = None
    ) -> list[Issued]:
        """Revoke the member's live tokens (of one sign-in session when ``sid`` is given);
        who they were issued to, one entry per app and session."""
        now = int(time.time())
        conditions = [
            OidcToken.space_id == space_id,
            OidcToken.member_id == member_id,
            OidcToken.revoked_at.is_(None),
        ]
        if sid is not None:
            conditions.append(OidcToken.sid == sid)
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    select(OidcToken.app_id, OidcToken.sid, OidcToken.issuer)
                    .where(*conditions)
                    .distinct()
                )
            ).all()
            await session.execute(
                update(OidcToken)
                .where(*conditions)
                .values(revoked_at=now, revoked_reason="signout")
            )
        return [Issued(space_id, app, member_id, sid_, issuer) for app, sid_, issuer in rows]
