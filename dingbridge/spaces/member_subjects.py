"""A member's subject: the one stable, opaque id every app of the space knows them by.

Random (128 bits, 32 hex digits), made the first time any app asks and kept
(``oidc_subjects``): the OpenID provider's ``sub`` and the forward-auth gate's
``X-Auth-Request-User`` are this same value, so a member is one user to every app of the space.
Neither the mobile, the DingTalk userid nor the database id can be read from it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dingbridge.storage.db import Database
from dingbridge.storage.models import OidcSubject


async def member_subject(db: Database, member_id: int) -> str:
    """The member's subject, made now if they have none yet."""
    async with db.session() as session:
        found = await session.scalar(
            select(OidcSubject.sub).where(OidcSubject.member_id == member_id)
        )
    if found is not None:
        return found
    try:
        async with db.transaction() as session:
            session.add(OidcSubject(member_id=member_id, sub=secrets.token_hex(16)))
    except IntegrityError:  # made by a concurrent request: read it back
        pass
    async with db.session() as session:
        made = await session.scalar(
            select(OidcSubject.sub).where(OidcSubject.member_id == member_id)
        )
    assert made is not None
    return made
