"""What a directory event does to a space, once.

An event is applied at most once per space across every instance: its id is claimed in the
shared KV (``set_if_absent``) before it is applied, and released if applying fails, so
DingTalk's redelivery can try again.

- ``user_leave_org``: the user's members are disabled (kept, with their bindings); once that
  commits every session of theirs ends (:func:`dingbridge.spaces.members.access_ended`: their
  dingbridge and gate sessions, the tokens apps hold, back-channel logout), all audited.
- ``user_modify_org``: name, mobile, email and departments follow DingTalk (``v2/user/get``).
- ``user_add_org`` / ``user_active_org``: the same, and a member is created when the space's
  binding policy is ``auto_provision``.
- ``org_dept_*``: the space's departments follow DingTalk (``listsub`` from the root).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from dingbridge.dingtalk import DingTalkClient, UserNotFound
from dingbridge.events.payload import DirectoryEvent
from dingbridge.signin.binding_flow import get_policy
from dingbridge.spaces.dingtalk_settings import DingTalkConfig, load_dingtalk
from dingbridge.spaces.directory_changes import (
    apply_user_detail,
    disable_leaver,
    drop_department,
    save_department,
)

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

ACTOR = "dingtalk"
SEEN_TTL = 7 * 86400.0


def seen_key(space_id: int, event_id: str) -> str:
    return f"dingtalk-event:{space_id}:{event_id}"


async def handle_event(context: AppContext, space_id: int, event: DirectoryEvent) -> str:
    """Apply ``event`` to the space unless some instance already did; the outcome."""
    if not event.handled:
        return "ignored"
    key = seen_key(space_id, event.event_id)
    if not await context.kv.set_if_absent(key, b"1", SEEN_TTL):
        log.info("space %d: event %s already applied", space_id, event.event_type)
        return "duplicate"
    try:
        outcome = await apply_event(context, space_id, event)
    except BaseException:
        await context.kv.delete(key)
        raise
    log.info("space %d: DingTalk event %s -> %s", space_id, event.event_type, outcome)
    return outcome


async def apply_event(context: AppContext, space_id: int, event: DirectoryEvent) -> str:
    async with context.db.session() as session:
        config = await load_dingtalk(session, space_id)
        policy = await get_policy(session, space_id)
    if event.corp_id and config.corp_id and event.corp_id != config.corp_id:
        return "other_corp"
    if event.event_type == "user_leave_org":
        disabled = 0
        for userid in event.user_ids:
            disabled += await member_left(context, space_id, config.corp_id, userid)
        return f"left:{disabled}"
    if event.event_type.startswith("user_"):
        provision = policy == "auto_provision" and event.event_type != "user_modify_org"
        client = context.signin.clients.for_space(config)
        outcomes = [
            await _follow_user(context, client, config, userid, provision)
            for userid in event.user_ids
        ]
        return ",".join(outcomes) or "no_user"
    client = context.signin.clients.for_space(config)
    await follow_departments(
        context,
        client,
        space_id,
        removed=event.dept_ids if event.event_type == "org_dept_remove" else (),
    )
    return "departments"


async def member_left(context: AppContext, space_id: int, corp_id: str, userid: str) -> int:
    """Disable the user's members; their sessions have ended when this returns (the
    transaction's after-commit work). The number of members disabled."""
    async with context.db.transaction() as session:
        disabled = await disable_leaver(session, space_id, corp_id, userid, actor=ACTOR)
    return len(disabled)


async def _follow_user(
    context: AppContext,
    client: DingTalkClient,
    config: DingTalkConfig,
    userid: str,
    provision: bool,
) -> str:
    try:
        detail = await client.users.get(userid)
    except UserNotFound:
        return "not_in_directory"
    async with context.db.transaction() as session:
        return await apply_user_detail(
            session, config.space_id, config.corp_id, detail, provision=provision, actor=ACTOR
        )


async def follow_departments(
    context: AppContext, client: DingTalkClient, space_id: int, *, removed: tuple[int, ...] = ()
) -> int:
    """Save every department DingTalk lists (breadth first from the root); drop ``removed``."""
    found = []
    queue: deque[int] = deque([1])
    while queue:
        for dept in await client.contacts.listsub(queue.popleft()):
            found.append(dept)
            queue.append(dept.dept_id)
    async with context.db.transaction() as session:
        for dept in found:
            await save_department(session, space_id, dept.dept_id, dept.name, dept.parent_id)
        for dept_id in removed:
            await drop_department(session, space_id, dept_id)
    return len(found)
