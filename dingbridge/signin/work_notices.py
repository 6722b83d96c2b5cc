"""DingTalk work notifications a space may send, as its own app (``asyncsend_v2``).

Both are off unless the space turns them on (:mod:`dingbridge.spaces.event_settings`):

- ``notify_binding``: the DingTalk user whose account was just bound to a member is told so,
  with "if this was not you, contact your administrator" — a binding made with someone else's
  mobile and SMS code does not go unnoticed. :func:`dingbridge.signin.binding_flow.bind` notes
  :data:`BINDING_MADE` in its transaction; :func:`bindings_made` runs once it commits.
- ``notify_admins``: the space's admins (``admin_userids``) are told of a catch-up sync stopped
  by its guard and of a Stream connection that cannot be opened (:func:`tell_admins`, called
  by :mod:`dingbridge.events`).

A notification that cannot be sent never fails what caused it: it is logged (without the
message's text) and counted (``dingbridge_work_notices_total{kind, result}``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dingbridge.dingtalk import DingTalkError
from dingbridge.dingtalk.api.messages import text_message
from dingbridge.i18n import Message
from dingbridge.spaces.dingtalk_clients import DingTalkNotConfigured
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.event_settings import EventSettings, load_event_settings
from dingbridge.spaces.store import get_space

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

BINDING_MADE = "signin.binding_made"
SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class BindingMade:
    space_id: int
    userid: str


def binding_notice(space_name: str) -> Message:
    return Message(
        "Your DingTalk account has been bound to %(space)s. If this was not you, "
        "contact your administrator.",
        space=space_name,
    )


async def _space(context: AppContext, space_id: int) -> tuple[str, EventSettings]:
    async with context.db.session() as session:
        space = await get_space(session, space_id)
        return space.name, await load_event_settings(session, space_id)


async def send_notice(
    context: AppContext, space_id: int, userids: Sequence[str], text: Message, *, kind: str
) -> bool:
    """Send ``text`` (in the server's language) to ``userids`` as the space's app; whether
    DingTalk took it. Never raises for DingTalk's or the network's failures."""
    try:
        async with context.db.session() as session:
            config = await load_dingtalk(session, space_id)
        client = context.signin.clients.for_space(config)
        message = text_message(text.in_language(context.settings.language))
        await asyncio.wait_for(
            client.messages.asyncsend_v2(message, userid_list=list(userids)), SEND_TIMEOUT
        )
    except (DingTalkError, DingTalkNotConfigured, ValueError, OSError, TimeoutError) as exc:
        log.warning(
            "space %d: %s work notification to %d user(s) not sent: %s",
            space_id,
            kind,
            len(userids),
            type(exc).__name__ if isinstance(exc, TimeoutError) else exc,
        )
        context.metrics.work_notice(kind, "failed")
        return False
    log.info("space %d: %s work notification sent to %d user(s)", space_id, kind, len(userids))
    context.metrics.work_notice(kind, "sent")
    return True


async def bindings_made(context: AppContext, items: list[BindingMade]) -> None:
    """After a binding commits: tell the DingTalk user, when the space says so."""
    for item in items:
        try:
            name, settings = await _space(context, item.space_id)
        except Exception:
            log.exception("space %d: binding notice not sent", item.space_id)
            continue
        if settings.notify_binding:
            await send_notice(
                context, item.space_id, [item.userid], binding_notice(name), kind="binding"
            )


async def tell_admins(context: AppContext, space_id: int, text: Message, *, kind: str) -> bool:
    """Tell the space's admins, when it has some and says so; whether a notice was sent."""
    try:
        _name, settings = await _space(context, space_id)
    except Exception:
        log.exception("space %d: admin notice not sent", space_id)
        return False
    if not (settings.notify_admins and settings.admin_userids):
        return False
    return await send_notice(context, space_id, settings.admin_userids, text, kind=kind)


async def space_name(context: AppContext, space_id: int) -> str:
    name, _settings = await _space(context, space_id)
    return name
