"""The nightly catch-up sync of every space that receives DingTalk events.

At ``directory_sync_hour`` (server time) each instance wakes; for each space, the first
instance to claim ``directory-sync:{space}:{date}`` in the shared KV runs it, the others skip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dingbridge.dingtalk import DingTalkError
from dingbridge.errors import DingbridgeError
from dingbridge.spaces.directory_import import DirectoryNotConfigured
from dingbridge.spaces.event_settings import spaces_listening

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)


def seconds_until(hour: int, now: datetime) -> float:
    target = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    return (target - now).total_seconds()


async def nightly_sync(
    context: AppContext, *, clock: Callable[[], datetime] = datetime.now
) -> None:
    while True:
        await asyncio.sleep(seconds_until(context.settings.directory_sync_hour, clock()))
        await run_due_syncs(context, clock().date().isoformat())


async def run_due_syncs(context: AppContext, day: str) -> list[int]:
    """Sync each listening space not yet synced ``day`` by any instance; the spaces run."""
    from dingbridge.events.sync_run import run_sync

    async with context.db.session() as session:
        spaces = await spaces_listening(session, "stream")
        spaces += await spaces_listening(session, "http")
    ran = []
    for space_id in sorted(set(spaces)):
        if not await context.kv.set_if_absent(f"directory-sync:{space_id}:{day}", b"1", 86400):
            continue
        try:
            await run_sync(context, space_id)
            ran.append(space_id)
        except (DingbridgeError, DingTalkError, DirectoryNotConfigured) as exc:
            log.warning("space %d: nightly directory sync did not run through: %s", space_id, exc)
    return ran
