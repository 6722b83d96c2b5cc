"""A console job run in the background, its record kept in the KV: what the directory import
(:mod:`dingbridge.spaces.directory_jobs`) and the console's sync
(:mod:`dingbridge.events.sync_jobs`) share.

The console starts a job and returns at once; the task writes its progress and outcome to the
KV under ``<prefix>:<space>`` (kept an hour), which the page polls, so with Redis any instance
can show it. One job of a kind per space at a time: ``<prefix>-lock:<space>`` (a KV lock, given
up when the job ends, or after half an hour if the server died with it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dingbridge.kv import KV

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RECORD_TTL = 3600
LOCK_TTL = 1800


def now() -> str:
    """The time as a job record shows it."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class KvJob:
    """One space's job of one kind: its record (``self.record``) and lock in the KV."""

    def __init__(self, kv: KV, prefix: str, space_id: int) -> None:
        self.kv = kv
        self.record_key = f"{prefix}:{space_id}"
        self.lock_key = f"{prefix}-lock:{space_id}"
        self.record: dict[str, Any] = {}
        self._writer: asyncio.Task[None] | None = None
        self._latest: list[DataclassInstance] = []

    async def state(self) -> dict[str, Any] | None:
        """The current or last job's record; ``None`` when there was none lately."""
        raw = await self.kv.get(self.record_key)
        return None if raw is None else dict(json.loads(raw))

    async def start(self, actor: str, record: dict[str, Any]) -> bool:
        """Take the lock and write the first record; ``False`` (nothing written) while a job of
        this kind runs for the space."""
        if not await self.kv.set_if_absent(self.lock_key, actor.encode(), LOCK_TTL):
            return False
        self.record = record
        await self.write()
        return True

    async def write(self) -> None:
        await self.kv.set(self.record_key, json.dumps(self.record).encode(), RECORD_TTL)

    def on_progress(self, progress: DataclassInstance) -> None:
        """A progress callback: records the latest progress, one write at a time (progress
        reported while a write is under way is written next, only the latest of it)."""
        self._latest.append(progress)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._latest:
            self.record["progress"] = asdict(self._latest.pop())
            self._latest.clear()
            await self.write()

    async def progress_written(self, *, strict: bool = False) -> None:
        """Wait for the progress write under way, if any; its failure raises only when
        ``strict``."""
        if self._writer is None:
            return
        if strict:
            await self._writer
        else:
            await asyncio.gather(self._writer, return_exceptions=True)

    def fail(self, english: str, chinese: str) -> None:
        self.record.update(status="failed", error=english, error_zh=chinese)

    async def finish(self) -> None:
        """Stamp the end, write the last record and give up the lock."""
        self.record["finished_at"] = now()
        await self.write()
        await self.kv.delete(self.lock_key)


class JobTasks:
    """The running tasks of one kind of job, kept (so they are not collected) until they end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel the running tasks and wait for them to write their last records."""
        running = [task for task in self._tasks if not task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
