"""A catch-up sync run for the server, the CLI and the schedule. Every member the sync disables
loses every session as soon as the run commits (:func:`dingbridge.spaces.members.access_ended`,
handled by the server's context; the CLI builds one, so sessions end on the running servers)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dingbridge.events.apply import ACTOR
from dingbridge.i18n import Message
from dingbridge.signin.work_notices import space_name, tell_admins
from dingbridge.spaces import audit
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.directory_import import ProgressCallback, client_for_space
from dingbridge.spaces.directory_sync import SyncReport, SyncStopped, sync_directory

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)


async def run_sync(
    context: AppContext,
    space_id: int,
    *,
    dry_run: bool = False,
    actor: str = ACTOR,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """Raises :class:`~dingbridge.spaces.directory_sync.SyncStopped` when the guard trips."""
    async with context.db.session() as session:
        stored = await load_dingtalk(session, space_id)
    transport = context.signin.clients.transport
    async with client_for_space(context.settings, context.secret_box, stored, transport) as client:
        try:
            report = await sync_directory(
                context.db, client, space_id, dry_run=dry_run, actor=actor, progress=progress
            )
        except SyncStopped as stopped:
            if not dry_run:  # the admin finds it in the audit log (the console shows it)
                async with context.db.transaction() as session:
                    await audit.record(
                        session,
                        actor,
                        "member.sync_stopped",
                        f"space:{space_id}",
                        {
                            "would_disable": len(stopped.report.departures),
                            "active_members": stopped.report.active_members,
                            "guard_percent": stopped.report.guard_percent,
                        },
                    )
                notice = await sync_stopped_notice(context, stopped)
                await tell_admins(context, space_id, notice, kind="sync_stopped")
            log.warning("space %d: %s", space_id, stopped.message)
            raise
    return report


async def sync_stopped_notice(context: AppContext, stopped: SyncStopped) -> Message:
    report = stopped.report
    return Message(
        "dingbridge stopped the directory sync of %(space)s: it would have disabled "
        "%(count)s of %(active)s active members, more than the guard's %(percent)s%%. "
        "Nothing was changed. Check the app's contacts scope in the DingTalk developer "
        "console, then sync again from the admin console.",
        space=await space_name(context, report.space_id),
        count=len(report.departures),
        active=report.active_members,
        percent=report.guard_percent,
    )


def describe(report: SyncReport) -> list[str]:
    """The report as lines for a terminal (what a dry run would do, or what was done)."""
    verb = "would disable" if report.dry_run else "disabled"
    lines = [
        f"space {report.space_id}: {report.users_seen} users in DingTalk, "
        f"{report.leave_records} leave records, {report.active_members} active members"
    ]
    lines += [f"  {verb}: {d.name} ({d.userid}) - {d.reason}" for d in report.departures]
    lines.append(
        f"  {'would update' if report.dry_run else 'updated'}: {report.updated}, "
        f"{'would create' if report.dry_run else 'created'}: {report.created}, "
        f"unchanged: {report.unchanged}"
    )
    if report.dry_run:
        lines.append("  dry run: nothing was changed")
    return lines
