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
import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.events.sync_run import run_sync
from dingbridge.i18n import Message
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.directory_import import ImportProgress
from dingbridge.spaces.directory_sync import SyncReport, SyncStopped
from dingbridge.spaces.store import get_space

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

RECORD_TTL = 3600
LOCK_TTL = 1800
MAX_SHOWN = 100
_tasks: set[asyncio.Task[None]] = set()


def _record_key(space_id: int) -> str:
    return f"dirsync:{space_id}"


def _lock_key(space_id: int) -> str:
    return f"dirsync-lock:{space_id}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def sync_state(context: AppContext, space_id: int) -> dict[str, Any] | None:
    """The current or last console run of this space; ``None`` when there was none lately."""
    raw = await context.kv.get(_record_key(space_id))
    return None if raw is None else dict(json.loads(raw))


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
    if not await context.kv.set_if_absent(_lock_key(space_id), actor.encode(), LOCK_TTL):
        raise Conflict("A directory sync is already running for this space.")
    record: dict[str, Any] = {
        "status": "running",
        "dry_run": dry_run,
        "started_at": _now(),
        "finished_at": None,
        "actor": actor,
        "progress": asdict(ImportProgress()),
        "report": None,
        "error": None,
    }
    await _write(context, space_id, record)
    task = asyncio.create_task(_run(context, space_id, record, dry_run, actor))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return record


async def _write(context: AppContext, space_id: int, record: dict[str, Any]) -> None:
    await context.kv.set(_record_key(space_id), json.dumps(record).encode(), RECORD_TTL)


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


async def _run(
    context: AppContext, space_id: int, record: dict[str, Any], dry_run: bool, actor: str
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
        report = await run_sync(
            context, space_id, dry_run=dry_run, actor=actor, progress=on_progress
        )
        record.update(status="done", report=_report(report))
    except SyncStopped as stopped:
        record.update(status="stopped", report=_report(stopped.report))
    except asyncio.CancelledError:
        record.update(
            status="failed",
            error="The server stopped during the sync; run it again.",
            error_zh="同步过程中服务器停止了，请重新同步。",
        )
        raise
    except Exception as exc:
        english = str(getattr(exc, "explanation_en", "") or getattr(exc, "message", "") or exc)
        chinese = str(getattr(exc, "explanation", "") or english)
        log.warning("space %d: directory sync from the console failed: %s", space_id, english)
        record.update(status="failed", error=english, error_zh=chinese)
    finally:
        if writer:
            await asyncio.gather(writer[-1], return_exceptions=True)
        record["finished_at"] = _now()
        await _write(context, space_id, record)
        await context.kv.delete(_lock_key(space_id))


async def stop_sync_jobs() -> None:
    """At shutdown: stop running syncs (their records say so), before the database closes."""
    running = [task for task in _tasks if not task.done()]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
