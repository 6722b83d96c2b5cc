"""Local admin accounts with argon2 password hashes. They always work, whatever DingTalk does."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.storage.models import Admin, utcnow

MIN_PASSWORD = 10
_USERNAME = re.compile(r"[A-Za-z0-9_.@\-]{2,64}")
_hasher = PasswordHasher()
# Verified against when the username does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("dingbridge-no-such-admin")


def check_new_account(username: str, password: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not _USERNAME.fullmatch(username):
        problems["username"] = Message("2 to 64 letters, digits or . _ - @")
    if len(password) < MIN_PASSWORD:
        problems["password"] = f"At least {MIN_PASSWORD} characters."
    return problems


async def count_admins(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Admin)) or 0)


async def create_admin(session: AsyncSession, username: str, password: str, *, actor: str) -> Admin:
    username = username.strip()
    problems = check_new_account(username, password)
    if not problems and await session.scalar(select(Admin).where(Admin.username == username)):
        problems["username"] = Message("An admin with this name exists.")
    if problems:
        raise ValidationFailed(problems)
    admin = Admin(username=username, password_hash=_hasher.hash(password))
    session.add(admin)
    await session.flush()
    await audit.record(session, actor, "admin.create", f"admin:{username}", {})
    return admin


async def set_password(session: AsyncSession, username: str, password: str, *, actor: str) -> Admin:
    admin = await session.scalar(select(Admin).where(Admin.username == username))
    if admin is None:
        raise ValidationFailed({"username": Message("No admin with this name.")})
    problems = check_new_account(username, password)
    if problems:
        raise ValidationFailed(problems)
    admin.password_hash = _hasher.hash(password)
    await audit.record(session, actor, "admin.password", f"admin:{username}", {})
    return admin


async def authenticate(session: AsyncSession, username: str, password: str) -> Admin | None:
    """The admin when the password is right, else ``None`` (same work either way)."""
    admin = await session.scalar(select(Admin).where(Admin.username == username.strip()))
    try:
        _hasher.verify(admin.password_hash if admin else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if admin is None:
        return None
    if _hasher.check_needs_rehash(admin.password_hash):
        admin.password_hash = _hasher.hash(password)
    admin.last_login_at = utcnow()
    return admin
