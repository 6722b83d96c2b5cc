"""Import a space's members from its DingTalk directory (通讯录).

Departments are walked breadth-first from the root (``listsub``), the members of each are
paged (``v2/user/list``, 100 a page) and deduplicated (a person can sit in several
departments). Each DingTalk user then becomes or updates one member of the space: matched by
DingTalk userid first, then by mobile; name, email and mobile are updated, the member is
marked with its ``dingtalk_userid``, never duplicated. The departments and each imported
member's departments are recorded too (:mod:`dingbridge.spaces.departments`), for apps granted
to chosen departments. Running it again creates nothing new.

DingTalk leaves ``mobile`` out when the app lacks the 企业员工手机号信息 field permission: such
users are reported (``without_mobile``), never created with an empty mobile.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.dingtalk import DingTalkClient, MemoryTokenStore, Transport, UserDetail
from dingbridge.dingtalk.caller import CallObserver
from dingbridge.settings import Settings, secret_keys
from dingbridge.spaces import audit
from dingbridge.spaces.departments import DirectoryDepartment, record_directory
from dingbridge.spaces.dingtalk_clients import DingTalkClients
from dingbridge.spaces.dingtalk_settings import DingTalkConfig, load_dingtalk, reveal_app_secret
from dingbridge.spaces.members import DEFAULT_ROLE
from dingbridge.spaces.mobile import InvalidMobile, normalize_mobile
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import get_space
from dingbridge.storage.db import Database
from dingbridge.storage.models import Member

__all__ = [
    "DirectoryImportReport",
    "DirectoryNotConfigured",
    "DirectoryWalk",
    "ImportProgress",
    "SkippedUser",
    "client_for_space",
    "import_dingtalk_directory",
    "import_directory",
    "upsert_members",
    "walk_directory",
]

log = logging.getLogger(__name__)

ROOT_DEPT_ID = 1
PAGE_SIZE = 100
MAX_NAME = 100


@dataclass(frozen=True)
class ImportProgress:
    """Where an import is; passed to the progress callback after each step."""

    phase: str = "walking"  # walking → saving → done
    departments_done: int = 0
    departments_found: int = 1
    users_seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_without_mobile: int = 0
    skipped_invalid_mobile: int = 0
    conflicts: int = 0


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True)
class SkippedUser:
    userid: str
    name: str
    reason: str  # "no_mobile", "invalid_mobile", "mobile_taken"


@dataclass
class DirectoryImportReport:
    progress: ImportProgress = field(default_factory=ImportProgress)
    skipped: list[SkippedUser] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.progress.created

    @property
    def updated(self) -> int:
        return self.progress.updated

    @property
    def without_mobile(self) -> list[SkippedUser]:
        return [s for s in self.skipped if s.reason == "no_mobile"]


def _notify(callback: ProgressCallback | None, progress: ImportProgress) -> None:
    if callback is not None:
        callback(progress)


@dataclass
class DirectoryWalk:
    """What a walk found: every user (deduplicated by userid, in the order first seen) and
    every department (the root first)."""

    users: list[UserDetail]
    departments: list[DirectoryDepartment]
    progress: ImportProgress


async def walk_directory(
    client: DingTalkClient,
    progress: ProgressCallback | None = None,
    *,
    state: ImportProgress | None = None,
) -> DirectoryWalk:
    """Every department and member of the corp, breadth-first from the root."""
    current = state or ImportProgress()
    queue: deque[int] = deque([ROOT_DEPT_ID])
    departments = {ROOT_DEPT_ID: DirectoryDepartment(ROOT_DEPT_ID, "", None)}
    users: dict[str, UserDetail] = {}
    while queue:
        dept_id = queue.popleft()
        for child in await client.contacts.listsub(dept_id):
            if child.dept_id not in departments:
                departments[child.dept_id] = DirectoryDepartment(
                    child.dept_id, child.name, child.parent_id
                )
                queue.append(child.dept_id)
        current = replace(current, departments_found=len(departments))
        async for page in client.contacts.user_list_pages(dept_id, size=PAGE_SIZE):
            for user in page:
                users.setdefault(user.userid, user)
            current = replace(current, users_seen=len(users))
            _notify(progress, current)
        current = replace(current, departments_done=current.departments_done + 1)
        _notify(progress, current)
    return DirectoryWalk(list(users.values()), list(departments.values()), current)


def _mobile_of(user: UserDetail) -> str | None:
    if not user.mobile:
        return None
    if user.state_code and user.state_code not in ("86", "+86"):
        return f"+{user.state_code.lstrip('+')}{user.mobile}"
    return user.mobile


def _email_of(user: UserDetail) -> str | None:
    for value in (user.email, user.org_email):
        email = (value or "").strip()
        if email and "@" in email and len(email) <= 254 and not any(c.isspace() for c in email):
            return email
    return None


def _name_of(user: UserDetail) -> str:
    return (" ".join(user.name.split()) or user.userid)[:MAX_NAME]


async def upsert_members(
    session: AsyncSession,
    space_id: int,
    users: list[UserDetail],
    *,
    actor: str,
    progress: ProgressCallback | None = None,
    state: ImportProgress | None = None,
    departments: Sequence[DirectoryDepartment] = (),
) -> DirectoryImportReport:
    """Create or update one member per DingTalk user, in the caller's transaction; with
    ``departments`` (a walk's), also record the space's departments and each imported member's
    (:func:`~dingbridge.spaces.departments.record_directory`)."""
    report = DirectoryImportReport(replace(state or ImportProgress(), phase="saving"))
    members = (await session.scalars(select(Member).where(Member.space_id == space_id))).all()
    by_userid = {m.dingtalk_userid: m for m in members if m.dingtalk_userid}
    by_mobile = {m.mobile: m for m in members}
    counts = {"created": 0, "updated": 0, "unchanged": 0, "no_mobile": 0, "invalid": 0, "taken": 0}

    def skip(user: UserDetail, reason: str, counter: str) -> None:
        report.skipped.append(SkippedUser(user.userid, _name_of(user), reason))
        counts[counter] += 1

    for index, user in enumerate(users, start=1):
        member = by_userid.get(user.userid)
        raw_mobile = _mobile_of(user)
        mobile: str | None = None
        if raw_mobile is not None:
            try:
                mobile = normalize_mobile(raw_mobile)
            except InvalidMobile:
                mobile = None
        if member is None:
            if raw_mobile is None:
                skip(user, "no_mobile", "no_mobile")
                continue
            if mobile is None:
                skip(user, "invalid_mobile", "invalid")
                continue
            member = by_mobile.get(mobile)
            if member is not None and member.dingtalk_userid not in (None, user.userid):
                skip(user, "mobile_taken", "taken")
                continue
        if mobile is not None and member is not None and member.mobile != mobile:
            holder = by_mobile.get(mobile)
            if holder is not None and holder is not member:
                skip(user, "mobile_taken", "taken")
                continue
        email = _email_of(user)
        if member is None:
            assert mobile is not None
            member = Member(
                space_id=space_id,
                name=_name_of(user),
                mobile=mobile,
                email=email,
                status="active",
                role=DEFAULT_ROLE,
                dingtalk_userid=user.userid,
            )
            session.add(member)
            counts["created"] += 1
        else:
            before = (member.name, member.mobile, member.email, member.dingtalk_userid)
            if mobile is not None and member.mobile != mobile:
                by_mobile.pop(member.mobile, None)
                member.mobile = mobile
            member.name = _name_of(user)
            member.email = email or member.email  # keep ours when DingTalk shows none
            member.dingtalk_userid = user.userid
            after = (member.name, member.mobile, member.email, member.dingtalk_userid)
            counts["updated" if after != before else "unchanged"] += 1
        by_userid[user.userid] = member
        by_mobile[member.mobile] = member
        if index % 50 == 0:
            await session.flush()
            report.progress = _progress(report.progress, counts)
            _notify(progress, report.progress)
    await session.flush()
    recorded = None
    if departments:
        memberships = {
            member.id: user.dept_id_list
            for user in users
            if (member := by_userid.get(user.userid)) is not None
        }
        settings = await load_dingtalk(session, space_id)
        recorded = await record_directory(
            session, space_id, departments, memberships, root_name=settings.corp_name
        )
    report.progress = replace(_progress(report.progress, counts), phase="done")
    p = report.progress
    await audit.record(
        session,
        actor,
        "member.import_dingtalk",
        f"space:{space_id}",
        {
            "users_seen": p.users_seen,
            "created": p.created,
            "updated": p.updated,
            "unchanged": p.unchanged,
            "skipped_without_mobile": p.skipped_without_mobile,
            "skipped_invalid_mobile": p.skipped_invalid_mobile,
            "conflicts": p.conflicts,
            **({"departments": recorded.departments} if recorded else {}),
        },
    )
    _notify(progress, report.progress)
    return report


def _progress(current: ImportProgress, counts: dict[str, int]) -> ImportProgress:
    return replace(
        current,
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        skipped_without_mobile=counts["no_mobile"],
        skipped_invalid_mobile=counts["invalid"],
        conflicts=counts["taken"],
    )


async def import_directory(
    db: Database,
    client: DingTalkClient,
    space_id: int,
    *,
    actor: str,
    progress: ProgressCallback | None = None,
) -> DirectoryImportReport:
    """Walk the directory (no database transaction held meanwhile), then save every member
    in one transaction: all or nothing."""
    async with db.session() as session:
        await get_space(session, space_id)
    walk = await walk_directory(client, progress)
    async with db.transaction() as session:
        report = await upsert_members(
            session,
            space_id,
            walk.users,
            actor=actor,
            progress=progress,
            state=walk.progress,
            departments=walk.departments,
        )
    log.info(
        "space %d: DingTalk directory import: %d seen, %d created, %d updated, %d without mobile",
        space_id,
        report.progress.users_seen,
        report.progress.created,
        report.progress.updated,
        report.progress.skipped_without_mobile,
    )
    return report


class DirectoryNotConfigured(ValueError):
    """The space has no AppKey/AppSecret/CorpId to call DingTalk with."""


def client_for_space(
    settings: Settings,
    box: SecretBox,
    stored: DingTalkConfig,
    transport: Transport | None,
    *,
    observer: CallObserver | None = None,
) -> DingTalkClient:
    """A client for the space's stored settings (whether or not sign-in is turned on);
    ``observer`` sees each HTTP attempt (the server's metrics)."""
    if not (stored.app_key and stored.has_app_secret and stored.corp_id):
        raise DirectoryNotConfigured(
            f"space {stored.space_id}: set the CorpId, AppKey and AppSecret first "
            "(钉钉授权(微应用), or `dingbridge space dingtalk`)"
        )
    registry = DingTalkClients(settings, box, MemoryTokenStore(), transport=transport)
    return DingTalkClient(
        app_key=stored.app_key,
        app_secret=reveal_app_secret(box, stored),
        corp_id=stored.corp_id,
        agent_id=int(stored.agent_id) if stored.agent_id.isdigit() else None,
        api_version="v1" if stored.api_version == "v1" else "v2",
        endpoints=registry.endpoints(stored),
        transport=transport,
        observer=observer,
    )


def import_dingtalk_directory(
    settings: Settings,
    space_id: int,
    *,
    actor: str = "cli",
    progress: ProgressCallback | None = None,
    transport: Transport | None = None,
) -> DirectoryImportReport:
    """``dingbridge member import-dingtalk SPACE``: migrations, the client, the import."""
    from dingbridge.storage import migrate

    migrate.upgrade(settings.effective_database_url)
    box = SecretBox(secret_keys(settings))

    async def main() -> DirectoryImportReport:
        db = Database(settings.effective_database_url)
        try:
            async with db.session() as session:
                await get_space(session, space_id)
                stored = await load_dingtalk(session, space_id)
            async with client_for_space(settings, box, stored, transport) as client:
                return await import_directory(db, client, space_id, actor=actor, progress=progress)
        finally:
            await db.dispose()

    return asyncio.run(main())
