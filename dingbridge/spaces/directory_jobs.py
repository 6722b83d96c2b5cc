""" "从钉钉通讯录导入 / Import from DingTalk directory" as a background task with a progress record.

The console starts an import and returns at once; the task walks the directory
(:mod:`dingbridge.spaces.directory_import`) and writes its progress to the KV
(``dirimport:<space>``, kept an hour after it ends), which the members page polls. The record
lives in the KV, so with Redis any instance can show it; one import per space at a time (a KV
lock). The import itself is re-runnable: it updates members, never duplicates them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from dingbridge.context import AppContext
from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.directory_import import (
    DirectoryImportReport,
    DirectoryNotConfigured,
    ImportProgress,
    client_for_space,
    import_directory,
)
from dingbridge.spaces.store import get_space

log = logging.getLogger(__name__)

RECORD_TTL = 3600
LOCK_TTL = 1800
MAX_SKIPPED_SHOWN = 100
_tasks: set[asyncio.Task[None]] = set()


def _record_key(space_id: int) -> str:
    return f"dirimport:{space_id}"


def _lock_key(space_id: int) -> str:
    return f"dirimport-lock:{space_id}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def import_state(context: AppContext, space_id: int) -> dict[str, Any] | None:
    """The current or last import of this space: status (running, done, failed), progress
    counts, the users skipped and why, the error; ``None`` when there was none lately."""
    raw = await context.kv.get(_record_key(space_id))
    return None if raw is None else dict(json.loads(raw))


async def start_import(context: AppContext, space_id: int, *, actor: str) -> dict[str, Any]:
    """Start an import in the background; :class:`Conflict` while one runs for this space."""
    async with context.db.session() as session:
        await get_space(session, space_id)
        stored = await load_dingtalk(session, space_id)
    try:
        client = client_for_space(
            context.settings,
            context.secret_box,
            stored,
            context.signin.clients.transport,
            observer=context.metrics.dingtalk_call,
        )
    except DirectoryNotConfigured:
        raise ValidationFailed(
            {"dingtalk": "Set the CorpId, AppKey and AppSecret (DingTalk settings) first."}
        ) from None
    if not await context.kv.set_if_absent(_lock_key(space_id), actor.encode(), LOCK_TTL):
        await client.aclose()
        raise Conflict("An import from the DingTalk directory is already running for this space.")
    record: dict[str, Any] = {
        "status": "running",
        "started_at": _now(),
        "finished_at": None,
        "actor": actor,
        "progress": asdict(ImportProgress()),
        "error": None,
        "skipped": [],
    }
    await _write(context, space_id, record)
    task = asyncio.create_task(_run(context, space_id, client, record, actor))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return record


async def _write(context: AppContext, space_id: int, record: dict[str, Any]) -> None:
    await context.kv.set(_record_key(space_id), json.dumps(record).encode(), RECORD_TTL)


async def _run(
    context: AppContext, space_id: int, client: Any, record: dict[str, Any], actor: str
) -> None:
    latest: list[ImportProgress] = []
    writer: list[asyncio.Task[None]] = []

    async def flush() -> None:
        while latest:
            record["progress"] = asdict(latest.pop())
            latest.clear()
            await _write(context, space_id, record)

    def on_progress(progress: ImportProgress) -> None:
        latest.append(progress)
        if not writer or writer[-1].done():
            writer.append(asyncio.create_task(flush()))

    try:
        async with client:
            report: DirectoryImportReport = await import_directory(
                context.db, client, space_id, actor=actor, progress=on_progress
            )
        if writer:
            await writer[-1]
        record.update(
            status="done",
            progress=asdict(report.progress),
            skipped=[asdict(s) for s in report.skipped[:MAX_SKIPPED_SHOWN]],
        )
    except asyncio.CancelledError:
        stopped = Message("The server stopped during the import; run it again.")
        record.update(status="failed", error=stopped.en, error_zh=stopped.zh)
        raise
    except Exception as exc:
        if writer:
            await asyncio.gather(writer[-1], return_exceptions=True)
        hint = getattr(exc, "hint", None)  # a DingTalk error's fix, a catalog message
        english = hint.en if isinstance(hint, Message) else type(exc).__name__
        chinese = hint.zh if isinstance(hint, Message) else english
        log.warning("space %d: DingTalk directory import failed: %s", space_id, english)
        record.update(status="failed", error=english, error_zh=chinese)
    finally:
        record["finished_at"] = _now()
        await _write(context, space_id, record)
        await context.kv.delete(_lock_key(space_id))


async def stop_imports() -> None:
    """At shutdown: stop running imports (their records say so), before the database closes."""
    running = [task for task in _tasks if not task.done()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
