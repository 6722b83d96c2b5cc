"""The catch-up sync: a space's members follow DingTalk's directory, events missed or not.

It walks the directory with :func:`~dingbridge.spaces.directory_import.walk_directory` and
reads ``empLeaveRecords`` since the last run, then, in one transaction:

- members linked to DingTalk (a ``dingtalk_userid`` or a binding of the space's corp) whose
  user is no longer in the directory are disabled (those in the leave records with DingTalk's
  leave time and reason);
- linked members get DingTalk's name, mobile, email; users matching no member become members
  only when the space's binding policy is ``auto_provision``.

**The guard**: when the run would disable more than ``sync_guard_percent`` (default 10 %) of
the space's active members, it stops before changing anything (:class:`SyncStopped`): a
directory read with a too-narrow permission scope looks like a mass departure. A dry run
does all the work in a transaction that is rolled back, and reports what it would do.
Ending the disabled members' sessions is the caller's (:mod:`dingbridge.events.sync_run`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.dingtalk import DingTalkClient
from dingbridge.dingtalk.api.contacts import LeaveRecord
from dingbridge.errors import Conflict
from dingbridge.spaces import audit
from dingbridge.spaces.directory_changes import LEFT_REASON, disable_leaver
from dingbridge.spaces.directory_import import (
    DirectoryWalk,
    ProgressCallback,
    upsert_members,
    walk_directory,
)
from dingbridge.spaces.event_settings import load_event_settings, mark_synced
from dingbridge.storage.db import Database
from dingbridge.storage.models import Binding, DingTalkSettingsRow, Member, utcnow

log = logging.getLogger(__name__)

FIRST_LOOKBACK = timedelta(days=30)
"""How far back the first run reads the leave records."""


@dataclass(frozen=True)
class Departure:
    member_id: int
    name: str
    userid: str
    reason: str


@dataclass
class SyncReport:
    space_id: int
    dry_run: bool
    users_seen: int = 0
    leave_records: int = 0
    active_members: int = 0
    guard_percent: int = 10
    departures: list[Departure] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stopped: bool = False

    @property
    def share(self) -> float:
        return len(self.departures) / self.active_members if self.active_members else 0.0


class SyncStopped(Conflict):
    """The guard stopped the run: nothing was changed."""

    code = "sync_guard"

    def __init__(self, report: SyncReport) -> None:
        self.report = report
        super().__init__(
            f"The sync would disable {len(report.departures)} of {report.active_members} active "
            f"members ({report.share:.0%}), more than the guard allows "
            f"({report.guard_percent}%): nothing was changed. Check the app's contacts scope "
            "in DingTalk, or raise the guard if this is right."
        )


class _DryRun(Exception):
    def __init__(self, report: SyncReport) -> None:
        self.report = report


async def sync_directory(
    db: Database,
    client: DingTalkClient,
    space_id: int,
    *,
    dry_run: bool = False,
    actor: str = "sync",
    now: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> SyncReport:
    """One catch-up run (see the module); raises :class:`SyncStopped` when the guard trips."""
    now = now or utcnow()
    async with db.session() as session:
        settings = await load_event_settings(session, space_id)
    since = settings.last_sync_at or (now - FIRST_LOOKBACK)
    walk = await walk_directory(client, progress)
    users = walk.users
    records = await client.contacts.leave_records(since - timedelta(minutes=5))
    report = SyncReport(space_id, dry_run, len(users), len(records), 0, settings.guard_percent)
    try:
        async with db.transaction() as session:
            await _apply(session, report, client.corp_id or "", walk, records, now, actor)
            if dry_run:
                raise _DryRun(report)
    except _DryRun:
        return report
    log.info(
        "space %d: directory sync: %d users, %d left, %d updated, %d created",
        space_id,
        report.users_seen,
        len(report.departures),
        report.updated,
        report.created,
    )
    return report


async def _apply(
    session: AsyncSession,
    report: SyncReport,
    corp_id: str,
    walk: DirectoryWalk,
    records: list[LeaveRecord],
    now: datetime,
    actor: str,
) -> None:
    space_id = report.space_id
    users = walk.users
    members = list(await session.scalars(select(Member).where(Member.space_id == space_id)))
    rows = await session.execute(
        select(Binding.member_id, Binding.userid).where(
            Binding.space_id == space_id, Binding.corp_id == corp_id
        )
    )
    bound = {member_id: userid for member_id, userid in rows}
    present = {u.userid for u in users}
    leave_reason = {r.userid: r.reason for r in records}
    report.active_members = sum(m.status == "active" for m in members)
    linked: set[str] = set()
    for member in members:
        userid = member.dingtalk_userid or bound.get(member.id)
        if not userid:
            continue  # added by hand, never linked to DingTalk: not ours to disable
        linked.add(userid)
        if member.status == "active" and userid not in present:
            reason = LEFT_REASON + (
                f" ({leave_reason[userid]})" if leave_reason.get(userid) else ""
            )
            report.departures.append(Departure(member.id, member.name, userid, reason))
    limit = report.active_members * report.guard_percent / 100
    if report.departures and len(report.departures) > limit:
        report.stopped = True
        raise SyncStopped(report)
    for departure in report.departures:
        await disable_leaver(
            session,
            space_id,
            corp_id,
            departure.userid,
            actor=actor,
            reason=departure.reason,
            when=now,
        )
    row = await session.get(DingTalkSettingsRow, space_id)
    provision = row is not None and row.binding_policy == "auto_provision"
    wanted = users if provision else [u for u in users if u.userid in linked]
    imported = await upsert_members(
        session, space_id, wanted, actor=actor, departments=walk.departments
    )
    report.created = imported.created
    report.updated = imported.updated
    report.unchanged = imported.progress.unchanged
    await audit.record(
        session,
        actor,
        "member.sync_dingtalk",
        f"space:{space_id}",
        {
            "users_seen": report.users_seen,
            "disabled": len(report.departures),
            "created": report.created,
            "updated": report.updated,
            "dry_run": report.dry_run,
        },
    )
    if not report.dry_run:
        await mark_synced(session, space_id, now)
