"""The console's "立即同步 / Sync now" and its preview: a catch-up sync run in the background.

As the directory import (:mod:`dingbridge.spaces.directory_jobs`): the console starts a run and
returns at once; the task (:func:`dingbridge.events.sync_run.run_sync`) writes its progress and
outcome to the KV (``dirsync:<space>``, kept an hour), which the page polls, so with Redis any
instance can show it; one run per space at a time (a KV lock). The outcome is ``done`` (what
was disabled, updated, created — or, for a preview, what would be), ``stopped`` (the guard:
nothing was changed) or ``failed`` (DingTalk's explanation).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.events.sync_run import run_sync
from dingbridge.i18n import Message
from dingbridge.spaces.background_jobs import JobTasks, KvJob, now
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.directory_import import ImportProgress
from dingbridge.spaces.directory_sync import SyncReport, SyncStopped
from dingbridge.spaces.store import get_space

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

MAX_SHOWN = 100
_tasks = JobTasks()


def _job(context: AppContext, space_id: int) -> KvJob:
    return KvJob(context.kv, "dirsync", space_id)


async def sync_state(context: AppContext, space_id: int) -> dict[str, Any] | None:
    """The current or last console run of this space; ``None`` when there was none lately."""
    return await _job(context, space_id).state()


async def start_sync(
    context: AppContext, space_id: int, *, dry_run: bool, actor: str
) -> dict[str, Any]:
    """Start a run (a preview when ``dry_run``); :class:`Conflict` while one runs."""
    async with context.db.session() as session:
        await get_space(session, space_id)
        config = await load_dingtalk(session, space_id)
    if not (config.corp_id and config.app_key and config.has_app_secret):
        raise ValidationFailed(
            {"dingtalk": Message("Set the CorpId, AppKey and AppSecret (DingTalk settings) first.")}
        )
    job = _job(context, space_id)
    record: dict[str, Any] = {
        "status": "running",
        "dry_run": dry_run,
        "started_at": now(),
        "finished_at": None,
        "actor": actor,
        "progress": asdict(ImportProgress()),
        "report": None,
        "error": None,
    }
    if not await job.start(actor, record):
        raise Conflict("A directory sync is already running for this space.")
    _tasks.spawn(_run(context, job, space_id, dry_run, actor))
    return record


def _report(report: SyncReport) -> dict[str, Any]:
    return {
        "users_seen": report.users_seen,
        "leave_records": report.leave_records,
        "active_members": report.active_members,
        "guard_percent": report.guard_percent,
        "disabled": len(report.departures),
        "departures": [asdict(d) for d in report.departures[:MAX_SHOWN]],
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }


async def _run(context: AppContext, job: KvJob, space_id: int, dry_run: bool, actor: str) -> None:
    try:
        report = await run_sync(
            context, space_id, dry_run=dry_run, actor=actor, progress=job.on_progress
        )
        job.record.update(status="done", report=_report(report))
    except SyncStopped as stopped:
        job.record.update(status="stopped", report=_report(stopped.report))
    except asyncio.CancelledError:
        job.fail(
            "The server stopped during the sync; run it again.",
            "同步过程中服务器停止了，请重新同步。",
        )
        raise
    except Exception as exc:
        english = str(getattr(exc, "explanation_en", "") or getattr(exc, "message", "") or exc)
        chinese = str(getattr(exc, "explanation", "") or english)
        log.warning("space %d: directory sync from the console failed: %s", space_id, english)
        job.fail(english, chinese)
    finally:
        await job.progress_written()
        await job.finish()


async def stop_sync_jobs() -> None:
    """At shutdown: stop running syncs (their records say so), before the database closes."""
    await _tasks.stop()
