"""Setup without a browser: the library side of ``dingbridge admin|space|member`` commands.

Each function applies pending migrations, does its work in one transaction, and closes the
database, so a command is safe to run while the server runs (SQLite WAL, or PostgreSQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.settings import Settings, secret_keys, write_secret_keys
from dingbridge.spaces import store
from dingbridge.spaces.csv_import import ImportReport, import_members
from dingbridge.spaces.dingtalk_settings import (
    DingTalkConfig,
    DingTalkInput,
    load_dingtalk,
    patch_dingtalk,
    reencrypt_all,
    save_dingtalk,
)
from dingbridge.spaces.event_settings import CallbackKeys, EventSettings, save_event_settings
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage import migrate
from dingbridge.storage.db import Database

T = TypeVar("T")
CLI_ACTOR = "cli"


def run_in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    migrate.upgrade(settings.effective_database_url)

    async def main() -> T:
        db = Database(settings.effective_database_url)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(main())


def create_admin_account(settings: Settings, username: str, password: str) -> None:
    from dingbridge.accounts.admins import create_admin

    async def work(session: AsyncSession) -> None:
        await create_admin(session, username, password, actor=CLI_ACTOR)

    run_in_transaction(settings, work)


def create_space(settings: Settings, name: str) -> int:
    async def work(session: AsyncSession) -> int:
        return (await store.create_space(session, name, actor=CLI_ACTOR)).id

    return run_in_transaction(settings, work)


def list_spaces(settings: Settings) -> Sequence[store.SpaceSummary]:
    return run_in_transaction(settings, store.list_spaces)


def show_dingtalk(settings: Settings, space_id: int) -> DingTalkConfig:
    """A space's saved DingTalk settings (the AppSecret only as set or not)."""

    async def work(session: AsyncSession) -> DingTalkConfig:
        await store.get_space(session, space_id)
        return await load_dingtalk(session, space_id)

    return run_in_transaction(settings, work)


def configure_dingtalk(settings: Settings, space_id: int, data: DingTalkInput) -> DingTalkConfig:
    """Save every DingTalk setting as ``data`` has it (the console form's way)."""
    box = SecretBox(secret_keys(settings))

    async def work(session: AsyncSession) -> DingTalkConfig:
        return await save_dingtalk(session, box, space_id, data, actor=CLI_ACTOR)

    return run_in_transaction(settings, work)


def change_dingtalk(
    settings: Settings, space_id: int, changes: Mapping[str, object]
) -> DingTalkConfig:
    """Change only the DingTalk settings named in ``changes`` (see ``patch_dingtalk``)."""
    box = SecretBox(secret_keys(settings))

    async def work(session: AsyncSession) -> DingTalkConfig:
        return await patch_dingtalk(session, box, space_id, changes, actor=CLI_ACTOR)

    return run_in_transaction(settings, work)


def import_members_file(settings: Settings, space_id: int, path: Path) -> ImportReport:
    data = path.read_bytes()

    async def work(session: AsyncSession) -> ImportReport:
        return await import_members(session, space_id, data, actor=CLI_ACTOR, filename=path.name)

    return run_in_transaction(settings, work)


def rotate_secret_key(settings: Settings, new_key: str) -> int:
    """Make ``new_key`` the current secret key and re-encrypt every AppSecret with it.

    The previous key stays as the second line of ``secret.key`` so running instances and
    not-yet-rotated rows still decrypt; returns the number of secrets re-encrypted.
    """
    if settings.secret_key:
        raise ValueError(
            "the secret key comes from DINGBRIDGE_SECRET_KEY: set the new key there and the "
            "old one in DINGBRIDGE_OLD_SECRET_KEYS, then run this command again without "
            "--new-key to re-encrypt"
        )
    old = secret_keys(settings)
    keys = [new_key, old[0]]
    box = SecretBox(keys)

    # Written first: if re-encryption stops half-way, both keys are still on disk.
    write_secret_keys(settings, keys)

    async def work(session: AsyncSession) -> int:
        return await reencrypt_all(session, box)

    return run_in_transaction(settings, work)


def reencrypt_secrets(settings: Settings) -> int:
    """Re-encrypt every AppSecret with the current key (keys from the environment)."""
    box = SecretBox(secret_keys(settings))

    async def work(session: AsyncSession) -> int:
        return await reencrypt_all(session, box)

    return run_in_transaction(settings, work)


def configure_events(
    settings: Settings,
    space_id: int,
    *,
    mode: str | None,
    guard: int | None,
    new_callback_keys: bool,
) -> tuple[EventSettings, CallbackKeys | None]:
    box = SecretBox(secret_keys(settings))

    async def work(session: AsyncSession) -> tuple[EventSettings, CallbackKeys | None]:
        return await save_event_settings(
            session,
            box,
            space_id,
            mode=mode,
            guard_percent=guard,
            new_callback_keys=new_callback_keys,
            actor=CLI_ACTOR,
        )

    return run_in_transaction(settings, work)
