"""What the sign-in pages need of a space, its members and bindings, kept in process.

A signed-in page view, a ticket exchange and a returning sign-in read the space (name, DingTalk
settings, binding policy, the apps on its home), the member and the binding from here instead
of the database. A space's entry (with the members and bindings read through it) is used only
while all of these hold:

- no transaction committed in this process touched the space since the entry was loaded: the
  database's commit listener sees every ``Space``, ``DingTalkSettingsRow``, ``SpaceApp``,
  ``Member`` and ``Binding`` row added, changed or deleted through the ORM, so an admin's change
  (settings, apps, a member disabled, deleted or unbound) applies on the next request;
- with SQLite, no connection at all committed to the database file since (``PRAGMA
  data_version``, read without a thread hop): a change made by another process (a ``dingbridge
  member …`` command, a second server on the same file) applies on the next request too;
- the space's version in the shared KV (``space-version:{id}``) is still the one read before
  the entry was loaded: after such a commit this process bumps it, so every other instance
  sharing the KV (Redis) drops its copy on its next request too;
- the entry is younger than ``max_age`` (5 s): with PostgreSQL, a change made by a process that
  does not bump the KV (a CLI command run without the servers' ``kv_url``) applies within that.

Only what exists is cached: an unknown or disabled space, an unknown member and a DingTalk user
without a binding are read from the database each time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound
from dingbridge.kv import KV, KVError
from dingbridge.signin.binding_flow import DEFAULT_POLICY, POLICIES
from dingbridge.spaces.app_access import may_use
from dingbridge.spaces.dingtalk_settings import DingTalkConfig, load_dingtalk
from dingbridge.storage.db import Database
from dingbridge.storage.models import (
    AppAccess,
    Binding,
    Department,
    DingTalkSettingsRow,
    Member,
    MemberDepartment,
    Space,
    SpaceApp,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = 5.0
EVERY_SPACE = "*"  # change key of a row whose space is not known (nothing loaded to tell)
# AppAccess and MemberDepartment rows carry no space id: a change to one drops every space.
_SPACE_ROWS = (
    DingTalkSettingsRow,
    SpaceApp,
    Member,
    Binding,
    Department,
    MemberDepartment,
    AppAccess,
)


@dataclass(frozen=True)
class AppView:
    """An app of the space with who may use it (see :mod:`dingbridge.spaces.app_access`).

    ``departments`` holds the granted departments and every department below them: granting
    研发部 lets the members of 前端组 in too."""

    id: int
    title: str
    url: str
    icon: str | None = None
    kind: str = "link"
    client_id: str | None = None
    access: str = "all"
    departments: frozenset[int] = frozenset()
    members: frozenset[int] = frozenset()
    # An OpenID Connect client's registration (dingbridge.oidc); each URI matched exactly.
    client_secret_hash: str | None = None
    public_client: bool = False
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None

    def allows(self, member: MemberView) -> bool:
        """Whether this member may use the app (disabled members may use none)."""
        return member.active and may_use(
            self.access,
            granted_departments=self.departments,
            granted_members=self.members,
            member_id=member.id,
            member_departments=member.department_ids,
        )


@dataclass(frozen=True)
class SpaceView:
    """An enabled space as its sign-in pages show it."""

    id: int
    name: str
    config: DingTalkConfig
    binding_policy: str
    apps: tuple[AppView, ...]

    def apps_for(self, member: MemberView) -> tuple[AppView, ...]:
        """The apps this member may use, in the space's order."""
        return tuple(app for app in self.apps if app.allows(member))

    def app(self, app_id: int) -> AppView | None:
        return next((app for app in self.apps if app.id == app_id), None)

    def app_by_client_id(self, client_id: str) -> AppView | None:
        return next((app for app in self.apps if app.client_id == client_id), None)


@dataclass(frozen=True)
class MemberView:
    id: int
    space_id: int
    name: str
    mobile: str
    status: str
    department_ids: frozenset[int] = frozenset()
    """The member's departments (:class:`~dingbridge.storage.models.Department` row ids)."""

    @property
    def active(self) -> bool:
        return self.status == "active"


async def _member_view(session: AsyncSession, member: Member) -> MemberView:
    departments = await session.scalars(
        select(MemberDepartment.department_id).where(MemberDepartment.member_id == member.id)
    )
    return MemberView(
        member.id,
        member.space_id,
        member.name,
        member.mobile,
        member.status,
        frozenset(departments),
    )


def space_of_row(row: object) -> Hashable | None:
    """The change key of an ORM object: its space id, :data:`EVERY_SPACE` when it belongs to a
    space that cannot be told without loading, ``None`` for rows no sign-in page shows."""
    if isinstance(row, Space):
        attribute = "id"
    elif isinstance(row, _SPACE_ROWS):
        attribute = "space_id"
    else:
        return None
    value = row.__dict__.get(attribute)  # the loaded value only: never a query inside a flush
    return value if isinstance(value, int) else EVERY_SPACE


def version_key(space_id: int) -> str:
    return f"space-version:{space_id}"


# (every-space generation, space generation, SQLite data_version, KV version)
_Version = tuple[int, int, int | None, bytes | None]


@dataclass
class _Entry:
    version: _Version
    loaded_at: float
    view: SpaceView
    members: dict[int, MemberView] = field(default_factory=dict)
    bindings: dict[tuple[str, str], MemberView] = field(default_factory=dict)


class SpaceCache:
    """The cache of one server process, over its database and the shared KV."""

    def __init__(
        self,
        db: Database,
        kv: KV,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._kv = kv
        self.max_age = max_age
        self._clock = clock
        self._entries: dict[int, _Entry] = {}
        self._generations: dict[int, int] = {}
        self._every_generation = 0
        self._unpublished: set[int] = set()
        self._publishing: set[asyncio.Task[None]] = set()
        db.on_commit(space_of_row, self.changed)

    # -- invalidation -----------------------------------------------------------------------
    def changed(self, keys: set[Hashable]) -> None:
        """Rows of these spaces changed (committed): drop their entries here at once and bump
        their versions in the KV for the other instances."""
        if EVERY_SPACE in keys:
            log.debug("a committed change of an unknown space: every cached space dropped")
            self._every_generation += 1
            self._entries.clear()
        spaces = {key for key in keys if isinstance(key, int)}
        for space_id in spaces:
            self._generations[space_id] = self._generations.get(space_id, 0) + 1
            self._entries.pop(space_id, None)
        if spaces:
            self._unpublished |= spaces
            task = asyncio.get_running_loop().create_task(self._publish())
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    async def _publish(self) -> None:
        while self._unpublished:
            space_id = self._unpublished.pop()
            try:
                await self._kv.incr(version_key(space_id))
            except KVError as exc:
                log.warning("space %d: could not publish a change to the KV: %s", space_id, exc)

    async def settle(self) -> None:
        """Wait until the versions bumped by this process's commits are in the KV (they are
        sent right after each commit; tests and shutdown wait for them)."""
        while pending := [task for task in self._publishing if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        await self.settle()

    # -- reading ----------------------------------------------------------------------------
    async def _entry(self, space_id: int) -> _Entry:
        local = (
            self._every_generation,
            self._generations.get(space_id, 0),
            self._db.data_version(),
        )
        version = (*local, await self._kv.get(version_key(space_id)))
        entry = self._entries.get(space_id)
        if (
            entry is not None
            and entry.version == version
            and self._clock() - entry.loaded_at < self.max_age
        ):
            return entry
        entry = _Entry(version, self._clock(), await _load_space(self._db, space_id))
        self._entries[space_id] = entry
        return entry

    async def space(self, space_id: int) -> SpaceView:
        """The enabled space; :class:`NotFound` when it does not exist or is disabled."""
        return (await self._entry(space_id)).view

    async def member(self, space_id: int, member_id: int) -> MemberView | None:
        """The member (any status) if it belongs to the space."""
        entry = await self._entry(space_id)
        found = entry.members.get(member_id)
        if found is None:
            async with self._db.session() as session:
                member = await session.get(Member, member_id)
                if member is None or member.space_id != space_id:
                    return None
                found = entry.members[member_id] = await _member_view(session, member)
        return found

    async def bound_member(self, space_id: int, corp_id: str, userid: str) -> MemberView | None:
        """The member (any status) this DingTalk user is bound to in the space, if any."""
        entry = await self._entry(space_id)
        found = entry.bindings.get((corp_id, userid))
        if found is None:
            async with self._db.session() as session:
                member = await session.scalar(
                    select(Member)
                    .join(Binding, Binding.member_id == Member.id)
                    .where(
                        Binding.space_id == space_id,
                        Binding.corp_id == corp_id,
                        Binding.userid == userid,
                    )
                )
                if member is None:
                    return None
                found = entry.bindings[(corp_id, userid)] = await _member_view(session, member)
        return found


def _sub_departments(tree: Sequence[tuple[int, int, int | None]]) -> dict[int, set[int]]:
    """Department row id → the row ids of every department below it (DingTalk's tree)."""
    row_of = {dept_id: row_id for row_id, dept_id, _ in tree}
    children: dict[int, list[int]] = {}
    for row_id, _, parent in tree:
        if parent is not None and parent in row_of:
            children.setdefault(row_of[parent], []).append(row_id)
    below: dict[int, set[int]] = {}
    for row_id, _, _ in tree:
        found: set[int] = set()
        stack = list(children.get(row_id, ()))
        while stack:
            child = stack.pop()
            if child not in found:
                found.add(child)
                stack.extend(children.get(child, ()))
        below[row_id] = found
    return below


async def _load_space(db: Database, space_id: int) -> SpaceView:
    """The space, its DingTalk settings and its apps in one query."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Space, DingTalkSettingsRow, SpaceApp)
                .outerjoin(DingTalkSettingsRow, DingTalkSettingsRow.space_id == Space.id)
                .outerjoin(SpaceApp, SpaceApp.space_id == Space.id)
                .where(Space.id == space_id)
                .order_by(SpaceApp.position, SpaceApp.id)
            )
        ).all()
        if not rows or not rows[0][0].enabled:
            raise NotFound("This app space does not exist or is disabled.")
        space, settings = rows[0][0], rows[0][1]
        config = await load_dingtalk(session, space_id)  # from the session: no second query
        grants = (
            await session.execute(
                select(AppAccess.app_id, AppAccess.department_id, AppAccess.member_id)
                .join(SpaceApp, SpaceApp.id == AppAccess.app_id)
                .where(SpaceApp.space_id == space_id)
            )
        ).all()
        tree = [
            (row_id, dept_id, parent)
            for row_id, dept_id, parent in await session.execute(
                select(Department.id, Department.dept_id, Department.parent_id).where(
                    Department.space_id == space_id
                )
            )
        ]
    within = _sub_departments(tree)
    departments: dict[int, set[int]] = {}
    members: dict[int, set[int]] = {}
    for app_id, department_id, member_id in grants:
        if department_id is not None:  # a department's grant covers its sub-departments
            departments.setdefault(app_id, set()).update(within.get(department_id, ()))
            departments[app_id].add(department_id)
        if member_id is not None:
            members.setdefault(app_id, set()).add(member_id)
    policy = settings.binding_policy if settings is not None else DEFAULT_POLICY
    return SpaceView(
        id=space.id,
        name=space.name,
        config=config,
        binding_policy=policy if policy in POLICIES else DEFAULT_POLICY,
        apps=tuple(
            AppView(
                id=app.id,
                title=app.title,
                url=app.url,
                icon=app.icon,
                kind=app.kind,
                client_id=app.client_id,
                access=app.access,
                departments=frozenset(departments.get(app.id, ())),
                members=frozenset(members.get(app.id, ())),
                client_secret_hash=app.client_secret_hash,
                public_client=app.public_client,
                redirect_uris=tuple(app.redirect_uris or ()),
                post_logout_redirect_uris=tuple(app.post_logout_redirect_uris or ()),
                backchannel_logout_uri=app.backchannel_logout_uri,
            )
            for _, _, app in rows
            if app is not None
        ),
    )
