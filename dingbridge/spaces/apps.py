"""A space's apps: create, update, list, delete, rotate an OIDC client's secret, and set who may
use each one.

An app is a plain link, an OpenID Connect client of the space or an app behind the forward-auth
gate (``kind``). Who may use it is every member, members of chosen departments or chosen
members (``access`` and :class:`~dingbridge.storage.models.AppAccess` rows; the rule itself is
:mod:`dingbridge.spaces.app_access`). The fields and their checks are in
:mod:`dingbridge.spaces.app_input`.

An OIDC app gets a ``client_id``; a confidential one also a client secret, returned once by the
call that issued it (:class:`SavedApp`) and stored as a hash only. Every change is audited,
never with the secret or its hash. Running servers see a change on their next request (the space
cache watches these rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.i18n import Message
from dingbridge.spaces import audit
from dingbridge.spaces.app_access import hash_client_secret, new_client_id, new_client_secret
from dingbridge.spaces.app_input import AppInput, CleanApp, clean_app_input
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import AppAccess, Department, Member, SpaceApp

__all__ = [
    "AppDetail",
    "AppInput",
    "SavedApp",
    "add_app",
    "create_space_app",
    "delete_app",
    "find_app",
    "get_app",
    "list_apps",
    "rotate_client_secret",
    "set_app_access",
    "space_apps",
    "update_space_app",
]


@dataclass(frozen=True)
class AppDetail:
    """An app with the departments (row ids) and members it is granted to."""

    app: SpaceApp
    departments: tuple[int, ...] = ()
    members: tuple[int, ...] = ()

    def as_input(self) -> AppInput:
        """The app as its edit form shows it."""
        app = self.app
        return AppInput(
            name=app.title,
            url=app.url,
            icon=app.icon or "",
            kind=app.kind,
            access=app.access,
            departments=self.departments,
            members=self.members,
            redirect_uris=tuple(app.redirect_uris or ()),
            post_logout_redirect_uris=tuple(app.post_logout_redirect_uris or ()),
            backchannel_logout_uri=app.backchannel_logout_uri or "",
            public_client=app.public_client,
        )


@dataclass(frozen=True)
class SavedApp:
    """The app after a change, and the client secret when this change issued one (shown to the
    admin once: it cannot be read again)."""

    detail: AppDetail
    client_secret: str | None = None

    @property
    def app(self) -> SpaceApp:
        return self.detail.app


async def space_apps(session: AsyncSession, space_id: int) -> Sequence[SpaceApp]:
    query = (
        select(SpaceApp)
        .where(SpaceApp.space_id == space_id)
        .order_by(SpaceApp.position, SpaceApp.id)
    )
    return (await session.scalars(query)).all()


async def _grants(
    session: AsyncSession, app_ids: Sequence[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    departments: dict[int, list[int]] = {}
    members: dict[int, list[int]] = {}
    if app_ids:
        rows = await session.execute(
            select(AppAccess.app_id, AppAccess.department_id, AppAccess.member_id)
            .where(AppAccess.app_id.in_(app_ids))
            .order_by(AppAccess.id)
        )
        for app_id, department_id, member_id in rows:
            if department_id is not None:
                departments.setdefault(app_id, []).append(department_id)
            if member_id is not None:
                members.setdefault(app_id, []).append(member_id)
    return departments, members


async def list_apps(session: AsyncSession, space_id: int) -> list[AppDetail]:
    """The space's apps in their order, each with its grants (:class:`NotFound` for no space)."""
    await get_space(session, space_id)
    found = await space_apps(session, space_id)
    departments, members = await _grants(session, [app.id for app in found])
    return [
        AppDetail(app, tuple(departments.get(app.id, ())), tuple(members.get(app.id, ())))
        for app in found
    ]


async def _own_app(session: AsyncSession, space_id: int, app_id: int) -> SpaceApp:
    app = await session.get(SpaceApp, app_id)
    if app is None or app.space_id != space_id:
        raise NotFound(
            Message("App %(app)s is not in space %(space)s.", app=app_id, space=space_id)
        )
    return app


async def get_app(session: AsyncSession, space_id: int, app_id: int) -> AppDetail:
    app = await _own_app(session, space_id, app_id)
    departments, members = await _grants(session, [app.id])
    return AppDetail(app, tuple(departments.get(app.id, ())), tuple(members.get(app.id, ())))


async def find_app(session: AsyncSession, space_id: int, ref: str) -> AppDetail:
    """The app named on a command line: its id or its client id."""
    ref = ref.strip()
    app = await session.scalar(
        select(SpaceApp).where(
            SpaceApp.space_id == space_id,
            or_(SpaceApp.client_id == ref, SpaceApp.id == (int(ref) if ref.isdigit() else -1)),
        )
    )
    if app is None:
        raise NotFound(
            Message(
                "Space %(space)s has no app %(ref)s (give its id or client id).",
                space=space_id,
                ref=repr(ref),
            )
        )
    return await get_app(session, space_id, app.id)


async def _check_grants(session: AsyncSession, space_id: int, clean: CleanApp) -> None:
    """:class:`ValidationFailed` unless every granted department and member is the space's."""
    problems: dict[str, str] = {}
    if clean.departments:
        found = set(
            await session.scalars(
                select(Department.id).where(
                    Department.space_id == space_id, Department.id.in_(clean.departments)
                )
            )
        )
        if found != set(clean.departments):
            problems["departments"] = "Some of the chosen departments are not in this space."
    if clean.members:
        found = set(
            await session.scalars(
                select(Member.id).where(Member.space_id == space_id, Member.id.in_(clean.members))
            )
        )
        if found != set(clean.members):
            problems["members"] = "Some of the chosen members are not in this space."
    if problems:
        raise ValidationFailed(problems)


async def _write_grants(session: AsyncSession, app_id: int, clean: CleanApp) -> None:
    await session.execute(delete(AppAccess).where(AppAccess.app_id == app_id))
    for department_id in clean.departments:
        session.add(AppAccess(app_id=app_id, department_id=department_id))
    for member_id in clean.members:
        session.add(AppAccess(app_id=app_id, member_id=member_id))


def _apply(app: SpaceApp, clean: CleanApp) -> str | None:
    """Copy the fields onto the row; issue a client id and secret when the app needs them now
    (returns the new plain secret) and drop them when it no longer does."""
    app.title = clean.name
    app.url = clean.url
    app.icon = clean.icon
    app.kind = clean.kind
    app.access = clean.access
    app.redirect_uris = clean.redirect_uris
    app.post_logout_redirect_uris = clean.post_logout_redirect_uris
    app.backchannel_logout_uri = clean.backchannel_logout_uri
    app.public_client = clean.oidc and clean.public_client
    if not clean.oidc:
        app.client_id = None
        app.client_secret_hash = None
        return None
    if app.client_id is None:
        app.client_id = new_client_id()
    if app.public_client:
        app.client_secret_hash = None
        return None
    if app.client_secret_hash is None:
        secret = new_client_secret()
        app.client_secret_hash = hash_client_secret(secret)
        return secret
    return None


def _described(app: SpaceApp, departments: Sequence[int], members: Sequence[int]) -> dict[str, Any]:
    """What the audit log records of an app (never its secret nor the secret's hash)."""
    details: dict[str, Any] = {
        "name": app.title,
        "url": app.url,
        "kind": app.kind,
        "access": app.access,
    }
    if app.icon:
        details["icon"] = app.icon
    if departments:
        details["departments"] = list(departments)
    if members:
        details["members"] = list(members)
    if app.kind == "oidc":
        details["client_id"] = app.client_id
        details["public_client"] = app.public_client
        details["redirect_uris"] = list(app.redirect_uris or ())
        details["post_logout_redirect_uris"] = list(app.post_logout_redirect_uris or ())
        details["backchannel_logout_uri"] = app.backchannel_logout_uri
    return details


def _target(space_id: int, app_id: int) -> str:
    return f"space:{space_id}/app:{app_id}"


async def create_space_app(
    session: AsyncSession, space_id: int, data: AppInput, *, actor: str
) -> SavedApp:
    """Add an app at the end of the space's list (validated first, audited); an OIDC app gets
    its client id, a confidential one its secret (in the answer only)."""
    clean = clean_app_input(data)
    await get_space(session, space_id)
    await _check_grants(session, space_id, clean)
    last = await session.scalar(
        select(func.max(SpaceApp.position)).where(SpaceApp.space_id == space_id)
    )
    app = SpaceApp(space_id=space_id, position=(last or 0) + 1)
    secret = _apply(app, clean)
    session.add(app)
    await session.flush()
    await _write_grants(session, app.id, clean)
    await audit.record(
        session,
        actor,
        "space_app.add",
        _target(space_id, app.id),
        _described(app, clean.departments, clean.members),
    )
    return SavedApp(AppDetail(app, clean.departments, clean.members), secret)


async def update_space_app(
    session: AsyncSession, space_id: int, app_id: int, data: AppInput, *, actor: str
) -> SavedApp:
    """Change every field of an app (audited with the old and new values). The client id and
    secret stay; an app becoming a confidential OIDC client gets a secret (in the answer)."""
    clean = clean_app_input(data)
    before = await get_app(session, space_id, app_id)
    await _check_grants(session, space_id, clean)
    app = before.app
    old = _described(app, before.departments, before.members)
    secret = _apply(app, clean)
    await _write_grants(session, app.id, clean)
    await session.flush()
    changes = audit.diff(old, _described(app, clean.departments, clean.members))
    if secret is not None:
        changes["client_secret"] = {"old": None, "new": "(issued)"}
    await audit.record(session, actor, "space_app.update", _target(space_id, app_id), changes)
    return SavedApp(AppDetail(app, clean.departments, clean.members), secret)


async def set_app_access(
    session: AsyncSession,
    space_id: int,
    app_id: int,
    access: str,
    *,
    departments: Sequence[int] = (),
    members: Sequence[int] = (),
    actor: str,
) -> AppDetail:
    """Set who may use the app: ``all``, ``departments`` (these) or ``members`` (these)."""
    current = (await get_app(session, space_id, app_id)).as_input()
    data = replace(current, access=access, departments=tuple(departments), members=tuple(members))
    return (await update_space_app(session, space_id, app_id, data, actor=actor)).detail


async def rotate_client_secret(
    session: AsyncSession, space_id: int, app_id: int, *, actor: str
) -> str:
    """A new secret for a confidential OIDC client, returned once; the old one stops working
    at once. :class:`ValidationFailed` for other apps."""
    app = await _own_app(session, space_id, app_id)
    if app.kind != "oidc" or app.client_id is None:
        raise ValidationFailed({"kind": "Only OIDC apps have a client secret."})
    if app.public_client:
        raise ValidationFailed({"public_client": "A public client has no secret to rotate."})
    secret = new_client_secret()
    app.client_secret_hash = hash_client_secret(secret)
    await session.flush()
    await audit.record(
        session,
        actor,
        "space_app.rotate_secret",
        _target(space_id, app_id),
        {"name": app.title, "client_id": app.client_id},
    )
    return secret


async def delete_app(session: AsyncSession, space_id: int, app_id: int, *, actor: str) -> None:
    """Delete one of the space's apps with its grants (audited); :class:`NotFound` for another
    space's."""
    app = await _own_app(session, space_id, app_id)
    details: dict[str, Any] = {"name": app.title, "url": app.url, "kind": app.kind}
    if app.client_id:
        details["client_id"] = app.client_id
    await audit.record(session, actor, "space_app.delete", _target(space_id, app_id), details)
    await session.execute(delete(AppAccess).where(AppAccess.app_id == app_id))
    await session.delete(app)


async def add_app(
    session: AsyncSession, space_id: int, title: str, url: str, *, actor: str
) -> SpaceApp:
    """Add a plain link every member sees (the short form of :func:`create_space_app`)."""
    return (
        await create_space_app(session, space_id, AppInput(name=title, url=url), actor=actor)
    ).app
