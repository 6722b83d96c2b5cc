""" "从钉钉通讯录导入 / Import from DingTalk directory" as a background task with a progress record.

The console starts an import and returns at once; the task walks the directory
(:mod:`dingbridge.spaces.directory_import`) and writes its progress to the KV
(``dirimport:<space>``, kept an hour after it ends), which the members page polls. The record
lives in the KV, so with Redis any instance can show it; one import per space at a time (a KV
lock). The import itself is re-runnable: it updates members, never duplicates them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import Any

from dingbridge.context import AppContext
from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces.background_jobs import JobTasks, KvJob, now
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

MAX_SKIPPED_SHOWN = 100
_tasks = JobTasks()


def _job(context: AppContext, space_id: int) -> KvJob:
    return KvJob(context.kv, "dirimport", space_id)


async def import_state(context: AppContext, space_id: int) -> dict[str, Any] | None:
    """The current or last import of this space: status (running, done, failed), progress
    counts, the users skipped and why, the error; ``None`` when there was none lately."""
    return await _job(context, space_id).state()


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
    job = _job(context, space_id)
    record: dict[str, Any] = {
        "status": "running",
        "started_at": now(),
        "finished_at": None,
        "actor": actor,
        "progress": asdict(ImportProgress()),
        "error": None,
        "skipped": [],
    }
    if not await job.start(actor, record):
        await client.aclose()
        raise Conflict("An import from the DingTalk directory is already running for this space.")
    _tasks.spawn(_run(context, job, space_id, client, actor))
    return record


async def _run(context: AppContext, job: KvJob, space_id: int, client: Any, actor: str) -> None:
    try:
        async with client:
            report: DirectoryImportReport = await import_directory(
                context.db, client, space_id, actor=actor, progress=job.on_progress
            )
        await job.progress_written(strict=True)
        job.record.update(
            status="done",
            progress=asdict(report.progress),
            skipped=[asdict(s) for s in report.skipped[:MAX_SKIPPED_SHOWN]],
        )
    except asyncio.CancelledError:
        stopped = Message("The server stopped during the import; run it again.")
        job.fail(stopped.en, stopped.zh)
        raise
    except Exception as exc:
        await job.progress_written()
        hint = getattr(exc, "hint", None)  # a DingTalk error's fix, a catalog message
        english = hint.en if isinstance(hint, Message) else type(exc).__name__
        chinese = hint.zh if isinstance(hint, Message) else english
        log.warning("space %d: DingTalk directory import failed: %s", space_id, english)
        job.fail(english, chinese)
    finally:
        await job.finish()


async def stop_imports() -> None:
    """At shutdown: stop running imports (their records say so), before the database closes."""
    await _tasks.stop()
