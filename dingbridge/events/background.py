"""The server's event tasks: the Stream runner, the nightly catch-up sync, and (stopped here at
shutdown) the syncs started from the console."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from dingbridge.events.schedule import nightly_sync
from dingbridge.events.stream import StreamRunner
from dingbridge.events.sync_jobs import stop_sync_jobs

if TYPE_CHECKING:
    from dingbridge.context import AppContext


def start_event_tasks(context: AppContext) -> list[asyncio.Task[None]]:
    tasks = []
    if context.settings.event_streams:
        tasks.append(asyncio.create_task(StreamRunner(context).run(), name="dingtalk-streams"))
    if context.settings.directory_sync_hour >= 0:
        tasks.append(asyncio.create_task(nightly_sync(context), name="directory-sync"))
    return tasks


async def stop_event_tasks(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await stop_sync_jobs()
