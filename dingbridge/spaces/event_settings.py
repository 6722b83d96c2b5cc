"""How a space hears of directory changes in DingTalk: its event mode, callback keys and guard.

- ``events_mode``: ``off``; ``stream`` (DingTalk's recommended Stream mode: the server opens an
  outbound connection, no public address needed); ``http`` (DingTalk pushes to the space's
  callback URL, signed with ``callback_token`` and encrypted with the aes_key).
- ``sync_guard_percent``: a catch-up sync that would disable more than this share of the
  space's members stops and changes nothing.
- Work notifications (both off by default): ``notify_binding`` tells a DingTalk user their
  account was bound to the space; ``notify_admins`` tells ``admin_userids`` (the space's
  admins as DingTalk userids) of a sync stopped by the guard or a stream that cannot connect.

The aes_key is a secret (encrypted at rest, shown once when generated, never logged).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import DingTalkSettingsRow, Space

EVENT_MODES = ("off", "stream", "http")
DEFAULT_GUARD_PERCENT = 10
MAX_ADMIN_USERIDS = 20
_USERID = re.compile(r"[A-Za-z0-9_\-$.@]{1,64}")


@dataclass(frozen=True)
class EventSettings:
    space_id: int
    mode: str
    callback_token: str | None
    has_aes_key: bool
    guard_percent: int
    last_sync_at: datetime | None
    notify_binding: bool = False
    notify_admins: bool = False
    admin_userids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallbackKeys:
    """Freshly generated keys, to paste into the developer console (事件订阅 → HTTP 推送)."""

    token: str
    aes_key: str

    def __repr__(self) -> str:
        return "CallbackKeys(token=…, aes_key=…)"


def _settings(space_id: int, row: DingTalkSettingsRow | None) -> EventSettings:
    if row is None:
        return EventSettings(space_id, "off", None, False, DEFAULT_GUARD_PERCENT, None)
    return EventSettings(
        space_id=space_id,
        mode=row.events_mode or "off",
        callback_token=row.callback_token,
        has_aes_key=bool(row.callback_aes_key_encrypted),
        guard_percent=row.sync_guard_percent,
        last_sync_at=row.last_sync_at,
        notify_binding=bool(row.notify_binding),
        notify_admins=bool(row.notify_admins),
        admin_userids=split_userids(row.admin_userids or ""),
    )


def split_userids(text: str) -> tuple[str, ...]:
    """DingTalk userids separated by commas (either width), spaces or new lines; in order,
    each once."""
    parts = re.split(r"[\s,，、;；]+", text.strip())
    return tuple(dict.fromkeys(p for p in parts if p))


def check_userids(userids: tuple[str, ...]) -> Message | None:
    """Why these cannot be the space's admins (None: they can)."""
    bad = [u for u in userids if not _USERID.fullmatch(u)]
    if bad:
        return Message("Not a DingTalk userid: %(userid)s", userid=bad[0][:64])
    if len(userids) > MAX_ADMIN_USERIDS:
        return Message("At most %(count)s admins.", count=MAX_ADMIN_USERIDS)
    return None


async def load_event_settings(session: AsyncSession, space_id: int) -> EventSettings:
    return _settings(space_id, await session.get(DingTalkSettingsRow, space_id))


def generate_callback_keys() -> CallbackKeys:
    """A 32-character token and a 43-character aes_key of letters and digits (as DingTalk's
    console asks), the aes_key being base64 of 32 random bytes."""
    alphabet = string.ascii_letters + string.digits
    token = "".join(secrets.choice(alphabet) for _ in range(32))
    while True:
        aes_key = base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")
        if aes_key.isalnum():
            return CallbackKeys(token, aes_key)


async def save_event_settings(
    session: AsyncSession,
    box: SecretBox,
    space_id: int,
    *,
    mode: str | None = None,
    guard_percent: int | None = None,
    new_callback_keys: bool = False,
    notify_binding: bool | None = None,
    notify_admins: bool | None = None,
    admin_userids: tuple[str, ...] | None = None,
    actor: str,
) -> tuple[EventSettings, CallbackKeys | None]:
    """Change what is given (audited); new callback keys are returned once, in clear."""
    await get_space(session, space_id)
    problems: dict[str, str] = {}
    if mode is not None and mode not in EVENT_MODES:
        problems["events_mode"] = Message(
            "The event mode must be one of: %(modes)s.", modes=", ".join(EVENT_MODES)
        )
    if guard_percent is not None and not 1 <= guard_percent <= 100:
        problems["sync_guard_percent"] = Message("The guard must be a percentage from 1 to 100.")
    if admin_userids is not None and (why := check_userids(admin_userids)):
        problems["admin_userids"] = why
    if problems:
        raise ValidationFailed(problems)
    row = await session.get(DingTalkSettingsRow, space_id)
    if row is None:
        row = DingTalkSettingsRow(space_id=space_id)
        session.add(row)
    before = _audited(row)
    keys = generate_callback_keys() if new_callback_keys else None
    if mode is not None:
        row.events_mode = mode
    if guard_percent is not None:
        row.sync_guard_percent = guard_percent
    if keys is not None:
        row.callback_token = keys.token
        row.callback_aes_key_encrypted = box.encrypt(keys.aes_key)
    if notify_binding is not None:
        row.notify_binding = notify_binding
    if notify_admins is not None:
        row.notify_admins = notify_admins
    if admin_userids is not None:
        row.admin_userids = ",".join(admin_userids)
    after = _audited(row)
    changes: dict[str, object] = dict(audit.diff(before, after))
    if keys is not None:
        changes["callback_keys"] = "regenerated"
    if changes:
        await audit.record(session, actor, "space.events", f"space:{space_id}", changes)
    await session.flush()
    return _settings(space_id, row), keys


def _audited(row: DingTalkSettingsRow) -> dict[str, object]:
    return {
        "events_mode": row.events_mode,
        "sync_guard_percent": row.sync_guard_percent,
        "notify_binding": bool(row.notify_binding),
        "notify_admins": bool(row.notify_admins),
        "admin_userids": row.admin_userids or "",
    }


async def callback_secrets(
    session: AsyncSession, box: SecretBox, space_id: int
) -> tuple[str, str] | None:
    """The space's callback token and aes_key in clear, when HTTP push is its mode."""
    row = await session.get(DingTalkSettingsRow, space_id)
    if row is None or row.events_mode != "http":
        return None
    if not (row.callback_token and row.callback_aes_key_encrypted):
        return None
    return row.callback_token, box.decrypt(row.callback_aes_key_encrypted)


async def spaces_listening(session: AsyncSession, mode: str) -> list[int]:
    """Enabled spaces whose events come by ``mode`` (``stream`` or ``http``)."""
    rows = await session.scalars(
        select(DingTalkSettingsRow.space_id)
        .join(Space, Space.id == DingTalkSettingsRow.space_id)
        .where(DingTalkSettingsRow.events_mode == mode, Space.enabled.is_(True))
        .order_by(DingTalkSettingsRow.space_id)
    )
    return list(rows)


async def mark_synced(session: AsyncSession, space_id: int, when: datetime) -> None:
    row = await session.get(DingTalkSettingsRow, space_id)
    if row is not None:
        row.last_sync_at = when
